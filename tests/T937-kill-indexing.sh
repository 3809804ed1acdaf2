#!/bin/sh
# T937 — SIGKILL while the daemon's indexer works through a backlog (issue
# 9, fault injection; docs/faults.md).  2,896 real messages
# (linux-mips-2005.mbox) arrive over LMTP while the index directory is
# read-only (T932), so they all wait to be indexed; the daemon is then
# restarted with the index writable and killed with SIGKILL three times in
# the middle of catching up.  After the last restart the backlog drains by
# itself, and the index answers exactly as one rebuilt from the store with
# `corridor reindex` (same counts and results: nothing indexed twice or
# left out).  (T170 kills `corridor import` and `reindex`; T240 the daemon
# during intake.)
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/tools/lib-faults.sh"
faults_need_root
trap 'serve_kill; faults_cleanup; rm -rf "$TMP"' EXIT
MBOX=$CORPORA/linux-mips-2005.mbox
SOCK=unix:$TMP/lmtp.sock
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
backlog() { q "SELECT count(*) FROM work WHERE kind = 'index'"; }

cor init >/dev/null
cor group create mips >/dev/null
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
listen = $SOCK
domains = lists.test
[daemon]
index_batch = 100
CONF

test_case "2,896 messages over LMTP while the index is read-only: all stored, all waiting to be indexed"
faults_ro_bind "$TMP/state/index" || fail "read-only bind mount"
serve_start --no-outbound --no-archive --no-digests || fail "start"
python3 "$SRC/tests/tools/lmtp_files.py" "$SOCK" mips@lists.test --sender list@linux-mips.test \
    --mbox "$MBOX" >"$TMP/replies" || fail "delivery"
check_eq "$(cut -f3 "$TMP/replies" | cut -c1-3 | sort | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')" \
    "250:2896 " "replies"
serve_stop
stored=$(q "SELECT count(*) FROM messages")
check "$stored" -gt 2800
check_eq "$(backlog)" "$(q "SELECT count(DISTINCT msg) FROM work WHERE kind = 'index'")" "one item a message"
check "$(backlog)" -ge "$stored"
faults_unbind "$TMP/state/index" || fail "unmount"

test_case "SIGKILL three times while the indexer catches up"
kills=0 last=$(backlog)
while [ $kills -lt 3 ]; do
    serve_start --no-outbound --no-archive --no-digests || { fail "restart"; break; }
    # let it index a few batches (at least 200 messages), then kill it; the
    # indexer takes over a thousand messages a second, so the target never
    # goes below half of what is left and the kill follows it within 0.1 s,
    # or the third restart could finish the backlog before its kill
    target=$((last - 200 - kills * 150))
    [ "$target" -ge $((last / 2)) ] || target=$((last / 2))
    wait_for 60 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM work WHERE kind = 'index'\") -le $target ]" ||
        fail "no progress before kill $((kills + 1))"
    sleep "0.0$(( (kills * 37 + $$) % 9 + 1 ))"
    serve_kill
    kills=$((kills + 1))
    now=$(backlog)
    echo "# kill $kills: backlog $last -> $now"
    [ "$now" -gt 0 ] || { fail "the backlog was gone before kill $kills: nothing proven"; break; }
    last=$now
done
echo "# report: killed 3 times while indexing; $last of $stored messages still to index at the last kill"

test_case "after a restart the backlog drains by itself; the index equals one rebuilt from the store"
serve_start --no-outbound --no-archive --no-digests || fail "restart"
wait_for 120 faults_sql 0 "SELECT count(*) FROM work WHERE kind = 'index'" || fail "backlog left: $(backlog)"
check_eq "$(cor status | grep '^index backlog')" "index backlog:  0 messages waiting to be indexed" "status"
serve_stop
mkdir -p "$TMP/fresh"
sqlite3 "$db" ".backup '$TMP/fresh/corridor.db'"
out=$("$CORRIDOR" --state "$TMP/fresh" reindex 2>&1) || fail "reindex: $out"
for query in '*' 'from:ralf' 'subject:patch' 'date:2005-03' 'has:attachment' 'mips AND kernel' 'thread:{subject:cvs}'; do
    a=$(cor search --group mips --sort oldest "$query" 2>&1 | md5sum)
    b=$("$CORRIDOR" --state "$TMP/fresh" search --group mips --sort oldest "$query" 2>&1 | md5sum)
    check_eq "$a" "$b" "results of '$query'"
done
check_eq "$(cor search --group mips '*' | wc -l)" "$stored" "every message once"
check_eq "$(cor search --group mips --json '*' | python3 -c 'import json,sys; ids = [json.loads(l)["message_id"] for l in sys.stdin]; print(len(ids) - len(set(ids)))')" 0 "no message twice"
test_done
