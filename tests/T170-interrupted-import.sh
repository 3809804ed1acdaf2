#!/bin/sh
# T170 — an import killed with SIGKILL at random points leaves no half-written
# message, and running it again completes it; the index catches up by itself.
. "$(dirname "$0")/lib.sh"
MBOX2005=$CORPORA/linux-mips-2005.mbox
cor init >/dev/null
cor group create mips >/dev/null
# small batches, so that the kills fall between and inside many commits
printf '[import]\nbatch = 100\n' >"$TMP/state/corridor.conf"
db=$TMP/state/corridor.db

consistent() {
    # every stored message has its original and exactly one post node here,
    # every post has a message, and no post points at a missing thread
    sqlite3 "$db" "
      SELECT (SELECT count(*) FROM messages) = (SELECT count(*) FROM originals)
         AND (SELECT count(*) FROM messages) = (SELECT count(*) FROM thread_nodes WHERE msg IS NOT NULL)
         AND (SELECT count(*) FROM thread_nodes n LEFT JOIN threads t ON t.id = n.thread WHERE t.id IS NULL) = 0
         AND (SELECT count(*) FROM messages m LEFT JOIN originals o ON o.message = m.id WHERE o.message IS NULL) = 0;"
}

test_case "SIGKILL during import, three times: the store stays consistent"
for delay in 0.4 0.8 1.2; do
    "$CORRIDOR" --state "$TMP/state" import --group mips "$MBOX2005" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    check_eq "$(consistent)" 1 "consistent after kill at ${delay}s"
done
stored=$(sqlite3 "$db" "SELECT count(*) FROM messages")
echo "# stored before the final run: $stored"
check "$stored" -lt 2896
check "$stored" -gt 0

test_case "running the import again completes it, with nothing twice"
out=$(cor import --group mips "$MBOX2005" | tail -1)
imp=$(echo "$out" | sed 's/imported \([0-9]*\), duplicates \([0-9]*\), failed \([0-9]*\)/\1 \2 \3/')
set -- $imp
check "$1" -eq "$((2896 - stored))"
check "$2" -eq "$stored"
check "$3" -eq 0
check_eq "$(sqlite3 "$db" 'SELECT count(*) FROM messages')" 2896 "messages"

test_case "the index caught up: every stored message is searchable, the queue is empty"
check_eq "$(cor search --group mips '*' | wc -l)" 2896 "search"
check_eq "$(sqlite3 "$db" "SELECT count(*) FROM work WHERE kind = 'index'")" 0 "pending work"

test_case "reindex rebuilds the same index from the store"
before=$(cor search --group mips 'from:ralf' | md5sum)
rm -rf "$TMP/state/index"
out=$(cor reindex) || fail "reindex"
check_eq "$out" "indexed 2896, failed 0"
check_eq "$(cor search --group mips 'from:ralf' | md5sum)" "$before" "same results"

test_case "a reindex killed half-way leaves work for every message not yet re-indexed"
"$CORRIDOR" --state "$TMP/state" reindex >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
left=$(sqlite3 "$db" "SELECT count(*) FROM work WHERE kind = 'index'")
indexed=$(cor search --group mips '*' | wc -l)
echo "# after the kill: $indexed indexed, $left queued"
check "$left" -gt 0
check "$((indexed + left))" -ge 2896
out=$(cor reindex) || fail "reindex again"
check_eq "$out" "indexed 2896, failed 0"
check_eq "$(cor search --group mips 'from:ralf' | md5sum)" "$before" "same results after the crash"
check_eq "$(sqlite3 "$db" "SELECT count(*) FROM work WHERE kind = 'index'")" 0 "queue empty"

test_done
