#!/usr/bin/env python3
"""Splits an mbox (plain, .xz or .gz) into N mboxes, one per group, for tests
and benchmarks that need the same corpus in several groups.

usage: mbox_split.py IN OUTDIR [--groups N] [--by month|year|hash]

  month  a message's Date month: January..December spread over N files in
         order (with 3: Jan-Apr, May-Aug, Sep-Dec)
  year   the Date year modulo N
  hash   the SHA-1 of the Message-ID modulo N

Writes OUTDIR/0.mbox ... OUTDIR/N-1.mbox (messages byte for byte, "From "
separator lines kept) and prints how many messages went to each.  A message
without a usable Date goes to file 0 (month, year).
"""
import argparse
import email.utils
import gzip
import hashlib
import lzma
import os
import re
import sys

FROM = re.compile(rb'^From ')


def messages(path):
    opener = lzma.open if path.endswith('.xz') else gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        cur = []
        for line in f:
            if FROM.match(line) and cur:
                yield b''.join(cur)
                cur = []
            cur.append(line)
        if cur:
            yield b''.join(cur)


def header(msg, name):
    head = msg.split(b'\n\n', 1)[0]
    m = re.search(rb'^' + name + rb':[ \t]*(.*(?:\n[ \t].*)*)', head, re.I | re.M)
    return m.group(1).decode('latin-1').replace('\n', ' ').strip() if m else ''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('input')
    ap.add_argument('outdir')
    ap.add_argument('--groups', type=int, default=3)
    ap.add_argument('--by', choices=('month', 'year', 'hash'), default='month')
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    outs = [open(os.path.join(a.outdir, '%d.mbox' % i), 'wb') for i in range(a.groups)]
    counts = [0] * a.groups
    for msg in messages(a.input):
        if a.by == 'hash':
            k = int(hashlib.sha1(header(msg, b'Message-ID').encode()).hexdigest(), 16) % a.groups
        else:
            try:
                d = email.utils.parsedate_to_datetime(header(msg, b'Date'))
                k = ((d.month - 1) * a.groups // 12) if a.by == 'month' else d.year % a.groups
            except (TypeError, ValueError, IndexError):
                k = 0
        outs[k].write(msg)
        counts[k] += 1
    for o in outs:
        o.close()
    print(' '.join(str(c) for c in counts))
    return 0


if __name__ == '__main__':
    sys.exit(main())
