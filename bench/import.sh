#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/import.sh — import one real mailing-list archive with corridor,
# notmuch and public-inbox on the same machine in the same run; print
# throughput, peak RSS and search latency side by side, with the ratio
# corridor/peer.  See bench/README.md for what each number means.
#
# Environment (all optional):
#   CORRIDOR_CORPORA  corpora folder            (default: ../shared/corpora)
#   BENCH_MBOX        mboxrd file, plain or .xz (default: $CORRIDOR_CORPORA/linux-mips.mbox.xz)
#   BENCH_DIR         work folder, wiped first  (default: bench/out/work)
#   BENCH_TOOLS       tools to run              (default: "corridor notmuch public-inbox")
#   BENCH_RUNS        timed runs per query      (default: 50)
#   CORRIDOR_BIN      corridor binary           (default: ./corridor)
#
# Exit status: 0 if every selected tool imported, indexed and searched; 1 if
# one failed (the others still run and the table is still printed); 2 on a
# usage or set-up error.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

CORRIDOR_CORPORA=${CORRIDOR_CORPORA:-$root/../shared/corpora}
MBOX=${BENCH_MBOX:-$CORRIDOR_CORPORA/linux-mips.mbox.xz}
W=${BENCH_DIR:-$root/bench/out/work}
TOOLS=${BENCH_TOOLS:-corridor notmuch public-inbox}
RUNS=${BENCH_RUNS:-50}
CORRIDOR=${CORRIDOR_BIN:-./corridor}
GROUP=linux-mips

# The four search queries, in corridor's (and notmuch's) syntax; public-inbox
# spells the same queries with its own prefixes (see pi_queries below).
Q_WORD='kernel'
Q_PHRASE='"cache coherency"'
Q_FROM='from:ralf@linux-mips.org'
Q_DATE='date:2005-01-01..2005-06-30'

say() { printf 'bench: [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }
has_tool() { case " $TOOLS " in *" $1 "*) return 0;; esac; return 1; }

# -- checks -----------------------------------------------------------------

for t in $TOOLS; do
	case $t in corridor|notmuch|public-inbox) ;;
	*) die "unknown tool '$t' in BENCH_TOOLS (corridor, notmuch, public-inbox)";;
	esac
done
[ -r "$MBOX" ] || die "cannot read mbox '$MBOX' (set BENCH_MBOX or CORRIDOR_CORPORA)"
command -v python3 >/dev/null || die "python3 is needed"
command -v perl >/dev/null || die "perl is needed"

# apt_need COMMAND PACKAGE: install PACKAGE from Debian if COMMAND is missing
apt_need() {
	[ -x "$1" ] || command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing Debian package $2 (for $1)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null ||
			die "apt-get install $2 failed"
	else
		die "$1 is missing: apt-get install $2"
	fi
}
apt_need /usr/bin/time time
case $MBOX in *.xz) apt_need xz xz-utils;; esac
has_tool notmuch && apt_need notmuch notmuch
has_tool public-inbox && apt_need public-inbox-index public-inbox
if has_tool corridor; then
	[ -x "$CORRIDOR" ] || die "no corridor binary at '$CORRIDOR' (run make first, or set BENCH_TOOLS)"
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
RESULTS=$W/results.tsv
LATENCY=$W/latency.tsv
: > "$RESULTS"
: > "$LATENCY"
failed=0

# Nothing below may read or write the user's own configuration.
HOME=$W/home
XDG_CONFIG_HOME=$W/home/.config
XDG_DATA_HOME=$W/home/.local/share
NOTMUCH_CONFIG=$W/notmuch-config
PI_CONFIG=$W/public-inbox/config
export HOME XDG_CONFIG_HOME XDG_DATA_HOME NOTMUCH_CONFIG PI_CONFIG
unset NOTMUCH_PROFILE NOTMUCH_DATABASE 2>/dev/null || true

# -- measuring ----------------------------------------------------------------

now_ns() { date +%s%N; }

# "steal total" jiffies from /proc/stat (steal = time the hypervisor gave
# this VM's CPUs to someone else; on a busy virtual machine it makes every
# number here slower and noisier, so the table shows it per step)
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t; exit }' /proc/stat; }

# timed NAME CMD...: run CMD under /usr/bin/time -v (stdin is the caller's),
# output to $W/NAME.log; sets SECS (wall, from the clock around the run),
# RSS_KIB ("Maximum resident set size": the largest single process, parent
# or any waited-for child, not a sum) and CPU (user + system, children
# included) and STEAL (% of CPU time stolen by the hypervisor meanwhile).
# Returns CMD's exit status.
timed() {
	_name=$1; shift
	_s0=$(cpu_ticks)
	_t0=$(now_ns)
	_rc=0
	/usr/bin/time -v -o "$W/$_name.time" "$@" > "$W/$_name.log" 2>&1 || _rc=$?
	_t1=$(now_ns)
	_s1=$(cpu_ticks)
	STEAL=$(echo "$_s0 $_s1" | awk '{ d = $4 - $2; if (d <= 0) d = 1; printf "%.0f", 100 * ($3 - $1) / d }')
	SECS=$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	RSS_KIB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/$_name.time")
	CPU=$(awk -F': ' '/User time \(seconds\)/ { u = $2 } /System time \(seconds\)/ { s = $2 }
		END { printf "%.1f", u + s }' "$W/$_name.time")
	return $_rc
}

# record TOOL STEP STORED STATUS: one row of the throughput table
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$INPUT" "$3" \
		"${SECS:-0}" "${RSS_KIB:-0}" "${CPU:-0}" "${STEAL:-0}" "$4" >> "$RESULTS"
}

# fail TOOL STEP LOGNAME: report a failed step and mark the run failed
fail() {
	say "$1: $2 FAILED; last lines of $W/$3.log:"
	tail -n 20 "$W/$3.log" | sed 's/^/    /'
	record "$1" "$2" - failed
	failed=1
}

# Before each timed step: read its input once so every tool starts with it in
# the page cache, and flush what earlier steps left dirty, so no tool pays
# for another's writeback in its own fsync calls.
warm_cache() { cat "$@" > /dev/null; sync; }

# -- input ------------------------------------------------------------------

say "input: $MBOX ($(du -h "$MBOX" | cut -f1))"
say "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
	"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
case $MBOX in
*.xz)
	say "unpacking for the peers (not timed as part of any tool)"
	t0=$(now_ns)
	xz -dc "$MBOX" > "$W/input.mbox"
	t1=$(now_ns)
	XZ_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	say "xz -dc took $XZ_SECS s ($(du -h "$W/input.mbox" | cut -f1)); corridor's time includes this, the peers' do not"
	PLAIN=$W/input.mbox
	;;
*)
	PLAIN=$MBOX
	;;
esac

if has_tool notmuch; then
	say "splitting into a maildir for notmuch (not timed)"
	INPUT=$(python3 "$here/mbox2maildir.py" "$PLAIN" "$W/maildir")
else
	INPUT=$(python3 "$here/mbox2maildir.py" "$PLAIN" -)
fi
say "input has $INPUT messages"

# -- corridor ---------------------------------------------------------------

run_corridor() {
	S=$W/corridor
	say "corridor: init and group create"
	if ! "$CORRIDOR" --state "$S" init > "$W/corridor-init.log" 2>&1 ||
	   ! "$CORRIDOR" --state "$S" group create "$GROUP" >> "$W/corridor-init.log" 2>&1; then
		SECS=0 RSS_KIB=0 CPU=0 STEAL=0
		fail corridor "import" corridor-init
		return
	fi
	say "corridor: $CORRIDOR --state $S import --group $GROUP $MBOX"
	warm_cache "$MBOX"
	if ! timed corridor-import "$CORRIDOR" --state "$S" import --group "$GROUP" "$MBOX"; then
		fail corridor "import" corridor-import
		return
	fi
	# the last stdout line is "imported N, duplicates D, failed F"
	summary=$(grep '^imported [0-9]*, duplicates [0-9]*, failed [0-9]*' "$W/corridor-import.log" | tail -n 1)
	stored=$(printf '%s\n' "$summary" | sed -n 's/^imported \([0-9]*\),.*/\1/p')
	if [ -z "$stored" ]; then
		say "corridor: no 'imported N, duplicates D, failed F' line"
		fail corridor "import" corridor-import
		return
	fi
	say "corridor: $summary in $SECS s, peak RSS $((RSS_KIB / 1024)) MiB, steal $STEAL%"
	record corridor "import (unxz+parse+store+index)" "$stored" ok
	say "corridor: search latency, $RUNS runs per query"
	python3 "$here/latency.py" corridor "$RUNS" "$LATENCY" \
		--q word "$Q_WORD" --q phrase "$Q_PHRASE" \
		--q from "$Q_FROM" --q date-range "$Q_DATE" \
		-- "$CORRIDOR" --state "$S" search --limit 20 || { say "corridor: search FAILED"; failed=1; }
}

# -- notmuch ----------------------------------------------------------------

run_notmuch() {
	cat > "$NOTMUCH_CONFIG" <<EOF
[database]
path=$W/maildir

[user]
name=Bench
primary_email=bench@example.invalid

[new]
tags=unread;inbox;
ignore=

[search]
exclude_tags=

[maildir]
synchronize_flags=true

[index]
decrypt=false
EOF
	say "notmuch: notmuch new (notmuch $(notmuch --version | cut -d' ' -f2), NOTMUCH_CONFIG=$NOTMUCH_CONFIG)"
	find "$W/maildir" -type f -exec cat {} + > /dev/null
	sync
	if ! timed notmuch-new notmuch new; then
		fail notmuch "notmuch new" notmuch-new
		return
	fi
	stored=$(notmuch count --output=messages '*')
	say "notmuch: $stored messages in $SECS s, peak RSS $((RSS_KIB / 1024)) MiB, steal $STEAL%"
	record notmuch "notmuch new (parse+index)" "$stored" ok
	say "notmuch: search latency, $RUNS runs per query"
	python3 "$here/latency.py" notmuch "$RUNS" "$LATENCY" \
		--q word "$Q_WORD" --q phrase "$Q_PHRASE" \
		--q from "$Q_FROM" --q date-range "$Q_DATE" \
		-- notmuch search --limit=20 || { say "notmuch: search FAILED"; failed=1; }
}

# -- public-inbox -----------------------------------------------------------

run_public_inbox() {
	PI=$W/public-inbox/$GROUP
	pi_version=$(dpkg-query -W -f '${Version}' public-inbox 2>/dev/null || echo '?')
	say "public-inbox: public-inbox-init -V2 -L full $GROUP $PI (public-inbox $pi_version)"
	mkdir -p "$W/public-inbox"
	if ! public-inbox-init -V2 -L full "$GROUP" "$PI" \
		"http://bench.invalid/$GROUP" "$GROUP@bench.invalid" > "$W/pi-init.log" 2>&1; then
		SECS=0 RSS_KIB=0 CPU=0 STEAL=0
		fail public-inbox "init" pi-init
		return
	fi
	say "public-inbox: import the mbox into git (bench/pi-import.pl, basic index only)"
	warm_cache "$PLAIN"
	if ! timed pi-import perl "$here/pi-import.pl" "$GROUP" < "$PLAIN"; then
		fail public-inbox "import (git)" pi-import
		return
	fi
	imp_secs=$SECS imp_rss=$RSS_KIB imp_cpu=$CPU imp_steal=$STEAL
	stored=$(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from msgmap").fetchone()[0])' "$PI/msgmap.sqlite3")
	say "public-inbox: imported $stored messages in $SECS s, peak RSS $((RSS_KIB / 1024)) MiB, steal $STEAL%"
	record public-inbox "import (parse+git, basic index)" "$stored" ok

	# Drop everything derived from git, so the timed step below is a full
	# index of the whole archive, as for a fresh mirror.
	rm -rf "$PI/xap15" "$PI"/msgmap.sqlite3*
	sync
	say "public-inbox: public-inbox-index -L full --no-update-extindex $PI"
	if ! timed pi-index public-inbox-index -L full --no-update-extindex "$PI"; then
		fail public-inbox "public-inbox-index -L full" pi-index
		return
	fi
	stored=$(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from msgmap").fetchone()[0])' "$PI/msgmap.sqlite3")
	say "public-inbox: indexed $stored messages in $SECS s, peak RSS $((RSS_KIB / 1024)) MiB, steal $STEAL%"
	record public-inbox "public-inbox-index -L full" "$stored" ok
	STEAL=$(awk -v a="$imp_steal" -v b="$STEAL" -v sa="$imp_secs" -v sb="$SECS" \
		'BEGIN { t = sa + sb; if (t <= 0) t = 1; printf "%.0f", (a * sa + b * sb) / t }')
	SECS=$(awk -v a="$imp_secs" -v b="$SECS" 'BEGIN { printf "%.2f", a + b }')
	CPU=$(awk -v a="$imp_cpu" -v b="$CPU" 'BEGIN { printf "%.1f", a + b }')
	[ "$imp_rss" -gt "$RSS_KIB" ] && RSS_KIB=$imp_rss
	record public-inbox "import + index" "$stored" ok

	say "public-inbox: search latency, $RUNS runs per query (bench/pi-search.pl)"
	python3 "$here/latency.py" public-inbox "$RUNS" "$LATENCY" \
		--q word "$Q_WORD" --q phrase "$Q_PHRASE" \
		--q from 'f:ralf@linux-mips.org' --q date-range 'd:20050101..20050630' \
		-- perl "$here/pi-search.pl" "$PI" 20 || { say "public-inbox: search FAILED"; failed=1; }
}

# -- run --------------------------------------------------------------------

for t in $TOOLS; do
	case $t in
	corridor) run_corridor ;;
	notmuch) run_notmuch ;;
	public-inbox) run_public_inbox ;;
	esac
done

say "done; logs and data in $W"
python3 "$here/report.py" "$RESULTS" "$LATENCY"
if [ -n "${XZ_SECS:-}" ] && has_tool corridor; then
	echo
	echo "note: corridor's import time includes unpacking the .xz; xz -dc alone took $XZ_SECS s here."
fi
exit $failed
