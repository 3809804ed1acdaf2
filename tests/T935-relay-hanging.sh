#!/bin/sh
# T935 — the relay hanging (issue 9, fault injection; docs/faults.md): a
# relay that accepts connections and never answers (tests/tools/
# smtp_fault.py "hang"), and one that takes a message and never answers its
# final dot ("hang-dot").  LMTP intake is answered as fast as with a
# healthy relay while the transfers hang; each hang ends after [outbound]
# timeout and the queue pauses; copies are retried and, once the relay
# answers again, every member gets each post once; SIGTERM while transfers
# hang stops the daemon within [daemon] shutdown_timeout, and the copies
# left go after the restart; so does SIGTERM with connections kept open to
# a relay that has started hanging (no wait for its answer to QUIT).
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
ONE_EACH=$(faults_group planning bob cat dan eve)
faults_config "$RELAY_PORT" '[outbound]' 'timeout = 3s' '[daemon]' 'shutdown_timeout = 2s'
serve_start --no-digests || { echo "Bail out! corridor serve did not start"; exit 1; }

# burst PREFIX N : N posts in one LMTP session; prints "ok MAX_MS" or what went wrong
burst() {
    faults_messages "$TMP" "$1" "$2" 2
    python3 - "$TMP/lmtp.sock" "$TMP" "$1" "$2" <<'PY'
import socket, sys, time
sock, tmp, prefix, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sock)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode()
        if l[3:4] != "-":
            return l.strip()
reply(); s.sendall(b"LHLO t.test\r\n"); reply()
worst, bad = 0.0, []
for i in range(1, n + 1):
    data = open("%s/%s%d.eml" % (tmp, prefix, i), "rb").read().replace(b"\n", b"\r\n")
    t = time.time()
    s.sendall(b"MAIL FROM:<ann@council.test>\r\n"); reply()
    s.sendall(b"RCPT TO:<planning@lists.test>\r\n"); reply()
    s.sendall(b"DATA\r\n"); reply()
    s.sendall(data + b".\r\n")
    r = reply()
    worst = max(worst, time.time() - t)
    if not r.startswith("250"):
        bad.append(r)
s.sendall(b"QUIT\r\n")
print("ok %d" % (worst * 1000) if not bad else "bad: %s" % bad[:2])
PY
}

test_case "a healthy relay: the LMTP reply time of 20 posts"
out=$(burst base 20)
case $out in "ok "*) base_ms=${out#ok } ;; *) fail "$out"; base_ms=0 ;; esac
wait_for 30 faults_outbox_empty || fail "copies not sent"

test_case "the relay hangs: LMTP answers as fast as before while the copies' transfers hang"
echo hang >"$MODE"
t0=$(date +%s)
out=$(burst hang 20)
case $out in "ok "*) hang_ms=${out#ok } ;; *) fail "$out"; hang_ms=99999 ;; esac
echo "# report: worst LMTP reply of 20 posts: $base_ms ms with a healthy relay, $hang_ms ms while it hangs"
[ "$hang_ms" -lt $((base_ms + 500)) ] || fail "intake slowed by the hanging relay"
[ "$(grep -c -E ' hang (connect|MAIL)' "$SINK.log")" -gt 0 ] || fail "nothing tried on the hanging relay"

test_case "each hang ends after [outbound] timeout (3 s); the queue pauses rather than piling up connections"
wait_for 10 faults_sql_ge 1 "SELECT count(*) FROM outbox_rcpt WHERE attempts > 0" || fail "no attempt ended"
# from the first command the relay left unanswered to the first client giving up
first=$(awk '$2 == "hang" { print $1; exit }' "$SINK.log")
gone=$(awk '$2 == "hang" && $3 == "gone" { print $1; exit }' "$SINK.log")
took=$(python3 -c "print('%.1f' % (${gone:-0} - $first))")
echo "# report: the first hanging transfer was given up after $took s ([outbound] timeout 3 s)"
python3 -c "import sys; sys.exit(0 if 0 < $took < 5.5 else 1)" || fail "the first hang ended after $took s"
grep -q "outbound: relay .* unreachable (.*timed out after [0-9]* milliseconds" "$TMP/serve.log" ||
    fail "no time-out logged: $(grep outbound "$TMP/serve.log" | tail -2)"
sleep 4
# attempts: new connections and commands on connections kept open
c=$(grep -c -E ' hang (connect|MAIL)' "$SINK.log")
echo "# report: $c transfers tried on the hanging relay in ~$(($(date +%s) - t0)) s for 80 copies"
[ "$c" -le 16 ] || fail "$c transfers tried: not paused"
check_eq "$(faults_queued)" 80 "all copies still queued"

test_case "the relay answers again: every member gets each post once"
echo ok >"$MODE"
wait_for 40 faults_outbox_empty || fail "not all sent: $(faults_queued) left"
sleep 0.3
i=0
while [ $i -lt 20 ]; do
    i=$((i + 1))
    check_eq "$(faults_copies "hang$i@council.test")" "$ONE_EACH" "hang$i"
done

test_case "a hang after the final dot: timed out, retried, arrives once"
echo hang-dot >"$MODE"
faults_message "$TMP/d1.eml" dot1@council.test 2
check_eq "$(faults_lmtp "$SOCK" planning@lists.test "$TMP/d1.eml")" \
    "250 2.0.0 ok: planning <dot1@council.test> stored, 4 copies queued" "post"
wait_for 15 faults_sql_ge 1 "SELECT count(*) FROM outbox_rcpt WHERE attempts > 0" || fail "no time-out"
check "$(grep -c 'hang-dot dot' "$SINK.log")" -ge 1
echo ok >"$MODE"
wait_for 40 faults_outbox_empty || fail "not all sent"
sleep 0.3
check_eq "$(faults_copies dot1@council.test)" "$ONE_EACH" "once each"

test_case "SIGTERM while transfers hang: stopped within the shutdown timeout (exit 0); the copies go after a restart"
echo hang >"$MODE"
before=$(grep -c -E ' hang (connect|MAIL)' "$SINK.log")
faults_message "$TMP/t1.eml" term1@council.test 2
faults_lmtp "$SOCK" planning@lists.test "$TMP/t1.eml" >/dev/null
wait_for 10 sh -c "[ \$(grep -c -E ' hang (connect|MAIL)' '$SINK.log') -gt $before ]" || fail "no transfer hanging"
t0=$(date +%s%N)
serve_stop
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# report: SIGTERM with transfers hanging: stopped in $ms ms (shutdown_timeout 2 s)"
[ "$ms" -lt 4500 ] || fail "took $ms ms to stop"
check_eq "$(q "SELECT count(*) FROM outbox_rcpt r JOIN outbox o ON o.id = r.outbox JOIN messages m ON m.id = o.msg WHERE m.message_id = 'term1@council.test'")" 4 "still queued"
echo ok >"$MODE"
serve_start --no-digests || fail "restart"
wait_for 30 faults_outbox_empty || fail "not sent after the restart"
sleep 0.3
check_eq "$(faults_copies term1@council.test)" "$ONE_EACH" "once each"

test_case "SIGTERM with idle connections kept open to a relay that has just started hanging: no wait for its QUIT"
# libcurl says QUIT on each kept connection when it closes it and waits for
# the answer (120 s by default, per connection)
echo hang >"$MODE"
t0=$(date +%s%N)
serve_stop
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# report: SIGTERM with connections kept open to a hanging relay: stopped in $ms ms"
[ "$ms" -lt 4500 ] || fail "took $ms ms to stop"
test_done
