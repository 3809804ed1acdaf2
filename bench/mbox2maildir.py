#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Split an mboxrd file (plain or .xz) into a fresh maildir, one file a message.

usage: mbox2maildir.py MBOX MAILDIR   (MAILDIR "-": only count the messages)

Used by bench/import.sh to give notmuch the same messages the other tools
import from the mbox.  A message starts at a line that looks like a real
mbox "From " separator (the same strict pattern public-inbox's MboxReader
uses: "From SENDER DAY MON DD HH:MM:SS YYYY"); the blank line that mbox puts
after each message is removed, and mboxrd quoting is undone: a body line
">From ", ">>From ", ... loses exactly one ">".  Prints the message count.
"""
import lzma
import os
import re
import sys

FROM_STRICT = re.compile(rb'^From \S+ +\S+ \S+ +\S+ [^\n:]+:[^\n:]+:[^\n:]+ [^\n:]+\n\Z')
QUOTED_FROM = re.compile(rb'^>(>*From )')


def open_mbox(path):
    if path.endswith('.xz'):
        return lzma.open(path, 'rb')
    return open(path, 'rb', buffering=1 << 20)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    src, dest = sys.argv[1], sys.argv[2]
    count_only = dest == '-'
    if not count_only:
        for sub in ('cur', 'new', 'tmp'):
            os.makedirs(os.path.join(dest, sub), exist_ok=True)
    cur = os.path.join(dest, 'cur')
    count = 0
    lines = []

    def flush():
        nonlocal count
        if not lines:
            return
        # drop the separating blank line mbox adds after each message
        if lines[-1] in (b'\n', b'\r\n'):
            lines.pop()
        if not any(l.strip() for l in lines):
            return
        count += 1
        if count_only:
            return
        # ":2,S" = seen, so notmuch does not add the "unread" tag
        name = os.path.join(cur, '%07d.bench:2,S' % count)
        with open(name, 'wb') as f:
            f.writelines(lines)

    with open_mbox(src) as mbox:
        for line in mbox:
            if line.startswith(b'From ') and FROM_STRICT.match(line):
                flush()
                lines = []
                continue
            if line.startswith(b'>'):
                line = QUOTED_FROM.sub(rb'\1', line, count=1)
            lines.append(line)
        flush()
    print(count)
    return 0


if __name__ == '__main__':
    sys.exit(main())
