#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/fanout.sh — one post to a group of 5,000 members, every copy handed
# to Postfix's smtp-sink with its own VERP envelope: the time from handing
# the post over until the sink has every copy.  corridor (LMTP in, the
# daemon's outbound worker out) and mlmmj (mlmmj-receive in, mlmmj-send
# out: one SMTP transaction per subscriber with its own bounce address) in
# the same run, on the same sink.  While corridor fans out, a second client
# sends posts to another group over LMTP and times each acknowledgement:
# intake must not stall behind a fan-out.
#
# Environment (all optional):
#   BENCH_MEMBERS      members of the group                  (default: 5000)
#   BENCH_ROUNDS       timed rounds per tool (median shown)  (default: 3)
#   BENCH_PROBES       LMTP posts timed during the last corridor round (default: 50)
#   BENCH_CONNECTIONS  corridor's [outbound] connections     (default: 16)
#   BENCH_DIR          work folder, wiped first              (default: bench/out/fanout)
#   BENCH_PORT         first of three local ports            (default: 17124)
#   BENCH_TOOLS        "corridor mlmmj"                      (default: both)
#   BENCH_MLMMJ_PLAIN  rounds of mlmmj as packaged (~4 min each) (default: 1)
#   CORRIDOR_BIN       corridor binary                       (default: ./corridor)
#
# Exit status 0 when every round delivered every copy, 1 if not, 2 on a
# set-up error.  The target (issue 6: 5,000 copies in 2 s or less, ahead of
# mlmmj in the same run) is printed, not enforced.

set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
N=${BENCH_MEMBERS:-5000}
ROUNDS=${BENCH_ROUNDS:-3}
PROBES=${BENCH_PROBES:-50}
CONNS=${BENCH_CONNECTIONS:-16}
W=${BENCH_DIR:-$root/bench/out/fanout}
PORT=${BENCH_PORT:-17124}
TOOLS=${BENCH_TOOLS:-corridor mlmmj}
CORRIDOR=${CORRIDOR_BIN:-./corridor}
export CORRIDOR_ALLOW_ROOT=1   # run as root, serve refuses without it (docs/security.md)
case $CORRIDOR in /*) ;; *) CORRIDOR=$root/$CORRIDOR ;; esac
LMTP_PORT=$PORT
SINK_PORT=$((PORT + 1))
say() { printf 'bench: [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }
has_tool() { case " $TOOLS " in *" $1 "*) return 0;; esac; return 1; }

for v in "$N" "$ROUNDS" "$PROBES" "$CONNS" "$PORT"; do
	case $v in ''|*[!0-9]*) die "'$v' is not a whole number (BENCH_* settings)";; esac
done
apt_need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] || die "$1 is missing: apt-get install $2"
	say "installing Debian package $2 (for $1)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2" >/dev/null ||
		die "apt-get install $2 failed"
}
[ -x /usr/sbin/smtp-sink ] || apt_need postfix postfix
apt_need sqlite3 sqlite3
has_tool mlmmj && apt_need mlmmj-receive mlmmj
has_tool corridor && { [ -x "$CORRIDOR" ] || die "no corridor binary at $CORRIDOR (make first)"; }

case $W in ''|/) die "refusing to use '$W'";; esac
if [ -d "$W" ] && [ -n "$(ls -A "$W")" ] && [ ! -e "$W/.corridor-bench" ]; then
	die "'$W' is not empty and was not made by this script"
fi
rm -rf "$W"; mkdir -p "$W"; : >"$W/.corridor-bench"; W=$(cd "$W" && pwd)
chmod 0755 "$W"
RESULTS=$W/results.tsv
: >"$RESULTS"
failed=0
steal() { awk '/^cpu / { print $9 }' /proc/stat; }

SINK_PID=
sink_start() { # COUNTER_FILE
	: >"$1"; chmod 0666 "$1"
	/usr/sbin/smtp-sink -u nobody -c -h sink.test "127.0.0.1:$SINK_PORT" 1024 >"$1" 2>&1 &
	SINK_PID=$!
	i=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1', $SINK_PORT), 1)" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || die "smtp-sink did not start"; sleep 0.05
	done
}
sink_stop() { [ -z "$SINK_PID" ] || { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=; }; }
COR_PID=
cleanup() { sink_stop; [ -z "$COR_PID" ] || kill "$COR_PID" 2>/dev/null || true; }
trap cleanup EXIT

members_sql() { # GROUP
	echo "BEGIN;"
	i=0
	while [ $i -lt "$N" ]; do
		printf "INSERT INTO members (group_id, address, name, added, token) VALUES ((SELECT id FROM groups WHERE name = '%s'), 'member%05d@council.test', 'Member %d', 0, lower(hex(randomblob(16))));\n" "$1" $i $i
		i=$((i + 1))
	done
	echo "COMMIT;"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# -- corridor ---------------------------------------------------------------
if has_tool corridor; then
	S=$W/corridor
	"$CORRIDOR" --state "$S" init >/dev/null
	cat >"$S/corridor.conf" <<CONF
[filters]
staff_domains = council.test
[outbound]
relay = smtp://127.0.0.1:$SINK_PORT
connections = $CONNS
CONF
	"$CORRIDOR" --state "$S" group create fan >/dev/null
	"$CORRIDOR" --state "$S" group create other >/dev/null
	members_sql fan | sqlite3 "$S/corridor.db"
	"$CORRIDOR" --state "$S" serve --no-archive --lmtp "127.0.0.1:$LMTP_PORT" >"$W/corridor-serve.log" 2>&1 &
	COR_PID=$!
	i=0
	until grep -q 'info: ready' "$W/corridor-serve.log"; do
		i=$((i + 1)); [ $i -lt 100 ] || die "corridor serve did not start: $(tail -3 "$W/corridor-serve.log")"; sleep 0.1
	done
	# the probes alone, for the baseline latency
	sink_start "$W/sink.count"
	base=$(python3 "$here/fanout-drive.py" "$W/sink.count" 0 --lmtp "127.0.0.1:$LMTP_PORT" other@lists.test \
		--probe "127.0.0.1:$LMTP_PORT" other@lists.test "$PROBES")
	sink_stop
	say "corridor: intake alone: $base"
	# timed rounds on their own (as mlmmj's are), then one more round with
	# LMTP posts to another group arriving during the fan-out
	r=1
	while [ $r -le $((ROUNDS + 1)) ]; do
		sink_start "$W/sink.count"
		st0=$(steal)
		if [ $r -le "$ROUNDS" ]; then
			tool=corridor
			out=$(python3 "$here/fanout-drive.py" "$W/sink.count" "$N" --lmtp "127.0.0.1:$LMTP_PORT" fan@lists.test)
		else
			tool=corridor+intake
			out=$(python3 "$here/fanout-drive.py" "$W/sink.count" "$N" --lmtp "127.0.0.1:$LMTP_PORT" fan@lists.test \
				--probe "127.0.0.1:$LMTP_PORT" other@lists.test "$PROBES")
		fi
		st1=$(steal)
		sink_stop
		say "$tool round $r: $out (steal $((st1 - st0)) ticks)"
		printf '%s\t%s\t%s\n' $tool "$r" "$out" >>"$RESULTS"
		case $out in *"\"copies\": $N,"*|*"\"copies\": $N}"*) ;; *) failed=1; say "corridor: not every copy arrived";; esac
		# the outbox must be empty before the next round
		i=0
		until [ "$(sqlite3 "$S/corridor.db" 'SELECT count(*) FROM outbox_rcpt')" = 0 ]; do
			i=$((i + 1)); [ $i -lt 300 ] || { failed=1; break; }; sleep 0.1
		done
		r=$((r + 1))
	done
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$COR_PID/status")
	say "corridor: peak RSS $((rss / 1024)) MiB"
	kill "$COR_PID"; wait "$COR_PID" 2>/dev/null || true; COR_PID=
fi

# -- mlmmj ------------------------------------------------------------------
if has_tool mlmmj; then
	M=$W/mlmmj
	mkdir -p "$M"
	printf 'lists.test\nowner@lists.test\nen\nN\n' | mlmmj-make-ml -L fan -s "$M" >/dev/null 2>&1 ||
		die "mlmmj-make-ml failed"
	L=$M/fan
	echo 127.0.0.1 >"$L/control/relayhost"
	echo "$SINK_PORT" >"$L/control/smtpport"
	i=0
	while [ $i -lt "$N" ]; do printf 'member%05d@council.test\n' $i; i=$((i + 1)); done >"$L/subscribers.d/m"
	# mlmmj-send's small writes wait for the sink's delayed ACK (Nagle): ~45 ms
	# a message.  "mlmmj" is the package as it runs; "mlmmj-nodelay" the same
	# with TCP_NODELAY set on its sockets (bench/nodelay.c), its best case.
	cc -shared -fPIC -O2 -o "$W/nodelay.so" "$here/nodelay.c" -ldl || die "cannot build bench/nodelay.c"
	for variant in mlmmj-nodelay mlmmj; do
		r=1
		rounds=$ROUNDS
		[ $variant = mlmmj ] && rounds=${BENCH_MLMMJ_PLAIN:-1}   # about 4 minutes a round
		while [ $r -le "$rounds" ]; do
			sink_start "$W/sink.count"
			st0=$(steal)
			if [ $variant = mlmmj ]; then
				out=$(python3 "$here/fanout-drive.py" "$W/sink.count" "$N" --timeout 600 --cmd /usr/bin/mlmmj-receive -L "$L" -F)
			else
				out=$(LD_PRELOAD=$W/nodelay.so python3 "$here/fanout-drive.py" "$W/sink.count" "$N" --cmd /usr/bin/mlmmj-receive -L "$L" -F)
			fi
			st1=$(steal)
			sink_stop
			say "$variant round $r: $out (steal $((st1 - st0)) ticks)"
			printf '%s\t%s\t%s\n' $variant "$r" "$out" >>"$RESULTS"
			case $out in *"\"copies\": $N,"*|*"\"copies\": $N}"*) ;; *) failed=1; say "$variant: not every copy arrived";; esac
			sleep 1
			r=$((r + 1))
		done
	done
fi

# -- report -----------------------------------------------------------------
echo
printf '%-10s %8s %10s %12s %14s\n' tool copies seconds copies/s "LMTP p99 ms"
for t in corridor corridor+intake mlmmj-nodelay mlmmj; do
	has_tool ${t%-nodelay} || has_tool ${t%+intake} || continue
	secs=$(awk -F'\t' -v t=$t '$1 == t' "$RESULTS" | sed 's/.*"seconds": \([0-9.]*\).*/\1/' | median)
	p99=$(awk -F'\t' -v t=$t '$1 == t' "$RESULTS" | sed -n 's/.*"probe_p99_ms": \([0-9.]*\).*/\1/p' | median)
	[ -n "$secs" ] || continue
	printf '%-10s %8s %10s %12s %14s\n' $t "$N" "$secs" "$(awk -v n="$N" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')" "${p99:--}"
	eval "secs_$(echo $t | tr -- '-+' '__')=$secs"
done
if has_tool corridor && has_tool mlmmj; then
	awk -v c="${secs_corridor:-0}" -v m="${secs_mlmmj:-0}" -v n="${secs_mlmmj_nodelay:-0}" 'BEGIN {
		if (c > 0) printf "\nmlmmj / corridor: %.1fx; mlmmj with TCP_NODELAY / corridor: %.2fx (corridor faster when > 1)\n", m / c, n / c }'
fi
echo "target: $N VERP copies in <= 2 s (issue 6), ahead of mlmmj in the same run"
exit $failed
