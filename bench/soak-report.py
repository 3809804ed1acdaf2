#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""soak-report.py — the table and the verdict of bench/soak.sh.

usage: soak-report.py --start T --seconds S --warmup W --lmtp-log F
                      --http-log F --sample-log F --serve-log F
                      --stored "MESSAGES CONTROL HELD NODES DUPLICATE_IDS"
                      [--interval 10] [--rss-limit 5]

--start is the time.monotonic() at which the load began; the logs are
those of bench/soak-load.c (END LATENCY_MS CODE CLIENT) and
bench/soak-http.py (requests; samples).  One row per interval:

  t s          end of the interval, seconds from the start
  deliv/s      LMTP deliveries answered 250 in it, per second
  LMTP p99 ms  99th percentile of their latency (end of DATA -> final reply)
  HTTP/s       HTTP requests answered in it, per second
  HTTP p99 ms  99th percentile of their latency (request -> whole answer)
  RSS MiB      the daemon's VmRSS at the sample nearest the end
  fds          its open file descriptors; thr its threads
  backlog      work items waiting, index/render/other, and outbox recipients
  errors       LMTP replies other than 250 + HTTP answers other than 200 and
               304 (404 only where asked on purpose) in the interval; the
               daemon's log has no times, so its warnings and errors are
               counted for the whole run, under the table

Verdict (exit 0 only when every line holds):
  RSS flat     growth < --rss-limit % from the end of warm-up (the mean of
               the first three samples at or after --warmup s) to the end
               (the mean of the last three samples)
  no errors    none of the above in the whole run (the "running as root"
               warning before "ready" is expected and not counted)
  stored once  every 250 is in the store exactly once: posts (thread nodes,
               one per message) + control mail + held + discarded (logged
               '-> discard') = 250 replies, and no Message-ID twice
"""
import argparse
import collections
import math
import re
import sys

A = argparse.ArgumentParser()
A.add_argument("--start", type=float, required=True)
A.add_argument("--seconds", type=float, required=True)
A.add_argument("--warmup", type=float, required=True)
A.add_argument("--lmtp-log", required=True)
A.add_argument("--http-log", required=True)
A.add_argument("--sample-log", required=True)
A.add_argument("--serve-log", required=True)
A.add_argument("--stored", required=True)
A.add_argument("--interval", type=float, default=10)
A.add_argument("--rss-limit", type=float, default=5)
a = A.parse_args()

iv = a.interval
nbins = max(1, int(math.ceil(a.seconds / iv)))


def binof(t):
    return min(nbins - 1, max(0, int((t - a.start) // iv)))


def p99(v):
    if not v:
        return None
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(math.ceil(0.99 * len(v))) - 1))]


ok_lat = [[] for _ in range(nbins)]
http_lat = [[] for _ in range(nbins)]
errs = [0] * nbins
lmtp_codes = collections.Counter()
http_bad = collections.Counter()
http_kinds = collections.Counter()
acked = 0
for line in open(a.lmtp_log):
    f = line.split()
    if len(f) < 4:
        continue
    t, lat, code = float(f[0]), float(f[1]), int(f[2])
    b = binof(t)
    if code == 250:
        acked += 1
        ok_lat[b].append(lat)
    else:
        lmtp_codes[code] += 1
        errs[b] += 1
for line in open(a.http_log):
    f = line.split(None, 4)
    if len(f) < 5:
        continue
    t, lat, st, kind, path = float(f[0]), float(f[1]), int(f[2]), f[3], f[4].strip()
    b = binof(t)
    http_lat[b].append(lat)
    http_kinds[kind] += 1
    good = st in (200, 304) if kind != "404-deliberate" else st == 404
    if not good:
        http_bad[(st, kind)] += 1
        errs[b] += 1
        if sum(http_bad.values()) <= 5:
            print("soak: HTTP %s for %s %s" % (st or "connection failed", kind, path))

# the daemon's warnings and errors, for the whole run (its lines have no time)
log_bad = []
ready = False
for line in open(a.serve_log, errors="replace"):
    if "info: ready (pid" in line:
        ready = True
    if re.search(r": (warning|error|critical): ", line) or "Sanitizer" in line:
        if not ready and "running as root" in line:
            continue
        log_bad.append(line.rstrip())
        # a line the log held back (core/log.h) counts as often as it came
        m = re.search(r"\(repeated (\d+) times? in the last \d+ s\)", line)
        if m:
            log_bad.extend([line.rstrip()] * (int(m.group(1)) - 1))

samples = []
for line in open(a.sample_log):
    f = line.split()
    if len(f) < 9 or f[1] == "-":
        continue
    samples.append((float(f[0]), int(f[1]), int(f[2]), int(f[3]), int(f[4]), f[5:9]))


def sample_at(t):
    best = None
    for s in samples:
        if s[0] <= t + 1.0:
            best = s
    return best


print()
print("SOAK: one row per %g s (deliveries answered 250; HTTP requests of every kind)" % iv)
hdr = "%6s %8s %11s %7s %11s %8s %5s %4s %21s %6s" % (
    "t s", "deliv/s", "LMTP p99 ms", "HTTP/s", "HTTP p99 ms", "RSS MiB", "fds", "thr",
    "backlog idx/rnd/oth/out", "errors")
print(hdr)
print("-" * len(hdr))
for b in range(nbins):
    end = a.start + (b + 1) * iv
    width = min(iv, a.seconds - b * iv)
    s = sample_at(end)
    lp, hp = p99(ok_lat[b]), p99(http_lat[b])
    print("%6.0f %8.1f %11s %7.1f %11s %8s %5s %4s %21s %6d" % (
        (b * iv + width), len(ok_lat[b]) / width,
        "%.1f" % lp if lp is not None else "-",
        len(http_lat[b]) / width,
        "%.1f" % hp if hp is not None else "-",
        "%.1f" % (s[1] / 1024) if s else "-",
        s[2] if s else "-", s[3] if s else "-",
        "/".join(s[5]) if s else "-", errs[b]))

all_ok = [x for v in ok_lat for x in v]
all_http = [x for v in http_lat for x in v]
print()
print("deliveries: %d answered 250 (%.1f/s), LMTP p99 %.1f ms over the run; HTTP: %d requests "
      "(%s), p99 %.1f ms" % (
          acked, acked / a.seconds, p99(all_ok) or 0, len(all_http),
          ", ".join("%s %d" % kv for kv in sorted(http_kinds.items())), p99(all_http) or 0))

verdict = True
# RSS
after = [s for s in samples if s[0] >= a.start + a.warmup]
if len(after) >= 2:
    k = min(3, len(after) // 2) or 1
    base = sum(s[1] for s in after[:k]) / k
    end = sum(s[1] for s in after[-k:]) / k
    growth = (end - base) / base * 100
    peak = max(s[1] for s in samples)
    flat = growth < a.rss_limit
    verdict &= flat
    print("RSS: %.1f MiB at the end of warm-up (first %g s; mean of %d samples), %.1f MiB at the "
          "end (mean of the last %d): growth %+.1f %% (limit %g %%), peak %.1f MiB: %s" % (
              base / 1024, a.warmup, k, end / 1024, k, growth, a.rss_limit, peak / 1024,
              "flat" if flat else "NOT FLAT"))
    # The verdict compares two means of three samples, and one busy moment
    # sampled at either end moves it by several per cent; the trend over
    # every sample after the warm-up (Theil-Sen: the median of the slopes
    # between all pairs of samples, which a few spikes do not move) says
    # whether the RSS still rises underneath.  It is shown, not judged.
    if len(after) >= 4:
        pts = [(s[0], s[1]) for s in after]
        slopes = sorted((pts[j][1] - pts[i][1]) / (pts[j][0] - pts[i][0])
                        for i in range(len(pts)) for j in range(i + 1, len(pts))
                        if pts[j][0] > pts[i][0])
        slope = slopes[len(slopes) // 2]
        icpt = sorted(y - slope * x for x, y in pts)[len(pts) // 2]
        t0, t1 = pts[0][0], pts[-1][0]
        f0, f1 = icpt + slope * t0, icpt + slope * t1
        print("RSS trend after the warm-up (Theil-Sen over %d samples, not judged): %.1f -> %.1f "
              "MiB, %+.1f %% (%+.2f MiB a minute)" % (
                  len(pts), f0 / 1024, f1 / 1024, (f1 - f0) / f0 * 100, slope * 60 / 1024))
    # what the growth is per message taken meanwhile: memory that grows with
    # the archive (see docs/hardening.md) shows as a steady figure here
    t_base, t_end = after[(k - 1) // 2][0], after[-1 - (k - 1) // 2][0]
    taken = sum(1 for v in range(nbins) for _ in ok_lat[v]
                if t_base <= a.start + (v + 0.5) * iv <= t_end)
    if taken:
        print("RSS growth per message accepted after the warm-up: %.2f KiB (%d messages)" % (
            (end - base) / taken, taken))
else:
    verdict = False
    print("RSS: too few samples after the warm-up (%d): NO VERDICT" % len(after))
if samples:
    print("fds: %d at the start, %d at the end; threads: %d, %d" % (
        samples[0][2], samples[-1][2], samples[0][3], samples[-1][3]))

n_err = sum(lmtp_codes.values()) + sum(http_bad.values()) + len(log_bad)
print("errors: LMTP %d%s; HTTP %d%s; daemon log %d" % (
    sum(lmtp_codes.values()),
    " (" + ", ".join("%s x%d" % (c or "connection", n) for c, n in sorted(lmtp_codes.items())) + ")"
    if lmtp_codes else "",
    sum(http_bad.values()),
    " (" + ", ".join("%s %s x%d" % (s or "connection", k, n) for (s, k), n in sorted(http_bad.items())) + ")"
    if http_bad else "",
    len(log_bad)))
for line in log_bad[:5]:
    print("  log: " + line[:300])
verdict &= n_err == 0

# stored exactly once
messages, control, held, nodes, dupids = (int(x) for x in a.stored.split())
disc = 0
for line in open(a.serve_log, errors="replace"):
    disc += line.count("-> discard")
stored = nodes + control + held + disc
once = stored == acked and dupids == 0 and nodes == messages
verdict &= once
print("store: %d acknowledged; %d posts (%d messages, %d thread nodes) + %d control mail + %d held "
      "+ %d discarded = %d; Message-IDs stored twice: %d: %s" % (
          acked, nodes, messages, nodes, control, held, disc, stored, dupids,
          "each once" if once else "MISMATCH"))
print("verdict: %s" % ("PASS (RSS flat, no errors, every acknowledged message stored once)"
                       if verdict else "FAIL"))
sys.exit(0 if verdict else 1)
