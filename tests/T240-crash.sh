#!/bin/sh
# T240 — nothing acknowledged is ever lost: 2,896 real messages
# (linux-mips-2005.mbox) go through a real Postfix into corridor over LMTP
# while corridor is killed with SIGKILL at random moments (at least 10
# times) and restarted.  Once Postfix's queue drains, every message Postfix
# logged as delivered is in the store exactly once, the store passes
# PRAGMA integrity_check, and the index catches up with the store.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
MBOX=$CORPORA/linux-mips-2005.mbox
PF=$TMP/pf
MAPS=$TMP/maps
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
trap 'serve_kill; postfix_stop "$PF"; rm -rf "$TMP"' EXIT

SMTP_PORT=$(postfix_free_port)
postfix_setup "$PF" "$SMTP_PORT" "$MAPS" >/dev/null || { echo "Bail out! postfix_setup"; exit 1; }
cor init >/dev/null
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
listen = unix:$PF/queue/private/corridor-lmtp
socket_mode = 0666
domains = lists.test
[postfix]
maps_dir = $MAPS
CONF
cor group create mips >/dev/null
serve_start || { echo "Bail out! corridor did not start"; exit 1; }
postfix_start "$PF" || { echo "Bail out! postfix did not start"; exit 1; }

test_case "2,896 messages through Postfix while corridor is SIGKILLed at random (>= 10 times)"
python3 "$SRC/tests/tools/smtp_submit.py" --port "$SMTP_PORT" --from list@linux-mips.test \
    --to mips@lists.test "$MBOX" >"$TMP/submit.out" 2>"$TMP/submit.err" &
submitter=$!
kills=0
started=$(date +%s)
# kill while the submitter runs, then keep going until at least 10 kills
while kill -0 "$submitter" 2>/dev/null || [ "$kills" -lt 10 ]; do
    sleep "$(awk -v s="$kills$$" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.5 }')"
    serve_kill
    kills=$((kills + 1))
    serve_start || fail "restart $kills failed"
    [ $(($(date +%s) - started)) -gt 600 ] && { fail "submission took over 10 minutes"; break; }
done
wait "$submitter"
echo "# $kills kills; $(tail -1 "$TMP/submit.err")"
check "$kills" -ge 10
postfix_flush "$PF"
postfix_wait_empty "$PF" 400 || fail "Postfix's queue did not drain: $(postfix_queue_count "$PF") left"

test_case "every message Postfix logged as delivered is in the store exactly once, and nothing else is"
postfix_log_status "$PF" >"$TMP/status"
q "SELECT m.message_id, m.synthetic_id FROM thread_nodes n JOIN messages m ON m.id = n.msg
   JOIN groups g ON g.id = n.group_id WHERE g.name = 'mips'" >"$TMP/stored"
out=$(python3 - "$TMP/status" "$TMP/stored" "$db" <<'PY'
import sqlite3, sys
sent, noid = set(), set()
for line in open(sys.argv[1]):
    qid, mid, rcpt, st = line.split()
    if st == "sent":
        (noid.add(qid) if mid == "-" else sent.add(mid))
stored, synthetic = set(), 0
for line in open(sys.argv[2]):
    mid, syn = line.rstrip("\n").rsplit("|", 1)
    if syn == "1":
        synthetic += 1
    else:
        stored.add(mid)
db = sqlite3.connect(sys.argv[3])
# the filters route a mail command sent to the post address (linux-mips has
# one, "help") to the command handler: stored there, not as a post
import email.parser, email.policy
routed = 0
for (raw,) in db.execute("SELECT raw FROM control_mail WHERE rcpt LIKE 'mips@%'"):
    h = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    stored.add(str(h.get("Message-ID", "")).strip().strip("<>"))
    routed += 1
twice = db.execute("SELECT count(*) FROM (SELECT message_id FROM messages GROUP BY message_id HAVING count(*) > 1)").fetchone()[0]
missing = sorted(sent - stored)
extra = sorted(stored - sent)
print("delivered %d (+%d without Message-ID), stored %d (+%d synthetic ids; %d routed by the filters), missing %d, extra %d, stored twice %d"
      % (len(sent), len(noid), len(stored), synthetic, routed, len(missing), len(extra), twice))
for m in missing[:5]: print("missing", m)
for m in extra[:5]: print("extra", m)
ok = not missing and not extra and twice == 0 and synthetic == len(noid) and len(sent) > 2800
sys.exit(0 if ok else 1)
PY
) || fail "$out"
echo "# $out" | head -3
check_eq "$(grep -c 'status=bounced' "$PF/maillog")" 0 "nothing bounced"
echo "# deferred by a crash and then answered 'already stored' (committed before the kill, reply lost): $(grep -c 'status=sent (250 2.0.0 ok, already stored' "$PF/maillog")"

test_case "the store passes PRAGMA integrity_check; every message has its original"
check_eq "$(q 'PRAGMA integrity_check')" ok "integrity_check"
check_eq "$(q 'SELECT count(*) FROM messages m LEFT JOIN originals o ON o.message = m.id WHERE o.message IS NULL')" 0 "originals"

test_case "the index catches up with the store after the crashes"
wait_for 300 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM work WHERE kind = 'index'\") = 0 ]" || fail "index backlog did not drain"
check_eq "$(cor search --group mips '*' | wc -l)" "$(q 'SELECT count(*) FROM messages')" "searchable = stored"

test_case "the daemon stops cleanly on SIGTERM (exit 0)"
serve_stop
test_done
