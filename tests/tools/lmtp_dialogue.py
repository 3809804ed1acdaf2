#!/usr/bin/env python3
"""lmtp_dialogue.py — run a scripted LMTP dialogue against a server.

usage: lmtp_dialogue.py --connect unix:PATH|HOST:PORT SCRIPT...

A script is a text file, one step per line:

    # comment
    > LHLO test             send the line, with CRLF
    >> raw\\x00bytes\\n      send bytes (Python escapes), nothing added
    >file PATH              send a file's bytes as they are (relative to the script)
    >repeat N TEXT          send TEXT + CRLF, N times, in one write
    >long N                 send a line of N "x" bytes and CRLF
    < 250 2.1.0             expect the next reply to start with this (a multi-line
                            reply is matched on its last line)
    <- 250-PIPELINING       expect the next continuation line of a multi-line
                            reply to start with this (before its "<" line, or
                            after it for the lines that "<" skipped)
    <repeat N 250 2.0.0     expect N replies starting with this
    <closed                 expect the server to close the connection
    ! sleep SECONDS
    ! reconnect             a new connection (reads the 220 greeting)

Each script starts by connecting and expecting a 220.  Prints one line per
script, "ok NAME" or "not ok NAME: step N: what was expected / what came",
and exits 1 if any failed.
"""
import argparse
import codecs
import os
import socket
import sys
import time


class Conn:
    def __init__(self, target, timeout):
        if target.startswith("unix:"):
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(timeout)
            self.s.connect(target[5:])
        else:
            host, port = target.rsplit(":", 1)
            self.s = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                if self.buf:
                    raise EOFError("connection closed after a partial line %r" % self.buf)
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def closed(self):
        try:
            chunk = self.s.recv(1)
        except (ConnectionResetError, BrokenPipeError):
            return True
        return chunk == b"" and not self.buf

    def send(self, data):
        self.s.sendall(data)


def run(path, target, timeout):
    name = os.path.basename(path)
    steps = open(path, encoding="utf-8").read().split("\n")
    conn = Conn(target, timeout)
    pending_cont = []  # continuation lines read but not yet checked

    def reply():
        """The next whole reply: its continuation lines and last line."""
        cont = []
        while True:
            l = conn.line()
            if len(l) >= 4 and l[3] == "-":
                cont.append(l)
                continue
            return cont, l

    def expect(prefix):
        nonlocal pending_cont
        cont, last = reply()
        pending_cont = cont
        if not last.startswith(prefix):
            raise AssertionError("expected '%s', got '%s'" % (prefix, last))

    expect("220 ")
    for n, step in enumerate(steps, 1):
        step = step.rstrip("\n")
        if not step.strip() or step.startswith("#"):
            continue
        try:
            if step.startswith(">> "):
                conn.send(codecs.escape_decode(step[3:].encode())[0])
            elif step.startswith(">file "):
                conn.send(open(os.path.join(os.path.dirname(path), step[6:].strip()), "rb").read())
            elif step.startswith(">repeat "):
                _, count, text = step.split(" ", 2)
                conn.send((text + "\r\n").encode() * int(count))
            elif step.startswith(">long "):
                conn.send(b"x" * int(step[6:]) + b"\r\n")
            elif step == ">":
                conn.send(b"\r\n")
            elif step.startswith("> "):
                conn.send(step[2:].encode() + b"\r\n")
            elif step.startswith("<- "):
                if pending_cont:
                    got = pending_cont.pop(0)
                else:
                    got = conn.line()
                    if len(got) < 4 or got[3] != "-":
                        raise AssertionError("expected continuation '%s', got '%s'" % (step[3:], got))
                if not got.startswith(step[3:]):
                    raise AssertionError("expected '%s', got '%s'" % (step[3:], got))
            elif step.startswith("<repeat "):
                _, count, prefix = step.split(" ", 2)
                for i in range(int(count)):
                    expect(prefix)
            elif step.strip() == "<closed":
                if not conn.closed():
                    raise AssertionError("expected the connection to be closed")
            elif step.startswith("< "):
                expect(step[2:])
            elif step.startswith("! sleep "):
                time.sleep(float(step[8:]))
            elif step.strip() == "! reconnect":
                conn.s.close()
                conn = Conn(target, timeout)
                expect("220 ")
            else:
                raise AssertionError("bad script line")
        except (AssertionError, EOFError, OSError) as e:
            print("not ok %s: line %d: %s: %s" % (name, n, step[:60], e))
            return False
    print("ok %s" % name)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("scripts", nargs="+")
    a = ap.parse_args()
    ok = True
    for s in a.scripts:
        ok = run(s, a.connect, a.timeout) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
