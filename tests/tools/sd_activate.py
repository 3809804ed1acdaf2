#!/usr/bin/env python3
"""sd_activate.py — run `corridor serve` as systemd would: socket activation
(systemd-socket-activate passes the listening socket, named "lmtp") and
Type=notify with a watchdog (a NOTIFY_SOCKET we read).  Delivers one
message through the passed socket, waits for a watchdog ping, stops the
daemon with SIGTERM, and prints what it heard, one item per line.

usage: sd_activate.py SOCKET CORRIDOR STATE
"""
import os
import signal
import socket
import subprocess
import sys
import time

sock_path, corridor, state = sys.argv[1:4]
notify_path = state + "/notify.sock"
if os.path.exists(notify_path):
    os.unlink(notify_path)
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
n.bind(notify_path)
n.settimeout(0.2)
env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="1000000")
p = subprocess.Popen(["systemd-socket-activate", "-l", sock_path, "--fdname=lmtp",
                      "-E", "NOTIFY_SOCKET", "-E", "WATCHDOG_USEC",
                      # it starts the daemon with a fresh environment: the
                      # suite's permission to run it as root (tests/lib.sh)
                      "-E", "CORRIDOR_ALLOW_ROOT",
                      corridor, "--state", state, "serve"],
                     env=env, stderr=open(state + "/activate.log", "w"))
heard = []


def listen(until, want):
    while time.time() < until:
        try:
            msg = n.recv(4096).decode()
        except socket.timeout:
            continue
        for item in msg.split("\n"):
            if item.split("=")[0] not in [h.split("=")[0] for h in heard]:
                heard.append(item)
        if any(h.startswith(want) for h in heard):
            return True
    return False


# systemd-socket-activate starts the daemon on the first connection
for _ in range(100):
    if os.path.exists(sock_path):
        break
    time.sleep(0.1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.settimeout(10)
c.connect(sock_path)
print("ready:", listen(time.time() + 10, "READY=1"))
listen(time.time() + 3, "STATUS=")
print("status:", any(h.startswith("STATUS=accepting mail") for h in heard))
f = c.makefile("rwb")
def reply():
    while True:
        l = f.readline().decode().rstrip()
        if len(l) < 4 or l[3] != "-":
            return l
reply()
for cmd in ("LHLO sd.test", "MAIL FROM:<sd@council.test>", "RCPT TO:<planning@lists.test>", "DATA"):
    f.write(cmd.encode() + b"\r\n"); f.flush(); reply()
f.write(b"Subject: activated\r\nMessage-ID: <activated-1@council.test>\r\n\r\nhi\r\n.\r\n"); f.flush()
print("delivery:", reply())
f.write(b"QUIT\r\n"); f.flush(); reply()
print("watchdog:", listen(time.time() + 3, "WATCHDOG=1"))
p.send_signal(signal.SIGTERM)
print("stopping:", listen(time.time() + 5, "STOPPING=1"))
print("exit:", p.wait(timeout=10))
