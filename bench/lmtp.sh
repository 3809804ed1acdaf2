#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/lmtp.sh — durable intake of real messages over LMTP: corridor's
# daemon with 1, 8 and 32 concurrent clients, and at a paced 100 msg/s for
# the acknowledgement latency; in the same run the same messages through
# Mailman 3's LMTP runner, and through public-inbox-mda and notmuch insert
# started once per message (an MTA's pipe transport).  Prints messages/s,
# acknowledgement latency p50/p99, peak RSS, the ratio corridor/peer and the
# targets of the issue.  See bench/README.md for what each number means.
#
# Environment (all optional):
#   CORRIDOR_CORPORA     corpora folder               (default: ../shared/corpora)
#   BENCH_MBOX           mboxrd file, plain or .xz    (default: $CORRIDOR_CORPORA/linux-mips-2005.mbox)
#   BENCH_DIR            work folder, wiped first     (default: bench/out/lmtp)
#   BENCH_TOOLS          tools to run                 (default: "corridor mailman public-inbox notmuch")
#   BENCH_MESSAGES       messages per corridor run    (default: 20000; the mbox is cycled)
#   BENCH_MM3_MESSAGES   messages per Mailman run     (default: 1000)
#   BENCH_PIPE_MESSAGES  messages per pipe run        (default: 300)
#   BENCH_CLIENTS        corridor's client counts     (default: "1 8 32")
#   BENCH_RATE           paced run's offered msg/s    (default: 100)
#   BENCH_PACED_SECONDS  paced run's length           (default: 30)
#   BENCH_MM3_DRAIN      longest wait, s, for Mailman's queues to empty
#                        between its runs             (default: 900)
#   BENCH_PORT           corridor's LMTP port; Mailman uses +10..+12 (default: 17024)
#   BENCH_FILTER_ROUNDS  pairs of corridor runs per client count, filters on
#                        and off, without the archive renderer (default: 2)
#   CORRIDOR_BIN         corridor binary              (default: ./corridor)
#
# Exit status: 0 if every selected tool ran and accepted every message, 1 if
# one failed or lost messages (the others still run and the table is still
# printed), 2 on a usage or set-up error.  The targets are printed, not
# enforced in the exit status.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

CORRIDOR_CORPORA=${CORRIDOR_CORPORA:-$root/../shared/corpora}
MBOX=${BENCH_MBOX:-$CORRIDOR_CORPORA/linux-mips-2005.mbox}
W=${BENCH_DIR:-$root/bench/out/lmtp}
TOOLS=${BENCH_TOOLS:-corridor mailman public-inbox notmuch}
N_COR=${BENCH_MESSAGES:-20000}
N_MM=${BENCH_MM3_MESSAGES:-1000}
N_PIPE=${BENCH_PIPE_MESSAGES:-300}
CLIENTS=${BENCH_CLIENTS:-1 8 32}
RATE=${BENCH_RATE:-100}
PACED_SECS=${BENCH_PACED_SECONDS:-30}
MM_DRAIN=${BENCH_MM3_DRAIN:-900}
PORT=${BENCH_PORT:-17024}
FILTER_ROUNDS=${BENCH_FILTER_ROUNDS:-2}
MM_PORT=$((PORT + 10))
CORRIDOR=${CORRIDOR_BIN:-./corridor}
export CORRIDOR_ALLOW_ROOT=1   # run as root, serve refuses without it (docs/security.md)
GROUP=bench
RCPT=bench@lists.example.test    # corridor: local part = group; Mailman: the list

say() { printf 'bench: [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }
has_tool() { case " $TOOLS " in *" $1 "*) return 0;; esac; return 1; }

# -- checks -----------------------------------------------------------------

for t in $TOOLS; do
	case $t in corridor|mailman|public-inbox|notmuch) ;;
	*) die "unknown tool '$t' in BENCH_TOOLS (corridor, mailman, public-inbox, notmuch)";;
	esac
done
for v in "$N_COR" "$N_MM" "$N_PIPE" "$RATE" "$PACED_SECS" "$MM_DRAIN" "$PORT" $CLIENTS; do
	case $v in ''|*[!0-9]*) die "'$v' is not a whole number (BENCH_* settings)";; esac
done
[ -r "$MBOX" ] || die "cannot read mbox '$MBOX' (set BENCH_MBOX or CORRIDOR_CORPORA)"
command -v python3 >/dev/null || die "python3 is needed"
command -v cc >/dev/null || die "a C compiler (cc) is needed for bench/lmtp-load.c"

apt_need() {
	[ -x "$1" ] || command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing Debian package $2 (for $1)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2" >/dev/null ||
			die "apt-get install $2 failed"
	else
		die "$1 is missing: apt-get install $2"
	fi
}
case $MBOX in *.xz) apt_need xz xz-utils;; esac
if has_tool corridor || has_tool public-inbox; then apt_need sqlite3 sqlite3; fi
has_tool notmuch && apt_need notmuch notmuch
has_tool public-inbox && apt_need public-inbox-mda public-inbox
if has_tool public-inbox; then apt_need git git; fi
# mailman: bench/mm3-setup.sh installs mailman3 itself

if has_tool corridor; then
	[ -x "$CORRIDOR" ] || die "no corridor binary at '$CORRIDOR' (run make first, or set CORRIDOR_BIN or BENCH_TOOLS)"
	if ! "$CORRIDOR" serve --help > /dev/null 2>&1; then
		die "'$CORRIDOR' has no 'serve' command (its LMTP daemon): build a corridor with it," \
			"or leave corridor out: BENCH_TOOLS=\"mailman public-inbox notmuch\""
	fi
fi

# port_free PORT: nothing listens on 127.0.0.1:PORT
port_free() {
	python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
try:
    s.connect(('127.0.0.1', int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}
if has_tool corridor; then
	port_free "$PORT" || die "127.0.0.1:$PORT is in use (set BENCH_PORT)"
fi
if has_tool mailman; then
	for p in $MM_PORT $((MM_PORT + 1)) $((MM_PORT + 2)); do
		port_free "$p" || die "127.0.0.1:$p is in use (Mailman uses BENCH_PORT+10..+12; set BENCH_PORT)"
	done
fi

# -- work folder ------------------------------------------------------------

case $W in ''|/) die "refusing to use '$W' as the work folder";; esac
if [ -d "$W" ] && [ -n "$(ls -A "$W")" ] && [ ! -e "$W/.corridor-bench" ]; then
	die "'$W' is not empty and was not made by this script; not wiping it"
fi
if [ -r "$W/mailman/mailman.cfg" ]; then
	sh "$here/mm3-setup.sh" stop "$W/mailman" > /dev/null 2>&1 || true   # a leftover instance
fi
rm -rf "$W"
mkdir -p "$W/home"
: > "$W/.corridor-bench"
W=$(cd "$W" && pwd)
RESULTS=$W/results.tsv
: > "$RESULTS"
failed=0

# Nothing below may read or write the user's own configuration.
HOME=$W/home
XDG_CONFIG_HOME=$W/home/.config
XDG_DATA_HOME=$W/home/.local/share
export HOME XDG_CONFIG_HOME XDG_DATA_HOME
unset NOTMUCH_CONFIG NOTMUCH_PROFILE NOTMUCH_DATABASE PI_CONFIG 2>/dev/null || true

LOAD=$W/lmtp-load
say "building the load client: cc -O2 -pthread -o $LOAD bench/lmtp-load.c"
cc -O2 -pthread -o "$LOAD" "$here/lmtp-load.c" || die "cannot build bench/lmtp-load.c"

# -- measuring ----------------------------------------------------------------

# "steal total" jiffies from /proc/stat, as in import.sh
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t; exit }' /proc/stat; }
steal_since() {
	echo "$1 $(cpu_ticks)" | awk '{ d = $4 - $2; if (d <= 0) d = 1; printf "%.0f", 100 * ($3 - $1) / d }'
}

# sample_rss OUT PID...: every 0.5 s, append "sum-of-VmRSS largest-VmHWM"
# (KiB) over those of the PIDs still alive; stops when none is.
sample_rss() {
	_out=$1; shift
	while :; do
		_files=
		for _p in "$@"; do
			[ -r "/proc/$_p/status" ] && _files="$_files /proc/$_p/status"
		done
		[ -n "$_files" ] || break
		# shellcheck disable=SC2086
		awk '/^VmRSS:/ { r += $2 } /^VmHWM:/ { if ($2 > h) h = $2 }
			END { print r + 0, h + 0 }' $_files >> "$_out" 2>/dev/null || true
		sleep 0.5
	done
}
# rss_peak FILE COLUMN: the largest value of that column (1: sum VmRSS, 2: VmHWM)
rss_peak() { awk -v c="$2" '$c > m { m = $c } END { print m + 0 }' "$1" 2>/dev/null || echo 0; }

# val FILE KEY: the number after "KEY " in a summary printed by lmtp-load or lmtp-pipe.py
val() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# record TOOL HOW CLIENTS OFFERED STORED RSS_KIB STATUS: one row of the
# table, the rest from $OUT (the summary) and $STEAL
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$1" "$2" "$3" "$4" "$(val "$OUT" messages)" "$(val "$OUT" failed)" "$5" \
		"$(val "$OUT" seconds)" "$(val "$OUT" rate)" "$(val "$OUT" p50_ms)" \
		"$(val "$OUT" p99_ms)" "$(val "$OUT" max_ms)" "$6" "${STEAL:-0}" "$7" "${CPU_US:--}" >> "$RESULTS"
	CPU_US=
}
record_failed() {   # TOOL HOW CLIENTS OFFERED
	printf '%s\t%s\t%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\tfailed\t-\n' "$1" "$2" "$3" "$4" >> "$RESULTS"
	failed=1
}
summary() {   # one line from a summary file
	printf '%s msg/s, p50 %s ms, p99 %s ms, max %s ms, %s of %s failed' \
		"$(val "$1" rate)" "$(val "$1" p50_ms)" "$(val "$1" p99_ms)" \
		"$(val "$1" max_ms)" "$(val "$1" failed)" "$(val "$1" messages)"
}

# -- input ------------------------------------------------------------------

say "input: $MBOX ($(du -h "$MBOX" | cut -f1))"
say "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
	"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
	say "note: the machine is already busy (load $load1); other processes' CPU use makes every number here lower and noisier"
fi
case $MBOX in
*.xz)
	say "unpacking to $W/input.mbox (not timed)"
	xz -dc "$MBOX" > "$W/input.mbox"
	PLAIN=$W/input.mbox
	;;
*)	PLAIN=$MBOX ;;
esac
if has_tool notmuch || has_tool public-inbox; then
	say "splitting into a maildir for the pipe deliveries (not timed)"
	INPUT=$(python3 "$here/mbox2maildir.py" "$PLAIN" "$W/maildir")
else
	INPUT=$(python3 "$here/mbox2maildir.py" "$PLAIN" -)
fi
say "input has $INPUT messages; LMTP runs cycle through them with a per-copy Message-ID (.rN before the @)"
[ "$N_PIPE" -le "$INPUT" ] || N_PIPE=$INPUT
cat "$PLAIN" > /dev/null    # warm page cache for every tool

# load NAME TOOL HOW CLIENTS OFFERED MESSAGES PORT [lmtp-load options]: run the
# client; sets OUT (its summary) and STEAL; the caller samples RSS meanwhile
load() {
	_lname=$1 _lclients=$4 _lmsgs=$6 _lport=$7
	shift 7
	OUT=$W/$_lname.out
	_ls0=$(cpu_ticks)
	_lrc=0
	"$LOAD" --connect "127.0.0.1:$_lport" --clients "$_lclients" --rcpt "$RCPT" \
		--mbox "$PLAIN" --messages "$_lmsgs" --unique --lhlo bench.invalid "$@" \
		> "$OUT" 2> "$W/$_lname.err" || _lrc=$?
	STEAL=$(steal_since "$_ls0")
	return $_lrc
}

# -- corridor ---------------------------------------------------------------

# intake_cpu_us PID MESSAGES: the CPU time (user + system) per message, in
# microseconds, of the daemon's intake threads: the main loop (LMTP
# sessions), the parse pool ("pool-*") and the committer.  The indexer, its
# shard writers, the checkpointer and the archive renderer are left out:
# they run behind at the lowest priority and their work per message varies
# with how far behind they are.  A thread's time is read while it lives, so
# this is sampled before the daemon is stopped.
intake_cpu_us() {
	python3 - "$1" "$2" <<'PY' 2>/dev/null || echo -
import os, sys
pid, n = sys.argv[1], int(sys.argv[2])
tck = os.sysconf('SC_CLK_TCK')
total = 0
for tid in os.listdir('/proc/%s/task' % pid):
    comm = open('/proc/%s/task/%s/comm' % (pid, tid)).read().strip()
    if comm in ('corridor', 'committer') or comm.startswith('pool-'):
        s = open('/proc/%s/task/%s/stat' % (pid, tid)).read()
        f = s[s.rindex(')') + 2:].split()
        total += int(f[11]) + int(f[12])
print('%.0f' % (total * 1e6 / tck / max(n, 1)))
PY
}

# corridor_case NAME CLIENTS RATE MESSAGES [FILTERS [ARCHIVE]]  (RATE 0 = as
# fast as possible; FILTERS on (default: the daemon as deployed) or off: the
# benchmark-only CORRIDOR_BENCH_NO_FILTERS=1, to measure the chain's cost;
# ARCHIVE on (default) or off: serve --no-archive)
corridor_case() {
	_n=$1 _c=$2 _r=$3 _m=$4 _f=${5:-on} _a=${6:-on}
	S=$W/$_n
	_how="LMTP"
	_sargs=
	if [ "$_a" = off ]; then _how="$_how, no archive"; _sargs=--no-archive; fi
	[ "$_f" = off ] && _how="$_how, filters off"
	_offered=max
	[ "$_r" -gt 0 ] && _offered=$_r
	if ! "$CORRIDOR" --state "$S" init > "$W/$_n.init.log" 2>&1 ||
	   ! "$CORRIDOR" --state "$S" group create "$GROUP" >> "$W/$_n.init.log" 2>&1; then
		say "corridor: init or group create FAILED; see $W/$_n.init.log"
		tail -n 5 "$W/$_n.init.log" | sed 's/^/    /'
		record_failed corridor "$_how" "$_c" "$_offered"
		return
	fi
	sync
	if [ "$_f" = off ]; then
		CORRIDOR_BENCH_NO_FILTERS=1 "$CORRIDOR" --state "$S" serve --lmtp "127.0.0.1:$PORT" $_sargs > "$W/$_n.serve.log" 2>&1 &
	else
		"$CORRIDOR" --state "$S" serve --lmtp "127.0.0.1:$PORT" $_sargs > "$W/$_n.serve.log" 2>&1 &
	fi
	_pid=$!
	: > "$W/$_n.rss"
	sample_rss "$W/$_n.rss" "$_pid" &
	_sampler=$!
	_rc=0
	load "$_n" corridor "$_how" "$_c" "$_offered" "$_m" "$PORT" --rate "$_r" || _rc=$?
	# count while the daemon still runs: every acknowledged message must be
	# there — as a post, or where the filters put it (held, routed to bounce
	# processing or the command handler; discarded auto-replies are logged)
	_stored=$(sqlite3 "$S/corridor.db" 'select (select count(*) from messages)
		+ (select count(*) from control_mail) + (select count(*) from held)' 2>>"$W/$_n.err" || echo '?')
	_disc=$(grep -c -- '-> discard' "$W/$_n.serve.log" || true)
	[ "$_stored" != '?' ] && _stored=$((_stored + _disc))
	CPU_US=$(intake_cpu_us "$_pid" "$(val "$OUT" messages)")
	_alive=yes
	kill -0 "$_pid" 2>/dev/null || _alive=no
	kill -TERM "$_pid" 2>/dev/null || true
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
	if kill -0 "$_pid" 2>/dev/null; then
		say "corridor: daemon did not stop within 30 s of SIGTERM; killing it"
		kill -KILL "$_pid" 2>/dev/null || true
	fi
	_drc=0
	wait "$_pid" 2>/dev/null || _drc=$?
	kill "$_sampler" 2>/dev/null || true
	wait "$_sampler" 2>/dev/null || true
	_rss=$(rss_peak "$W/$_n.rss" 2)
	_sum=$(rss_peak "$W/$_n.rss" 1)
	[ "$_sum" -gt "$_rss" ] && _rss=$_sum
	if [ "$_alive" = no ] || [ "$_rc" -ge 2 ] || [ -z "$(val "$OUT" rate)" ]; then
		say "corridor: $_n FAILED (client exit $_rc, daemon alive at the end: $_alive, daemon exit $_drc)"
		tail -n 5 "$W/$_n.err" | sed 's/^/    client: /'
		tail -n 5 "$W/$_n.serve.log" | sed 's/^/    daemon: /'
		record_failed corridor "$_how" "$_c" "$_offered"
		return
	fi
	_status=ok
	_okmsgs=$(( $(val "$OUT" messages) - $(val "$OUT" failed) ))
	if [ "$_rc" != 0 ]; then
		_status=failures
		failed=1
		sed -n 's/^lmtp-load: failure: /    /p' "$W/$_n.err"
	fi
	if [ "$_stored" != "$_okmsgs" ]; then
		say "corridor: $_okmsgs messages acknowledged but $_stored stored"
		_status=lost
		failed=1
	fi
	say "corridor: $_c client(s), offered $_offered: $(summary "$OUT"), stored $_stored," \
		"peak RSS $((_rss / 1024)) MiB, daemon exit $_drc, steal $STEAL%"
	record corridor "$_how" "$_c" "$_offered" "$_stored" "$_rss" "$_status"
}

run_corridor() {
	say "corridor: $CORRIDOR serve --lmtp 127.0.0.1:$PORT, a fresh state folder per run, $N_COR messages per run"
	for c in $CLIENTS; do
		say "corridor: $c client(s), as fast as they go"
		corridor_case "corridor-c$c" "$c" 0 "$N_COR"
		# the filter chain's cost: runs with it and without it, alternating
		# so that a change in the host's load hits both alike, with no
		# archive renderer in the daemon competing for the CPUs
		_k=1
		while [ "$_k" -le "$FILTER_ROUNDS" ]; do
			say "corridor: $c client(s), no archive, filters on (round $_k)"
			corridor_case "corridor-c$c-filters-$_k" "$c" 0 "$N_COR" on off
			say "corridor: $c client(s), no archive, filters off (round $_k)"
			corridor_case "corridor-c$c-nofilters-$_k" "$c" 0 "$N_COR" off off
			_k=$((_k + 1))
		done
	done
	_pm=$((RATE * PACED_SECS))
	say "corridor: 8 clients offering $RATE msg/s for $PACED_SECS s ($_pm messages)"
	corridor_case "corridor-paced" 8 "$RATE" "$_pm"
}

# -- Mailman 3 --------------------------------------------------------------

# descendants PID: PID and all its descendants
descendants() {
	ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END { for (p in parent) { q = p; while (q != "" && q > 1 && q != root) q = parent[q]
			if (q == root) print p } }'
}
mm_queued() {   # message files waiting in Mailman's working queues
	find "$1/var/queue" -path '*/shunt' -prune -o -path '*/bad' -prune -o \
		-type f \( -name '*.pck' -o -name '*.bak' \) -print 2>/dev/null | wc -l
}
mm_archived() {
	find "$1/var/archives/prototype" -type f -path '*/cur/*' -o -type f -path '*/new/*' 2>/dev/null | wc -l
}

run_mailman() {
	MD=$W/mailman
	say "mailman: bench/mm3-setup.sh start $MD $MM_PORT (private instance; installs mailman3 if needed)"
	if ! sh "$here/mm3-setup.sh" start "$MD" "$MM_PORT" > "$W/mailman-setup.log" 2>&1; then
		say "mailman: set-up FAILED; last lines of $W/mailman-setup.log:"
		tail -n 20 "$W/mailman-setup.log" | sed 's/^/    /'
		record_failed mailman LMTP 1 max
		record_failed mailman LMTP 8 max
		return
	fi
	say "mailman: $(dpkg-query -W -f '${Version}' mailman3 2>/dev/null) answers on 127.0.0.1:$MM_PORT;" \
		"list $RCPT accepts any sender, prototype archiver on; $N_MM messages per run"
	master=$(cat "$MD/var/master.pid")
	pids=$(descendants "$master" | tr '\n' ' ')
	lmtp_pid=
	for p in $pids; do
		case $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null) in
		*--runner=lmtp:*) lmtp_pid=$p ;;
		esac
	done
	say "mailman: $(echo "$pids" | wc -w) processes (master, runners, REST workers); RSS is their sum"
	before=$(mm_archived "$MD")
	for c in 1 8; do
		_n=mailman-c$c
		: > "$W/$_n.rss"
		: > "$W/$_n.lmtp-runner.rss"
		# shellcheck disable=SC2086
		sample_rss "$W/$_n.rss" $pids &
		_sampler=$!
		sample_rss "$W/$_n.lmtp-runner.rss" "$lmtp_pid" &
		_sampler2=$!
		sync
		_rc=0
		load "$_n" mailman LMTP "$c" max "$N_MM" "$MM_PORT" --tag "m$c" || _rc=$?
		kill "$_sampler" "$_sampler2" 2>/dev/null || true
		wait "$_sampler" 2>/dev/null || true
		wait "$_sampler2" 2>/dev/null || true
		if [ "$_rc" -ge 2 ] || [ -z "$(val "$OUT" rate)" ]; then
			say "mailman: $c client(s) FAILED (client exit $_rc)"
			tail -n 5 "$W/$_n.err" | sed 's/^/    /'
			record_failed mailman LMTP "$c" max
			continue
		fi
		_status=ok
		if [ "$_rc" != 0 ]; then
			_status=failures
			failed=1
			sed -n 's/^lmtp-load: failure: /    /p' "$W/$_n.err"
		fi
		# Let Mailman's other runners finish this run's messages, so the next
		# run does not compete with this one's backlog.
		_t0=$(date +%s)
		_q=$(mm_queued "$MD")
		say "mailman: $c client(s): $(summary "$OUT"); waiting for its $_q queued messages to be processed"
		while [ "$_q" -gt 0 ] && [ $(( $(date +%s) - _t0 )) -lt "$MM_DRAIN" ]; do
			sleep 2
			_q=$(mm_queued "$MD")
		done
		_drain=$(( $(date +%s) - _t0 ))
		now=$(mm_archived "$MD")
		_stored=$((now - before))
		before=$now
		_rss=$(rss_peak "$W/$_n.rss" 1)
		_lrss=$(rss_peak "$W/$_n.lmtp-runner.rss" 2)
		if [ "$_q" -gt 0 ]; then
			say "mailman: $_q messages still queued after $_drain s (BENCH_MM3_DRAIN)"
		fi
		say "mailman: queues empty after $_drain s; $_stored archived; peak RSS $((_rss / 1024)) MiB" \
			"over all its processes, LMTP runner alone $((_lrss / 1024)) MiB; steal $STEAL%"
		echo "$c $_drain $_q" >> "$W/mailman-drain.txt"
		record mailman LMTP "$c" max "$_stored" "$_rss" "$_status"
	done
	shunted=$(find "$MD/var/queue/shunt" -type f 2>/dev/null | wc -l)
	[ "$shunted" = 0 ] || say "mailman: $shunted messages in the shunt queue (errors: $MD/var/logs/mailman.log)"
	sh "$here/mm3-setup.sh" stop "$MD" >> "$W/mailman-setup.log" 2>&1 || true
}

# -- pipe deliveries: public-inbox-mda and notmuch insert ---------------------

# pipe_case TOOL NAME PARALLEL STORED-COMMAND -- COMMAND...
pipe_case() {
	_tool=$1 _n=$2 _p=$3 _count=$4
	shift 5
	OUT=$W/$_n.out
	sync
	_s0=$(cpu_ticks)
	_rc=0
	python3 "$here/lmtp-pipe.py" --parallel "$_p" --count "$N_PIPE" "$W/maildir" -- "$@" \
		> "$OUT" 2> "$W/$_n.err" || _rc=$?
	STEAL=$(steal_since "$_s0")
	if [ "$_rc" -ge 2 ] || [ -z "$(val "$OUT" rate)" ]; then
		say "$_tool: $_p at a time FAILED"
		tail -n 5 "$W/$_n.err" | sed 's/^/    /'
		record_failed "$_tool" pipe "$_p" max
		return
	fi
	_status=ok
	if [ "$_rc" != 0 ]; then
		_status=failures
		failed=1
		sed -n 's/^lmtp-pipe: failure: /    /p' "$W/$_n.err"
	fi
	_stored=$(sh -c "$_count" 2>>"$W/$_n.err" || echo '?')
	_rss=$(val "$OUT" peak_rss_kib)
	say "$_tool: $_p at a time: $(summary "$OUT"), stored $_stored," \
		"largest process $((_rss / 1024)) MiB, steal $STEAL%"
	record "$_tool" pipe "$_p" max "$_stored" "$_rss" "$_status"
}

run_notmuch() {
	say "notmuch: notmuch insert once per message ($(notmuch --version)), $N_PIPE messages, 1 and 8 at a time"
	for p in 1 8; do
		D=$W/notmuch-p$p
		mkdir -p "$D/mail/cur" "$D/mail/new" "$D/mail/tmp"
		NOTMUCH_CONFIG=$D/config
		export NOTMUCH_CONFIG
		cat > "$NOTMUCH_CONFIG" <<EOF
[database]
path=$D/mail

[user]
name=Bench
primary_email=bench@example.invalid

[new]
tags=unread;inbox;
ignore=

[maildir]
synchronize_flags=true

[index]
decrypt=false
EOF
		notmuch new > "$W/notmuch-p$p.init.log" 2>&1 || { record_failed notmuch pipe "$p" max; continue; }
		pipe_case notmuch "notmuch-p$p" "$p" "notmuch count --output=messages '*'" -- notmuch insert
	done
	unset NOTMUCH_CONFIG
}

run_public_inbox() {
	pi_version=$(dpkg-query -W -f '${Version}' public-inbox 2>/dev/null || echo '?')
	say "public-inbox: public-inbox-mda --no-precheck once per message (public-inbox $pi_version," \
		"v2 inbox, -L full, spamcheck none, filter Mirror), $N_PIPE messages, 1 and 8 at a time"
	for p in 1 8; do
		D=$W/public-inbox-p$p
		mkdir -p "$D"
		PI_CONFIG=$D/config
		PI_EMERGENCY=$D/emergency
		ORIGINAL_RECIPIENT=$RCPT
		export PI_CONFIG PI_EMERGENCY ORIGINAL_RECIPIENT
		if ! public-inbox-init -V2 -L full "$GROUP" "$D/inbox" "http://bench.invalid/$GROUP" "$RCPT" \
			> "$W/public-inbox-p$p.init.log" 2>&1; then
			record_failed public-inbox pipe "$p" max
			continue
		fi
		# accept everything, as a mirror of a list archive does: no spamc,
		# and the Mirror filter instead of -mda's strict default
		git config -f "$PI_CONFIG" publicinboxmda.spamcheck none
		git config -f "$PI_CONFIG" "publicinbox.$GROUP.filter" PublicInbox::Filter::Mirror
		pipe_case public-inbox "public-inbox-p$p" "$p" \
			"sqlite3 '$D/inbox/msgmap.sqlite3' 'select count(*) from msgmap'" -- \
			public-inbox-mda --no-precheck
		left=$(find "$PI_EMERGENCY" -type f 2>/dev/null | wc -l)
		[ "$left" = 0 ] || say "public-inbox: $left messages left in the emergency maildir $PI_EMERGENCY"
	done
	unset PI_CONFIG PI_EMERGENCY ORIGINAL_RECIPIENT
}

# -- run --------------------------------------------------------------------

has_tool corridor && run_corridor
has_tool mailman && run_mailman
has_tool public-inbox && run_public_inbox
has_tool notmuch && run_notmuch

say "done; logs and data in $W"
python3 "$here/lmtp-report.py" "$RESULTS" "$RATE"
exit $failed
