#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print bench/lmtp.sh's results as an aligned table, with corridor/peer
ratios and the issue's targets.

usage: lmtp-report.py RESULTS_TSV PACED_RATE

RESULTS_TSV rows: tool how clients offered messages failed stored seconds
rate p50_ms p99_ms max_ms rss_kib steal_pct status
"""
import os
import sys

NAMES = {
    'corridor': 'corridor serve',
    'mailman': 'Mailman 3',
    'public-inbox': 'public-inbox-mda',
    'notmuch': 'notmuch insert',
}
HOW = {
    'LMTP': 'LMTP',
    'LMTP, no archive': 'LMTP, no archive',
    'LMTP, no archive, filters off': 'LMTP, no archive, filters off',
    'pipe': 'pipe, 1 process/msg',
}

# the targets
T_RATE8 = 3000.0        # msg/s durable with 8 clients
T_P99 = 50.0            # ms, p99 acknowledgement at the paced rate
T_MM3 = 20.0            # corridor/Mailman 3 with 8 clients
T_RSS32 = 128 * 1024    # KiB, peak RSS while 32 sessions run
T_FILTERS = 5.0         # %, most the filter chain may cost in throughput


def table(header, rows, right):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def fmt(r):
        return '  '.join(str(c).rjust(widths[i]) if i in right else str(c).ljust(widths[i])
                         for i, c in enumerate(r)).rstrip()

    print(fmt(header))
    print('  '.join('-' * w for w in widths))
    for r in rows:
        print(fmt(r))


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    paced = argv[2]
    rows = []
    if os.path.exists(argv[1]):
        with open(argv[1]) as f:
            rows = [line.rstrip('\n').split('\t') for line in f if line.strip()]
    keys = ('tool how clients offered messages failed stored seconds rate p50 p99 max '
            'rss steal status cpu').split()
    rows = [dict(zip(keys, r)) for r in rows]

    # corridor's as-fast-as-possible rate per client count
    cor = {}
    for r in rows:
        if (r['tool'] == 'corridor' and r['how'] == 'LMTP' and r['offered'] == 'max'
                and r['status'] != 'failed' and r['clients'] not in cor):
            cor[r['clients']] = num(r['rate'])
    out = []
    for r in rows:
        ok = r['status'] != 'failed'
        rate = num(r['rate'])
        ratio = ''
        if r['tool'] != 'corridor' and ok and rate and cor.get(r['clients']):
            ratio = '%.1f' % (cor[r['clients']] / rate)
        rss = num(r['rss'])
        out.append([
            NAMES.get(r['tool'], r['tool']), HOW.get(r['how'], r['how']), r['clients'],
            r['offered'], r['messages'], r['failed'], r['stored'],
            r['seconds'] if ok else 'failed',
            '%.1f' % rate if rate is not None else '-',
            r['p50'], r['p99'], r['max'],
            '%.0f' % (rss / 1024) if rss is not None else '-',
            r['steal'] + '%' if ok else '-',
            r.get('cpu') or '-',
            ratio or ('1.0' if r['tool'] == 'corridor' and r['offered'] == 'max' and ok else ''),
            '' if r['status'] in ('ok', 'failed') else r['status'],
        ])
    print()
    print('LMTP INTAKE  (msg/s = accepted messages / wall seconds; p50/p99/max = ms from the final'
          ' "." (LMTP) or process start (pipe) to the acknowledgement; corridor/peer > 1 means'
          ' corridor is faster, same number of clients)')
    table(['tool', 'how', 'clients', 'offered msg/s', 'messages', 'failed', 'stored', 'seconds',
           'msg/s', 'p50 ms', 'p99 ms', 'max ms', 'peak RSS MiB', 'steal', 'CPU us/msg',
           'corridor/peer', 'note'],
          out, right={2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})

    # -- targets ----------------------------------------------------------
    def find(tool, clients, offered='max', how='LMTP'):
        for r in rows:
            if (r['tool'] == tool and r['clients'] == clients and r['offered'] == offered
                    and r['how'] == how and r['status'] != 'failed'):
                return r
        return None

    def pooled(clients, how):
        """messages / seconds over every run of corridor with `how`, the
        mean CPU us per message, and the number of runs."""
        rs = [r for r in rows if r['tool'] == 'corridor' and r['clients'] == clients
              and r['offered'] == 'max' and r['how'] == how and r['status'] != 'failed']
        secs = sum(num(r['seconds']) or 0 for r in rs)
        msgs = sum((num(r['messages']) or 0) - (num(r['failed']) or 0) for r in rs)
        cpus = [num(r.get('cpu')) for r in rs if num(r.get('cpu'))]
        cpu = sum(cpus) / len(cpus) if cpus else None
        return (msgs / secs if secs > 0 else None, cpu, len(rs))

    checks = []
    c8 = find('corridor', '8')
    v = num(c8['rate']) if c8 else None
    checks.append(('>= %.0f msg/s durable, 8 clients' % T_RATE8,
                   '%.0f msg/s' % v if v is not None else 'not run', v is not None and v >= T_RATE8))
    cp = find('corridor', '8', paced)
    v = num(cp['p99']) if cp else None
    checks.append(('p99 acknowledgement < %.0f ms at %s msg/s offered' % (T_P99, paced),
                   '%.1f ms' % v if v is not None else 'not run', v is not None and v < T_P99))
    m8 = find('mailman', '8')
    v = (num(c8['rate']) / num(m8['rate'])) if c8 and m8 and num(m8['rate']) else None
    checks.append(('>= %.0fx Mailman 3 (8 clients)' % T_MM3,
                   '%.1fx' % v if v is not None else 'not run', v is not None and v >= T_MM3))
    c32 = find('corridor', '32')
    v = num(c32['rss']) if c32 else None
    checks.append(('< %d MiB RSS while 32 sessions run' % (T_RSS32 // 1024),
                   '%.0f MiB' % (v / 1024) if v is not None else 'not run',
                   v is not None and v < T_RSS32))
    ran_filters = False
    for c in sorted({r['clients'] for r in rows if r['tool'] == 'corridor'}, key=int):
        on, cpu_on, n_on = pooled(c, 'LMTP, no archive')
        off, cpu_off, n_off = pooled(c, 'LMTP, no archive, filters off')
        if not (on and off):
            continue
        ran_filters = True
        cost = 100.0 * (1.0 - on / off)
        plural = '' if c == '1' else 's'
        checks.append(('filter chain costs <= %.0f%% of throughput, %s client%s'
                       % (T_FILTERS, c, plural),
                       '%.1f%% (%.0f msg/s on, %.0f off; %d+%d runs)' % (cost, on, off, n_on, n_off),
                       cost <= T_FILTERS))
        if cpu_on and cpu_off:
            more = 100.0 * (cpu_on / cpu_off - 1.0)
            checks.append(('  the same as intake CPU per message, %s client%s' % (c, plural),
                           '%+.1f%% (%.0f us on, %.0f off)' % (more, cpu_on, cpu_off),
                           more <= T_FILTERS))
    if not ran_filters:
        checks.append(('filter chain costs <= %.0f%% of throughput' % T_FILTERS, 'not run', False))
    lost = [r for r in rows if r['tool'] == 'corridor' and r['status'] in ('lost', 'failures')]
    ran = [r for r in rows if r['tool'] == 'corridor' and r['status'] != 'failed']
    checks.append(('every acknowledged message stored, none refused',
                   '%d of %d runs' % (len(ran) - len(lost), len(ran)) if ran else 'not run',
                   bool(ran) and not lost))
    print()
    print('TARGETS  (corridor)')
    table(['target', 'measured', 'met'],
          [[t, m, 'yes' if ok else ('-' if m == 'not run' else 'NO')] for t, m, ok in checks],
          right=set())
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
