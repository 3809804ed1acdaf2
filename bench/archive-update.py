#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Deliver messages one at a time to corridor's daemon over LMTP and time how
long each takes to reach the static archive.

usage: archive-update.py --socket PATH --rcpt ADDR --log SERVE_LOG
                         --pages DIR --pid PID [--pause S] [--timeout S]
                         TAKE_DIR OUT_TSV

TAKE_DIR is a folder made by bench/archive-split.py --take (NNNN.eml files
and index.tsv with each one's page key).  One LMTP connection (LHLO once);
for each message in turn:

  t0    before MAIL FROM
  ack   the LMTP reply to the message's data (the message is durable)
  page  the message's page DIR/KE/KEY.html exists (polled every 0.5 ms)

and then waits until the daemon has also logged the render round(s) for it
("corridor: debug: archive: N messages, F files in X ms", CORRIDOR_DEBUG=1
and [archive] debounce_ms = 0), then PAUSE seconds, so the next message
does not queue behind this one's indexing.  Render rounds logged during the
pause count towards the message too.

OUT_TSV, one line a message:
  n  number-in-corpus  ack_ms  page_ms  render_ms  files  rounds
render_ms is the sum of the logged rounds.  The summary on stdout is
"key value" lines: messages, failed, daemon_cpu_s, then for ack, page and
render: *_p50_ms, *_p90_ms, *_max_ms, and first_* (the first message,
which may include loading the daemon's model of the archive).
"""
import argparse
import os
import re
import smtplib
import sys
import time

ROUND = re.compile(r'archive: (\d+) messages, (\d+) files in ([0-9.]+) ms')


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def cpu_seconds(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except OSError:
        return 0.0


class LogTail:
    """New render rounds in the daemon's log since the last call."""

    def __init__(self, path):
        self.f = open(path, 'r', errors='replace')
        self.f.seek(0, os.SEEK_END)
        self.partial = ''

    def rounds(self):
        out = []
        data = self.f.read()
        if not data:
            return out
        data = self.partial + data
        lines = data.split('\n')
        self.partial = lines.pop()
        for line in lines:
            m = ROUND.search(line)
            if m and 'debug' in line:
                out.append((int(m.group(1)), int(m.group(2)), float(m.group(3))))
            elif 'error' in line or 'warning' in line:
                sys.stderr.write('archive-update: daemon: %s\n' % line)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--socket', required=True)
    ap.add_argument('--rcpt', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--pages', required=True)
    ap.add_argument('--pid', type=int, required=True)
    ap.add_argument('--pause', type=float, default=0.3)
    ap.add_argument('--timeout', type=float, default=120.0)
    ap.add_argument('takedir')
    ap.add_argument('out')
    a = ap.parse_args()

    to_send = []
    with open(os.path.join(a.takedir, 'index.tsv')) as f:
        for line in f:
            name, number, _mid, key = line.rstrip('\n').split('\t')
            to_send.append((name, number, key))
    if not to_send:
        sys.stderr.write('archive-update: no messages in %s\n' % a.takedir)
        return 2

    tail = LogTail(a.log)
    lmtp = smtplib.LMTP(a.socket)
    lmtp.ehlo_or_helo_if_needed()
    rows, failed = [], 0
    cpu0 = cpu_seconds(a.pid)
    for i, (name, number, key) in enumerate(to_send, 1):
        with open(os.path.join(a.takedir, name), 'rb') as f:
            msg = f.read()
        page = os.path.join(a.pages, key[:2], key + '.html')
        if os.path.exists(page):
            sys.stderr.write('archive-update: %s: page %s exists before delivery\n' % (name, page))
        tail.rounds()          # forget what came before
        t0 = time.monotonic()
        try:
            refused = lmtp.sendmail('bench@bench.invalid', [a.rcpt], msg)
        except smtplib.SMTPException as e:
            sys.stderr.write('archive-update: %s: LMTP: %s\n' % (name, e))
            failed += 1
            continue
        t_ack = time.monotonic()
        if refused:
            sys.stderr.write('archive-update: %s: refused: %r\n' % (name, refused))
            failed += 1
            continue
        t_page = None
        rounds = []
        deadline = t0 + a.timeout
        while time.monotonic() < deadline:
            if t_page is None and os.path.exists(page):
                t_page = time.monotonic()
            rounds += tail.rounds()
            if t_page is not None and rounds:
                break
            time.sleep(0.0005)
        if t_page is None or not rounds:
            sys.stderr.write('archive-update: %s: %s after %.0f s (page %s)\n' % (
                name, 'no page' if t_page is None else 'no render round logged', a.timeout, page))
            failed += 1
            continue
        time.sleep(a.pause)
        rounds += tail.rounds()
        row = (i, number, (t_ack - t0) * 1e3, (t_page - t0) * 1e3,
               sum(r[2] for r in rounds), sum(r[1] for r in rounds), len(rounds))
        rows.append(row)
    cpu1 = cpu_seconds(a.pid)
    try:
        lmtp.quit()
    except smtplib.SMTPException:
        pass

    with open(a.out, 'w') as f:
        for r in rows:
            f.write('%d\t%s\t%.2f\t%.2f\t%.2f\t%d\t%d\n' % r)
    print('messages', len(to_send))
    print('failed', failed)
    print('daemon_cpu_s', '%.2f' % (cpu1 - cpu0))
    if rows:
        for label, col in (('ack', 2), ('page', 3), ('render', 4)):
            v = [r[col] for r in rows]
            print('%s_p50_ms' % label, '%.2f' % median(v))
            print('%s_p90_ms' % label, '%.2f' % pct(v, 90))
            print('%s_max_ms' % label, '%.2f' % max(v))
            print('first_%s_ms' % label, '%.2f' % v[0])
        print('files_p50', '%.0f' % median([r[5] for r in rows]))
        print('multi_round', sum(1 for r in rows if r[6] > 1))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
