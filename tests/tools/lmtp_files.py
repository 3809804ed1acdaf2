#!/usr/bin/env python3
"""lmtp_files.py — deliver messages over LMTP, one session, and print every
recipient's reply.

usage: lmtp_files.py TARGET RCPT[,RCPT...] [--sender ADDR] (FILE...|--mbox MBOX)

TARGET is unix:PATH or HOST:PORT.  The envelope sender is --sender (""
for the null sender), else each message's Return-Path header ("<>": the
null sender), else its From: address.
An mbox (mboxrd) is split at "From " lines and unquoted.  Prints one line
per message and recipient:

    NAME<TAB>RCPT<TAB>REPLY

where NAME is the file name, or "mbox:N:MESSAGE-ID" (N from 1).  Exits 1 on a protocol failure (not on refusals).
"""
import email.parser
import email.policy
import email.utils
import os
import re
import socket
import sys


def connect(target):
    if target.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(target[5:])
    else:
        host, port = target.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(60)
    return s


class Session:
    def __init__(self, target):
        self.s = connect(target)
        self.buf = b""
        self.reply()
        self.cmd(b"LHLO lmtp-files.test")

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        while True:
            line = self.line()
            if len(line) < 4 or line[3] != "-":
                return line

    def cmd(self, text):
        self.s.sendall(text + b"\r\n")
        return self.reply()

    def deliver(self, sender, rcpts, data):
        r = self.cmd(b"MAIL FROM:<" + sender.encode() + b">")
        if not r.startswith("250"):
            return [r] * len(rcpts)
        accepted = []
        replies = {}
        for rc in rcpts:
            r = self.cmd(b"RCPT TO:<" + rc.encode() + b">")
            if r.startswith("250"):
                accepted.append(rc)
            else:
                replies[rc] = r
        if not accepted:
            self.cmd(b"RSET")
            return [replies[rc] for rc in rcpts]
        r = self.cmd(b"DATA")
        if not r.startswith("354"):
            raise RuntimeError("DATA: " + r)
        body = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        body = re.sub(rb"(?m)^\.", b"..", body)
        self.s.sendall(body + b".\r\n")
        for rc in accepted:
            replies[rc] = self.reply()
        return [replies[rc] for rc in rcpts]


def envelope_from(data):
    head = data.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
    rp = msg.get("Return-Path")
    if rp is not None:
        rp = str(rp).strip()
        m = re.search(r"<([^>]*)>", rp)
        return (m.group(1) if m else rp).strip()
    return email.utils.parseaddr(str(msg.get("From", "")))[1]


def message_id(data):
    head = data.split(b"\n\n", 1)[0]
    m = re.search(rb"(?im)^message-id:\s*<?([^>\s]*)>?", head)
    return m.group(1).decode("utf-8", "replace") if m else ""


def mbox_messages(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = re.split(rb"(?m)^From .*\n", data)
    for part in parts:
        if not part.strip():
            continue
        yield re.sub(rb"(?m)^>(>*From )", rb"\1", part)


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, rcpts = args[0], args[1].split(",")
    rest = args[2:]
    sender, mbox = None, None
    files = []
    i = 0
    while i < len(rest):
        if rest[i] == "--sender":
            sender = rest[i + 1]
            i += 2
        elif rest[i] == "--mbox":
            mbox = rest[i + 1]
            i += 2
        else:
            files.append(rest[i])
            i += 1
    sess = Session(target)
    if mbox:
        items = ((f"mbox:{n}:{message_id(d)}", d) for n, d in enumerate(mbox_messages(mbox), 1))
    else:
        items = ((os.path.basename(p), open(p, "rb").read()) for p in sorted(files))
    for name, data in items:
        env = sender if sender is not None else envelope_from(data)
        if env == "<>":
            env = ""
        for rc, r in zip(rcpts, sess.deliver(env, rcpts, data)):
            print(f"{name}\t{rc}\t{r}", flush=True)
    sess.cmd(b"QUIT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
