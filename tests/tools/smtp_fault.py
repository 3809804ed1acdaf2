#!/usr/bin/env python3
"""smtp_fault.py — an SMTP relay for tests (the fault tests, T630, T950)
whose behaviour is switched while it runs: it keeps what it accepts like
Postfix's smtp-sink, refuses or hangs on command, and can refuse some
recipients alone (which smtp-sink cannot: it refuses every RCPT, with 500).

usage: smtp_fault.py PORT DIR MODEFILE

Listens on 127.0.0.1:PORT.  Before every new connection and every command
it reads MODEFILE: a mode, then for the rcpt- modes the addresses it is
about (absent or empty: "ok"):

  ok           takes every message: DIR/N.msg, preceded by "X-Mail-Args:
               <sender>" and one "X-Rcpt-Args: <rcpt>" per recipient, as
               smtp-sink -d writes them (tests/lib-sink.sh reads them)
  greet-421    "421 4.3.2 service not available" instead of the greeting
               (and to any command of a connection kept open), then closes
  greet-554    "554 5.3.2 no SMTP service here", the same way
  mail-451     451 4.3.0 to MAIL FROM
  mail-554     554 5.7.1 to MAIL FROM (the relay refuses the sender)
  rcpt-451 [ADDRESS...]
               451 4.2.0 to RCPT TO (greylisting, a full queue)
  rcpt-550 [ADDRESS...]
               550 5.1.1 to RCPT TO (no such user)
               -- both to every recipient, or, when ADDRESSes follow the
               word, to those alone (case-insensitive; the others are
               taken as in "ok")
  data-451     451 4.3.0 after the message's final dot
  hang         accepts the connection and never says anything (a
               connection kept open stops answering)
  hang-dot     takes the message and never answers its final dot
  reset-dot-once  reads the message, then resets the connection (RST)
               instead of answering its final dot, keeps nothing, and
               switches MODEFILE to "ok" (a relay restarting mid-transfer)

Every connection and every command is logged to DIR.log as
"TIME MODE EVENT [ARG]" (MODE: the word alone; EVENT: connect, MAIL, RCPT,
dot, ..., and "gone" when a client left a hanging connection), so a test
can count attempts and see when they came and how long a client waited.
Several transactions per connection, several connections at once.  Prints
"ready" on stdout once it listens; stops on SIGTERM (hanging connections
are dropped).
"""
import itertools
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time

counter = itertools.count(1)
lock = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    def mode(self):
        """the mode word; the addresses after it go to self.only"""
        try:
            with open(self.server.modefile) as f:
                words = f.read().split()
        except OSError:
            words = []
        self.only = {a.strip("<>").lower() for a in words[1:]}
        return words[0] if words else "ok"

    def refused(self, rcpt):
        """whether a rcpt- mode is about RCPT"""
        return not self.only or rcpt.strip("<>").lower() in self.only

    def log(self, mode, event, arg=""):
        with lock:
            with open(self.server.dir + ".log", "a") as f:
                f.write("%.3f %s %s %s\n" % (time.time(), mode, event, arg))

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def hang(self):
        # read and drop whatever comes until the peer gives up (logged as
        # "gone": how long the client waited) or we stop
        self.request.settimeout(0.5)
        while not self.server.stopping:
            try:
                if not self.request.recv(65536):
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        self.log(self.mode(), "gone")

    def handle(self):
        m = self.mode()
        self.log(m, "connect")
        if m == "hang":
            return self.hang()
        if m == "greet-421":
            return self.reply("421 4.3.2 service not available, closing channel")
        if m == "greet-554":
            return self.reply("554 5.3.2 no SMTP service here")
        self.reply("220 fault.test ESMTP")
        sender, rcpts = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            m = self.mode()
            arg = cmd[cmd.find(":") + 1:].strip().split(" ")[0] if ":" in cmd else ""
            self.log(m, verb, arg)
            # a connection kept open from before the switch hears the same
            if m == "hang":
                return self.hang()
            if m == "greet-421":
                return self.reply("421 4.3.2 service not available, closing channel")
            if m == "greet-554":
                return self.reply("554 5.3.2 no SMTP service here")
            if verb in ("EHLO", "HELO"):
                self.reply("250-fault.test\r\n250-8BITMIME\r\n250 PIPELINING"
                           if verb == "EHLO" else "250 fault.test")
            elif verb == "MAIL":
                if m == "mail-451":
                    self.reply("451 4.3.0 try again later")
                elif m == "mail-554":
                    self.reply("554 5.7.1 <%s>: Sender address rejected: Access denied"
                               % arg.strip("<>"))
                else:
                    sender, rcpts = arg, []
                    self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if m == "rcpt-451" and self.refused(arg):
                    self.reply("451 4.2.0 %s: Recipient address rejected: try again" % arg)
                elif m == "rcpt-550" and self.refused(arg):
                    self.reply("550 5.1.1 %s: Recipient address rejected: User unknown" % arg)
                else:
                    rcpts.append(arg)
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554 5.5.1 Error: no valid recipients")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while True:
                    l = self.rfile.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    data.append(l[1:] if l.startswith(b"..") else l)
                m = self.mode()
                self.log(m, "dot", " ".join(rcpts))
                if m == "hang-dot":
                    return self.hang()
                if m == "reset-dot-once":
                    with open(self.server.modefile, "w") as f:
                        f.write("ok\n")
                    self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                            struct.pack("ii", 1, 0))
                    self.log(m, "reset")
                    return
                if m == "data-451":
                    sender, rcpts = None, []
                    self.reply("451 4.3.0 Error: queue file write error")
                    continue
                head = "X-Mail-Args: %s\r\n" % sender
                head += "".join("X-Rcpt-Args: %s\r\n" % r for r in rcpts)
                with lock:
                    n = next(counter)
                path = os.path.join(self.server.dir, "%06d.msg" % n)
                with open(path + ".tmp", "wb") as f:
                    f.write(head.encode() + b"".join(data))
                os.replace(path + ".tmp", path)
                sender, rcpts = None, []
                self.reply("250 2.0.0 Ok: queued")
            elif verb == "RSET":
                sender, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    stopping = False


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: smtp_fault.py PORT DIR MODEFILE\n")
        return 2
    srv = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.dir = sys.argv[2]
    srv.modefile = sys.argv[3]
    os.makedirs(srv.dir, exist_ok=True)

    def stop(*_):
        srv.stopping = True
        threading.Thread(target=srv.shutdown).start()
    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    srv.serve_forever()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
