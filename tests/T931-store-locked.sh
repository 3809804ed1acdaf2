#!/bin/sh
# T931 — the store locked by another process for a long time (issue 9,
# fault injection; docs/faults.md).  T210 covers a short lock (451 4.3.0,
# then 250); here the lock lasts 20 s, many times [store] busy_timeout:
# every delivery meanwhile is answered 451 4.3.0 within the busy timeout
# (the session is not held for the lock's length), the daemon answers new
# sessions at once, a command says the store is busy; the outbound worker,
# which sent copies it could not then record as sent, records them once the
# lock is gone instead of sending them again (each member gets one copy);
# the indexer and the renderer catch up.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
. "$SRC/tests/tools/lib-faults.sh"
SOCK=unix:$TMP/lmtp.sock
db=$TMP/state/corridor.db
MODE=$TMP/relay-mode
trap 'serve_kill; faults_cleanup; [ -n "${LOCKER:-}" ] && kill "$LOCKER" 2>/dev/null; rm -rf "$TMP"' EXIT

RELAY_PORT=$(postfix_free_port)
faults_relay_start "$RELAY_PORT" "$TMP/sink" "$MODE" || { echo "Bail out! the test relay did not start"; exit 1; }

cor init >/dev/null
ONE_EACH=$(faults_group planning bob cat dan eve)
faults_config "$RELAY_PORT" '[store]' 'busy_timeout = 1s' '[archive]' 'debounce_ms = 50'
serve_start --no-digests || { echo "Bail out! corridor serve did not start"; exit 1; }

test_case "a post whose copies wait for the relay (421 at its greeting)"
echo greet-421 >"$MODE"
faults_message "$TMP/p0.eml" p0@council.test 2
check_eq "$(faults_lmtp "$SOCK" planning@lists.test "$TMP/p0.eml")" "250 2.0.0 ok: planning <p0@council.test> stored, 4 copies queued" "p0"
wait_for 10 faults_sql_ge 1 "SELECT count(*) FROM outbox_rcpt WHERE attempts > 0" || fail "no attempt refused"

test_case "locked for 20 s: each delivery 451 4.3.0 within the busy timeout; new sessions answered at once"
hold_store_lock "$db" 20
[ -e "$TMP/locked" ] || fail "the locker did not get the lock"
locked_at=$(date +%s)
echo ok >"$MODE"        # the relay takes mail again: copies go, their results cannot be written
i=0
while [ $i -lt 3 ]; do
    i=$((i + 1))
    faults_message "$TMP/l$i.eml" "locked$i@council.test" 2
    t0=$(date +%s%N)
    r=$(faults_lmtp "$SOCK" planning@lists.test "$TMP/l$i.eml")
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    check_eq "$r" "451 4.3.0 store busy, try again later" "delivery $i"
    [ "$ms" -lt 3000 ] || fail "delivery $i took $ms ms (busy timeout 1 s)"
done
out=$(python3 - "$TMP/lmtp.sock" <<'PY'
import socket, sys, time
t = time.time()
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
f = s.makefile("rb")
greet = f.readline().decode().strip()
s.sendall(b"LHLO t.test\r\n")
while True:
    l = f.readline().decode()
    if l[3:4] != "-":
        break
print(greet[:3], l[:3], "fast" if time.time() - t < 0.5 else "slow %.2f s" % (time.time() - t))
PY
)
check_eq "$out" "220 250 fast" "a new session while locked"
out=$(cor member add planning fay@council.test 2>&1); rc=$?
check_eq "$rc" 1 "a command while locked exits 1"
case $out in *"database is locked"*|*"busy"*) ;; *) fail "the command's message: $out" ;; esac
echo "# command while locked: $out"
[ $(($(date +%s) - locked_at)) -lt 15 ] || fail "the checks took longer than the lock should outlast them"
sleep 1
kill -0 "$LOCKER" 2>/dev/null || fail "the lock ended early: nothing proven"

test_case "lock released: the MTA's retries are stored"
wait "$LOCKER"; LOCKER=
i=0
while [ $i -lt 3 ]; do
    i=$((i + 1))
    check_eq "$(faults_lmtp "$SOCK" planning@lists.test "$TMP/l$i.eml")" \
        "250 2.0.0 ok: planning <locked$i@council.test> stored, 4 copies queued" "retry $i"
done
grep -q "cannot store 1 message: .*database is locked (the MTA will retry)" "$TMP/serve.log" ||
    fail "store failure not logged"

test_case "copies the relay took while their results could not be written: one each, not sent again"
wait_for 40 faults_outbox_empty || fail "outbox not empty: $(cor outbox list | tail -3)"
sleep 0.5
grep -q "outbound: cannot record [0-9]* results: .*locked.* (trying again)" "$TMP/serve.log" ||
    fail "the worker never had to wait to record: nothing proven"
check_eq "$(faults_copies p0@council.test)" "$ONE_EACH" "p0"
for i in 1 2 3; do check_eq "$(faults_copies "locked$i@council.test")" "$ONE_EACH" "locked$i"; done
check_eq "$(q 'SELECT count(*) FROM bounce_events')" 0 "no bounces counted"

test_case "the index and the archive caught up; the store is sound"
wait_for 30 faults_sql 0 "SELECT count(*) FROM work" || fail "work left: $(q 'SELECT kind, count(*) FROM work GROUP BY 1')"
check_eq "$(cor search --group planning '*' | wc -l)" 4 "searchable"
check_eq "$(q 'PRAGMA integrity_check')" ok "integrity_check"
check_eq "$(q "SELECT count(*) FROM meta WHERE key = 'lock'")" 0 "the locker's row rolled back"
faults_archive_same || fail "the archive differs from a full build"
serve_stop
test_done
