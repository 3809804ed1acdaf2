#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/digest.sh — a council's day of digests: 100 groups, 5,000 members in
# digest mode (each in 3 groups; half of them take one combined digest a day,
# half one digest per group), and a day of traffic: 1,000 real messages from
# linux-mips.mbox.xz spread over the groups.  Times `corridor digest send
# --now` from start until it exits with every digest handed to Postfix's
# smtp-sink (counter mode), and its peak memory.  Target (issue 7): <= 30 s.
#
# Environment (all optional):
#   CORRIDOR_CORPORA   corpora folder          (default: ../shared/corpora)
#   BENCH_MBOX         mbox, plain or .xz      (default: $CORRIDOR_CORPORA/linux-mips.mbox.xz)
#   BENCH_MESSAGES     the day's messages      (default: 1000)
#   BENCH_SKIP         messages skipped first  (default: 60000: a stretch of 2008)
#   BENCH_GROUPS       groups                  (default: 100)
#   BENCH_MEMBERS      people                  (default: 5000)
#   BENCH_DIR          work folder, wiped      (default: bench/out/digest)
#   BENCH_PORT         smtp-sink's port        (default: 17224)
#   CORRIDOR_BIN       corridor binary         (default: ./corridor)
# Exit status 0 when every expected digest reached the sink, 1 if not, 2 on a
# set-up error.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
CORRIDOR_CORPORA=${CORRIDOR_CORPORA:-$root/../shared/corpora}
MBOX=${BENCH_MBOX:-$CORRIDOR_CORPORA/linux-mips.mbox.xz}
NMSG=${BENCH_MESSAGES:-1000}
SKIP=${BENCH_SKIP:-60000}
NG=${BENCH_GROUPS:-100}
NP=${BENCH_MEMBERS:-5000}
W=${BENCH_DIR:-$root/bench/out/digest}
PORT=${BENCH_PORT:-17224}
CORRIDOR=${CORRIDOR_BIN:-./corridor}
case $CORRIDOR in /*) ;; *) CORRIDOR=$root/$CORRIDOR ;; esac
say() { printf 'bench: [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }
for v in "$NMSG" "$SKIP" "$NG" "$NP" "$PORT"; do
	case $v in ''|*[!0-9]*) die "'$v' is not a whole number (BENCH_* settings)";; esac
done
[ -r "$MBOX" ] || die "cannot read $MBOX (set BENCH_MBOX or CORRIDOR_CORPORA)"
[ -x "$CORRIDOR" ] || die "no corridor binary at $CORRIDOR (make first)"
"$CORRIDOR" digest --help >/dev/null 2>&1 || die "this corridor has no digest command"
[ -x /usr/sbin/smtp-sink ] || die "smtp-sink missing: apt-get install postfix"
command -v sqlite3 >/dev/null || die "sqlite3 missing: apt-get install sqlite3"
[ -x /usr/bin/time ] || die "/usr/bin/time missing: apt-get install time"
case $W in ''|/) die "refusing to use '$W'";; esac
if [ -d "$W" ] && [ -n "$(ls -A "$W")" ] && [ ! -e "$W/.corridor-bench" ]; then
	die "'$W' is not empty and was not made by this script"
fi
rm -rf "$W"; mkdir -p "$W/mbox"; : >"$W/.corridor-bench"; W=$(cd "$W" && pwd)
S=$W/state
SINK_PID=
trap '[ -z "$SINK_PID" ] || kill "$SINK_PID" 2>/dev/null || true' EXIT

say "cutting $NMSG messages (after $SKIP) into $NG groups"
python3 - "$MBOX" "$SKIP" "$NMSG" "$NG" "$W/mbox" <<'PY'
import lzma, sys
path, skip, n, ng, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
f = lzma.open(path, "rb") if path.endswith(".xz") else open(path, "rb")
files = [open(f"{out}/g{i:03d}.mbox", "wb") for i in range(ng)]
count = -1
cur = None
for line in f:
    if line.startswith(b"From "):
        count += 1
        if count >= skip + n:
            break
        cur = files[(count - skip) % ng] if count >= skip else None
    if cur is not None:
        cur.write(line)
for x in files:
    x.close()
PY
"$CORRIDOR" --state "$S" init >/dev/null
cat >"$S/corridor.conf" <<CONF
[outbound]
relay = smtp://127.0.0.1:$PORT
connections = 16
[web]
base_url = https://lists.council.test/
[digest]
# the day's messages are real ones from years ago: no age limit here
max_age = 0
CONF
say "creating $NG groups and $NP people (3 groups each; half combined)"
i=0
while [ $i -lt "$NG" ]; do
	"$CORRIDOR" --state "$S" group create "$(printf 'g%03d' $i)" --title "Group $i" >/dev/null
	i=$((i + 1))
done
python3 - "$NP" "$NG" <<'PY' | sqlite3 "$S/corridor.db"
import random, sys
np, ng = int(sys.argv[1]), int(sys.argv[2])
random.seed(7)
print("BEGIN;")
for p in range(np):
    addr = f"person{p:05d}@council.test"
    for g in random.sample(range(ng), 3):
        print(f"INSERT INTO members (group_id, address, name, mode, added, token, source) VALUES "
              f"((SELECT id FROM groups WHERE name = 'g{g:03d}'), '{addr}', 'Person {p}', 'digest', 0, "
              f"lower(hex(randomblob(16))), 'cli');")
    if p % 2:
        print(f"INSERT INTO digest_prefs (address, combined, format, updated) VALUES ('{addr}', 1, 'multipart', 0);")
print("COMMIT;")
PY
say "importing the day's traffic"
i=0
while [ $i -lt "$NG" ]; do
	g=$(printf 'g%03d' $i)
	"$CORRIDOR" --state "$S" import --group "$g" "$W/mbox/$g.mbox" >/dev/null 2>&1 || die "import $g failed"
	i=$((i + 1))
done
posts=$(sqlite3 "$S/corridor.db" "SELECT count(*) FROM thread_nodes WHERE msg IS NOT NULL")
expected=$(sqlite3 "$S/corridor.db" "
  SELECT (SELECT count(*) FROM members m LEFT JOIN digest_prefs p ON p.address = m.address
          WHERE m.mode = 'digest' AND coalesce(p.combined, 0) = 0
            AND EXISTS (SELECT 1 FROM thread_nodes n WHERE n.group_id = m.group_id AND n.msg IS NOT NULL))
       + (SELECT count(DISTINCT m.address) FROM members m JOIN digest_prefs p ON p.address = m.address
          WHERE m.mode = 'digest' AND p.combined = 1)")
say "$posts posts stored; $expected digests expected"

: >"$W/sink.count"; chmod 0666 "$W/sink.count"
/usr/sbin/smtp-sink -u nobody -c -h sink.test "127.0.0.1:$PORT" 1024 >"$W/sink.count" 2>&1 &
SINK_PID=$!
sleep 0.5
st0=$(awk '/^cpu / { print $9 }' /proc/stat)
/usr/bin/time -f '%e %M %U %S' -o "$W/time.txt" "$CORRIDOR" --state "$S" digest send --now >"$W/send.log" 2>&1 || true
st1=$(awk '/^cpu / { print $9 }' /proc/stat)
sleep 0.5
got=$(tr '\r' '\n' <"$W/sink.count" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1)
read -r secs rss_kb user sys <"$W/time.txt"
echo
printf 'digests at the sink: %s of %s expected (%s posts, %s groups, %s people)\n' "${got:-0}" "$expected" "$posts" "$NG" "$NP"
printf 'digest send --now: %s s wall (%s s user, %s s system), peak RSS %s MiB, steal %s ticks\n' \
	"$secs" "$user" "$sys" "$((rss_kb / 1024))" "$((st1 - st0))"
tail -2 "$W/send.log"
echo "target: every digest built and handed to smtp-sink in <= 30 s (issue 7)"
[ "${got:-0}" -ge "$expected" ] || exit 1
