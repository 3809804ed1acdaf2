#!/usr/bin/env python3
"""Compare corridor's thread membership with notmuch's.

usage: compare_threads.py CORRIDOR_THREADS.jsonl NOTMUCH_SHOW.json MAILDIR

CORRIDOR_THREADS.jsonl: `corridor threads --group G --json` output.
NOTMUCH_SHOW.json: `notmuch show --format=json --body=false '*'` output.
MAILDIR: the messages (to check the Thread-Index exceptions' headers).

Messages whose Message-ID only one side knows (synthetic ids for messages
without one) are left out and counted.  A difference is allowed only where
corridor's Thread-Index rule joined threads: every notmuch thread that
corridor merged into another must contain a message with a Thread-Index
header and neither References nor In-Reply-To.  Prints a summary; exits 1
on any other difference.
"""
import email, email.policy, json, os, re, sys

def notmuch_threads(path):
    data = json.load(open(path))
    threads = []
    def walk(node, acc):
        # node = [message, [replies...]]
        msg, replies = node[0], node[1]
        if msg is not None:
            acc.add(msg['id'])
        for r in replies:
            walk(r, acc)
    for thread in data:
        acc = set()
        for node in thread:
            walk(node, acc)
        threads.append(acc)
    return threads

def corridor_threads(path):
    return [set(json.loads(l)['message_ids']) for l in open(path) if l.strip()]

def headers_by_id(maildir):
    info = {}
    for root, _, files in os.walk(maildir):
        for f in files:
            with open(os.path.join(root, f), 'rb') as fh:
                raw = fh.read()
            hdr = raw.split(b'\n\n', 1)[0]
            m = re.search(rb'^message-id:\s*<?([^>\s]+)>?', hdr, re.I | re.M)
            if not m:
                continue
            mid = m.group(1).decode('utf-8', 'replace')
            ti = re.search(rb'^thread-index:', hdr, re.I | re.M) is not None
            refs = re.search(rb'^(references|in-reply-to):\s*\S', hdr, re.I | re.M) is not None
            info[mid] = (ti, refs)
    return info

def main():
    cor = corridor_threads(sys.argv[1])
    nm = notmuch_threads(sys.argv[2])
    info = headers_by_id(sys.argv[3])
    cor_ids = set().union(*cor) if cor else set()
    nm_ids = set().union(*nm) if nm else set()
    common = cor_ids & nm_ids
    cor = [t & common for t in cor if t & common]
    nm = [t & common for t in nm if t & common]
    nm_of = {m: i for i, t in enumerate(nm) for m in t}
    bad = []
    by_index = 0
    for t in cor:
        parts = sorted({nm_of[m] for m in t})
        union = set().union(*(nm[i] for i in parts))
        if union != t:
            bad.append(('corridor thread splits a notmuch thread', sorted(t)[:5]))
            continue
        if len(parts) > 1:
            # all but one part must have joined by the Thread-Index rule
            ok = [i for i in parts
                  if any(info.get(m, (False, True))[0] and not info.get(m, (False, True))[1]
                         for m in nm[i])]
            if len(ok) < len(parts) - 1:
                bad.append(('threads merged without Thread-Index', [sorted(nm[i])[:3] for i in parts]))
            else:
                by_index += len(parts) - 1
    print('messages compared: %d (only corridor: %d, only notmuch: %d)'
          % (len(common), len(cor_ids - common), len(nm_ids - common)))
    print('threads: corridor %d, notmuch %d; joined by Thread-Index: %d'
          % (len(cor), len(nm), by_index))
    agree = sum(1 for t in cor if len({nm_of[m] for m in t}) == 1)
    print('threads in exact agreement: %d of %d' % (agree, len(cor)))
    for why, what in bad[:20]:
        print('DIFF: %s: %s' % (why, what))
    if len(cor_ids - common) or len(nm_ids - common):
        print('only corridor: %s' % sorted(cor_ids - common)[:10])
        print('only notmuch: %s' % sorted(nm_ids - common)[:10])
    sys.exit(1 if bad else 0)

main()
