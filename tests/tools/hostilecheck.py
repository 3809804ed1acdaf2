#!/usr/bin/env python3
"""tests/tools/hostilecheck.py — no active content in archive pages.

    hostilecheck.py DIR...

Parses every .html and .atom/.xml file under each DIR and fails on anything
a browser could run or load from elsewhere: <script>, <iframe>, <object>,
<embed>, <svg>, <math>, <form> other than the archive's own search form,
<base>, <meta http-equiv=refresh>, <link> other than the stylesheet and the
feed, any on* attribute, style attributes, and href/src/action values whose
scheme is not http, https or mailto (or relative).  Images are not allowed
at all (the archive shows none).  Prints each finding; exit 1 when any.
"""
import html.parser, os, re, sys

BAD_TAGS = {'script', 'iframe', 'frame', 'object', 'embed', 'applet', 'svg', 'math', 'base',
            'img', 'video', 'audio', 'source', 'input', 'textarea', 'style', 'template'}


class Check(html.parser.HTMLParser):
    def __init__(self, path, out):
        super().__init__(convert_charrefs=True)
        self.path, self.out = path, out

    def bad(self, what):
        self.out.append('%s: %s' % (self.path, what))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in BAD_TAGS and not (tag == 'input' and a.get('name') == 'q'):
            self.bad('<%s>' % tag)
        if tag == 'form' and not (a.get('action', '').endswith('search') and a.get('method') == 'get'):
            self.bad('form action=%r' % a.get('action'))
        if tag == 'meta' and (a.get('http-equiv') or '').lower() == 'refresh':
            self.bad('meta refresh')
        if tag == 'link' and a.get('rel') not in ('stylesheet', 'alternate', 'self'):
            self.bad('link rel=%r' % a.get('rel'))
        for k, v in attrs:
            if k.startswith('on'):
                self.bad('%s attribute on <%s>' % (k, tag))
            if k == 'style':
                self.bad('style attribute on <%s>' % tag)
            if k in ('href', 'src', 'action', 'formaction', 'xlink:href') and v:
                s = re.sub(r'[\x00-\x20]', '', v).lower()
                m = re.match(r'^([a-z][a-z0-9+.-]*):', s)
                if m and m.group(1) not in ('http', 'https', 'mailto'):
                    self.bad('%s=%r on <%s>' % (k, v, tag))


def main():
    out, n = [], 0
    for root in sys.argv[1:]:
        for d, _, files in os.walk(root):
            for f in files:
                if f.endswith(('.html', '.atom', '.xml')):
                    p = os.path.join(d, f)
                    n += 1
                    text = open(p, encoding='utf-8').read()
                    if f.endswith('.html'):
                        Check(p, out).feed(text)
                    elif re.search(r'<(script|iframe|svg)\b', text, re.I):
                        out.append('%s: markup in a feed' % p)
    for line in out[:40]:
        print(line)
    print('%d files, %d findings' % (n, len(out)))
    return 1 if out else 0


sys.exit(main())
