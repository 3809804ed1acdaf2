#!/usr/bin/env python3
"""Split an mbox (mboxrd or mboxo, optionally .xz/.gz) into a maildir, for
feeding the same messages to notmuch.  Un-escapes ">From " lines as corridor
does (mboxrd: one '>' removed from /^>+From /; mboxo: only /^>From /).

usage: mbox2maildir.py MBOX MAILDIR
"""
import gzip, lzma, os, re, sys

def main():
    src, dst = sys.argv[1], sys.argv[2]
    opener = open
    with open(src, 'rb') as f:
        magic = f.read(6)
    if magic.startswith(b'\xfd7zXZ'):
        opener = lzma.open
    elif magic.startswith(b'\x1f\x8b'):
        opener = gzip.open
    with opener(src, 'rb') as f:
        data = f.read()
    rd = re.search(rb'^>>+From ', data, re.M) is not None
    for d in ('cur', 'new', 'tmp'):
        os.makedirs(os.path.join(dst, d), exist_ok=True)
    starts = [m.start() for m in re.finditer(rb'^From ', data, re.M)]
    n = 0
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(data)
        msg = data[s:e]
        msg = msg[msg.index(b'\n') + 1:]
        if msg.endswith(b'\n\n'):
            msg = msg[:-1]
        if rd:
            msg = re.sub(rb'^>(>*From )', rb'\1', msg, flags=re.M)
        else:
            msg = re.sub(rb'^>From ', rb'From ', msg, flags=re.M)
        n += 1
        with open(os.path.join(dst, 'cur', '%08d.msg:2,' % n), 'wb') as out:
            out.write(msg)
    print(n)

main()
