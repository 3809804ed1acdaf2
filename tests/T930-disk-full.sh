#!/bin/sh
# T930 — a full disk (issue 9, fault injection; docs/faults.md).  The state
# directory is a small tmpfs.  When the store's file system is full, a
# message that does not fit is answered 452 4.3.1 (the MTA keeps it and
# retries), nothing of it is half-written, and the daemon serves on; once
# there is room the retry is stored and the index and the archive catch up.
# The index's and the archive's own file systems full: intake still answers
# 250 (both are derived from the store), the indexer and the renderer retry
# and catch up once there is room, and the archive is then what a full build
# makes, also for a thread merged while its pages could not be written.  A
# file size limit (RLIMIT_FSIZE, prlimit) is a full disk too: 452 4.3.1, not
# a daemon killed by SIGXFSZ.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/tools/lib-faults.sh"
faults_need_root
trap 'serve_kill; faults_cleanup; rm -rf "$TMP"' EXIT
SOCK=unix:$TMP/lmtp.sock
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
acked=$TMP/acked     # every Message-ID answered 250, one a line
: >"$acked"

faults_mount_tmpfs "$TMP/state" 24m || { echo "Bail out! cannot mount a tmpfs"; exit 1; }
cor init >/dev/null || { echo "Bail out! init"; exit 1; }
cor group create planning >/dev/null
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
listen = $SOCK
domains = lists.test
[filters]
staff_domains = council.test
[archive]
debounce_ms = 50
CONF

# deliver FILE MESSAGE-ID : prints the reply; remembers a 250
deliver() {
    _r=$(faults_lmtp "$SOCK" planning@lists.test "$1")
    case $_r in 250*) echo "$2" >>"$acked" ;; esac
    echo "$_r"
}
# deliver_all PREFIX N : PREFIX1..N.eml in one LMTP session; prints the
# count of each reply code ("250:28 452:2"); remembers the 250s
deliver_all() {
    _i=0 _files=
    while [ $_i -lt "$2" ]; do _i=$((_i + 1)); _files="$_files $TMP/$1$_i.eml"; done
    python3 "$SRC/tests/tools/lmtp_files.py" "$SOCK" planning@lists.test $_files >"$TMP/replies" ||
        echo "lmtp_files failed"
    awk -F '\t' '$3 ~ /^250/ { sub(/\.eml$/, "", $1); print $1 "@council.test" }' "$TMP/replies" >>"$acked"
    cut -f3 "$TMP/replies" | cut -c1-3 | sort | uniq -c | awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1 }'
}
# every acknowledged message is stored exactly once and found once by search
all_acked_stored() {
    cor search --group planning --json '*' >"$TMP/found" || { echo "search failed"; return 1; }
    python3 - "$db" "$acked" "$TMP/found" <<'PY'
import collections, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
stored = collections.Counter(m for (m,) in db.execute(
    "SELECT message_id FROM thread_nodes WHERE msg IS NOT NULL"))
found = collections.Counter(json.loads(l)["message_id"] for l in open(sys.argv[3]))
bad = ["stored %d times: %s" % (stored[m], m) for m in set(open(sys.argv[2]).read().split()) if stored[m] != 1]
bad += ["found %d times by search: %s" % (found[m], m) for m in stored if found[m] != 1]
bad += ["found, not stored: %s" % m for m in found if m not in stored]
print("; ".join(bad[:5]))
sys.exit(1 if bad else 0)
PY
}
backlog() { q "SELECT count(*) FROM work WHERE kind = '$1'"; }

serve_start --no-outbound || { echo "Bail out! corridor serve did not start"; exit 1; }

test_case "the store's file system full: 452 4.3.1, nothing half-written, the daemon serves on"
faults_message "$TMP/m1.eml" m1@council.test 2
check_eq "$(deliver "$TMP/m1.eml" m1@council.test)" "250 2.0.0 ok: planning <m1@council.test> stored" "before"
wait_for 20 faults_sql 0 "SELECT count(*) FROM work" || fail "work not done before the fault"
faults_fill "$TMP/state"
check_eq "$(df -k --output=avail "$TMP/state" | tail -1 | tr -d ' ')" 0 "free space"
faults_message "$TMP/big.eml" big1@council.test 400
check_eq "$(deliver "$TMP/big.eml" big1@council.test)" "452 4.3.1 insufficient system storage" "while full"
grep -q "cannot store 1 message: cannot commit: database or disk is full (the MTA will retry)" \
    "$TMP/serve.log" || fail "no log line naming the full disk"
# more mail meanwhile: whatever is answered 250 must be there at the end
faults_messages "$TMP" small 5 3
r=$(deliver_all small 5)
case $r in "250:"[0-9]|"250:"[0-9]" 452:"[0-9]|"452:5") ;; *) fail "small messages: $r" ;; esac
echo "# report: while full, $(grep -c small "$acked") of 5 small messages still fitted (250), the rest 452"
kill -0 "$SERVE_PID" 2>/dev/null || fail "the daemon died"
check_eq "$(q 'PRAGMA integrity_check')" ok "integrity_check"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'big1@council.test'")" 0 "no message row"
check_eq "$(q "SELECT count(*) FROM thread_nodes WHERE message_id = 'big1@council.test'")" 0 "no thread node"
check_eq "$(q "SELECT count(*) FROM messages m LEFT JOIN originals o ON o.message = m.id WHERE o.message IS NULL")" 0 "every message has its original"

test_case "space freed: the MTA's retry is stored; the index and the archive catch up"
faults_unfill "$TMP/state"
check_eq "$(deliver "$TMP/big.eml" big1@council.test)" "250 2.0.0 ok: planning <big1@council.test> stored" "the retry"
wait_for 30 faults_sql 0 "SELECT count(*) FROM work" || fail "work left: $(q 'SELECT kind, count(*) FROM work GROUP BY 1')"
out=$(all_acked_stored) || fail "$out"
check_eq "$(cor status | sed -n 's/^index backlog: *//p')" "0 messages waiting to be indexed" "status"
faults_archive_same || fail "the archive differs from a full build"

test_case "the index's file system full: intake answers 250, the indexer retries and catches up"
serve_stop
faults_mount_tmpfs "$TMP/state/index" "$(( $(du -sk "$TMP/state/index" | cut -f1) + 64 ))k" ||
    fail "mount the index"
serve_start --no-outbound || fail "restart"
faults_messages "$TMP" idx 30 16
check_eq "$(deliver_all idx 30)" "250:30" "replies while the index is full"
wait_for 20 grep -q "indexing stopped: .*No space left on device.* (will retry)" "$TMP/serve.log" ||
    fail "no log line for the full index"
sleep 2
left=$(backlog index)
echo "# report: with the index full, $left of 30 messages wait to be indexed"
[ "$left" -gt 0 ] || fail "the index never filled up: nothing proven"
check_eq "$(cor status | sed -n 's/^index backlog: *\([0-9]*\).*/\1/p')" "$left" "corridor status shows the backlog"
check_eq "$(cor status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["index_backlog"])')" \
    "$left" "status --json"
faults_resize "$TMP/state/index" 16m || fail "grow the index's file system"
wait_for 40 faults_sql 0 "SELECT count(*) FROM work WHERE kind = 'index'" ||
    fail "the index did not catch up: $(backlog index) left"
out=$(all_acked_stored) || fail "$out"

test_case "the archive's file system full, a thread merged meanwhile: pages follow once there is room, as a full build makes them"
faults_message "$TMP/a1.eml" a1@council.test 1 "Parking on Mill Lane"
faults_message "$TMP/b1.eml" b1@council.test 1 "Re: Parking on Mill Lane" x1@council.test
check_eq "$(deliver "$TMP/a1.eml" a1@council.test)" "250 2.0.0 ok: planning <a1@council.test> stored" "a1"
check_eq "$(deliver "$TMP/b1.eml" b1@council.test)" "250 2.0.0 ok: planning <b1@council.test> stored" "b1"
wait_for 20 faults_sql 0 "SELECT count(*) FROM work" || fail "rendered before the fault"
check "$(q "SELECT thread FROM thread_nodes WHERE message_id = 'a1@council.test'")" != \
      "$(q "SELECT thread FROM thread_nodes WHERE message_id = 'b1@council.test'")"
serve_stop
faults_mount_tmpfs "$TMP/state/archive" 64m || fail "mount the archive"
serve_start --no-outbound || fail "restart"
faults_fill "$TMP/state/archive"
# c1 joins the two threads: x1 (b1's parent, not seen) turns out to be a reply to a1
faults_message "$TMP/c1.eml" c1@council.test 1 "Re: Parking on Mill Lane" "a1@council.test x1@council.test"
check_eq "$(deliver "$TMP/c1.eml" c1@council.test)" "250 2.0.0 ok: planning <c1@council.test> stored" "c1"
check_eq "$(q "SELECT count(DISTINCT thread) FROM thread_nodes WHERE message_id IN ('a1@council.test', 'b1@council.test', 'c1@council.test')")" 1 "one thread now"
wait_for 20 grep -q "archive: .*No space left on device (will retry)" "$TMP/serve.log" ||
    fail "no log line for the full archive"
sleep 1
check "$(backlog render)" -gt 0
faults_unfill "$TMP/state/archive"
wait_for 30 faults_sql 0 "SELECT count(*) FROM work WHERE kind = 'render'" ||
    fail "the archive did not catch up: $(backlog render) left"
check_eq "$(find "$TMP/state/archive" -name '*.tmp~' | wc -l)" 0 "temporary files left"
faults_archive_same || fail "the archive differs from a full build"

test_case "RLIMIT_FSIZE (prlimit): 452 4.3.1 and the daemon lives on; stored once the limit is lifted"
limit=$(ls -l "$TMP/state"/corridor.db* | awk '{ if ($5 > m) m = $5 } END { print m + 65536 }')
prlimit --pid "$SERVE_PID" --fsize="$limit:unlimited" || fail "prlimit"
faults_message "$TMP/huge.eml" huge1@council.test 1500
check_eq "$(deliver "$TMP/huge.eml" huge1@council.test)" "452 4.3.1 insufficient system storage" "over the limit"
sleep 0.5
kill -0 "$SERVE_PID" 2>/dev/null || fail "the daemon was killed (SIGXFSZ)"
grep -q "cannot store 1 message: cannot commit: cannot write '$TMP/state/corridor.db': File too large (the MTA will retry)" \
    "$TMP/serve.log" || fail "no log line naming the store and the limit: $(grep 'cannot store' "$TMP/serve.log" | tail -1)"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'huge1@council.test'")" 0 "nothing stored"
prlimit --pid "$SERVE_PID" --fsize=unlimited:unlimited || fail "prlimit unlimited"
check_eq "$(deliver "$TMP/huge.eml" huge1@council.test)" "250 2.0.0 ok: planning <huge1@council.test> stored" "the retry"
wait_for 30 faults_sql 0 "SELECT count(*) FROM work" || fail "work left"
out=$(all_acked_stored) || fail "$out"
check_eq "$(q 'PRAGMA integrity_check')" ok "integrity_check"

test_case "the daemon stops cleanly (exit 0)"
serve_stop
test_done
