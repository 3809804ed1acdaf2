#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cut an mboxrd file into the pieces bench/archive.sh needs, in one pass.

usage: archive-split.py MBOX [--head N:FILE]... [--take START:M:DIR]...

Prints the number of messages in MBOX.  Messages are numbered from 0 and
split as bench/mbox2maildir.py does: a message starts at a line that looks
like a real mbox "From " separator ("From SENDER DAY MON DD HH:MM:SS YYYY").

  --head N:FILE       write messages 0..N-1 to FILE unchanged: an mboxrd file
                      with the original "From " lines and quoting, for
                      `corridor import` and MHonArc; N = -K: all but the
                      last K messages
  --take START:M:DIR  write M messages, from number START on, as single
                      files DIR/NNNN.eml (the "From " line dropped, mboxrd
                      quoting undone, as an MTA would deliver them), and
                      DIR/index.tsv: "FILE<TAB>NUMBER<TAB>MESSAGE-ID<TAB>KEY"
                      (KEY: the first 16 hex digits of SHA-256 of the
                      Message-ID without <>, the name of its archive page).
                      A message is skipped if it has no plain <...>
                      Message-ID or one an earlier message already had (a
                      duplicate adds no page), so DIR may hold fewer than M.
                      START = -K: from the K-th message from the end on.
"""
import collections
import hashlib
import lzma
import os
import re
import sys

FROM_STRICT = re.compile(rb'^From \S+ +\S+ \S+ +\S+ [^\n:]+:[^\n:]+:[^\n:]+ [^\n:]+\n\Z')
QUOTED_FROM = re.compile(rb'^>(>*From )', re.M)
MSGID_HDR = re.compile(rb'^message-id:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)', re.I | re.M)
MSGID = re.compile(rb'^\s*<([^<>\s]+)>\s*$')


def open_mbox(path):
    if path.endswith('.xz'):
        return lzma.open(path, 'rb')
    return open(path, 'rb', buffering=1 << 20)


def message_id(lines):
    """The Message-ID without <> (bytes), or None if absent or unusual."""
    head = []
    for line in lines:
        if line in (b'\n', b'\r\n'):
            break
        head.append(line)
    m = MSGID_HDR.search(b''.join(head))
    if not m:
        return None
    m2 = MSGID.match(m.group(1))
    return m2.group(1) if m2 else None


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    src = argv[1]
    heads, takes = [], []
    args = argv[2:]
    while args:
        opt = args.pop(0)
        if not args:
            sys.stderr.write(__doc__)
            return 2
        val = args.pop(0)
        if opt == '--head':
            n, path = val.split(':', 1)
            heads.append([int(n), open(path, 'wb')])
        elif opt == '--take':
            start, m, path = val.split(':', 2)
            os.makedirs(path, exist_ok=True)
            takes.append({'start': int(start), 'want': int(m), 'dir': path, 'n': 0,
                          'index': open(os.path.join(path, 'index.tsv'), 'w')})
        else:
            sys.stderr.write(__doc__)
            return 2
    # Message-IDs seen so far: only needed to skip duplicates in the takes
    need_ids = bool(takes)
    seen = set()
    tails = [t for t in takes if t['start'] < 0]
    buffered = collections.deque(maxlen=max((-t['start'] for t in tails), default=0))
    offsets = []               # where each message starts in a --head -K file
    count = 0

    def take(t, idx, lines, mid):
        body = list(lines)
        if body and body[-1] in (b'\n', b'\r\n'):
            body.pop()
        data = QUOTED_FROM.sub(rb'\1', b''.join(body))
        t['n'] += 1
        name = '%04d.eml' % t['n']
        with open(os.path.join(t['dir'], name), 'wb') as f:
            f.write(data)
        key = hashlib.sha256(mid).hexdigest()[:16]
        t['index'].write('%s\t%d\t%s\t%s\n' % (name, idx + 1, mid.decode('utf-8', 'replace'), key))

    def flush(from_line, lines):
        nonlocal count
        if from_line is None and not any(l.strip() for l in lines):
            return
        idx = count
        count += 1
        raw = None
        for h in heads:
            if h[0] < 0 or idx < h[0]:
                if raw is None:
                    raw = (from_line or b'') + b''.join(lines)
                if h[0] < 0:
                    offsets.append(h[1].tell())
                h[1].write(raw)
        if not need_ids:
            return
        mid = message_id(lines)
        fresh = mid is not None and mid not in seen
        if mid is not None:
            seen.add(mid)
        if not fresh:
            return
        for t in takes:
            if 0 <= t['start'] <= idx and t['n'] < t['want']:
                take(t, idx, lines, mid)
        if tails:
            buffered.append((idx, lines, mid))

    from_line, lines = None, []
    with open_mbox(src) as mbox:
        for line in mbox:
            if line.startswith(b'From ') and FROM_STRICT.match(line):
                flush(from_line, lines)
                from_line, lines = line, []
                continue
            lines.append(line)
        flush(from_line, lines)
    for h in heads:
        if h[0] < 0:
            keep = count + h[0]
            h[1].truncate(offsets[keep] if keep > 0 else 0)
        h[1].close()
    for t in tails:
        first = count + t['start']
        for idx, lines, mid in buffered:
            if idx >= first and t['n'] < t['want']:
                take(t, idx, lines, mid)
    for t in takes:
        t['index'].close()
    print(count)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
