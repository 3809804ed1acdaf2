#!/usr/bin/env python3
"""mailhdr.py FILE NAME... — prints each named header field of a message
file as "Name: value" (unfolded, RFC 2047 decoded), once per occurrence,
in the order given; "Name: <none>" when absent.  With --count, prints how
many times each occurs.  With --body, prints the decoded text body."""
import email
import email.header
import email.policy
import sys


def main():
    args = sys.argv[1:]
    count = '--count' in args
    body = '--body' in args
    args = [a for a in args if a not in ('--count', '--body')]
    path, names = args[0], args[1:]
    with open(path, 'rb') as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    for n in names:
        vals = msg.get_all(n) or []
        if count:
            print(f"{n}: {len(vals)}")
            continue
        if not vals:
            print(f"{n}: <none>")
        for v in vals:
            print(f"{n}: {' '.join(str(v).split())}")
    if body:
        part = msg.get_body(preferencelist=('plain',))
        parts = [msg] if part is None else [part]
        if msg.is_multipart():
            parts = [p for p in msg.walk() if p.get_content_type() == 'text/plain']
        for p in parts:
            print(p.get_content(), end='')


main()
