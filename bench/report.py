#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print bench/import.sh's results as aligned tables with corridor/peer ratios.

usage: report.py RESULTS_TSV LATENCY_TSV

RESULTS_TSV rows: tool step input stored seconds rss_kib cpu_seconds steal_pct status
LATENCY_TSV rows: tool label runs median_ms p95_ms hits (see latency.py)
"""
import os
import sys

TOOLS = ('corridor', 'notmuch', 'public-inbox')


def table(header, rows, right):
    """Print rows aligned under header; columns in `right` are right-aligned."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def fmt(r):
        cells = []
        for i, c in enumerate(r):
            c = str(c)
            cells.append(c.rjust(widths[i]) if i in right else c.ljust(widths[i]))
        return '  '.join(cells).rstrip()

    print(fmt(header))
    print('  '.join('-' * w for w in widths))
    for r in rows:
        print(fmt(r))


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip('\n').split('\t') for line in f if line.strip()]


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    results, latency = read_tsv(argv[1]), read_tsv(argv[2])

    # -- throughput -------------------------------------------------------
    corridor_rate = None
    rows = []
    for tool, step, inp, stored, secs, rss, cpu, steal, status in results:
        secs_f = float(secs) if status == 'ok' else None
        rate = int(inp) / secs_f if secs_f else None
        if tool == 'corridor' and step.startswith('import') and rate:
            corridor_rate = rate
        rows.append([tool, step, inp, stored, secs_f, rate, cpu, rss, steal, status])
    out = []
    for tool, step, inp, stored, secs, rate, cpu, rss, steal, status in rows:
        if tool == 'corridor':
            ratio = '1.00' if rate else 'n/a'
        else:
            ratio = '%.2f' % (corridor_rate / rate) if corridor_rate and rate else 'n/a'
        out.append([tool, step, inp, stored,
                    '%.1f' % secs if secs is not None else status,
                    '%.0f' % rate if rate else '-',
                    cpu if status == 'ok' else '-',
                    '%.0f' % (int(rss) / 1024.0) if status == 'ok' and rss.isdigit() else '-',
                    steal + '%' if status == 'ok' else '-',
                    ratio])
    print()
    print('IMPORT AND INDEX  (msg/s = input messages / wall seconds;'
          ' corridor/peer > 1 means corridor is faster)')
    table(['tool', 'step', 'input', 'stored', 'seconds', 'msg/s', 'CPU s',
           'peak RSS MiB', 'steal', 'corridor/peer'], out, right={2, 3, 4, 5, 6, 7, 8, 9})

    # -- search latency ---------------------------------------------------
    if not latency:
        return 0
    labels, by = [], {}
    for tool, label, runs, med, p95, hits in latency:
        if label not in labels:
            labels.append(label)
        by[(tool, label)] = (float(med), float(p95), int(hits))
    tools = [t for t in TOOLS if any(k[0] == t for k in by)]
    peers = [t for t in tools if t != 'corridor']
    header = ['query'] + ['%s med/p95 ms (hits)' % t for t in tools]
    if 'corridor' in tools:
        header += ['corridor/%s' % p for p in peers]
    out = []
    for label in labels:
        row = [label]
        for t in tools:
            v = by.get((t, label))
            row.append('%.1f / %.1f (%d)' % v if v else '-')
        if 'corridor' in tools:
            c = by.get(('corridor', label))
            for p in peers:
                v = by.get((p, label))
                row.append('%.2f' % (c[0] / v[0]) if c and v else 'n/a')
        out.append(row)
    print()
    print('SEARCH LATENCY  (%s runs each, whole process per run, limit 20;'
          ' corridor/peer = median ratio, < 1 means corridor is faster)'
          % latency[0][2])
    table(header, out, right=set(range(1, len(header))))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
