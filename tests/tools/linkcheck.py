#!/usr/bin/env python3
"""tests/tools/linkcheck.py — every internal link of an archive tree works.

    linkcheck.py ROOT [--http http://HOST:PORT] [--restricted DIR]

Parses every .html file under ROOT (and DIR) with html.parser, resolves each
href and src relative to the file, and checks the target: a file of the tree
(a link to a folder means its index.html), or — for what the HTTP listener
makes from the store (.eml originals, attachments under m/KE/KEY/, /search)
— a GET through --http answering 200.  Links outside the archive (http:,
https:, mailto:) are not followed.  Fragments (#m-KEY) must name an id in the
target page.  Prints one line per broken link and a summary; exit 1 when any.
"""
import html.parser, http.client, os, sys, urllib.parse


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == 'id' and v:
                self.ids.add(v)
            if k in ('href', 'src') and v is not None and tag != 'form':
                self.links.append(v)
            if tag == 'form' and k == 'action':
                self.links.append(v)


def parse(path, cache):
    if path not in cache:
        p = Links()
        with open(path, encoding='utf-8') as f:
            p.feed(f.read())
        cache[path] = p
    return cache[path]


def main():
    args = sys.argv[1:]
    root = os.path.abspath(args[0])
    base = None
    roots = [root]
    if '--http' in args:
        base = args[args.index('--http') + 1]
    if '--restricted' in args:
        roots.append(os.path.abspath(args[args.index('--restricted') + 1]))
    conn = None
    if base:
        u = urllib.parse.urlparse(base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    cache, broken, checked, fetched, seen_http = {}, [], 0, 0, {}
    pages = []
    for r in roots:
        for d, _, files in os.walk(r):
            for f in files:
                if f.endswith('.html'):
                    pages.append((r, os.path.join(d, f)))
    for r, page in sorted(pages):
        p = parse(page, cache)
        for link in p.links:
            checked += 1
            u = urllib.parse.urlparse(link)
            if u.scheme in ('http', 'https', 'mailto') or link.startswith('//'):
                continue
            if u.scheme:
                broken.append((page, link, 'scheme'))
                continue
            if not u.path:
                if u.fragment and u.fragment not in p.ids:
                    broken.append((page, link, 'no id #' + u.fragment))
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(page), urllib.parse.unquote(u.path)))
            # a restricted page links shared things (site index, CSS, authors)
            # in the public tree: the HTTP listener maps both under one root
            if not target.startswith(r) and r != root:
                broken.append((page, link, 'leaves the tree'))
                continue
            rel = os.path.relpath(target, r)
            if rel.startswith('..'):
                broken.append((page, link, 'leaves the tree'))
                continue
            cands = [os.path.join(x, rel) for x in roots]
            found = None
            for c in cands:
                if os.path.isdir(c):
                    c = os.path.join(c, 'index.html')
                if os.path.isfile(c):
                    found = c
                    break
            if found:
                if u.fragment and found.endswith('.html') and u.fragment not in parse(found, cache).ids:
                    broken.append((page, link, 'no id #' + u.fragment))
                continue
            if conn is None:
                broken.append((page, link, 'missing'))
                continue
            path = '/' + rel.replace(os.sep, '/') + (('?' + u.query) if u.query else '')
            if path not in seen_http:
                conn.request('GET', path)
                resp = conn.getresponse()
                resp.read()
                seen_http[path] = resp.status
                fetched += 1
            if seen_http[path] != 200:
                broken.append((page, link, 'HTTP %d' % seen_http[path]))
    for page, link, why in broken[:50]:
        print('broken: %s -> %s (%s)' % (os.path.relpath(page, root), link, why))
    print('%d pages, %d links, %d fetched over HTTP, %d broken' % (len(pages), checked, fetched, len(broken)))
    return 1 if broken else 0


sys.exit(main())
