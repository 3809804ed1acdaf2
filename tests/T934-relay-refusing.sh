#!/bin/sh
# T934 — the relay refusing (issue 9, fault injection; docs/faults.md).
# tests/tools/smtp_fault.py plays the relay and is switched while the daemon
# runs.  A refusal that is about the relay, not about a member — 421 or 554
# at the greeting, 4xx/5xx to MAIL FROM — pauses the whole queue (a few
# connections per back-off, not one per copy), drops nothing and counts no
# bounce; a 554 is logged as an error for the administrator.  A 4xx to RCPT
# TO or after the final dot is retried for that copy with a growing
# back-off.  A 550 to RCPT TO is the member's bounce: counted once, not
# retried.  A connection reset instead of the answer to the final dot
# retries that copy without pausing the relay.  Whenever the relay takes mail again every copy arrives once.
# (T600 covers a relay that is down; T630 bounces in detail.)
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
. "$SRC/tests/tools/lib-faults.sh"
SOCK=unix:$TMP/lmtp.sock
SINK=$TMP/sink
MODE=$TMP/relay-mode
trap 'serve_kill; faults_cleanup; rm -rf "$TMP"' EXIT

RELAY_PORT=$(postfix_free_port)
faults_relay_start "$RELAY_PORT" "$SINK" "$MODE" || { echo "Bail out! the test relay did not start"; exit 1; }

cor init >/dev/null
MEMBERS=$(faults_group planning m01 m02 m03 m04 m05 m06 m07 m08 m09 m10 m11 m12)
faults_config "$RELAY_PORT"
serve_start --no-archive --no-digests || { echo "Bail out! corridor serve did not start"; exit 1; }

post() { # N : posts pN@council.test, prints its Message-ID
    n=$1
    faults_message "$TMP/p$n.eml" "p$n@council.test" 2
    r=$(faults_lmtp "$SOCK" planning@lists.test "$TMP/p$n.eml")
    case $r in "250 2.0.0 ok: planning <p$n@council.test> stored, 12 copies queued") ;; *) fail "post: $r" ;; esac
    echo "p$n@council.test"
}
# relay log lines of EVENT (connect, RCPT, dot...) since unix time T [for ADDRESS]
events_since() { awk -v t="$1" -v e="$2" -v a="${3:-}" '$1 >= t && $3 == e && (a == "" || $4 == "<" a ">")' "$SINK.log" | wc -l; }
delivered_once() { # MESSAGE-ID : after the relay is back
    echo ok >"$MODE"
    wait_for 40 faults_outbox_empty || fail "not all sent: $(faults_queued) left"
    sleep 0.3
    check_eq "$(faults_copies "$1")" "$MEMBERS" "each member once"
}

test_case "421 at the greeting: the queue pauses (a few connections, not one per copy), nothing dropped"
echo greet-421 >"$MODE"
t0=$(date +%s.%N)
m=$(post 1)
sleep 2.5
c=$(events_since "$t0" connect)
echo "# report: 421 at the greeting: $c connections in 2.5 s for 12 copies (4 connections at once)"
[ "$c" -le 8 ] || fail "$c connections in 2.5 s: the relay is hammered"
check_eq "$(faults_queued)" 12 "all still queued"
case $(cor outbox list) in *"last error: 421"*) ;; *) fail "outbox list: $(cor outbox list | head -3)" ;; esac
grep -q "outbound: relay .* cannot take mail now (421: " "$TMP/serve.log" || fail "not logged"
check_eq "$(q 'SELECT count(*) FROM bounce_events')" 0 "no bounce"
delivered_once "$m"

test_case "554 at the greeting (the relay refuses us): nothing dropped, no bounce, an error for the administrator"
echo greet-554 >"$MODE"
t0=$(date +%s.%N)
m=$(post 2)
wait_for 10 faults_sql_ge 1 "SELECT count(*) FROM outbox_rcpt WHERE attempts > 0" || fail "no attempt"
sleep 2
check_eq "$(faults_queued)" 12 "all still queued"
check_eq "$(q 'SELECT count(*) FROM bounce_events')" 0 "no bounce counted"
check_eq "$(q "SELECT count(*) FROM members WHERE status <> 'enabled' OR bounce_score > 0")" 0 "members untouched"
grep -q "error: outbound: relay .* refuses to take mail from us (554: .*); nothing is dropped" "$TMP/serve.log" ||
    fail "no error logged"
delivered_once "$m"

test_case "554 to MAIL FROM (the relay refuses the sender): the same"
echo mail-554 >"$MODE"
m=$(post 3)
wait_for 10 faults_sql_ge 1 "SELECT count(*) FROM outbox_rcpt WHERE attempts > 0" || fail "no attempt"
sleep 1
check_eq "$(faults_queued)" 12 "all still queued"
check_eq "$(q 'SELECT count(*) FROM bounce_events')" 0 "no bounce counted"
case $(cor outbox list) in *"last error: 554: MAIL failed: 554"*) ;; *) fail "outbox list: $(cor outbox list | head -3)" ;; esac
delivered_once "$m"

test_case "451 to RCPT TO (greylisting): each copy retried with a growing back-off, then once"
echo rcpt-451 >"$MODE"
t0=$(date +%s.%N)
m=$(post 4)
sleep 7
tries=$(awk -v t="$t0" '$1 >= t && $3 == "RCPT" && $4 == "<m01@council.test>" { print $1 }' "$SINK.log")
echo "# report: 451 to RCPT: m01 tried at +$(echo "$tries" | awk -v t="$t0" '{ printf "%s%.1f", (NR > 1 ? ", " : ""), $1 - t }') s"
check "$(echo "$tries" | wc -l)" -ge 3
echo "$tries" | awk '{ if (NR > 2 && $1 - p < 0.8 * g) bad = 1; if (NR > 1) g = $1 - p; p = $1 } END { exit bad }' ||
    fail "the gaps between tries do not grow: $tries"
check_eq "$(q 'SELECT count(*) FROM bounce_events')" 0 "no bounce"
delivered_once "$m"

test_case "451 after the final dot: retried, then once"
echo data-451 >"$MODE"
m=$(post 5)
wait_for 10 faults_sql 12 "SELECT count(*) FROM outbox_rcpt WHERE attempts > 0" || fail "not all tried"
check_eq "$(faults_copies "$m")" "" "nothing kept by the relay yet"
delivered_once "$m"

test_case "550 to RCPT TO: the member's bounce, counted once, not retried"
echo rcpt-550 >"$MODE"
t0=$(date +%s.%N)
m=$(post 6)
wait_for 20 faults_outbox_empty || fail "refused copies still queued"
sleep 1.5
check_eq "$(events_since "$t0" RCPT m05@council.test)" 1 "m05 tried once"
check_eq "$(q "SELECT count(*) || ' ' || min(class) || ' ' || min(status) FROM bounce_events")" "12 hard 550" "bounce events"
check_eq "$(q "SELECT count(*) FROM members WHERE status = 'enabled'")" 12 "one bounce disables nobody"

test_case "a connection reset instead of the answer to the final dot: that copy is retried, the relay is not paused"
paused() { grep -c "outbound: relay .* \(unreachable\|cannot take mail now\|refuses to take mail\)" "$TMP/serve.log"; }
pauses=$(paused)
echo reset-dot-once >"$MODE"
t0=$(date +%s.%N)
m=$(post 7)
wait_for 20 faults_outbox_empty || fail "not all sent: $(faults_queued) left"
sleep 0.3
check_eq "$(events_since "$t0" reset)" 1 "the relay reset one transfer"
check_eq "$(faults_copies "$m")" "$MEMBERS" "each member once"
grep -q "info: outbound: relay .* dropped the connection while taking the post to m[0-9]*@council.test" "$TMP/serve.log" ||
    fail "the dropped transfer is not logged"
check_eq "$(paused)" "$pauses" "no pause of the relay logged"
echo ok >"$MODE"
serve_stop
test_done
