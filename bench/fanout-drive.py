#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""fanout-drive.py — one fan-out round, timed.

usage: fanout-drive.py COUNTER_FILE EXPECTED (--lmtp HOST:PORT RCPT | --cmd CMD...)
                       [--probe HOST:PORT RCPT N] [--timeout S]

Starts the clock, hands one post over (corridor: an LMTP transaction to RCPT;
a peer: COMMAND with the post on stdin), and waits until the smtp-sink
counter in COUNTER_FILE ("... mesg=N" lines written by smtp-sink -c) reaches
EXPECTED.  With --probe, meanwhile sends N small posts over LMTP to another
group, one after another, and times each acknowledgement (does intake stall
while the fan-out runs?).  Prints one JSON object: seconds, copies,
and probe latencies (p50, p99, max in ms).
"""
import json
import re
import socket
import subprocess
import sys
import threading
import time

POST = (b"From: Ann Example <ann@council.test>\r\nTo: {to}\r\nSubject: Fan-out benchmark\r\n"
        b"Message-ID: <fanout-{n}@council.test>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n"
        + b"The council meets on Tuesday.  This paragraph is here so the message has a body\r\n" * 20)


def lmtp_send(target, rcpt, data, sender="ann@council.test"):
    host, port = target.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line[3:4] != b"-":
                return line

    reply()
    s.sendall(b"LHLO bench\r\n")
    reply()
    s.sendall(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender.encode(), rcpt.encode()))
    for _ in range(3):
        r = reply()
    if not r.startswith(b"354"):
        raise RuntimeError(r)
    s.sendall(data.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
    r = reply()
    s.sendall(b"QUIT\r\n")
    s.close()
    if not r.startswith(b"250"):
        raise RuntimeError(r)


def counter(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return 0
    m = re.findall(rb"mesg=(\d+)", data)
    return int(m[-1]) if m else 0


def main():
    a = sys.argv[1:]
    path, expected = a[0], int(a[1])
    a = a[2:]
    lmtp = cmd = probe = None
    timeout = 300.0
    while a:
        if a[0] == "--lmtp":
            lmtp = (a[1], a[2]); a = a[3:]
        elif a[0] == "--probe":
            probe = (a[1], a[2], int(a[3])); a = a[4:]
        elif a[0] == "--timeout":
            timeout = float(a[1]); a = a[2:]
        elif a[0] == "--cmd":
            cmd = a[1:]; a = []
        else:
            sys.exit("unknown argument " + a[0])
    n = int(time.time() * 1000)
    lat = []

    def prober():
        for i in range(probe[2]):
            d = POST.replace(b"{to}", probe[1].encode()).replace(b"{n}", b"p%d-%d" % (n, i))
            t = time.monotonic()
            lmtp_send(probe[0], probe[1], d)
            lat.append((time.monotonic() - t) * 1000)
            time.sleep(0.01)

    t0 = time.monotonic()
    th = None
    if probe:
        th = threading.Thread(target=prober)
        th.start()
    if lmtp:
        lmtp_send(lmtp[0], lmtp[1], POST.replace(b"{to}", lmtp[1].encode()).replace(b"{n}", b"%d" % n))
    else:
        # what the MTA's local delivery adds, and mlmmj reads (the envelope)
        env = b"Return-Path: <ann@council.test>\r\nDelivered-To: fan@lists.test\r\n"
        subprocess.run(cmd, input=env + POST.replace(b"{to}", b"fan@lists.test").replace(b"{n}", b"%d" % n),
                       check=True)
    while counter(path) < expected:
        if time.monotonic() - t0 > timeout:
            break
        time.sleep(0.005)
    secs = time.monotonic() - t0
    if th:
        th.join()
    lat.sort()
    out = {"seconds": round(secs, 3), "copies": counter(path)}
    if lat:
        out["probe_p50_ms"] = round(lat[len(lat) // 2], 1)
        out["probe_p99_ms"] = round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1)
        out["probe_max_ms"] = round(lat[-1], 1)
        out["probes"] = len(lat)
    print(json.dumps(out))


main()
