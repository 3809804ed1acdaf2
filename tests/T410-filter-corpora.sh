#!/bin/sh
# T410 — the filters on real mail, over LMTP:
#   - every message of the bounces corpus sent to a post address is routed to
#     bounce processing or discarded as an auto-reply — none is posted; the
#     two spam messages the corpus keeps as "not a bounce" are neither, and
#     are refused by the posting policy of a council group (staff domains);
#     the split is reported;
#   - every message of linux-mips-2005.mbox is accepted by an open group,
#     except the few that really are auto-replies or bounces, listed here
#     with their reason;
#   - an out-of-office reply to a group post, delivered back through a real
#     Postfix, is not stored, threaded, archived or searchable.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
LMTP="python3 $SRC/tests/tools/lmtp_files.py"
SUBMIT="python3 $SRC/tests/tools/smtp_submit.py"
D=$SRC/tests/data/filters
PF=$TMP/pf
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
trap 'serve_kill; postfix_stop "$PF"; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT

SMTP_PORT=$(postfix_free_port)
postfix_setup "$PF" "$SMTP_PORT" "$TMP/maps" >/dev/null || { echo "Bail out! postfix_setup"; exit 1; }
cor init >/dev/null
SOCK=$PF/queue/private/corridor-lmtp
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
listen = unix:$SOCK
socket_mode = 0666
domains = lists.example.gov.uk
[postfix]
maps_dir = $TMP/maps
transport = lmtp:unix:private/corridor-lmtp
[archive]
dir = $TMP/archive
[filters]
staff_domains = example.gov.uk
CONF
cor group create council >/dev/null
cor group create mips >/dev/null
cor group set mips posting=anyone >/dev/null
cor group create open >/dev/null
serve_start || fail "corridor did not start"

test_case "bounces corpus to a post address: every message routed or discarded, none posted"
BOUNCES=$CORPORA/bounces/bounceparser/msgs
$LMTP "unix:$SOCK" council@lists.example.gov.uk "$BOUNCES"/* >"$TMP/bounces.out" || fail "lmtp client"
total=$(wc -l <"$TMP/bounces.out")
routed=$(grep -c 'passed to bounce processing$' "$TMP/bounces.out")
discarded=$(grep -c 'discarded (auto-reply)$' "$TMP/bounces.out")
check_eq "$total" "$(ls "$BOUNCES" | wc -l)" "every message answered"
# the corpus's two "not a bounce" cases are spam from outside: the council
# group's posting policy (staff domains) refuses them
check_eq "$(grep -v -e 'passed to bounce processing$' -e 'discarded (auto-reply)$' "$TMP/bounces.out" |
           awk -F'\t' '{ print $1 " " substr($3, 1, 60) }' | tr '\n' '|')" \
    "spam-bogus-email-in-report.msg 550 5.7.1 sender not allowed to post to this group: only sta|spam-with-image.msg 550 5.7.1 sender not allowed to post to this group: only sta|" \
    "the rest"
check_eq "$(q "SELECT count(*) FROM thread_nodes WHERE group_id = (SELECT id FROM groups WHERE name = 'council')")" 0 "nothing posted"
check_eq "$(q "SELECT count(*) FROM control_mail WHERE kind = 'bounces' AND rcpt = 'council@lists.example.gov.uk'")" "$routed" "stored for bounce processing"
echo "# report: bounces corpus, $total messages: $routed routed to bounce processing, $discarded discarded as auto-replies, $((total - routed - discarded)) refused by the posting policy (spam, not bounces)"
echo "# report: auto-replies: $(grep 'discarded (auto-reply)$' "$TMP/bounces.out" | cut -f1 | tr '\n' ' ')"

test_case "linux-mips 2005 to an open group: all accepted except the listed auto-replies, bounces and commands"
$LMTP "unix:$SOCK" mips@lists.example.gov.uk --mbox "$CORPORA/linux-mips-2005.mbox" >"$TMP/mips.out" || fail "lmtp client"
check_eq "$(wc -l <"$TMP/mips.out")" 2896 "every message answered"
# The exceptions, each looked at by hand (tests/unit/test-autoreply.c has
# the same list): Message-ID and the reply.  There is one: subject "help",
# body "help" — a list-server command sent to the list by mistake.
printf '%s\t%s\n' '053301c55aa8$887769e0$0300a8c0@boletus' \
    '250 2.0.0 ok: mips <053301c55aa8$887769e0$0300a8c0@boletus> passed to the command handler' \
    >"$TMP/mips.expected"
grep -v -e ' stored$' -e ', already stored: ' "$TMP/mips.out" | cut -f1,3 | sed 's/^mbox:[0-9]*://' >"$TMP/mips.other"
if ! diff -u "$TMP/mips.expected" "$TMP/mips.other" >"$TMP/diff"; then
    fail "not accepted, and not on the list:"
    sed 's/^/#   /' "$TMP/diff" >&2
fi
accepted=$(grep -c -e ' stored$' -e ', already stored: ' "$TMP/mips.out")
echo "# report: linux-mips-2005: $accepted of 2896 accepted; exceptions: $(wc -l <"$TMP/mips.other")"

test_case "an out-of-office reply to a group post, back through Postfix: not stored, not archived, not searchable"
postfix_start "$PF" || fail "postfix did not start"
cp "$D/accept.eml" "$TMP/post.eml"
$SUBMIT --port "$SMTP_PORT" --from jane.smith@example.gov.uk --to open@lists.example.gov.uk "$TMP/post.eml" >/dev/null 2>&1 || fail "submit post"
# Exchange sends out-of-office replies from the null sender
$SUBMIT --port "$SMTP_PORT" --from "" --to open@lists.example.gov.uk "$D/autoreply.eml" >/dev/null 2>&1 || fail "submit reply"
postfix_wait_empty "$PF" 30 || fail "queue did not drain"
i=0
while [ -z "$(postfix_log_reply "$PF" open@lists.example.gov.uk | grep oof-1)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "$(postfix_log_reply "$PF" open@lists.example.gov.uk | tr '\n' '|')" \
    "250 2.0.0 ok: open <accept-1@example.gov.uk> stored|250 2.0.0 ok: open <oof-1@example.gov.uk> discarded (auto-reply)|" "Postfix's log"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'oof-1@example.gov.uk'") $(q "SELECT count(*) FROM held") $(q "SELECT count(*) FROM control_mail WHERE rcpt = 'open@lists.example.gov.uk'")" \
    "0 0 0" "nothing of it stored (message, held, control mail)"
check_eq "$(cor threads --group open --json | python3 -c 'import json,sys; print(sum(len(t["message_ids"]) for t in map(json.loads, sys.stdin)))')" 1 "the thread has the post only"
wait_for 20 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM work\") = 0 ]" || fail "backlog"
check_eq "$(cor search 'subject:automatic' | wc -l)" 0 "not searchable"
# the archive as the daemon's renderer made it, after the burst (T330)
check_eq "$(grep -rl 'out of the office' "$TMP/archive" 2>/dev/null | wc -l)" 0 "not archived"
check "$(grep -rl 'Official opening' "$TMP/archive" | wc -l)" -gt 0
grep -q "auto-reply=discard -> discard (auto-reply: an automatic reply: Auto-Submitted: auto-replied)" "$TMP/serve.log" ||
    fail "the log does not say why"
test_done
