#!/usr/bin/env python3
"""Submit messages over SMTP with a fixed envelope, bytes unchanged.

usage: smtp_submit.py --port N [--host 127.0.0.1] --from ADDR --to ADDR
                      [--to ADDR...] [--limit N] [--count-file PATH] FILE...

FILE is an mbox (optionally .xz/.gz; split at "From " lines that start the
file or follow an empty line; the separator line and the one empty line
before the next separator are dropped, ">From " is left as it is) or a single
message (.eml).  Bare LF becomes CRLF; everything else, bare CR and lines
over 998 bytes included, is sent as it is (smtplib dot-stuffs).  One
connection is reused; after a dropped connection or a 421 the message is
retried once on a new one.

stdout, one line per message:  OK <message-id>   (message-id without <>,
"-" when there is none), and for each refusal
  REFUSED <message-id> <code> <text>   (one per refused recipient, or one for
                                        a refused MAIL FROM / DATA)
  ERROR <message-id> <text>            (could not be sent at all)
stderr: "submitted N, refused M": N messages accepted for at least one
recipient, M messages accepted for none.
--limit N stops after N messages; --count-file PATH is rewritten after each
message with the number of messages handled so far.
Exit 0 unless a message hit ERROR (1) or the usage is wrong (2).
"""
import argparse, gzip, lzma, os, re, smtplib, sys


def read_file(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data.startswith(b'\xfd7zXZ'):
        data = lzma.decompress(data)
    elif data.startswith(b'\x1f\x8b'):
        data = gzip.decompress(data)
    return data


def split_messages(data):
    """Yields each message's bytes: an mbox's messages, or the whole file."""
    if not data.startswith(b'From '):
        yield data
        return
    starts = [0] + [m.start(1) for m in
                    re.finditer(rb'(?:\r?\n)\r?\n(From )', data)]
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(data)
        msg = data[s:e]
        nl = msg.find(b'\n')
        msg = msg[nl + 1:] if nl >= 0 else b''
        # the empty line that separates it from the next message
        if msg.endswith(b'\r\n\r\n'):
            msg = msg[:-2]
        elif msg.endswith(b'\n\n'):
            msg = msg[:-1]
        yield msg


def message_id(msg):
    """The Message-ID header's value without <>, or '-'."""
    m = re.search(rb'\r?\n\r?\n', msg)
    head = msg[:m.start()] if m else msg
    head = re.sub(rb'\r?\n[ \t]+', b' ', head)   # unfold
    for line in re.split(rb'\r?\n', head):
        if line[:11].lower() == b'message-id:':
            v = line[11:].strip().decode('utf-8', 'replace')
            v = v.split()[0] if v else ''
            return v.strip('<>') or '-'
    return '-'


class Submitter:
    def __init__(self, host, port):
        self.host, self.port, self.conn = host, port, None

    def close(self):
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    self.conn.close()
                except OSError:
                    pass
            self.conn = None

    def send(self, sender, rcpts, msg):
        """Returns {rcpt: (code, text)} of refused recipients, as sendmail."""
        if self.conn is None:
            self.conn = smtplib.SMTP(self.host, self.port, timeout=120)
            self.conn.ehlo()
        opts = []
        if re.search(rb'[\x80-\xff]', msg) and self.conn.has_extn('8bitmime'):
            opts.append('BODY=8BITMIME')
        return self.conn.sendmail(sender, rcpts, msg, mail_options=opts)


def text(x):
    if isinstance(x, bytes):
        x = x.decode('utf-8', 'replace')
    return ' '.join(x.split())


def main():
    ap = argparse.ArgumentParser(description='SMTP submitter for tests')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--from', dest='sender', required=True)
    ap.add_argument('--to', dest='rcpts', action='append', required=True)
    ap.add_argument('--limit', type=int)
    ap.add_argument('--count-file')
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()

    for path in a.files:
        if not os.access(path, os.R_OK) or os.path.isdir(path):
            ap.error('cannot read %s' % path)
    sub = Submitter(a.host, a.port)
    submitted = refused = handled = 0
    errors = False

    def out(line):
        sys.stdout.write(line + '\n')
        sys.stdout.flush()

    for path in a.files:
        for msg in split_messages(read_file(path)):
            if a.limit is not None and handled >= a.limit:
                break
            msg = re.sub(rb'(?<!\r)\n', b'\r\n', msg)
            mid = message_id(msg)
            for attempt in (1, 2):
                try:
                    bad = sub.send(a.sender, a.rcpts, msg)
                    out('OK ' + mid)
                    for r in a.rcpts:
                        if r in bad:
                            out('REFUSED %s %d %s' % (mid, bad[r][0], text(bad[r][1])))
                    submitted += 1
                    break
                except smtplib.SMTPRecipientsRefused as e:
                    for r in a.rcpts:
                        if r in e.recipients:
                            c, t = e.recipients[r]
                            out('REFUSED %s %d %s' % (mid, c, text(t)))
                    refused += 1
                    if any(c == 421 for c, _ in e.recipients.values()):
                        sub.close()
                    break
                except smtplib.SMTPResponseException as e:
                    # SMTPSenderRefused / SMTPDataError / others
                    if e.smtp_code == 421 and attempt == 1:
                        sub.close()
                        continue
                    out('REFUSED %s %d %s' % (mid, e.smtp_code, text(e.smtp_error)))
                    refused += 1
                    if e.smtp_code == 421:
                        sub.close()
                    break
                except (smtplib.SMTPException, OSError) as e:
                    sub.close()
                    if attempt == 1:
                        continue
                    out('ERROR %s %s' % (mid, text(str(e) or type(e).__name__)))
                    errors = True
            handled += 1
            if a.count_file:
                tmp = a.count_file + '.tmp'
                with open(tmp, 'w') as f:
                    f.write('%d\n' % handled)
                os.replace(tmp, a.count_file)
    sub.close()
    sys.stderr.write('submitted %d, refused %d\n' % (submitted, refused))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
