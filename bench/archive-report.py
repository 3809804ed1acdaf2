#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print bench/archive.sh's results: tables, ratios corridor/MHonArc, targets.

usage: archive-report.py RESULTS_TSV SEARCH_TSV INPUT_MESSAGES [SEARCH_STEAL]

RESULTS_TSV rows (bench/archive.sh):
  build   tool step messages seconds cpu_s rss_kib steal status
  update  tool size measure n failed p50_ms p90_ms max_ms first_ms cpu_s rss_kib steal status
    measure: render (the daemon's logged round), page (LMTP send to the
    page on disk; for MHonArc the whole `mhonarc -add` process), ack
SEARCH_TSV rows (bench/archive-search.py):
  label query requests p50_ms p95_ms max_ms hits page_kib
"""
import os
import sys

FULL_CORPUS = 84096
TARGET_BUILD_S = 20.0
TARGET_BUILD_RATIO = 10.0
TARGET_UPDATE_MS = 50.0
TARGET_FLAT = 1.5            # large p50 / small p50 at most this: "flat"
TARGET_UPDATE_RATIO = 200.0
TARGET_SEARCH_P95_MS = 50.0

MEASURE = {
    'render': 'render round (daemon log)',
    'page': 'LMTP send to page on disk',
    'ack': 'LMTP acknowledgement',
}


def table(header, rows, right):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def fmt(r):
        return '  '.join(str(c).rjust(widths[i]) if i in right else str(c).ljust(widths[i])
                         for i, c in enumerate(r)).rstrip()

    print(fmt(header))
    print('  '.join('-' * w for w in widths))
    for r in rows:
        print(fmt(r))


def read_tsv(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip('\n').split('\t') for line in f if line.strip()]


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def mib(kib):
    v = num(kib)
    return '%.0f' % (v / 1024.0) if v else '-'


def same_size(a, b):
    return abs(a - b) <= 0.01 * max(a, b)


def peer_for(size, peers):
    """The MHonArc figure to compare with at `size`: (value, peer size, exact).
    `peers` maps size -> value.  The same size (within 1%) if measured, else
    the largest smaller one (MHonArc only gets slower as its archive grows,
    so the ratio is then a lower bound), else None."""
    for s, v in peers.items():
        if same_size(s, size):
            return v, s, True
    smaller = [s for s in peers if s < size]
    if smaller:
        s = max(smaller)
        return peers[s], s, False
    return None, None, False


def ratio_text(r, exact, peer_size, unit=''):
    if r is None:
        return 'n/a'
    if exact:
        return '%.1f%s' % (r, unit)
    return '>= %.1f%s (vs %d)' % (r, unit, peer_size)


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    results = read_tsv(argv[1])
    search = read_tsv(argv[2])
    input_msgs = int(argv[3])
    search_steal = argv[4] if len(argv) > 4 and argv[4] else None

    builds = [r[1:] for r in results if r[0] == 'build']
    updates = [r[1:] for r in results if r[0] == 'update']

    # MHonArc's figures by size: build msg/s, add median ms
    mh_build, mh_add = {}, {}
    for tool, step, msgs, secs, cpu, rss, steal, status in builds:
        if tool == 'mhonarc' and status == 'ok' and num(secs):
            mh_build[int(msgs)] = int(msgs) / float(secs)
    for tool, size, measure, n, failed, p50, p90, mx, first, cpu, rss, steal, status in updates:
        if tool == 'mhonarc' and status != 'failed' and num(p50):
            mh_add[int(size)] = float(p50)

    # -- the main table ---------------------------------------------------
    rows = []
    build_ratio = {}            # corridor build size -> (ratio, peer size, exact)
    for tool, step, msgs, secs, cpu, rss, steal, status in sorted(
            builds, key=lambda r: (int(r[2]) if r[2].isdigit() else 0, r[0] != 'corridor')):
        ok = status == 'ok' and num(secs)
        rate = int(msgs) / float(secs) if ok else None
        ratio = ''
        if tool == 'corridor' and rate:
            peer, psize, exact = peer_for(int(msgs), mh_build)
            r = rate / peer if peer else None
            build_ratio[int(msgs)] = (r, psize, exact)
            ratio = ratio_text(r, exact, psize)
        rows.append([tool, step, msgs, '%.2f' % float(secs) if ok else status,
                     '%.0f' % rate if rate else '-', cpu if ok else '-', mib(rss) if ok else '-',
                     steal + '%' if ok else '-', ratio])
    upd = {}                    # (tool, size, measure) -> row
    for u in updates:
        upd[(u[0], int(u[1]) if u[1].isdigit() else 0, u[2])] = u
    for tool, size, measure, n, failed, p50, p90, mx, first, cpu, rss, steal, status in sorted(
            updates, key=lambda r: (int(r[1]) if r[1].isdigit() else 0, r[0] != 'corridor',
                                    ['render', 'page', 'ack'].index(r[2]))):
        if measure == 'ack':
            continue
        ok = status != 'failed' and num(p50)
        if tool == 'corridor':
            step = 'one-message update: %s, median of %s' % (
                'render (log)' if measure == 'render' else 'LMTP to page', n)
        else:
            step = 'one-message add (mhonarc -add), median of %s' % n
        ratio = ''
        if tool == 'corridor' and ok:
            peer, psize, exact = peer_for(int(size), mh_add)
            ratio = ratio_text(peer / float(p50) if peer else None, exact, psize)
        rows.append([tool, step, size, '%.4f' % (float(p50) / 1000) if ok else status,
                     '%.1f' % (1000 / float(p50)) if ok and float(p50) > 0 else '-',
                     cpu if ok else '-', mib(rss) if ok else '-',
                     steal + '%' if ok else '-', ratio])
    print()
    print('FULL BUILD AND ONE-MESSAGE UPDATE  (msg/s = messages / wall seconds; an update row\'s'
          ' seconds are its median,')
    print('  msg/s = 1 / median; corridor/peer = how many times faster corridor is than MHonArc'
          ' at the same size)')
    table(['tool', 'step', 'messages', 'seconds', 'msg/s', 'CPU s', 'peak RSS MiB', 'steal',
           'corridor/peer'], rows, right={2, 3, 4, 5, 6, 7, 8})
    print('  CPU s of a corridor update row: the daemon over all the updates (intake, indexing'
          ' and rendering);')
    print('  of an MHonArc add row: all its -add processes.  peak RSS: the daemon\'s VmHWM,'
          ' or the largest process.')
    if any(not e for (_, _, e) in build_ratio.values()) or any(
            not peer_for(int(u[1]), mh_add)[2] for u in updates
            if u[0] == 'corridor' and u[1].isdigit() and mh_add):
        print('  ">= R (vs N)": MHonArc was not run at this size; R compares with it at N'
              ' messages, and MHonArc only gets slower as its archive grows.')

    # -- update distribution ----------------------------------------------
    drows = []
    for key in sorted(upd, key=lambda k: (k[1], k[0] != 'corridor', ['render', 'page', 'ack'].index(k[2]))):
        tool, size, measure, n, failed, p50, p90, mx, first, cpu, rss, steal, status = upd[key]
        what = MEASURE[measure] if tool == 'corridor' else 'mhonarc -add process (wall)'
        if status == 'failed':
            drows.append([tool, what, size, '-', '-', 'failed', '', '', ''])
            continue
        drows.append([tool, what, size, n, failed, p50, p90, mx, first])
    if drows:
        print()
        print('ONE-MESSAGE UPDATE  (ms; "first" is the first message after the daemon started,'
              ' which may load its model of the archive)')
        table(['tool', 'measured', 'archive', 'n', 'failed', 'p50 ms', 'p90 ms', 'max ms', 'first ms'],
              drows, right={2, 3, 4, 5, 6, 7, 8})

    # -- search -----------------------------------------------------------
    if search:
        print()
        print('SEARCH THROUGH HTTP  (corridor serve --http; /search?q=..., one keep-alive connection,'
              ' the queries in turn%s)' % (', steal %s%%' % search_steal if search_steal else ''))
        srows = []
        for label, q, n, p50, p95, mx, hits, kib in search:
            srows.append([label, q, n, p50, p95, mx, hits, kib])
        table(['query', 'q', 'requests', 'p50 ms', 'p95 ms', 'max ms', 'hits', 'page KiB'], srows,
              right={2, 3, 4, 5, 6, 7})

    # -- targets ----------------------------------------------------------
    print()
    print('TARGETS  (corridor)')
    trows = []

    def target(name, value, met, note=''):
        if met is None:
            text = 'n/a'
        elif met == 'unclear':
            text = 'unclear'
        else:
            text = 'met' if met else 'NOT met'
        trows.append([name, value, text, note])

    def at_least(r, exact, goal):
        """met / NOT met for a ratio; a lower bound below the goal proves nothing"""
        if r is None:
            return None
        if r >= goal:
            return True
        return False if exact else 'unclear'

    cb = {int(b[2]): float(b[3]) for b in builds
          if b[0] == 'corridor' and b[7] == 'ok' and b[2].isdigit() and num(b[3])}
    note_size = '' if same_size(input_msgs, FULL_CORPUS) else \
        'input has %d messages, the target is for %d' % (input_msgs, FULL_CORPUS)
    if cb:
        big = max(cb)
        target('full build of %d <= %.0f s' % (big, TARGET_BUILD_S), '%.2f s' % cb[big],
               cb[big] <= TARGET_BUILD_S, note_size)
        # the largest size, and also the largest one MHonArc ran at exactly
        sizes = [big] + [n for n in sorted(build_ratio, reverse=True)
                         if n != big and build_ratio[n][2]][:1]
        if build_ratio.get(big, (None, None, True))[2]:
            sizes = [big]
        for n in sizes:
            r, psize, exact = build_ratio.get(n, (None, None, False))
            target('full build >= %.0fx MHonArc (at %d)' % (TARGET_BUILD_RATIO, n),
                   ratio_text(r, exact, psize, 'x'),
                   at_least(r, exact, TARGET_BUILD_RATIO),
                   '' if r is None or exact else
                   'MHonArc ran at %d only (BENCH_MHONARC_FULL=1 for the same size)' % psize)
    else:
        target('full build of %d <= %.0f s' % (FULL_CORPUS, TARGET_BUILD_S), 'not run', None)

    cu = {k[1]: upd[k] for k in upd if k[0] == 'corridor' and k[2] == 'render' and upd[k][12] != 'failed'}
    cp = {k[1]: upd[k] for k in upd if k[0] == 'corridor' and k[2] == 'page' and upd[k][12] != 'failed'}
    if cu:
        big = max(cu)
        p50 = float(cu[big][5])
        target('one-message update <= %.0f ms (render, median at %d)' % (TARGET_UPDATE_MS, big),
               '%.1f ms' % p50, p50 <= TARGET_UPDATE_MS, 'p90 %s ms, max %s ms' % (cu[big][6], cu[big][7]))
        if big in cp:
            e = float(cp[big][5])
            target('  the same, LMTP send to page on disk', '%.1f ms' % e, e <= TARGET_UPDATE_MS,
                   'p90 %s ms, max %s ms' % (cp[big][6], cp[big][7]))
        if len(cu) > 1:
            small = min(cu)
            f = p50 / float(cu[small][5]) if float(cu[small][5]) > 0 else None
            target('update flat from %d to %d (p50 ratio <= %.1f)' % (small, big, TARGET_FLAT),
                   '%.2f (%s -> %s ms)' % (f, cu[small][5], cu[big][5]) if f else 'n/a',
                   (round(f, 2) <= TARGET_FLAT) if f else None)
            if small in cp and big in cp:
                fe = float(cp[big][5]) / float(cp[small][5]) if float(cp[small][5]) > 0 else None
                target('  the same, LMTP send to page on disk',
                       '%.2f (%s -> %s ms)' % (fe, cp[small][5], cp[big][5]) if fe else 'n/a',
                       (round(fe, 2) <= TARGET_FLAT) if fe else None)
        sizes = [big]
        if not peer_for(big, mh_add)[2]:
            sizes += [n for n in sorted(cu, reverse=True) if n != big and peer_for(n, mh_add)[2]][:1]
        for n in sizes:
            peer, psize, exact = peer_for(n, mh_add)
            for label, src in (('render', cu), ('LMTP send to page', cp)):
                if n not in src:
                    continue
                v = float(src[n][5])
                r = peer / v if peer and v > 0 else None
                target('update >= %.0fx MHonArc (%s, at %d)' % (TARGET_UPDATE_RATIO, label, n),
                       ratio_text(r, exact, psize, 'x'),
                       at_least(r, exact, TARGET_UPDATE_RATIO),
                       '' if r is None else 'mhonarc -add median %.0f ms at %d%s' % (
                           peer, psize, '' if exact else ' (a lower bound)'))
    else:
        target('one-message update <= %.0f ms' % TARGET_UPDATE_MS, 'not run', None)

    alls = [s for s in search if s[0] == 'all']
    if alls:
        p95 = float(alls[0][4])
        target('search p95 <= %.0f ms' % TARGET_SEARCH_P95_MS, '%.1f ms' % p95,
               p95 <= TARGET_SEARCH_P95_MS, '%s requests, p50 %s ms, max %s ms' % (
                   alls[0][2], alls[0][3], alls[0][5]))
    else:
        target('search p95 <= %.0f ms' % TARGET_SEARCH_P95_MS, 'not run', None)
    table(['target', 'measured', 'met', 'note'], trows, right=set())
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
