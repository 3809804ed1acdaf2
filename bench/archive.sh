#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/archive.sh — the static HTML archive: corridor's full build
# (`corridor archive build`) and its one-message update (the daemon's
# renderer, a message delivered over LMTP) at two archive sizes, search
# latency through corridor's HTTP server, and MHonArc building and adding
# to an archive of the same messages in the same run.  Prints the results
# with the ratio corridor/MHonArc and the issue's targets.  See
# bench/README.md for what each number means.
#
# Environment (all optional):
#   CORRIDOR_CORPORA      corpora folder             (default: ../shared/corpora)
#   BENCH_MBOX            mboxrd file, plain or .xz  (default: $CORRIDOR_CORPORA/linux-mips.mbox.xz)
#   BENCH_DIR             work folder, wiped first   (default: bench/out/archive)
#   BENCH_STEPS           parts to run               (default: "build update search mhonarc")
#   BENCH_SIZES           archive sizes              (default: "small large")
#   BENCH_SMALL           messages in the small archive (default: 10000)
#   BENCH_UPDATES         one-message updates per size  (default: 50)
#   BENCH_UPDATE_PAUSE    seconds between updates    (default: 0.3)
#   BENCH_SEARCH_REQUESTS timed search requests      (default: 200)
#   BENCH_MHONARC_ADDS    `mhonarc -add` runs per size (default: 5)
#   BENCH_MHONARC_MID     MHonArc's middle size, 0 for none (default: 50000)
#   BENCH_MHONARC_FULL    1: MHonArc also at the large size (slow) (default: 0)
#   BENCH_PORT            HTTP port for the search part (default: 17080)
#   CORRIDOR_BIN          corridor binary            (default: ./corridor)
#
# Exit status: 0 if every selected part ran, 1 if one failed (the others
# still run and the tables are still printed), 2 on a usage or set-up
# error.  The targets are printed, not enforced in the exit status.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

CORRIDOR_CORPORA=${CORRIDOR_CORPORA:-$root/../shared/corpora}
MBOX=${BENCH_MBOX:-$CORRIDOR_CORPORA/linux-mips.mbox.xz}
W=${BENCH_DIR:-$root/bench/out/archive}
STEPS=${BENCH_STEPS:-build update search mhonarc}
SIZES=${BENCH_SIZES:-small large}
SMALL=${BENCH_SMALL:-10000}
UPDATES=${BENCH_UPDATES:-50}
PAUSE=${BENCH_UPDATE_PAUSE:-0.3}
SEARCH_REQS=${BENCH_SEARCH_REQUESTS:-200}
MH_ADDS=${BENCH_MHONARC_ADDS:-5}
MH_MID=${BENCH_MHONARC_MID:-50000}
MH_FULL=${BENCH_MHONARC_FULL:-0}
PORT=${BENCH_PORT:-17080}
CORRIDOR=${CORRIDOR_BIN:-./corridor}
export CORRIDOR_ALLOW_ROOT=1   # run as root, serve refuses without it (docs/security.md)
GROUP=linux-mips
RCPT=$GROUP@lists.example.test    # the local part names the group

# The search queries (label=query), in corridor's query language.
Q_WORD='kernel'
Q_PHRASE='"cache coherency"'
Q_FROM='from:ralf@linux-mips.org'
Q_DATE='date:2005-01-01..2005-06-30'
Q_RARE='bcm1480'

say() { printf 'bench: [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }
has_step() { case " $STEPS " in *" $1 "*) return 0;; esac; return 1; }
has_size() { case " $SIZES " in *" $1 "*) return 0;; esac; return 1; }

# -- checks -----------------------------------------------------------------

for s in $STEPS; do
	case $s in build|update|search|mhonarc) ;;
	*) die "unknown step '$s' in BENCH_STEPS (build, update, search, mhonarc)";;
	esac
done
for s in $SIZES; do
	case $s in small|large) ;;
	*) die "unknown size '$s' in BENCH_SIZES (small, large)";;
	esac
done
for v in "$SMALL" "$UPDATES" "$SEARCH_REQS" "$MH_ADDS" "$MH_MID" "$MH_FULL" "$PORT"; do
	case $v in ''|*[!0-9]*) die "'$v' is not a whole number (BENCH_* settings)";; esac
done
case $PAUSE in ''|*[!0-9.]*) die "BENCH_UPDATE_PAUSE '$PAUSE' is not a number of seconds";; esac
[ "$UPDATES" -gt 0 ] || die "BENCH_UPDATES must be at least 1"
[ "$MH_ADDS" -le "$UPDATES" ] || die "BENCH_MHONARC_ADDS ($MH_ADDS) cannot exceed BENCH_UPDATES ($UPDATES)"
[ -r "$MBOX" ] || die "cannot read mbox '$MBOX' (set BENCH_MBOX or CORRIDOR_CORPORA)"
command -v python3 >/dev/null || die "python3 is needed"

# apt_need COMMAND PACKAGE: install PACKAGE from Debian if COMMAND is missing
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
apt_need /usr/bin/time time
case $MBOX in *.xz) apt_need xz xz-utils;; esac
has_step mhonarc && apt_need mhonarc mhonarc

corridor_wanted() { has_step build || has_step update || has_step search; }
if corridor_wanted; then
	[ -x "$CORRIDOR" ] || die "no corridor binary at '$CORRIDOR' (run make first, or set CORRIDOR_BIN)"
	CORRIDOR=$(cd "$(dirname "$CORRIDOR")" && pwd)/$(basename "$CORRIDOR")
	"$CORRIDOR" archive --help > /dev/null 2>&1 ||
		"$CORRIDOR" archive 2>&1 | grep -q 'archive build' ||
		die "'$CORRIDOR' has no 'archive' command: build a corridor with the static archive"
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
if has_step search && has_size large; then
	port_free "$PORT" || die "127.0.0.1:$PORT is in use (set BENCH_PORT)"
fi

# -- work folder ------------------------------------------------------------

case $W in ''|/) die "refusing to use '$W' as the work folder";; esac
if [ -d "$W" ] && [ -n "$(ls -A "$W")" ] && [ ! -e "$W/.corridor-bench" ]; then
	die "'$W' is not empty and was not made by this script; not wiping it"
fi
rm -rf "$W"
mkdir -p "$W/home"
: > "$W/.corridor-bench"
W=$(cd "$W" && pwd)
if corridor_wanted; then
	# a copy, so that a rebuild of ./corridor during the run cannot mix versions
	cp "$CORRIDOR" "$W/corridor"
	say "corridor: $CORRIDOR (modified $(date -r "$CORRIDOR" '+%Y-%m-%d %H:%M'); source tree at" \
		"$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" status --porcelain \
		--untracked-files=no 2>/dev/null | grep -q . && echo ', with uncommitted changes')), copied to $W/corridor"
	CORRIDOR=$W/corridor
fi
RESULTS=$W/results.tsv      # builds and updates (see bench/archive-report.py)
SEARCH=$W/search.tsv
: > "$RESULTS"
: > "$SEARCH"
failed=0
DAEMON=                     # pid of a corridor serve this script started

# Nothing below may read or write the user's own configuration.
HOME=$W/home
XDG_CONFIG_HOME=$W/home/.config
XDG_DATA_HOME=$W/home/.local/share
export HOME XDG_CONFIG_HOME XDG_DATA_HOME
unset CORRIDOR_STATE CORRIDOR_DEBUG 2>/dev/null || true

# -- measuring ----------------------------------------------------------------

now_ns() { date +%s%N; }

# "steal total" jiffies from /proc/stat, as in import.sh
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t; exit }' /proc/stat; }
steal_since() {
	echo "$1 $(cpu_ticks)" | awk '{ d = $4 - $2; if (d <= 0) d = 1; printf "%.0f", 100 * ($3 - $1) / d }'
}

# timed NAME CMD...: as in import.sh: run CMD under /usr/bin/time -v, output
# to $W/NAME.log; sets SECS, RSS_KIB, CPU and STEAL; returns CMD's status
timed() {
	_name=$1; shift
	_s0=$(cpu_ticks)
	_t0=$(now_ns)
	_rc=0
	/usr/bin/time -v -o "$W/$_name.time" "$@" > "$W/$_name.log" 2>&1 || _rc=$?
	_t1=$(now_ns)
	STEAL=$(steal_since "$_s0")
	SECS=$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	RSS_KIB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/$_name.time")
	CPU=$(awk -F': ' '/User time \(seconds\)/ { u = $2 } /System time \(seconds\)/ { s = $2 }
		END { printf "%.1f", u + s }' "$W/$_name.time")
	return $_rc
}

# record_build TOOL STEP MESSAGES STATUS: a full-build row from SECS etc.
record_build() {
	printf 'build\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
		"${SECS:-0}" "${CPU:-0}" "${RSS_KIB:-0}" "${STEAL:-0}" "$4" >> "$RESULTS"
}

# val FILE KEY: the value after "KEY " in a "key value" summary
val() { awk -v k="$2" '$1 == k { print $2; exit }' "$1" 2>/dev/null; }

# record_update TOOL SIZE MEASURE SUMMARY CPU RSS_KIB STATUS: one update row;
# MEASURE is render, page or ack (the *_p50_ms... keys of SUMMARY)
record_update() {
	printf 'update\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
		"$(val "$4" messages)" "$(val "$4" failed)" \
		"$(val "$4" "$3"_p50_ms)" "$(val "$4" "$3"_p90_ms)" "$(val "$4" "$3"_max_ms)" \
		"$(val "$4" first_"$3"_ms)" "$5" "$6" "${STEAL:-0}" "$7" >> "$RESULTS"
}

step_failed() {   # WHAT LOGNAME
	say "$1 FAILED; last lines of $W/$2:"
	tail -n 20 "$W/$2" 2>/dev/null | sed 's/^/    /'
	failed=1
}

# Before each timed step: its input in the page cache, and nothing left
# dirty by an earlier step to be paid for in this one's fsync/syncfs.
warm_cache() { [ $# = 0 ] || cat "$@" > /dev/null; sync; }

# -- the daemon ---------------------------------------------------------------

# start_daemon NAME STATE [serve options]: CORRIDOR_DEBUG=1 corridor serve,
# log in $W/NAME.serve.log; waits for "ready" and for the renderer to have
# caught up (no 'render' work left).  Sets DAEMON.
start_daemon() {
	_dn=$1 _ds=$2
	shift 2
	rm -f "$_ds/lmtp.sock"
	CORRIDOR_DEBUG=1 "$CORRIDOR" --state "$_ds" serve --lmtp "unix:$_ds/lmtp.sock" "$@" \
		> "$W/$_dn.serve.log" 2>&1 &
	DAEMON=$!
	_i=0
	while ! grep -q 'info: ready' "$W/$_dn.serve.log" 2>/dev/null; do
		if ! kill -0 "$DAEMON" 2>/dev/null || [ $_i -ge 1200 ]; then
			say "corridor: the daemon did not get ready; last lines of $W/$_dn.serve.log:"
			tail -n 10 "$W/$_dn.serve.log" | sed 's/^/    /'
			stop_daemon
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	_i=0
	while [ "$(render_pending "$_ds")" != 0 ]; do
		if ! kill -0 "$DAEMON" 2>/dev/null || [ $_i -ge 3000 ]; then
			say "corridor: the renderer did not catch up ($(render_pending "$_ds") left)"
			stop_daemon
			return 1
		fi
		sleep 0.2
		_i=$((_i + 1))
	done
	return 0
}
render_pending() {
	python3 - "$1/corridor.db" <<'EOF' 2>/dev/null || echo '?'
import sqlite3, sys
db = sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True, timeout=30)
print(db.execute("select count(*) from work where kind = 'render'").fetchone()[0])
EOF
}
daemon_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON/status" 2>/dev/null || echo 0; }
stop_daemon() {
	[ -n "$DAEMON" ] || return 0
	kill -TERM "$DAEMON" 2>/dev/null || true
	_i=0
	while kill -0 "$DAEMON" 2>/dev/null && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
	if kill -0 "$DAEMON" 2>/dev/null; then
		say "corridor: the daemon did not stop within 30 s of SIGTERM; killing it"
		kill -KILL "$DAEMON" 2>/dev/null || true
	fi
	wait "$DAEMON" 2>/dev/null || true
	DAEMON=
}
trap 'stop_daemon' EXIT
trap 'exit 1' INT TERM

# -- input ------------------------------------------------------------------

say "input: $MBOX ($(du -h "$MBOX" | cut -f1))"
say "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
	"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
	say "note: the machine is already busy (load $load1); other processes' CPU use makes every number here slower and noisier"
fi
case $MBOX in
*.xz)
	say "unpacking to $W/input.mbox (not timed)"
	xz -dc "$MBOX" > "$W/input.mbox"
	PLAIN=$W/input.mbox
	;;
*)	PLAIN=$MBOX ;;
esac

# What to cut out of the mbox, in one pass (bench/archive-split.py):
#   small.mbox  the first BENCH_SMALL messages; take-small/ the next
#               BENCH_UPDATES (delivered one at a time, the first
#               BENCH_MHONARC_ADDS also added to MHonArc)
#   large.mbox  all but the last BENCH_UPDATES; take-large/ those last ones
#   mid.mbox    MHonArc's middle size, and take-mid/ the next few after it
need_small=no need_large=no
if has_size small && { corridor_wanted || has_step mhonarc; }; then need_small=yes; fi
if has_size large && corridor_wanted; then need_large=yes; fi
if has_size large && has_step mhonarc && [ "$MH_FULL" = 1 ]; then need_large=yes; fi
split_args=
if [ $need_small = yes ]; then
	split_args="$split_args --head $SMALL:$W/small.mbox --take $SMALL:$UPDATES:$W/take-small"
fi
if [ $need_large = yes ] && { has_step update || has_step mhonarc; }; then
	split_args="$split_args --head -$UPDATES:$W/large.mbox --take -$UPDATES:$UPDATES:$W/take-large"
fi
if has_step mhonarc && [ "$MH_MID" -gt 0 ]; then
	split_args="$split_args --head $MH_MID:$W/mid.mbox --take $MH_MID:$MH_ADDS:$W/take-mid"
fi
say "splitting the mbox (not timed)"
# shellcheck disable=SC2086
INPUT=$(python3 "$here/archive-split.py" "$PLAIN" $split_args) || die "cannot split '$PLAIN'"
say "input has $INPUT messages"
if [ $need_small = yes ] && [ $((SMALL + UPDATES)) -gt "$INPUT" ]; then
	die "the small archive needs BENCH_SMALL + BENCH_UPDATES = $((SMALL + UPDATES)) messages" \
		"and the input has $INPUT: set BENCH_SMALL lower (e.g. BENCH_SMALL=1000 for the 2005 file)"
fi
if [ $need_small = yes ] && [ "$SMALL" -ge $((INPUT - UPDATES)) ] && has_size large; then
	say "note: the small archive ($SMALL) is not smaller than the large one ($((INPUT - UPDATES)))"
fi
MID_OK=no
if has_step mhonarc && [ "$MH_MID" -gt 0 ]; then
	if [ $((MH_MID + MH_ADDS)) -le "$INPUT" ] && [ "$MH_MID" -ne "$SMALL" ]; then
		MID_OK=yes
	else
		say "note: MHonArc's middle size ($MH_MID) skipped: the input has $INPUT messages"
		rm -rf "$W/mid.mbox" "$W/take-mid"
	fi
fi
for d in take-small take-large take-mid; do
	[ -r "$W/$d/index.tsv" ] || continue
	n=$(wc -l < "$W/$d/index.tsv")
	want=$UPDATES
	[ $d = take-mid ] && want=$MH_ADDS
	[ "$n" = "$want" ] || say "note: $d has $n messages, not $want (messages with no or a duplicate Message-ID are skipped)"
done

# -- corridor -----------------------------------------------------------------

# corridor_state NAME MBOX: a fresh state folder with GROUP and MBOX
# imported (not part of any figure; its time is in the progress line).
# Sets S.
corridor_state() {
	S=$W/$1
	if ! "$CORRIDOR" --state "$S" init > "$W/$1-init.log" 2>&1 ||
	   ! "$CORRIDOR" --state "$S" group create "$GROUP" >> "$W/$1-init.log" 2>&1; then
		step_failed "corridor: init or group create" "$1-init.log"
		return 1
	fi
	# the daemon renders each message at once, no waiting for a burst
	printf '[archive]\ndebounce_ms = 0\n' > "$S/corridor.conf"
	say "corridor: import --group $GROUP $(basename "$2") (setup, not a figure)"
	warm_cache "$2"
	if ! timed "$1-import" "$CORRIDOR" --state "$S" import --group "$GROUP" "$2"; then
		step_failed "corridor: import" "$1-import.log"
		return 1
	fi
	say "corridor: $(grep '^imported ' "$W/$1-import.log" | tail -n 1) in $SECS s, steal $STEAL%"
}

# corridor_build NAME LABEL: timed `corridor archive build`; sets BUILT
corridor_build() {
	warm_cache "$S/corridor.db"
	BUILT=
	if ! timed "$1" "$CORRIDOR" --state "$S" archive build; then
		step_failed "corridor: archive build" "$1.log"
		record_build corridor "full build (archive build)" - failed
		return 1
	fi
	_line=$(grep '^rendered [0-9]* messages' "$W/$1.log" | tail -n 1)
	BUILT=$(printf '%s\n' "$_line" | sed -n 's/^rendered \([0-9]*\) messages.*/\1/p')
	if [ -z "$BUILT" ]; then
		step_failed "corridor: archive build (no 'rendered N messages' line)" "$1.log"
		record_build corridor "full build (archive build)" - failed
		return 1
	fi
	say "corridor: $_line; wall $SECS s, CPU $CPU s, peak RSS $((RSS_KIB / 1024)) MiB, steal $STEAL% ($2)"
}

# corridor_updates NAME SIZE TAKE-DIR: the daemon on $S, one message at a time
corridor_updates() {
	_un=$1 _size=$2 _take=$3
	if ! start_daemon "$_un" "$S"; then
		failed=1
		printf 'update\tcorridor\t%s\trender\t-\t-\t-\t-\t-\t-\t-\t-\t-\tfailed\n' "$_size" >> "$RESULTS"
		return 1
	fi
	say "corridor: $(wc -l < "$_take/index.tsv") messages over LMTP one at a time into the $_size-message archive" \
		"(serve --lmtp unix:$S/lmtp.sock, debounce_ms = 0)"
	sync
	_s0=$(cpu_ticks)
	_rc=0
	python3 "$here/archive-update.py" --socket "$S/lmtp.sock" --rcpt "$RCPT" \
		--log "$W/$_un.serve.log" --pages "$S/archive/g/$GROUP/m" --pid "$DAEMON" \
		--pause "$PAUSE" "$_take" "$W/$_un.tsv" > "$W/$_un.out" 2> "$W/$_un.err" || _rc=$?
	STEAL=$(steal_since "$_s0")
	_hwm=$(daemon_hwm)
	stop_daemon
	_o=$W/$_un.out
	if [ "$_rc" -ge 2 ] || [ -z "$(val "$_o" render_p50_ms)" ]; then
		step_failed "corridor: one-message updates at $_size" "$_un.err"
		printf 'update\tcorridor\t%s\trender\t-\t-\t-\t-\t-\t-\t-\t-\t-\tfailed\n' "$_size" >> "$RESULTS"
		return 1
	fi
	_status=ok
	if [ "$_rc" != 0 ]; then
		_status=failures
		failed=1
		sed 's/^/    /' "$W/$_un.err"
	fi
	say "corridor: at $_size: render (log) p50 $(val "$_o" render_p50_ms) ms, p90 $(val "$_o" render_p90_ms)," \
		"max $(val "$_o" render_max_ms); LMTP to page p50 $(val "$_o" page_p50_ms) ms, p90 $(val "$_o" page_p90_ms)," \
		"max $(val "$_o" page_max_ms); $(val "$_o" failed) failed; daemon CPU $(val "$_o" daemon_cpu_s) s," \
		"peak RSS $((_hwm / 1024)) MiB, steal $STEAL%"
	[ "$(val "$_o" multi_round)" = 0 ] ||
		say "note: $(val "$_o" multi_round) messages were rendered in more than one round (their times are summed)"
	for _m in render page ack; do
		record_update corridor "$_size" "$_m" "$_o" "$(val "$_o" daemon_cpu_s)" "$_hwm" "$_status"
	done
}

run_corridor_small() {
	say "corridor: the small archive: the first $SMALL messages"
	corridor_state corridor-small "$W/small.mbox" || return
	say "corridor: archive build, $SMALL messages"
	if corridor_build corridor-small-build "full build"; then
		record_build corridor "full build (archive build)" "$BUILT" ok
	else
		return
	fi
	has_step update && corridor_updates corridor-small-update "$SMALL" "$W/take-small"
	return 0
}

run_corridor_large() {
	if has_step update; then
		_n=$((INPUT - UPDATES))
		say "corridor: the large archive: all but the last $UPDATES messages ($_n), those delivered one at a time"
		corridor_state corridor-large "$W/large.mbox" || return
		say "corridor: archive build, $_n messages (so the daemon has an archive to update)"
		corridor_build corridor-large-build0 "setup for the updates, not a figure" || return
		corridor_updates corridor-large-update "$BUILT" "$W/take-large"
	else
		say "corridor: the large archive: all $INPUT messages"
		corridor_state corridor-large "$PLAIN" || return
	fi
	if has_step build; then
		say "corridor: archive build of everything in the store, from nothing (the old tree deleted first, not timed)"
		rm -rf "$S/archive" "$S/archive-restricted"
		# On an ext4 without a journal (this kind of VM), inodes freed in
		# the last seconds are skipped, one by one, by every new file until
		# the freeing is written back: a build right after deleting 130,000
		# files pays for that deletion (sys time doubles).  Let it settle.
		sync; sleep 15
		if corridor_build corridor-large-build "full build"; then
			record_build corridor "full build (archive build)" "$BUILT" ok
		fi
	fi
	if has_step search; then
		say "corridor: search: serve --http 127.0.0.1:$PORT, $SEARCH_REQS requests of /search over one keep-alive connection"
		if ! start_daemon corridor-search "$S" --http "127.0.0.1:$PORT"; then
			failed=1
			return
		fi
		_s0=$(cpu_ticks)
		if python3 "$here/archive-search.py" "127.0.0.1:$PORT" "$SEARCH_REQS" "$SEARCH" \
			"word=$Q_WORD" "phrase=$Q_PHRASE" "from=$Q_FROM" "date-range=$Q_DATE" "rare=$Q_RARE" \
			> "$W/corridor-search.out" 2>&1; then
			STEAL=$(steal_since "$_s0")
			echo "$STEAL" > "$W/search.steal"
			say "corridor: search p50 $(awk '$1 == "all" { print $4 }' "$SEARCH") ms," \
				"p95 $(awk '$1 == "all" { print $5 }' "$SEARCH") ms, steal $STEAL%"
		else
			step_failed "corridor: search" corridor-search.out
		fi
		stop_daemon
	fi
}

# -- MHonArc ------------------------------------------------------------------

# mhonarc_case NAME MBOX MESSAGES TAKE-DIR: `mhonarc -outdir DIR -quiet MBOX`
# timed, then MH_ADDS times `mhonarc -add -outdir DIR -quiet < MESSAGE`
mhonarc_case() {
	_mn=$1 _mbox=$2 _msgs=$3 _take=$4
	_out=$W/$_mn
	mkdir -p "$_out"
	say "mhonarc: mhonarc -outdir $_out -quiet $(basename "$_mbox") ($_msgs messages)"
	warm_cache "$_mbox"
	if ! timed "$_mn-build" mhonarc -outdir "$_out" -quiet "$_mbox"; then
		step_failed "mhonarc: build" "$_mn-build.log"
		record_build mhonarc "full build (mhonarc)" "$_msgs" failed
		return
	fi
	_pages=$(find "$_out" -maxdepth 1 -name 'msg*.html' | wc -l)
	say "mhonarc: $_pages message pages in $SECS s, CPU $CPU s, peak RSS $((RSS_KIB / 1024)) MiB, steal $STEAL%"
	record_build mhonarc "full build (mhonarc)" "$_msgs" ok
	# the adds, one process per message, as an MTA's pipe would start it
	: > "$W/$_mn-add.tsv"
	_s0=$(cpu_ticks)
	_cpu=0 _rss=0 _bad=0 _i=0
	for _f in $(cut -f1 "$_take/index.tsv" | head -n "$MH_ADDS"); do
		_i=$((_i + 1))
		sync
		if ! timed "$_mn-add$_i" mhonarc -add -outdir "$_out" -quiet < "$_take/$_f"; then
			step_failed "mhonarc: -add $_f" "$_mn-add$_i.log"
			_bad=$((_bad + 1))
			continue
		fi
		echo "$SECS" >> "$W/$_mn-add.tsv"
		_cpu=$(awk -v a="$_cpu" -v b="$CPU" 'BEGIN { print a + b }')
		[ "$RSS_KIB" -gt "$_rss" ] && _rss=$RSS_KIB
	done
	STEAL=$(steal_since "$_s0")
	_after=$(find "$_out" -maxdepth 1 -name 'msg*.html' | wc -l)
	[ $((_after - _pages)) = "$((_i - _bad))" ] ||
		say "note: mhonarc: $((_after - _pages)) new message pages after $((_i - _bad)) adds"
	python3 - "$W/$_mn-add.tsv" "$_i" "$_bad" > "$W/$_mn-add.out" <<'EOF'
import sys
v = [float(x) * 1000 for x in open(sys.argv[1]).read().split()]
print('messages', sys.argv[2])
print('failed', sys.argv[3])
if v:
    s = sorted(v)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    p90 = s[max(0, -(-90 * n // 100) - 1)]
    print('page_p50_ms %.2f\npage_p90_ms %.2f\npage_max_ms %.2f\nfirst_page_ms %.2f' % (med, p90, s[-1], v[0]))
EOF
	if [ -z "$(val "$W/$_mn-add.out" page_p50_ms)" ]; then
		printf 'update\tmhonarc\t%s\tpage\t-\t-\t-\t-\t-\t-\t-\t-\t-\tfailed\n' "$_msgs" >> "$RESULTS"
		return
	fi
	say "mhonarc: -add of one message to $_msgs: median $(val "$W/$_mn-add.out" page_p50_ms) ms," \
		"max $(val "$W/$_mn-add.out" page_max_ms) ms ($_i runs), steal $STEAL%"
	_st=ok
	[ "$_bad" = 0 ] || _st=failures
	record_update mhonarc "$_msgs" page "$W/$_mn-add.out" "$_cpu" "$_rss" "$_st"
}

run_mhonarc() {
	say "mhonarc: $(dpkg-query -W -f '${Version}' mhonarc 2>/dev/null || echo '?'), default resources"
	has_size small && mhonarc_case mhonarc-small "$W/small.mbox" "$SMALL" "$W/take-small"
	[ "$MID_OK" = yes ] && mhonarc_case mhonarc-mid "$W/mid.mbox" "$MH_MID" "$W/take-mid"
	if has_size large; then
		if [ "$MH_FULL" = 1 ]; then
			mhonarc_case mhonarc-large "$W/large.mbox" $((INPUT - UPDATES)) "$W/take-large"
		else
			say "mhonarc: not at the large size (slow; BENCH_MHONARC_FULL=1 to run it)"
		fi
	fi
	return 0
}

# -- run --------------------------------------------------------------------

if corridor_wanted; then
	has_size small && { has_step build || has_step update; } && run_corridor_small
	has_size large && run_corridor_large
fi
has_step mhonarc && run_mhonarc

say "done; logs and data in $W"
python3 "$here/archive-report.py" "$RESULTS" "$SEARCH" "$INPUT" "$(cat "$W/search.steal" 2>/dev/null || echo '')"
exit $failed
