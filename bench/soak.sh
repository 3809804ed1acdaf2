#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/soak.sh — the daemon as deployed, under steady load for a bounded
# time: `corridor serve` with LMTP on a Unix socket, HTTP on loopback, the
# archive renderer, the outbound worker fanning copies out to a few members
# of each group through Postfix's smtp-sink, and the digest scheduler (its
# clock moved one day on every SOAK_DIGEST_EVERY s, so digests are made
# during the run); 32 persistent LMTP sessions deliver real mail
# (linux-mips.mbox.xz, cycled, every copy unique), archive readers walk the
# pages and searchers ask /search.  Every 10 s: deliveries/s, LMTP p99, HTTP
# p99, the daemon's RSS, open fds and threads, the work backlog.  At the end
# a table and a verdict: RSS flat after the warm-up, no error of any kind,
# every acknowledged message in the store exactly once.  See bench/README.md
# ("bench/soak.sh") for how to read it.
#
# Environment (all optional):
#   SOAK_SECONDS       how long the load runs                  (default: 600)
#   SOAK_WARMUP        seconds not judged for RSS growth       (default: 120, or a
#                      third of the run when it is shorter than 6 minutes)
#   SOAK_CLIENTS       LMTP sessions                           (default: 32)
#   SOAK_RATE          offered deliveries/s over all sessions, 0 = as fast as
#                      they go                                  (default: 50, what
#                      a 2-CPU machine sustains with the readers and searchers
#                      on the same CPUs; at 100 the index backlog grows)
#   SOAK_GROUPS        groups; session i posts to group i mod N (default: 4)
#   SOAK_MEMBERS       members of each group getting every copy (default: 3)
#   SOAK_READERS       archive reader threads                  (default: 4)
#   SOAK_SEARCHERS     search threads                          (default: 2)
#   SOAK_DIGEST_EVERY  seconds between digest days, 0 = never  (default: 10)
#   SOAK_RSS_LIMIT     allowed RSS growth after warm-up, %     (default: 5)
#   SOAK_MBOX          mbox, plain or .xz                      (default: $CORRIDOR_CORPORA/linux-mips.mbox.xz)
#   SOAK_MBOX_MB       MiB of it to use (read from its start)  (default: 200)
#   SOAK_PARTS         deliver the mbox from this many places at once, so every
#                      stretch of the run has the same mix of its years and
#                      sizes (soak-load --parts)                (default: 10;
#                      1: in order, when the mean message doubles over the run)
#   SOAK_DATE_STEP     seconds: delivery k is dated 2001-01-01 + k * this, each
#                      newer than the last as live mail is (soak-load
#                      --date-step; 10800 keeps the corpus's density of about
#                      one post every 3 hours)                  (default: 10800;
#                      0: the messages' own dates)
#   SOAK_DIR           work folder, wiped first                (default: bench/out/soak)
#   SOAK_PORT          HTTP port; smtp-sink uses +1            (default: 17224)
#   SOAK_CONF          more corridor.conf lines (printf %b: "[store]\\ndaemon_cache = 2M")
#   SOAK_SERVE_ARGS    more `corridor serve` options, e.g. --no-archive (to see
#                      what one part costs; the readers then count 404s)
#   CORRIDOR_CORPORA   corpora folder                          (default: ../shared/corpora)
#   CORRIDOR_BIN       corridor binary                         (default: ./corridor)
#
# Exit status: 0 when the verdict holds, 1 when it does not (or the daemon
# died or did not stop cleanly), 2 on a set-up error.

set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

SECS=${SOAK_SECONDS:-600}
CLIENTS=${SOAK_CLIENTS:-32}
RATE=${SOAK_RATE:-50}
NGROUPS=${SOAK_GROUPS:-4}
MEMBERS=${SOAK_MEMBERS:-3}
READERS=${SOAK_READERS:-4}
PARTS=${SOAK_PARTS:-10}
DATE_STEP=${SOAK_DATE_STEP:-10800}
SEARCHERS=${SOAK_SEARCHERS:-2}
DIGEST_EVERY=${SOAK_DIGEST_EVERY:-10}
RSS_LIMIT=${SOAK_RSS_LIMIT:-5}
MBOX_MB=${SOAK_MBOX_MB:-200}
PORT=${SOAK_PORT:-17224}
CORRIDOR_CORPORA=${CORRIDOR_CORPORA:-$root/../shared/corpora}
MBOX=${SOAK_MBOX:-$CORRIDOR_CORPORA/linux-mips.mbox.xz}
W=${SOAK_DIR:-$root/bench/out/soak}
CORRIDOR=${CORRIDOR_BIN:-./corridor}
case $CORRIDOR in /*) ;; *) CORRIDOR=$root/$CORRIDOR ;; esac
export CORRIDOR_ALLOW_ROOT=1   # as root, serve refuses without it (docs/security.md)
HTTP_PORT=$PORT
SINK_PORT=$((PORT + 1))

say() { printf 'soak: [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'soak: error: %s\n' "$*" >&2; exit 2; }

for v in "$SECS" "$CLIENTS" "$RATE" "$NGROUPS" "$MEMBERS" "$READERS" "$SEARCHERS" "$PARTS" "$DATE_STEP" \
         "$DIGEST_EVERY" "$MBOX_MB" "$PORT"; do
	case $v in ''|*[!0-9]*) die "'$v' is not a whole number (SOAK_* settings)";; esac
done
[ "$SECS" -ge 30 ] || die "SOAK_SECONDS must be at least 30"
[ "$NGROUPS" -ge 1 ] && [ "$CLIENTS" -ge 1 ] || die "SOAK_GROUPS and SOAK_CLIENTS must be at least 1"
if [ -n "${SOAK_WARMUP:-}" ]; then
	WARMUP=$SOAK_WARMUP
elif [ "$SECS" -ge 360 ]; then
	WARMUP=120
else
	WARMUP=$((SECS / 3))
fi
[ -x "$CORRIDOR" ] || die "no corridor binary at $CORRIDOR (make first)"
[ -x /usr/sbin/smtp-sink ] || die "Postfix's smtp-sink is missing (make deps)"
for c in sqlite3 python3 xz cc; do command -v $c >/dev/null || die "$c is missing (make deps)"; done
[ -f "$MBOX" ] || die "no mbox at $MBOX"

case $W in ''|/) die "refusing to use '$W'";; esac
if [ -d "$W" ] && [ -n "$(ls -A "$W")" ] && [ ! -e "$W/.corridor-bench" ]; then
	die "'$W' is not empty and was not made by this script"
fi
rm -rf "$W"; mkdir -p "$W"; : >"$W/.corridor-bench"; W=$(cd "$W" && pwd)
S=$W/state

SINK_PID='' COR_PID='' LOAD_PID='' HTTP_PID=''
cleanup() {
	for p in $HTTP_PID $LOAD_PID $COR_PID $SINK_PID; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 2' INT TERM

say "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
	say "note: the machine is already busy (load $load1): throughput and latencies will be lower and noisier"
fi

# -- input -------------------------------------------------------------------
say "input: the first $MBOX_MB MiB of $MBOX"
case $MBOX in
*.xz) xz -dc "$MBOX" | head -c $((MBOX_MB * 1048576)) >"$W/input.mbox" || true ;;
*) head -c $((MBOX_MB * 1048576)) "$MBOX" >"$W/input.mbox" ;;
esac
[ -s "$W/input.mbox" ] || die "cannot read $MBOX"
# search words: words of 5-12 letters from the subjects, seen 20-2,000 times
python3 - "$W/input.mbox" >"$W/words.txt" <<'PY'
import collections, re, sys
c = collections.Counter()
with open(sys.argv[1], "rb") as f:
    for line in f:
        if line[:8].lower() == b"subject:":
            for w in re.findall(rb"[a-z]{5,12}", line[8:].lower()):
                c[w.decode()] += 1
for w, n in sorted(c.items()):
    if 20 <= n <= 2000:
        print(w)
PY
[ "$(wc -l <"$W/words.txt")" -ge 10 ] || die "too few search words in $MBOX"
cc -O2 -pthread -o "$W/soak-load" "$here/soak-load.c" || die "cannot build bench/soak-load.c"

# -- the daemon ----------------------------------------------------------------
"$CORRIDOR" --state "$S" init >"$W/init.log" 2>&1 || die "corridor init failed: $(tail -3 "$W/init.log")"
CLOCK=$W/clock
echo 2026-01-05T12:00:00Z >"$CLOCK"     # a Monday in winter (London = UTC)
cat >"$S/corridor.conf" <<CONF
[lmtp]
listen = unix:$W/lmtp.sock
domains = lists.soak.test
[filters]
staff_domains = council.test
posting = anyone
# the corpus has a few virus-era .pif/.exe attachments: the filter still
# looks at every attachment, but blocks none (every delivery must get 250)
blocked_extensions = soak-none
[outbound]
relay = smtp://127.0.0.1:$SINK_PORT
[archive]
url = http://127.0.0.1:$HTTP_PORT/
[digest]
max_age = 0
CONF
# SOAK_CONF: more configuration lines, e.g. "[store]\ndaemon_cache = 2M" (printf %b)
[ -z "${SOAK_CONF:-}" ] || printf '%b\n' "$SOAK_CONF" >>"$S/corridor.conf"
names="planning housing highways libraries parks schools transport waste licensing finance"
GROUPS_LIST=
RCPTS=
i=1
for n in $names; do
	[ $i -le "$NGROUPS" ] || break
	g=$n
	GROUPS_LIST="$GROUPS_LIST${GROUPS_LIST:+,}$g"
	RCPTS="$RCPTS --rcpt $g@lists.soak.test"
	"$CORRIDOR" --state "$S" group create "$g" >>"$W/init.log" 2>&1 || die "group create $g failed"
	m=1
	while [ $m -le "$MEMBERS" ]; do
		"$CORRIDOR" --state "$S" member add "$g" "member$m.$g@council.test" >>"$W/init.log" 2>&1 ||
			die "member add failed"
		m=$((m + 1))
	done
	"$CORRIDOR" --state "$S" member add "$g" "digest.$g@council.test" --mode digest >>"$W/init.log" 2>&1 ||
		die "member add failed"
	i=$((i + 1))
done
[ $i -gt "$NGROUPS" ] || die "SOAK_GROUPS is at most $(echo "$names" | wc -w)"
"$CORRIDOR" --state "$S" archive build >>"$W/init.log" 2>&1 || die "archive build failed"

chmod o+x "$W"
/usr/sbin/smtp-sink -u nobody -h sink.test "127.0.0.1:$SINK_PORT" 512 >"$W/sink.log" 2>&1 &
SINK_PID=$!
# shellcheck disable=SC2086 # SOAK_SERVE_ARGS: words
CORRIDOR_NOW_FILE=$CLOCK "$CORRIDOR" --state "$S" serve --http "127.0.0.1:$HTTP_PORT" ${SOAK_SERVE_ARGS:-} \
	>"$W/serve.log" 2>&1 &
COR_PID=$!
i=0
until grep -q 'info: ready (pid' "$W/serve.log"; do
	i=$((i + 1))
	if [ $i -ge 300 ] || ! kill -0 "$COR_PID" 2>/dev/null; then
		die "corridor serve did not start: $(tail -3 "$W/serve.log")"
	fi
	sleep 0.1
done
say "corridor serve (pid $COR_PID): $NGROUPS groups ($GROUPS_LIST), $MEMBERS members each getting" \
	"every copy (smtp-sink on :$SINK_PORT) and a daily-digest member, HTTP on 127.0.0.1:$HTTP_PORT"

# -- the load ------------------------------------------------------------------
offered=max; [ "$RATE" -gt 0 ] && offered="$RATE/s"
say "load: $CLIENTS LMTP sessions (offered $offered) + $READERS readers + $SEARCHERS searchers for $SECS s;" \
	"warm-up $WARMUP s; a digest day every $DIGEST_EVERY s; the mbox from $PARTS place(s)$([ "$DATE_STEP" = 0 ] || echo ", dated every $DATE_STEP s from 2001")"
# shellcheck disable=SC2086
"$W/soak-load" --connect "unix:$W/lmtp.sock" $RCPTS --mbox "$W/input.mbox" --clients "$CLIENTS" \
	--rate "$RATE" --seconds "$SECS" --tag s --log "$W/lmtp.log" --parts "$PARTS" --date-step "$DATE_STEP" \
	>"$W/load.out" 2>"$W/load.err" &
LOAD_PID=$!
i=0
until grep -q '^soak-load: .* clients for' "$W/load.err" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -ge 1200 ] || ! kill -0 "$LOAD_PID" 2>/dev/null; then
		die "soak-load did not start: $(tail -3 "$W/load.err")"
	fi
	sleep 0.05
done
START=$(python3 -c 'import time; print(time.monotonic())')
say "$(grep '^soak-load: .* clients for' "$W/load.err" | sed 's/^soak-load: //')"
python3 "$here/soak-http.py" --base "http://127.0.0.1:$HTTP_PORT" --groups "$GROUPS_LIST" \
	--pid "$COR_PID" --seconds "$SECS" --words "$W/words.txt" --http-log "$W/http.log" \
	--sample-log "$W/samples.log" --db "$S/corridor.db" --readers "$READERS" \
	--searchers "$SEARCHERS" --clock "$CLOCK" --clock-every "$DIGEST_EVERY" \
	>"$W/http.out" 2>&1 &
HTTP_PID=$!
# progress once a minute
t=0
while kill -0 "$LOAD_PID" 2>/dev/null; do
	sleep 5
	t=$((t + 5))
	if [ $((t % 60)) = 0 ]; then
		say "$t s: $(wc -l <"$W/lmtp.log") deliveries, $(wc -l <"$W/http.log") HTTP requests," \
			"RSS $(awk '/VmRSS/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$COR_PID/status" 2>/dev/null)"
	fi
done
load_rc=0; wait "$LOAD_PID" || load_rc=$?; LOAD_PID=
http_rc=0; wait "$HTTP_PID" || http_rc=$?; HTTP_PID=
say "load done: $(tr '\n' ' ' <"$W/load.out")(soak-load exit $load_rc)"

# -- the end -------------------------------------------------------------------
failed=0
if [ "$http_rc" != 0 ]; then
	say "bench/soak-http.py FAILED (exit $http_rc): $(tail -3 "$W/http.out")"
	failed=1
fi
if ! kill -0 "$COR_PID" 2>/dev/null; then
	say "the daemon DIED during the run: $(tail -3 "$W/serve.log")"
	failed=1
fi
kill -TERM "$COR_PID" 2>/dev/null || true
i=0
while kill -0 "$COR_PID" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$COR_PID" 2>/dev/null; then
	say "the daemon did not stop within 60 s of SIGTERM"
	kill -KILL "$COR_PID" 2>/dev/null || true
	failed=1
fi
drc=0; wait "$COR_PID" 2>/dev/null || drc=$?; COR_PID=
[ "$drc" = 0 ] || { say "the daemon exited $drc"; failed=1; }
kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=
db=$S/corridor.db
stored=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM control_mail),
	(SELECT count(*) FROM held), (SELECT count(*) FROM thread_nodes WHERE msg IS NOT NULL),
	(SELECT count(*) - count(DISTINCT message_id) FROM messages)" | tr '|' ' ')
say "digests made: $(sqlite3 "$db" "SELECT count(*) FROM digests WHERE state <> 'empty'");" \
	"copies still in the outbox: $(sqlite3 "$db" 'SELECT count(*) FROM outbox_rcpt')"
rc=0
python3 "$here/soak-report.py" --start "$START" --seconds "$SECS" --warmup "$WARMUP" \
	--lmtp-log "$W/lmtp.log" --http-log "$W/http.log" --sample-log "$W/samples.log" \
	--serve-log "$W/serve.log" --stored "$stored" --rss-limit "$RSS_LIMIT" || rc=$?
say "logs and data in $W"
[ "$failed" = 0 ] || rc=1
exit $rc
