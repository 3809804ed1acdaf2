#!/bin/sh
# T936 — the clock jumping (issue 9, fault injection; docs/faults.md).
# The digest scheduler runs on the daemon's digest clock, moved here with
# CORRIDOR_NOW_FILE: forwards across a slot (the slot's digest is made,
# once), back before it and forwards across it again (nothing twice), back
# by a day across a restart and forwards by days (every post is in exactly
# one digest: the members' digests cover the post sequence without a gap or
# an overlap).  The outbound worker's retry times are wall-clock times in
# the store; its pause for a failing relay is on the monotonic clock.  The
# whole daemon runs under tests/tools/fakeclock.c (LD_PRELOAD), which moves
# its wall clock: set back a day while copies wait for a retry, they go
# within seconds of the relay coming back, not a day later; set forwards a
# day, they go at once and none is given up.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
. "$SRC/tests/tools/lib-faults.sh"
SOCK=unix:$TMP/lmtp.sock
db=$TMP/state/corridor.db
SINK=$TMP/sink
MODE=$TMP/relay-mode
trap 'serve_kill; faults_cleanup; rm -rf "$TMP"' EXIT

cc -shared -fPIC -o "$TMP/fakeclock.so" "$SRC/tests/tools/fakeclock.c" -ldl ||
    { echo "Bail out! cannot build tests/tools/fakeclock.c"; exit 1; }
export FAKECLOCK_FILE=$TMP/offset
echo 0 >"$FAKECLOCK_FILE"
# corridor (the daemon and the commands), and nothing else, on the moved
# clock; an ASan build wants its runtime first, which the shim (it only
# wraps the time calls) does not need
cat >"$TMP/corridor-fakeclock" <<WRAP
#!/bin/sh
LD_PRELOAD="$TMP/fakeclock.so\${LD_PRELOAD:+:\$LD_PRELOAD}" \\
ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0" exec "$CORRIDOR" "\$@"
WRAP
chmod +x "$TMP/corridor-fakeclock"
CORRIDOR=$TMP/corridor-fakeclock
export CORRIDOR_NOW_FILE=$TMP/clock
echo 2026-11-23T06:00:00Z >"$CORRIDOR_NOW_FILE"   # Monday, GMT

RELAY_PORT=$(postfix_free_port)
faults_relay_start "$RELAY_PORT" "$SINK" "$MODE" || { echo "Bail out! the test relay did not start"; exit 1; }

cor init >/dev/null
cor group create planning >/dev/null
cor member add planning ann@council.test --mode digest >/dev/null
cor member add planning bob@council.test --mode digest >/dev/null
faults_group notices cat dan >/dev/null
faults_config "$RELAY_PORT" '[digest]' 'max_age = 60d'
serve_start --no-archive || { echo "Bail out! corridor serve did not start"; exit 1; }

post() { # GROUP ID
    faults_message "$TMP/$2.eml" "$2@council.test" 1 "Notice $2"
    sed -i "s/^To: .*/To: $1@lists.test/" "$TMP/$2.eml"
    r=$(faults_lmtp "$SOCK" "$1@lists.test" "$TMP/$2.eml")
    case $r in "250 2.0.0"*) ;; *) fail "post $2: $r" ;; esac
}
clock() { echo "$1" >"$CORRIDOR_NOW_FILE"; }
digests() { # ADDRESS : its planning digests, "period:state" in order
    q "SELECT period || ':' || state FROM digests WHERE address = '$1' AND scope = 'planning' ORDER BY id" | tr '\n' ' '
}
sent_digests() { # ADDRESS : digests the relay got for it
    grep -l "^X-Rcpt-Args: <$1>" "$SINK"/*.msg 2>/dev/null | xargs -r grep -l '^Auto-Submitted: auto-generated' | wc -l
}
# every post of planning is in exactly one of the member's digests: the
# ranges (from_seq, upto_seq] of its queued and empty digests follow one
# another without a gap or an overlap, up to the last post
covered_once() {
    python3 - "$db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT from_seq, upto_seq FROM digests WHERE address = ? AND scope = 'planning'"
                  " ORDER BY from_seq, upto_seq", (sys.argv[2],)).fetchall()
posts = [s for (s,) in db.execute("SELECT n.seq FROM thread_nodes n JOIN groups g ON g.id = n.group_id"
                                  " WHERE g.name = 'planning' AND n.msg IS NOT NULL")]
count = {s: 0 for s in posts}
for a, b in rows:
    for s in posts:
        if a < s <= b:
            count[s] += 1
bad = {s: c for s, c in count.items() if c != 1}
print("ok" if not bad else "posts not in exactly one digest (seq: digests): %s; ranges %s" % (bad, rows))
PY
}
wait_stored() { wait_for 10 faults_sql "$1" "SELECT count(*) FROM thread_nodes t JOIN groups g ON g.id = t.group_id WHERE g.name = 'planning' AND t.msg IS NOT NULL"; }

test_case "forwards across the slot (06:00 -> 07:00:30): the slot's digest, once"
wait_for 10 faults_sql 2 "SELECT count(*) FROM digests WHERE period = '2026-11-22'" ||
    fail "no run at start: $(q 'SELECT address, period, state FROM digests')"
post planning p1; post planning p2
wait_stored 2 || fail "posts not stored"
clock 2026-11-23T07:00:30Z
wait_for 10 faults_sql 2 "SELECT count(*) FROM digests WHERE period = '2026-11-23' AND state = 'queued'" ||
    fail "no digests at the slot: $(q 'SELECT address, period, state FROM digests')"
wait_for 20 faults_outbox_empty || fail "digests not sent"
sleep 0.3
check_eq "$(sent_digests ann@council.test)" 1 "ann's digests at the relay"
check_eq "$(digests ann@council.test)" "2026-11-22:empty 2026-11-23:queued " "ann's records"

test_case "back before the slot (07:00:30 -> 06:30) and across it again: nothing twice"
clock 2026-11-23T06:30:00Z
sleep 1.5
post planning p3
wait_stored 3 || fail "p3 not stored"
clock 2026-11-23T07:00:40Z
sleep 2
clock 2026-11-23T12:00:00Z
sleep 1.5
check_eq "$(digests ann@council.test)" "2026-11-22:empty 2026-11-23:queued " "ann's records"
check_eq "$(sent_digests ann@council.test)" 1 "ann's digests at the relay"

test_case "back a day (to Sunday 07:30) across a restart, then forwards to Tuesday: p3 in one digest only"
serve_stop
clock 2026-11-22T07:30:00Z
serve_start --no-archive || fail "restart"
sleep 2
clock 2026-11-23T07:00:30Z
sleep 1.5
clock 2026-11-24T07:00:30Z
wait_for 10 faults_sql 2 "SELECT count(*) FROM digests WHERE period = '2026-11-24'" ||
    fail "no run at Tuesday's slot: $(digests ann@council.test)"
wait_for 20 faults_outbox_empty || fail "digests not sent"
sleep 0.3
echo "# report: ann's digests after the day back and the restart: $(digests ann@council.test)"
check_eq "$(covered_once ann@council.test)" ok "ann"
check_eq "$(covered_once bob@council.test)" ok "bob"
check_eq "$(sent_digests ann@council.test)" \
    "$(q "SELECT count(*) FROM digests WHERE address = 'ann@council.test' AND state = 'queued'")" "sent = made"

test_case "forwards three days (Tuesday -> Friday 07:00:30): one digest with everything new"
post planning p4; post planning p5
wait_stored 5 || fail "posts not stored"
clock 2026-11-27T07:00:30Z
wait_for 10 faults_sql 1 "SELECT count(*) FROM digests WHERE address = 'ann@council.test' AND period = '2026-11-27' AND state = 'queued'" ||
    fail "no digest on Friday: $(digests ann@council.test)"
check_eq "$(q "SELECT posts FROM digests WHERE address = 'ann@council.test' AND period = '2026-11-27'")" 2 "p4 and p5"
check_eq "$(covered_once ann@council.test)" ok "ann"
check_eq "$(covered_once bob@council.test)" ok "bob"
wait_for 20 faults_outbox_empty || fail "digests not sent"
sleep 0.3
check_eq "$(sent_digests bob@council.test)" \
    "$(q "SELECT count(*) FROM digests WHERE address = 'bob@council.test' AND state = 'queued'")" "bob: sent = made"

test_case "the wall clock set back a day while copies wait for a retry: they go within seconds of the relay coming back"
echo greet-421 >"$MODE"
post notices n1
wait_for 10 faults_sql_ge 2 "SELECT min(attempts) FROM outbox_rcpt" || fail "not retried"
sleep 3           # a few more failures: the back-off grows
echo -86400 >"$FAKECLOCK_FILE"
echo ok >"$MODE"
t0=$(date +%s)
wait_for 25 faults_outbox_empty || fail "copies stuck after the clock went back: $(q 'SELECT address, attempts, next_try FROM outbox_rcpt')"
echo "# report: clock set back a day: the waiting copies went $(($(date +%s) - t0)) s after the relay came back"
grep -q "had a retry time beyond any back-off (the clock went back?)" "$TMP/serve.log" ||
    fail "not logged"
sleep 0.3
check_eq "$(grep -l '^Message-ID: <n1@council.test>' "$SINK"/*.msg | wc -l)" 2 "one copy each"

test_case "the wall clock set forwards a day: waiting copies go at once, none given up"
echo greet-421 >"$MODE"
post notices n2
wait_for 10 faults_sql_ge 2 "SELECT min(attempts) FROM outbox_rcpt" || fail "not retried"
echo 0 >"$FAKECLOCK_FILE"        # from a day back to now: a day forwards
echo ok >"$MODE"
wait_for 20 faults_outbox_empty || fail "copies not sent"
sleep 0.3
check_eq "$(grep -l '^Message-ID: <n2@council.test>' "$SINK"/*.msg | wc -l)" 2 "one copy each"
check_eq "$(q 'SELECT count(*) FROM bounce_events')" 0 "none given up"
serve_stop
test_done
