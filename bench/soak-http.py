#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""soak-http.py — the archive readers, the searches and the samples of
bench/soak.sh, for a bounded time.

usage: soak-http.py --base URL --groups G1,G2,... --pid PID --seconds S
                    --words FILE --http-log FILE --sample-log FILE --db PATH
                    [--readers N] [--searchers N] [--interval S]
                    [--clock FILE --clock-every S]

Readers (--readers threads, each one keep-alive connection) walk the
archive as a person does, from what exists: a group's front page, one of
the conversations it lists, one of that conversation's messages; now and
then the message's original (.eml), the group's Atom feed, an older index
page, and — on purpose — a conversation that does not exist (the only 404
that is not an error).  Searchers (--searchers threads) ask /search for one
or two words from FILE (one word a line, taken from the corpus), mostly as
JSON (format=json), sometimes the HTML page, and follow one result's link.

Every request is one line of --http-log:
    END LATENCY_MS STATUS KIND PATH
(END: time.monotonic() when the answer was read; STATUS 0: the connection
failed; KIND: index, thread, message, eml, atom, page, search, search-html,
result, 404-deliberate).

Every --interval seconds (10) the sampler writes one line to --sample-log:
    TIME RSS_KIB FDS THREADS CPU_TICKS INDEX RENDER OTHER_WORK OUTBOX
the daemon's VmRSS, open file descriptors and threads (/proc/PID), its CPU
time (user + system, clock ticks), and the store's backlog: 'index' and
'render' work items, other work items, recipients waiting in the outbox
(read-only queries on --db; '-' when the store was busy).

--clock FILE --clock-every S: every S seconds the time in FILE (the
daemon's CORRIDOR_NOW_FILE, ISO 8601 UTC) moves one day on, so the digest
scheduler makes the next day's digests during the soak.

Exit status 0; errors are in the logs for bench/soak-report.py to judge.
"""
import argparse
import datetime
import http.client
import json
import os
import random
import re
import sqlite3
import threading
import time
import urllib.parse

A = argparse.ArgumentParser()
A.add_argument("--base", required=True)
A.add_argument("--groups", required=True)
A.add_argument("--pid", type=int, required=True)
A.add_argument("--seconds", type=float, required=True)
A.add_argument("--words", required=True)
A.add_argument("--http-log", required=True)
A.add_argument("--sample-log", required=True)
A.add_argument("--db", required=True)
A.add_argument("--readers", type=int, default=4)
A.add_argument("--searchers", type=int, default=2)
A.add_argument("--interval", type=float, default=10)
A.add_argument("--clock")
A.add_argument("--clock-every", type=float, default=0)
args = A.parse_args()

base = urllib.parse.urlsplit(args.base)
groups = [g for g in args.groups.split(",") if g]
words = [w.strip() for w in open(args.words, encoding="utf-8") if w.strip()]
deadline = time.monotonic() + args.seconds
log_lock = threading.Lock()
http_log = open(args.http_log, "w", buffering=1 << 16)

HREF = re.compile(r'href="([^"#?]+)"')


class Client:
    """One keep-alive connection; get() returns (status, body)."""

    def __init__(self):
        self.c = None

    def get(self, path, kind):
        t0 = time.monotonic()
        status, body = 0, b""
        for attempt in (1, 2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
                self.c.request("GET", path)
                r = self.c.getresponse()
                body = r.read()
                status = r.status
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                # a keep-alive connection the server closed while idle: one retry
                self.c = None
                if attempt == 2:
                    status = 0
            except (OSError, http.client.HTTPException):
                self.c = None
                status = 0
                break
        t1 = time.monotonic()
        with log_lock:
            http_log.write("%.6f %.3f %d %s %s\n" % (t1, (t1 - t0) * 1000, status, kind, path))
        return status, body


def links(body, page, pattern):
    """Absolute paths of the links on `page` (a path) matching pattern."""
    out = []
    for h in HREF.findall(body.decode("utf-8", "replace")):
        p = urllib.parse.urljoin(page, h)
        if re.search(pattern, p):
            out.append(p)
    return out


def reader(seed):
    rnd = random.Random(seed)
    c = Client()
    n = 0
    while time.monotonic() < deadline:
        n += 1
        g = rnd.choice(groups)
        front = "/g/%s/" % g
        st, body = c.get(front, "index")
        if st != 200:
            time.sleep(0.2)
            continue
        if n % 10 == 0:
            c.get("/g/%s/atom.xml" % g, "atom")
        if n % 25 == 0:
            c.get("/g/%s/t/ff/999999999.html" % g, "404-deliberate")
        pages = links(body, front, r"/g/[^/]+/page-\d+\.html$")
        if pages and n % 7 == 0:
            page = rnd.choice(pages)
            st, pbody = c.get(page, "page")
            if st == 200:
                body, front = pbody, page
        threads = links(body, front, r"/g/[^/]+/t/[0-9a-f]{2}/\d+\.html$")
        if not threads:
            continue
        t = rnd.choice(threads)
        st, body = c.get(t, "thread")
        if st != 200:
            continue
        msgs = links(body, t, r"/g/[^/]+/m/[0-9a-f]{2}/[0-9a-f]{16}\.html$")
        if not msgs:
            continue
        m = rnd.choice(msgs)
        st, _ = c.get(m, "message")
        if st == 200 and n % 5 == 0:
            c.get(m[:-5] + ".eml", "eml")


def searcher(seed):
    rnd = random.Random(seed)
    c = Client()
    n = 0
    while time.monotonic() < deadline:
        n += 1
        q = " ".join(rnd.sample(words, rnd.choice((1, 1, 2))))
        qs = urllib.parse.urlencode({"q": q, "format": "json"})
        if n % 5 == 0:
            qs = urllib.parse.urlencode({"q": q, "group": rnd.choice(groups), "format": "json"})
        if n % 4 == 0:
            c.get("/search?" + urllib.parse.urlencode({"q": q}), "search-html")
            continue
        st, body = c.get("/search?" + qs, "search")
        if st != 200:
            continue
        try:
            res = json.loads(body).get("results", [])
        except ValueError:
            with log_lock:
                http_log.write("%.6f 0 0 search-json-invalid /search?%s\n" % (time.monotonic(), qs))
            continue
        if res and n % 3 == 0:
            url = rnd.choice(res).get("url", "")
            if url.startswith("/"):
                c.get(url, "result")


def backlog():
    try:
        db = sqlite3.connect("file:%s?mode=ro" % args.db, uri=True, timeout=2)
        w = dict(db.execute("SELECT kind, count(*) FROM work GROUP BY kind").fetchall())
        ob = db.execute("SELECT count(*) FROM outbox_rcpt").fetchone()[0]
        db.close()
        other = sum(v for k, v in w.items() if k not in ("index", "render"))
        return "%d %d %d %d" % (w.get("index", 0), w.get("render", 0), other, ob)
    except sqlite3.Error:
        return "- - - -"


def sample(f):
    p = "/proc/%d" % args.pid
    try:
        st = open(p + "/status").read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1))
        thr = int(re.search(r"Threads:\s+(\d+)", st).group(1))
        fds = len(os.listdir(p + "/fd"))
        s = open(p + "/stat").read()
        fl = s[s.rindex(")") + 2:].split()
        cpu = int(fl[11]) + int(fl[12])
    except (OSError, AttributeError, ValueError):
        f.write("%.6f - - - - - - - -\n" % time.monotonic())
        return
    f.write("%.6f %d %d %d %d %s\n" % (time.monotonic(), rss, fds, thr, cpu, backlog()))
    f.flush()


def sampler():
    with open(args.sample_log, "w") as f:
        t = time.monotonic()
        sample(f)
        while True:
            t += args.interval
            if t > deadline + 0.5:
                break
            time.sleep(max(0, t - time.monotonic()))
            sample(f)


def clock():
    while True:
        time.sleep(args.clock_every)
        if time.monotonic() >= deadline:
            return
        s = open(args.clock).read().strip()
        t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00")) + datetime.timedelta(days=1)
        tmp = args.clock + ".tmp"
        with open(tmp, "w") as f:
            f.write(t.strftime("%Y-%m-%dT%H:%M:%SZ") + "\n")
        os.replace(tmp, args.clock)


threads = [threading.Thread(target=sampler)]
threads += [threading.Thread(target=reader, args=(i,)) for i in range(args.readers)]
threads += [threading.Thread(target=searcher, args=(100 + i,)) for i in range(args.searchers)]
if args.clock and args.clock_every > 0:
    threads.append(threading.Thread(target=clock, daemon=True))
for t in threads:
    t.start()
for t in threads:
    if not t.daemon:
        t.join()
http_log.close()
