#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time a search command line: one untimed warm-up run, then RUNS timed runs
per query; append "tool<TAB>label<TAB>runs<TAB>median_ms<TAB>p95_ms<TAB>hits"
per query to OUT.

usage: latency.py TOOL RUNS OUT [--q LABEL QUERY]... -- COMMAND [ARG]...

The query is passed as the last argument of COMMAND, as one argv element
(so '"cache coherency"' reaches the tool with its double quotes).  Each run
is a whole process, start-up included, timed with a monotonic clock around
fork/exec/wait; output goes to a pipe that is read and thrown away.  "hits"
is the number of output lines of the warm-up run (not starting with '#'),
a check that the query found something.  Exits 1 if a run fails.
"""
import math
import statistics
import subprocess
import sys
import time


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    k = max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)
    return sorted_values[k]


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.stderr.write('latency: %s exited %d\n%s' % (
            ' '.join(cmd), r.returncode, r.stderr.decode('utf-8', 'replace')))
        sys.exit(1)
    return r.stdout


def main(argv):
    if len(argv) < 5 or '--' not in argv:
        sys.stderr.write(__doc__)
        return 2
    tool, runs, out = argv[1], int(argv[2]), argv[3]
    sep = argv.index('--')
    opts, cmd = argv[4:sep], argv[sep + 1:]
    queries = []
    while opts:
        if opts[0] != '--q' or len(opts) < 3:
            sys.stderr.write(__doc__)
            return 2
        queries.append((opts[1], opts[2]))
        opts = opts[3:]
    with open(out, 'a') as f:
        for label, query in queries:
            full = cmd + [query]
            hits = sum(1 for line in run(full).splitlines()
                       if line.strip() and not line.startswith(b'#'))
            times = []
            for _ in range(runs):
                t0 = time.perf_counter_ns()
                run(full)
                times.append((time.perf_counter_ns() - t0) / 1e6)
            times.sort()
            med, p95 = statistics.median(times), percentile(times, 95)
            f.write('%s\t%s\t%d\t%.1f\t%.1f\t%d\n' % (tool, label, runs, med, p95, hits))
            print('bench: %-12s %-16s median %7.1f ms  p95 %7.1f ms  (%d hits shown)'
                  % (tool, label, med, p95, hits), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
