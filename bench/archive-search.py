#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time the archive's search page over HTTP with one keep-alive connection.

usage: archive-search.py HOST:PORT REQUESTS OUT_TSV LABEL=QUERY...

First one untimed request per query (the warm-up, and a JSON one for the
hit count, /search?q=...&format=json), then REQUESTS timed requests of the
HTML results page /search?q=QUERY, the queries in turn, each from sending
the request to reading the whole body.  Every answer must be 200.

OUT_TSV, one line per query and a last one labelled "all":
  label  query  requests  p50_ms  p95_ms  max_ms  hits  body_kib
"""
import http.client
import json
import sys
import time
import urllib.parse


def pct(values, p):
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def main(argv):
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    host, port = argv[1].rsplit(':', 1)
    total = int(argv[2])
    out = argv[3]
    queries = [a.split('=', 1) for a in argv[4:]]
    conn = http.client.HTTPConnection(host, int(port), timeout=60)

    def get(path):
        conn.request('GET', path, headers={'Connection': 'keep-alive'})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError('%s: HTTP %d: %s' % (path, r.status, body[:200]))
        return body

    paths, hits, sizes = [], [], []
    for label, q in queries:
        path = '/search?' + urllib.parse.urlencode({'q': q})
        paths.append(path)
        sizes.append(len(get(path)))
        j = json.loads(get(path + '&format=json'))
        hits.append(j.get('total', 0))
    times = [[] for _ in queries]
    for i in range(total):
        k = i % len(queries)
        t0 = time.monotonic()
        get(paths[k])
        times[k].append((time.monotonic() - t0) * 1e3)
    conn.close()
    with open(out, 'w') as f:
        for (label, q), t, h, size in zip(queries, times, hits, sizes):
            if t:
                f.write('%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%d\t%.0f\n' % (
                    label, q, len(t), median(t), pct(t, 95), max(t), h, size / 1024.0))
        every = [x for t in times for x in t]
        f.write('all\t-\t%d\t%.2f\t%.2f\t%.2f\t-\t-\n' % (
            len(every), median(every), pct(every, 95), max(every)))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except (OSError, RuntimeError, http.client.HTTPException, ValueError) as e:
        sys.stderr.write('archive-search: %s\n' % e)
        sys.exit(1)
