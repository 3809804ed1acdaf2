#!/bin/sh
# T230 — a real Postfix, configured only from `corridor postfix-maps`,
# delivers to corridor over LMTP (Unix socket, then TCP): mail lands in the
# right groups and is searchable; a message to two groups where one
# temp-fails is sent for one and deferred for the other (Postfix's log says
# so) and delivered once the fault clears; an unknown group is refused by
# Postfix at RCPT; a group created later is reachable after the tables are
# rewritten.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
PF=$TMP/pf
MAPS=$TMP/maps
SUBMIT="python3 $SRC/tests/tools/smtp_submit.py"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
trap 'serve_kill; postfix_stop "$PF"; rm -rf "$TMP"' EXIT

SMTP_PORT=$(postfix_free_port)
LMTP_PORT=$(postfix_free_port)
postfix_setup "$PF" "$SMTP_PORT" "$MAPS" >/dev/null || { echo "Bail out! postfix_setup"; exit 1; }

cor init >/dev/null
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
listen = unix:$PF/queue/private/corridor-lmtp, 127.0.0.1:$LMTP_PORT
socket_mode = 0666
domains = lists.test
[postfix]
maps_dir = $MAPS
transport = lmtp:unix:private/corridor-lmtp
CONF

test_case "corridor postfix-maps: the three tables, every group and its -request/-owner/-bounces/-join/-leave"
cor group create planning >/dev/null
cor group create housing >/dev/null
check_eq "$(grep -v '^#' "$MAPS/transport" | sort | tr '\n' '|')" \
"housing-bounces@lists.test lmtp:unix:private/corridor-lmtp|housing-join@lists.test lmtp:unix:private/corridor-lmtp|housing-leave@lists.test lmtp:unix:private/corridor-lmtp|housing-owner@lists.test lmtp:unix:private/corridor-lmtp|housing-request@lists.test lmtp:unix:private/corridor-lmtp|housing@lists.test lmtp:unix:private/corridor-lmtp|planning-bounces@lists.test lmtp:unix:private/corridor-lmtp|planning-join@lists.test lmtp:unix:private/corridor-lmtp|planning-leave@lists.test lmtp:unix:private/corridor-lmtp|planning-owner@lists.test lmtp:unix:private/corridor-lmtp|planning-request@lists.test lmtp:unix:private/corridor-lmtp|planning@lists.test lmtp:unix:private/corridor-lmtp|" "transport"
check_eq "$(grep -v '^#' "$MAPS/relay_recipient_maps" | grep -c ' OK$')" 12 "recipients"
check_eq "$(grep -v '^#' "$MAPS/relay_domains")" "lists.test OK" "domains"
out=$(cor postfix-maps "$TMP/other" 2>&1) || fail "explicit dir: $out"
check_eq "$(cat "$TMP/other/transport")" "$(cat "$MAPS/transport")" "same as maps_dir"

serve_start || fail "corridor did not start"
postfix_start "$PF" || fail "postfix did not start"

printf 'From: Clerk <clerk@council.test>\nTo: planning@lists.test, housing@lists.test\nSubject: Through Postfix\nMessage-ID: <pf-1@council.test>\n\nDelivered by a real Postfix.\n' >"$TMP/m1.eml"
printf 'From: Clerk <clerk@council.test>\nTo: planning@lists.test, housing@lists.test\nSubject: Half deferred\nMessage-ID: <pf-2@council.test>\n\nOne group is failing.\n' >"$TMP/m2.eml"
printf 'From: Clerk <clerk@council.test>\nTo: nosuch@lists.test\nSubject: Nobody\nMessage-ID: <pf-3@council.test>\n\nNo such group.\n' >"$TMP/m3.eml"
printf 'From: Clerk <clerk@council.test>\nTo: planning@lists.test\nSubject: Over TCP\nMessage-ID: <pf-4@council.test>\n\nBy LMTP over TCP.\n' >"$TMP/m4.eml"
printf 'From: Clerk <clerk@council.test>\nTo: parks@lists.test\nSubject: New group\nMessage-ID: <pf-5@council.test>\n\nA group created later.\n' >"$TMP/m5.eml"

test_case "SMTP into Postfix, LMTP over the Unix socket: stored in both groups, searchable"
out=$($SUBMIT --port "$SMTP_PORT" --from clerk@council.test --to planning@lists.test --to housing@lists.test "$TMP/m1.eml" 2>&1)
case $out in *"OK pf-1@council.test"*) ;; *) fail "submit: $out" ;; esac
postfix_wait_empty "$PF" 30 || fail "queue did not drain"
check_eq "$(postfix_log_status "$PF" | awk '$2 == "pf-1@council.test" { print $3, $4 }' | sort | tr '\n' '|')" \
    "housing@lists.test sent|planning@lists.test sent|" "postfix log"
check_eq "$(postfix_log_reply "$PF" planning@lists.test | head -1)" \
    "250 2.0.0 ok: planning <pf-1@council.test> stored" "reply logged by postfix"
check_eq "$(q "SELECT group_concat(name) FROM (SELECT g.name FROM thread_nodes n JOIN groups g ON g.id = n.group_id JOIN messages m ON m.id = n.msg WHERE m.message_id = 'pf-1@council.test' ORDER BY g.name)")" "housing,planning" "groups"
wait_for 20 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM work\") = 0 ]" || fail "index backlog"
check_eq "$(cor search --group housing 'subject:postfix' | wc -l)" 1 "searchable"

test_case "two groups, one temp-fails: Postfix sends to one and defers the other, then delivers it"
hid=$(q "SELECT id FROM groups WHERE name = 'housing'")
q "CREATE TRIGGER fail_housing BEFORE INSERT ON thread_nodes WHEN NEW.group_id = $hid
   BEGIN SELECT RAISE(ABORT, 'housing is failing'); END;"
$SUBMIT --port "$SMTP_PORT" --from clerk@council.test --to planning@lists.test --to housing@lists.test "$TMP/m2.eml" >/dev/null 2>&1
pf2() { postfix_log_status "$PF" | awk '$2 == "pf-2@council.test" { print $3, $4 }' | sort -u | tr '\n' '|'; }
# (postlogd writes the log lines a moment after the events)
i=0
while [ "$(pf2)" != "housing@lists.test deferred|planning@lists.test sent|" ] && [ $i -lt 300 ]; do
    sleep 0.1; i=$((i + 1))
done
check_eq "$(pf2)" "housing@lists.test deferred|planning@lists.test sent|" "postfix log"
case $(postfix_log_reply "$PF" housing@lists.test | tail -1) in
    *"451 4.3.0"*) ;; *) fail "deferral reply: $(postfix_log_reply "$PF" housing@lists.test | tail -1)" ;;
esac
check_eq "$(postfix_queue_count "$PF")" 1 "still queued for housing"
q "DROP TRIGGER fail_housing"
postfix_flush "$PF"
postfix_wait_empty "$PF" 30 || fail "deferred message not delivered"
check_eq "$(postfix_log_status "$PF" | awk '$2 == "pf-2@council.test" && $3 == "housing@lists.test" { s = $4 } END { print s }')" sent "housing finally"
check_eq "$(q "SELECT count(*) FROM thread_nodes n JOIN messages m ON m.id = n.msg WHERE m.message_id = 'pf-2@council.test'")" 2 "in both groups, once each"

test_case "an unknown group is refused by Postfix at RCPT (550 5.1.1), nothing reaches corridor"
out=$($SUBMIT --port "$SMTP_PORT" --from clerk@council.test --to nosuch@lists.test "$TMP/m3.eml" 2>&1)
case $out in *"REFUSED pf-3@council.test 550"*"5.1.1"*) ;; *) fail "submit: $out" ;; esac
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'pf-3@council.test'")" 0 "not stored"

test_case "LMTP over TCP: the same, with the transport table pointing at 127.0.0.1"
cor postfix-maps --transport "lmtp:inet:127.0.0.1:$LMTP_PORT" "$MAPS" >/dev/null
postfix_reload "$PF"
sleep 1
$SUBMIT --port "$SMTP_PORT" --from clerk@council.test --to planning@lists.test "$TMP/m4.eml" >/dev/null 2>&1
postfix_wait_empty "$PF" 30 || fail "queue did not drain"
grep -q "to=<planning@lists.test>, relay=127.0.0.1\[127.0.0.1\]:$LMTP_PORT.*status=sent" "$PF/maillog" || fail "not sent over TCP"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'pf-4@council.test'")" 1 "stored"

test_case "a group created later: the tables are rewritten at once; after a reload Postfix routes it"
cor group create parks >/dev/null
check_eq "$(grep -c '^parks@lists.test ' "$MAPS/transport")" 1 "transport has parks"
postfix_reload "$PF"
sleep 1
out=$($SUBMIT --port "$SMTP_PORT" --from clerk@council.test --to parks@lists.test "$TMP/m5.eml" 2>&1)
case $out in *"OK pf-5@council.test"*) ;; *) fail "submit: $out" ;; esac
postfix_wait_empty "$PF" 30 || fail "queue did not drain"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'pf-5@council.test'")" 1 "stored"


test_case "the daemon stops cleanly on SIGTERM (exit 0)"
serve_stop
test_done
