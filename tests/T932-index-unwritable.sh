#!/bin/sh
# T932 — the search index's directory unwritable (issue 9, fault injection;
# docs/faults.md): a read-only bind mount, since root ignores file modes.
# Intake still stores and answers 250 (the index is derived from the store,
# DESIGN.md invariant 1); the indexer says why it cannot write and retries;
# `corridor status` shows the backlog; search still answers from the index
# as it was; once the directory is writable again the indexer catches up by
# itself, every message found exactly once.  The indexer's error, repeated
# at each retry, is logged once per window with a "(repeated N times ...)"
# summary (core/log.h; the window is 4 s here instead of 60).
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/tools/lib-faults.sh"
faults_need_root
trap 'serve_kill; faults_cleanup; rm -rf "$TMP"' EXIT
SOCK=unix:$TMP/lmtp.sock
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
# the window for repeated log lines, in seconds (core/log.h)
WINDOW=4
export CORRIDOR_LOG_REPEAT_WINDOW=$WINDOW

cor init >/dev/null
cor group create planning >/dev/null
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
listen = $SOCK
domains = lists.test
[filters]
staff_domains = council.test
CONF
serve_start --no-outbound --no-archive --no-digests || { echo "Bail out! corridor serve did not start"; exit 1; }
deliver() { # N : message idxN
    faults_message "$TMP/m$1.eml" "m$1@council.test" 4 "Road works notice $1"
    faults_lmtp "$SOCK" planning@lists.test "$TMP/m$1.eml"
}

test_case "before: delivered and indexed"
check_eq "$(deliver 1)" "250 2.0.0 ok: planning <m1@council.test> stored" "m1"
wait_for 10 faults_sql 0 "SELECT count(*) FROM work WHERE kind = 'index'" || fail "not indexed"
check_eq "$(cor search --group planning '*' | wc -l)" 1 "searchable"

test_case "index read-only: intake answers 250 and stores; the indexer says why and retries"
t0=$(date +%s.%N)
faults_ro_bind "$TMP/state/index" || fail "read-only bind mount"
touch "$TMP/state/index/probe" 2>/dev/null && fail "the index is still writable"
i=1
while [ $i -lt 8 ]; do
    i=$((i + 1))
    check_eq "$(deliver $i)" "250 2.0.0 ok: planning <m$i@council.test> stored" "m$i"
done
check_eq "$(q "SELECT count(*) FROM thread_nodes WHERE msg IS NOT NULL")" 8 "stored"
wait_for 10 grep -q "cannot open index '.*index' for writing: .*Read-only file system" "$TMP/serve.log" ||
    fail "no log line naming the read-only index: $(grep index "$TMP/serve.log" | tail -2)"
sleep 6    # several of the indexer's rounds (every 1-3 s), over more than a window
check_eq "$(q "SELECT count(*) FROM work WHERE kind = 'index'")" 7 "backlog kept"
kill -0 "$SERVE_PID" 2>/dev/null || fail "the daemon died"

test_case "corridor status shows the backlog; search answers from the index as it was"
check_eq "$(cor status | grep '^index backlog')" "index backlog:  7 messages waiting to be indexed" "status"
check_eq "$(cor status --json | python3 -c 'import json,sys; d = json.load(sys.stdin); print(d["index_backlog"], d["messages"])')" \
    "7 8" "status --json"
check_eq "$(cor search --group planning '*' | wc -l)" 1 "search reads the old index"

test_case "writable again: the indexer catches up by itself, each message found once"
faults_unbind "$TMP/state/index" || fail "unmount"
t1=$(date +%s.%N)
wait_for 20 faults_sql 0 "SELECT count(*) FROM work WHERE kind = 'index'" ||
    fail "the backlog did not drain: $(q "SELECT count(*) FROM work")"
check_eq "$(cor search --group planning '*' | wc -l)" 8 "searchable"
for i in 1 2 3 4 5 6 7 8; do
    check_eq "$(cor search --group planning "id:m$i@council.test" | wc -l)" 1 "m$i found once"
done
check_eq "$(cor search --group planning 'subject:notice' | wc -l)" 8 "by subject"
check_eq "$(cor status | grep '^index backlog')" "index backlog:  0 messages waiting to be indexed" "status"

test_case "the indexer's error was logged once per window, with how often it was repeated, not once per retry"
# summaries are written while the daemon runs: with the next line, or by its
# tick once the window has passed; the rest when it stops
wait_for $((WINDOW + 3)) grep -q "cannot open index .* (repeated [0-9]* times\{0,1\} in the last [0-9]* s)$" \
    "$TMP/serve.log" || fail "no summary line: $(grep 'cannot open index' "$TMP/serve.log" | tail -2)"
serve_stop
grep "cannot open index '.*index' for writing: " "$TMP/serve.log" >"$TMP/index-lines"
lines=$(grep -vc "(repeated " "$TMP/index-lines")
repeats=$(sed -n 's/.* (repeated \([0-9]*\) times\{0,1\} in the last \([0-9]*\) s)$/\1/p' "$TMP/index-lines" |
          awk '{ n += $1 } END { print n + 0 }')
seconds=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')
echo "# report: the read-only index for $seconds s: $lines lines and $repeats repeats held back (window $WINDOW s)"
# (a round that failed just as the index came back counts too: 1 s more)
most=$(echo "$t0 $t1 $WINDOW" | awk '{ print int(($2 - $1 + 1) / $3) + 1 }')
[ "$lines" -ge 1 ] && [ "$lines" -le "$most" ] || fail "$lines lines in $seconds s, more than one per $WINDOW s window"
[ "$repeats" -ge 1 ] || fail "no repeat held back: nothing proven"
test_done
