#!/usr/bin/env python3
"""smtp_refuse.py — an SMTP relay for tests that refuses some recipients
for good and keeps everything else, like Postfix's smtp-sink (which can
only refuse every RCPT, and with 500).

usage: smtp_refuse.py PORT DIR ADDRESS...

Listens on 127.0.0.1:PORT.  RCPT TO:<ADDRESS> for any ADDRESS given
(case-insensitive) is answered "550 5.1.1 <ADDRESS>: Recipient address
rejected: User unknown"; every other recipient is taken, and each message
is written to DIR/N.msg preceded by "X-Mail-Args: <sender>" and one
"X-Rcpt-Args: <rcpt>" line per recipient, as smtp-sink -d writes them (so
tests/lib-sink.sh's sink_count, sink_rcpts and sink_file read them).
Several transactions per connection, several connections at once.  Prints
"ready" on stdout once it listens; stops on SIGTERM.
"""
import itertools
import os
import signal
import socketserver
import sys
import threading

counter = itertools.count(1)
lock = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 refuse.test ESMTP")
        sender, rcpts = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                if verb == "EHLO":
                    self.reply("250-refuse.test\r\n250-8BITMIME\r\n250 PIPELINING")
                else:
                    self.reply("250 refuse.test")
            elif verb == "MAIL":
                sender, rcpts = cmd[cmd.find(":") + 1:].strip().split(" ")[0], []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = cmd[cmd.find(":") + 1:].strip().split(" ")[0]
                if addr.strip("<>").lower() in self.server.refused:
                    self.reply("550 5.1.1 %s: Recipient address rejected: User unknown" % addr)
                else:
                    rcpts.append(addr)
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


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: smtp_refuse.py PORT DIR ADDRESS...\n")
        return 2
    srv = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.dir = sys.argv[2]
    srv.refused = {a.lower() for a in sys.argv[3:]}
    os.makedirs(srv.dir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    print("ready", flush=True)
    srv.serve_forever()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
