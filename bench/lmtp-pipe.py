#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Deliver messages one process each, as an MTA's pipe transport does, and
print the same summary as bench/lmtp-load.

usage: lmtp-pipe.py [--parallel P] [--count N] MAILDIR -- COMMAND [ARG...]

Runs COMMAND once per message file (the first N files of MAILDIR/cur, in name
order, i.e. mbox order as bench/mbox2maildir.py writes them), with the file
as standard input, P at a time (like xargs -P).  The latency of a message is
from starting its process to that process's exit: what an MTA waits for
before it can acknowledge the message.  A message fails if COMMAND exits
non-zero; its standard error goes to this script's standard error (the first
few failures only).

Output, one line each:
  messages N, seconds S, rate R msg/s, p50_ms X, p99_ms Y, max_ms Z, failed F
  peak_rss_kib K   the largest single process (ru_maxrss), as /usr/bin/time
"""
import os
import subprocess
import sys
import threading
import time


def percentile(v, p):
    if not v:
        return 0.0
    i = int(p / 100.0 * len(v) + 0.999999)
    return v[min(max(i, 1), len(v)) - 1]


def main(argv):
    args = argv[1:]
    parallel, count, maildir = 1, None, None
    while args and args[0] != '--':
        a = args.pop(0)
        if a == '--parallel' and args:
            parallel = int(args.pop(0))
        elif a == '--count' and args:
            count = int(args.pop(0))
        elif not a.startswith('-') and maildir is None:
            maildir = a
        else:
            sys.stderr.write(__doc__)
            return 2
    if len(args) < 2 or maildir is None or parallel < 1:
        sys.stderr.write(__doc__)
        return 2
    cmd = args[1:]
    cur = os.path.join(maildir, 'cur')
    files = sorted(os.listdir(cur))
    if count is not None:
        files = files[:count]
    files = [os.path.join(cur, f) for f in files]
    n = len(files)
    sys.stderr.write('lmtp-pipe: %d messages, %d at a time: %s\n' % (n, parallel, ' '.join(cmd)))

    lat = [None] * n
    rss = [0] * n
    lock = threading.Lock()
    state = {'next': 0, 'shown': 0}

    def worker():
        while True:
            with lock:
                k = state['next']
                state['next'] += 1
            if k >= n:
                return
            with open(files[k], 'rb') as f:
                t0 = time.monotonic()
                p = subprocess.Popen(cmd, stdin=f, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
                err = p.stderr.read()
                _, status, ru = os.wait4(p.pid, 0)
                t1 = time.monotonic()
                p.returncode = os.waitstatus_to_exitcode(status)
                p.stderr.close()
            rss[k] = ru.ru_maxrss
            if p.returncode == 0:
                lat[k] = (t1 - t0) * 1000.0
            else:
                with lock:
                    state['shown'] += 1
                    if state['shown'] <= 5:
                        sys.stderr.write('lmtp-pipe: failure: %s: exit %d: %s\n' % (
                            os.path.basename(files[k]), p.returncode,
                            err.decode('utf-8', 'replace').strip()[-400:]))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    ok = sorted(x for x in lat if x is not None)
    failed = n - len(ok)
    print('messages %d' % n)
    print('seconds %.3f' % secs)
    print('rate %.1f msg/s' % (len(ok) / secs if secs > 0 else 0.0))
    print('p50_ms %.2f' % percentile(ok, 50))
    print('p99_ms %.2f' % percentile(ok, 99))
    print('max_ms %.2f' % (ok[-1] if ok else 0.0))
    print('failed %d' % failed)
    print('peak_rss_kib %d' % max(rss + [0]))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
