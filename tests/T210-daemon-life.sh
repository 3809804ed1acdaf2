#!/bin/sh
# T210 — the daemon's life: SIGTERM finishes what is in flight and exits 0;
# SIGHUP reloads the configuration; systemd socket activation and
# Type=notify with a watchdog; a store that fails or is locked answers 451
# (never 250) for the groups it affects; bad clients never stop a good one.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
CL=$SRC/tests/tools/lmtp_clients.py
SOCK=unix:$TMP/lmtp.sock
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }

cor init >/dev/null
cor group create planning >/dev/null
cor group create housing >/dev/null
conf() {
    cat >"$TMP/state/corridor.conf" <<CONF
[store]
busy_timeout = 1s
[lmtp]
listen = $SOCK
domains = lists.test
max_message_size = 20k
max_recipients = $1
command_timeout = 3s
data_timeout = 3s
[daemon]
shutdown_timeout = 3s
CONF
}
conf 2

test_case "SIGTERM: an idle session gets 421 4.3.2, a message half-sent is finished, stored and answered; exit 0"
serve_start || fail "start"
out=$(python3 "$CL" sigterm-mid-data "$SOCK" "$SERVE_PID" 2>&1)
wait "$SERVE_PID"; rc=$?; SERVE_PID=
check_eq "$out" "idle: 421 4.3.2 service shutting down, try again later
busy: 250 2.0.0 ok: planning <sigterm-1@council.test> stored
busy: 421 4.3.2 service shutting down, try again later
elapsed_ok: True" "dialogue"
check_eq "$rc" 0 "exit status"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'sigterm-1@council.test'")" 1 "stored"
check "! -e $TMP/lmtp.sock"

test_case "SIGHUP reloads the configuration; a broken file is refused and the old one kept"
serve_start || fail "start"
out=$(python3 "$CL" send "$SOCK" planning@lists.test,housing@lists.test,planning-owner@lists.test hup-1@council.test)
case $out in "452 4.5.3"*) ;; *) fail "before reload: $out" ;; esac
conf 5
kill -HUP "$SERVE_PID"
wait_for 5 grep -q "configuration reloaded" "$TMP/serve.log" || fail "no reload logged"
out=$(python3 "$CL" send "$SOCK" planning@lists.test,housing@lists.test,planning-owner@lists.test hup-2@council.test)
check_eq "$(echo "$out" | grep -c '^250 2.0.0')" 3 "after reload: $out"
printf '[lmtp]\nmax_recipients = many\n' >"$TMP/state/corridor.conf"
kill -HUP "$SERVE_PID"
wait_for 5 grep -q "configuration not reloaded, keeping the old one: .*corridor.conf" "$TMP/serve.log" || fail "bad config not reported"
out=$(python3 "$CL" send "$SOCK" planning@lists.test hup-3@council.test)
case $out in "250 2.0.0"*) ;; *) fail "still serving after a bad reload: $out" ;; esac
conf 5
serve_stop
check_eq "$SERVE_RC" 0 "exit status"

test_case "a group whose store writes fail gets 451 4.3.0; the other group in the same transaction gets 250"
# a real SQLite failure for one group only: a trigger that aborts its inserts
hid=$(q "SELECT id FROM groups WHERE name = 'housing'")
q "CREATE TRIGGER fail_housing BEFORE INSERT ON thread_nodes WHEN NEW.group_id = $hid
   BEGIN SELECT RAISE(ABORT, 'housing is failing'); END;"
serve_start || fail "start"
out=$(python3 "$CL" send "$SOCK" planning@lists.test,housing@lists.test split-1@council.test)
check_eq "$(echo "$out" | cut -c1-9 | tr '\n' ' ')" "250 2.0.0 451 4.3.0 " "replies: $out"
check_eq "$(q "SELECT count(*) FROM thread_nodes WHERE message_id = 'split-1@council.test' AND group_id = $hid")" 0 "nothing half-stored for housing"
q "DROP TRIGGER fail_housing"
out=$(python3 "$CL" send "$SOCK" planning@lists.test,housing@lists.test split-1@council.test)
check_eq "$(echo "$out" | tr '\n' '|')" "250 2.0.0 ok, already stored: planning <split-1@council.test>|250 2.0.0 ok: housing <split-1@council.test> stored|" "the retry"

test_case "a failure that makes SQLite roll back the whole transaction: every recipient 451, nothing stored"
q "CREATE TRIGGER rollback_housing BEFORE INSERT ON thread_nodes WHEN NEW.group_id = $hid
   BEGIN SELECT RAISE(ROLLBACK, 'housing rolls everything back'); END;"
before=$(q "SELECT count(*) FROM control_mail")
out=$(python3 "$CL" send "$SOCK" planning@lists.test,housing@lists.test,planning-owner@lists.test split-2@council.test)
check_eq "$(echo "$out" | cut -c1-9 | tr '\n' ' ')" "451 4.3.0 451 4.3.0 451 4.3.0 " "replies: $out"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'split-2@council.test'")" 0 "no message"
check_eq "$(q "SELECT count(*) FROM control_mail")" "$before" "no control mail"
q "DROP TRIGGER rollback_housing"

test_case "a store locked by another process: 451 4.3.0 store busy, then fine once released"
hold_store_lock "$db" 3
out=$(python3 "$CL" send "$SOCK" planning@lists.test locked-1@council.test)
case $out in "451 4.3.0 store busy"*) ;; *) fail "while locked: $out" ;; esac
wait $LOCKER
out=$(python3 "$CL" send "$SOCK" planning@lists.test locked-1@council.test)
case $out in "250 2.0.0 ok: planning <locked-1@council.test> stored") ;; *) fail "after: $out" ;; esac
grep -q "cannot store 1 message: .*(the MTA will retry)" "$TMP/serve.log" || fail "store failure not logged"

test_case "endless line, slow client, garbage, oversize and 1,000 pipelined commands at once: a good client is served"
out=$(python3 "$CL" bad-neighbours "$SOCK" 2>&1) || fail "$out"
echo "# $out" | head -3
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id LIKE 'good-%'")" 20 "good messages stored"
serve_stop
check_eq "$SERVE_RC" 0 "exit status"

test_case "systemd: socket activation (fd named lmtp), READY/STATUS, WATCHDOG, STOPPING, exit 0"
out=$(python3 "$SRC/tests/tools/sd_activate.py" "$TMP/act.sock" "$CORRIDOR" "$TMP/state" 2>&1)
check_eq "$out" "ready: True
status: True
delivery: 250 2.0.0 ok: planning <activated-1@council.test> stored
watchdog: True
stopping: True
exit: 0" "notifications"
grep -q "listening for LMTP on systemd:lmtp" "$TMP/state/activate.log" || fail "did not use the passed socket"

test_case "contrib/corridor.service: systemd-analyze security exposure <= 2.0"
exp=$(cd "$TMP" && systemd-analyze security --offline=true "$SRC/contrib/corridor.service" 2>/dev/null |
      sed -n 's/.*Overall exposure level for corridor.service: \([0-9.]*\).*/\1/p')
echo "# exposure $exp"
check "$(echo "$exp <= 2.0" | bc 2>/dev/null || python3 -c "print(int($exp <= 2.0))")" = 1
test_done
