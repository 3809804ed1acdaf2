#!/bin/sh
# T710 — a simulated day of digests with real parts.  A real Postfix
# delivers the day's posts to the daemon over LMTP; the daemon's own digest
# scheduler (digest/scheduler.h) makes the digests at the next morning's
# slot when the test moves its clock (CORRIDOR_NOW_FILE), and the outbound
# worker hands them to Postfix's smtp-sink.  Checked: a golden text digest as
# received; the received HTML part in chromium with axe-core; the Reply link
# of the received digest, followed through Postfix, threads under the right
# message; a combined digest across three groups, one of which the member
# may not see (a staff-only group, an outside partner): only the visible
# ones, each once; a weekly group's digest only on its day; SIGKILL of the
# daemon while it sends 400 digests: after a restart every member has had
# exactly one digest for the period.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
. "$SRC/tests/lib-sink.sh"
PF=$TMP/pf
MAPS=$TMP/maps
SINK=$TMP/sink
SUBMIT="python3 $SRC/tests/tools/smtp_submit.py"
HDR="python3 $SRC/tests/tools/mailhdr.py"
data=$SRC/tests/data/digest
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
trap 'serve_kill; sink_stop; postfix_stop "$PF"; rm -rf "$TMP"' EXIT
chmod o+x "$TMP"  # smtp-sink runs as nobody

SMTP_PORT=$(postfix_free_port)
SINK_PORT=$(postfix_free_port)
HTTP_PORT=$(postfix_free_port)
postfix_setup "$PF" "$SMTP_PORT" "$MAPS" >/dev/null || { echo "Bail out! postfix_setup"; exit 1; }
CLOCK=$TMP/clock
export CORRIDOR_NOW_FILE=$CLOCK
# Monday 23 November 2026, 06:00 in London (GMT: the same as UTC)
echo 2026-11-23T06:00:00Z >"$CLOCK"

cor init >/dev/null
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
listen = unix:$PF/queue/private/corridor-lmtp
socket_mode = 0666
domains = lists.test
[postfix]
maps_dir = $MAPS
transport = lmtp:unix:private/corridor-lmtp
[filters]
staff_domains = council.test
[web]
base_url = https://lists.council.test/
[outbound]
relay = smtp://127.0.0.1:$SINK_PORT
retry = 1s
connections = 8
[digest]
max_age = 30d
CONF

cor group create planning --title "Planning team" >/dev/null || fail "group create"
cor group create consult --title "Consultations" >/dev/null
cor group create staffroom --title "Staff room" >/dev/null
cor group create weekly --title "Weekly notes" >/dev/null
cor group set weekly digest_day=friday >/dev/null || fail "digest_day"
cor member add planning ann@council.test --name "Ann Example" --mode digest >/dev/null
cor member add planning bob@council.test --name "Bob Example" >/dev/null
cor member add weekly ann@council.test --name "Ann Example" --mode digest >/dev/null
for g in planning consult staffroom; do
    cor member add "$g" partner@agency.test --name "Pat Partner" --mode digest >/dev/null ||
        fail "member add $g"
done
# the partner joined the staff room while it was open to all; it has since
# been made staff-only (`member add` would now refuse an outside address)
cor group set staffroom visibility=staff >/dev/null || fail "staff-only"
cor digest set partner@agency.test --combined >/dev/null || fail "digest set"
cor archive build >/dev/null 2>&1 || fail "archive build"
sink_start "$SINK" "$SINK_PORT" || fail "smtp-sink"
serve_start --http "127.0.0.1:$HTTP_PORT" || fail "corridor did not start"
postfix_start "$PF" || fail "postfix did not start"
postfix_reload "$PF"

post() { # FILE FROM TO
    $SUBMIT --port "$SMTP_PORT" --from "$2" --to "$3" "$1" >/dev/null 2>&1 || fail "submit $1"
}
stored() { q "SELECT count(*) FROM thread_nodes WHERE msg IS NOT NULL"; }
# sql_ge N SQL / sql_eq N SQL: for wait_for
sql_ge() { [ "$(q "$2" 2>/dev/null || echo -1)" -ge "$1" ]; }
sql_eq() { [ "$(q "$2" 2>/dev/null || echo -1)" -eq "$1" ]; }
true_of() { eval "$1"; }

test_case "the day's posts go through Postfix; nothing is sent as a digest before the slot"
# at start the scheduler does the slot begun last (Sunday's, nothing new),
# then Monday's at 07:00 (nothing new yet: the posts come later)
wait_for 20 sql_ge 2 "SELECT count(*) FROM digests WHERE period = '2026-11-22'" ||
    fail "no run at start: $(q "SELECT * FROM digests")"
echo 2026-11-23T07:00:20Z >"$CLOCK"
wait_for 20 sql_ge 2 "SELECT count(*) FROM digests WHERE period = '2026-11-23'" ||
    fail "no run at Monday's slot: $(q "SELECT * FROM digests")"
check_eq "$(q "SELECT count(*) FROM digests WHERE state <> 'empty'")" 0 "nothing to send yet"
echo 2026-11-23T09:00:00Z >"$CLOCK"
mk() { # ID FROM SUBJECT DATE [IN-REPLY-TO] BODY
    {
        echo "From: $2"
        echo "To: planning@lists.test"
        echo "Subject: $3"
        echo "Message-ID: <$1@council.test>"
        echo "Date: $4"
        [ -n "$5" ] && echo "In-Reply-To: <$5@council.test>" && echo "References: <$5@council.test>"
        echo
        printf '%s\n' "$6"
    } >"$TMP/$1.eml"
}
mk d1 "Bob Example <bob@council.test>" "Parking permits for the new estate" \
    "Mon, 23 Nov 2026 09:12:00 +0000" "" "We need a view on parking permits for Orchard Way before Thursday.
Draft policy attached in the shared drive."
mk d2 "Cat Example <cat@council.test>" "Re: Parking permits for the new estate" \
    "Mon, 23 Nov 2026 11:40:00 +0000" d1 "Highways are happy with two permits per household.

> We need a view on parking permits for Orchard Way before Thursday.
> Draft policy attached in the shared drive.

--
Cat Example, Highways"
mk d3 "Dan Example <dan@council.test>" "Library opening hours consultation" \
    "Mon, 23 Nov 2026 14:05:00 +0000" "" "The consultation on winter opening hours closes on 4 December."
post "$TMP/d1.eml" bob@council.test planning@lists.test
post "$TMP/d2.eml" cat@council.test planning@lists.test
# d3 goes to two groups at once (one message, two recipients)
sed -i 's/^To: planning@lists.test/To: planning@lists.test, consult@lists.test/' "$TMP/d3.eml"
$SUBMIT --port "$SMTP_PORT" --from dan@council.test --to planning@lists.test --to consult@lists.test \
    "$TMP/d3.eml" >/dev/null 2>&1 || fail "submit d3"
mk c2 "Dan Example <dan@council.test>" "Budget consultation questions" \
    "Mon, 23 Nov 2026 15:30:00 +0000" "" "Draft questions for the budget consultation are ready for comment."
sed -i 's/^To: planning@/To: consult@/' "$TMP/c2.eml"
post "$TMP/c2.eml" dan@council.test consult@lists.test
cp "$TMP/d1.eml" "$TMP/s1.eml"
sed -i 's/^To: planning@/To: staffroom@/; s/<d1@/<s1@/; s/^Subject: .*/Subject: Staff room: the kitchen rota/' "$TMP/s1.eml"
post "$TMP/s1.eml" bob@council.test staffroom@lists.test
cp "$TMP/d3.eml" "$TMP/w1.eml"
sed -i 's/^To: planning@/To: weekly@/; s/<d3@/<w1@/; s/^Subject: .*/Subject: Notes for the week/' "$TMP/w1.eml"
post "$TMP/w1.eml" dan@council.test weekly@lists.test
wait_for 30 sql_ge 7 "SELECT count(*) FROM thread_nodes WHERE msg IS NOT NULL" || fail "posts not stored: $(stored)"
echo 2026-11-23T18:00:00Z >"$CLOCK"
sleep 2
check_eq "$(q "SELECT count(*) FROM digests WHERE state = 'queued'")" 0 "digests made before the slot"
# bob's own copy policy: he gets cat's and dan's posts in 'each' mode
sink_wait "$SINK" 2 20 || fail "bob's copies: $(sink_count "$SINK")"

test_case "at 07:00 the scheduler makes the digests and the sink gets them, once"
echo 2026-11-24T07:00:20Z >"$CLOCK"
wait_for 30 sql_ge 2 "SELECT count(*) FROM digests WHERE state = 'queued' AND period = '2026-11-24'" ||
    fail "digests not made: $(q "SELECT address, scope, period, state FROM digests")"
wait_for 30 sql_eq 0 "SELECT count(*) FROM outbox o JOIN outbox_rcpt r ON r.outbox = o.id WHERE o.kind = 'digest'" ||
    fail "digests not sent: $(cor outbox list)"
sleep 0.5
ann_files=$(grep -l '^To: .*<ann@council.test>' "$SINK"/* | xargs -r grep -l '^Auto-Submitted: auto-generated')
pat_files=$(grep -l '^To: .*<partner@agency.test>' "$SINK"/* | xargs -r grep -l '^Auto-Submitted: auto-generated')
check_eq "$(echo "$ann_files" | grep -c .)" 1 "ann's digests (planning; weekly waits for Friday)"
check_eq "$(echo "$pat_files" | grep -c .)" 1 "partner's digests (one combined)"
check_eq "$(q "SELECT scope || ' ' || state FROM digests WHERE address = 'ann@council.test' AND period = '2026-11-24' ORDER BY scope")" \
    "planning queued" "ann's records: planning sent, no weekly slot yet"
# a scheduler run a little later makes nothing more
echo 2026-11-24T07:30:00Z >"$CLOCK"
sleep 2
check_eq "$(q "SELECT count(*) FROM digests WHERE state = 'queued'")" 2 "still two"

test_case "the received text digest matches the golden file"
ann_file=$(echo "$ann_files" | head -1)
python3 - "$ann_file" "$TMP/ann.txt" "$TMP/ann.html" <<'PY' || fail "cannot read the digest"
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
assert m.get_content_type() == 'multipart/alternative', m.get_content_type()
text = m.get_body(('plain',)).get_content()
html = m.get_body(('html',)).get_content()
open(sys.argv[2], 'w').write(text.replace('\r\n', '\n'))
open(sys.argv[3], 'w').write(html)
PY
token=$(q "SELECT token FROM members m JOIN groups g ON g.id = m.group_id WHERE g.name = 'planning' AND address = 'ann@council.test'")
sed "s/$token/TOKEN/" "$TMP/ann.txt" >"$TMP/ann.golden"
# CORRIDOR_UPDATE_GOLDEN=1 writes the file (then read it before committing)
[ "${CORRIDOR_UPDATE_GOLDEN:-}" = 1 ] && cp "$TMP/ann.golden" "$data/day-ann.txt"
if ! cmp -s "$TMP/ann.golden" "$data/day-ann.txt"; then
    fail "differs from tests/data/digest/day-ann.txt"
    diff "$data/day-ann.txt" "$TMP/ann.golden" | head -40 | sed 's/^/# /' >&2
fi
check_eq "$($HDR "$ann_file" Subject Auto-Submitted List-Id List-Unsubscribe List-Unsubscribe-Post)" \
"Subject: Planning team digest, Tuesday 24 November 2026
Auto-Submitted: auto-generated
List-Id: Planning team <planning.lists.test>
List-Unsubscribe: <https://lists.council.test/u/$token>, <mailto:planning-leave@lists.test>
List-Unsubscribe-Post: List-Unsubscribe=One-Click" "list headers"

test_case "the combined digest: only the groups the partner may see, each once"
pat_file=$(echo "$pat_files" | head -1)
python3 - "$pat_file" "$TMP/pat.txt" "$TMP/pat.html" <<'PY' || fail "cannot read the digest"
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
open(sys.argv[2], 'w').write(m.get_body(('plain',)).get_content().replace('\r\n', '\n'))
open(sys.argv[3], 'w').write(m.get_body(('html',)).get_content())
PY
check_eq "$(grep -c '^Planning team (planning@lists.test)$' "$TMP/pat.txt")" 1 "planning section"
check_eq "$(grep -c '^Consultations (consult@lists.test)$' "$TMP/pat.txt")" 1 "consult section"
check_eq "$(grep -c 'Staff room\|kitchen rota\|staffroom' "$TMP/pat.txt" "$TMP/pat.html" | awk -F: '{s+=$2} END {print s}')" \
    0 "nothing of the staff-only group"
check_eq "$(grep -c 'Library opening hours consultation' "$TMP/pat.txt")" 1 \
    "a post sent to two of their groups is shown once"
check_eq "$(grep -c 'Budget consultation questions' "$TMP/pat.txt")" 1 "consult's own post"
ptoken=$(q "SELECT token FROM members m JOIN groups g ON g.id = m.group_id WHERE g.name = 'consult' AND address = 'partner@agency.test'")
check_eq "$($HDR "$pat_file" List-Id List-Unsubscribe List-Unsubscribe-Post)" \
"List-Id: Your digest <digest.lists.test>
List-Unsubscribe: <https://lists.council.test/u/$ptoken/digest>
List-Unsubscribe-Post: List-Unsubscribe=One-Click" "a combined digest's list headers (one-click stop)"

test_case "the received HTML parts in chromium: axe-core, reflow, link text"
B=$SRC/tests/browser
if [ ! -x /usr/bin/chromium ] || [ ! -f "$B/node_modules/axe-core/axe.min.js" ]; then
    fail "chromium or tests/browser/node_modules missing — run 'make deps'"
else
    (cd "$B" && node digest.mjs "$TMP/ann.html" "$TMP/pat.html") >"$TMP/browser.out" 2>&1 ||
        { fail "digest.mjs"; sed 's/^/# /' "$TMP/browser.out" >&2; }
    check_eq "$(grep -c '^ok - ' "$TMP/browser.out")" 8 "checks passed"
fi

test_case "the Reply link of the received digest, sent through Postfix, threads under that message"
reply=$(grep -A 30 '^Cat Example, ' "$TMP/ann.txt" | grep -m1 '    Reply: ' | sed 's/^    Reply: //')
python3 - "$reply" "$TMP/reply.eml" <<'PY' || fail "cannot build the reply from $reply"
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
assert u.scheme == 'mailto', u
q = dict(urllib.parse.parse_qsl(u.query))
with open(sys.argv[2], 'w') as f:
    f.write(f"From: Ann Example <ann@council.test>\nTo: {urllib.parse.unquote(u.path)}\n")
    f.write(f"Subject: {q['subject']}\nIn-Reply-To: {q['In-Reply-To']}\nReferences: {q['References']}\n")
    f.write("Message-ID: <r1@council.test>\nDate: Tue, 24 Nov 2026 08:15:00 +0000\n\n")
    f.write("Two permits per household is fine by planning.\n")
PY
post "$TMP/reply.eml" ann@council.test planning@lists.test
wait_for 30 sql_eq 1 "SELECT count(*) FROM thread_nodes WHERE message_id = 'r1@council.test' AND msg IS NOT NULL" ||
    fail "the reply was not stored"
check_eq "$(q "SELECT parent FROM thread_nodes WHERE message_id = 'r1@council.test'")" "d2@council.test" "parent"
check_eq "$(q "SELECT count(DISTINCT thread) FROM thread_nodes WHERE message_id IN ('d1@council.test','d2@council.test','r1@council.test')")" \
    1 "one thread"
check_eq "$($HDR "$TMP/reply.eml" Subject)" "Subject: Re: Parking permits for the new estate" "subject"

test_case "the combined digest's List-Unsubscribe: one click stops it (all its groups to mode none), in chromium with axe"
stop_url=$(sed -n 's/^List-Unsubscribe: <\(.*\)>$/\1/p' "$pat_file" | sed "s|https://lists.council.test|http://127.0.0.1:$HTTP_PORT|")
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "$stop_url")" 200 "GET"
check_eq "$(q "SELECT count(*) FROM members WHERE address = 'partner@agency.test' AND mode = 'digest'")" 3 \
    "a GET changes nothing"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'List-Unsubscribe=Two-Clicks' "$stop_url")" 400 \
    "a POST without List-Unsubscribe=One-Click"
B=$SRC/tests/browser
ann_leave=$(sed -n 's/^List-Unsubscribe: <\([^>]*\)>.*/\1/p' "$ann_file" | sed "s|https://lists.council.test|http://127.0.0.1:$HTTP_PORT|")
(cd "$B" && node unsubscribe.mjs "$ann_leave" "$stop_url" \
    "http://127.0.0.1:$HTTP_PORT/u/00000000000000000000000000000000/digest") >"$TMP/unsub.out" 2>&1 ||
    { fail "unsubscribe.mjs"; sed 's/^/# /' "$TMP/unsub.out" >&2; }
check_eq "$(q "SELECT group_concat(mode) FROM members WHERE address = 'partner@agency.test'")" "none,none,none" \
    "the partner's memberships after the button"
check_eq "$(q "SELECT count(*) FROM members m JOIN groups g ON g.id = m.group_id WHERE g.name = 'planning' AND address = 'ann@council.test'")" \
    0 "ann left planning with the keyboard"

test_case "a weekly group's digest comes on its day (Friday 27 November), not before"
echo 2026-11-26T07:00:30Z >"$CLOCK"
sleep 2
check_eq "$(q "SELECT count(*) FROM digests WHERE scope = 'weekly' AND state = 'queued'")" 0 "Thursday"
echo 2026-11-27T07:00:30Z >"$CLOCK"
wait_for 20 sql_eq 1 "SELECT count(*) FROM digests WHERE scope = 'weekly' AND state = 'queued'" ||
    fail "no weekly digest on Friday: $(q "SELECT * FROM digests WHERE scope = 'weekly'")"
check_eq "$(q "SELECT period FROM digests WHERE scope = 'weekly' AND state = 'queued'")" "2026-11-27" "period"
wait_for 20 true_of '[ -n "$(grep -l "^Subject: Weekly notes weekly digest" "$SINK"/* 2>/dev/null)" ]' ||
    fail "the weekly digest did not reach the sink"

test_case "SIGKILL while the daemon sends 400 digests: after a restart, exactly one each"
serve_stop
q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
   INSERT INTO members (group_id, address, mode, added, token)
   SELECT (SELECT id FROM groups WHERE name = 'consult'), 'm' || i || '@council.test', 'digest',
          0, lower(hex(randomblob(16))) FROM n"
q "UPDATE members SET digest_from = 0 WHERE address LIKE 'm%@council.test'"
sink_stop
rm -rf "$SINK"
# a slow sink: each message waits, so the kill finds copies in flight
sink_start "$SINK" "$SINK_PORT" -w 1 || fail "smtp-sink"
echo 2026-11-28T07:00:30Z >"$CLOCK"
serve_start --http "127.0.0.1:$HTTP_PORT" || fail "corridor did not start"
wait_for 60 true_of '[ "$(sink_count "$SINK")" -ge 30 ]' || fail "nothing sent: $(sink_count "$SINK")"
serve_kill
at_kill=$(sink_count "$SINK")
made=$(q "SELECT count(*) FROM digests WHERE period = '2026-11-28' AND state = 'queued'")
sink_stop
sink_start "$SINK" "$SINK_PORT" || fail "smtp-sink"
serve_start --http "127.0.0.1:$HTTP_PORT" || fail "corridor did not restart"
expect=$(q "SELECT count(*) FROM digests WHERE period = '2026-11-28' AND state = 'queued'")
wait_for 120 sql_eq 0 "SELECT count(*) FROM outbox WHERE kind = 'digest'" ||
    fail "not all sent: $(q "SELECT count(*) FROM outbox")"
sleep 0.5
python3 - "$SINK" "$TMP/per-member" <<'PY'
import email, os, sys, collections
from email import policy
seen = collections.defaultdict(set)
raw = collections.Counter()
for f in os.listdir(sys.argv[1]):
    m = email.message_from_binary_file(open(os.path.join(sys.argv[1], f), 'rb'), policy=policy.default)
    if not str(m.get('Date', '')).startswith('Sat, 28 Nov 2026') or m.get('Auto-Submitted') != 'auto-generated':
        continue
    to = m['To'].addresses[0].addr_spec
    seen[to].add(m['Message-ID'])
    raw[to] += 1
with open(sys.argv[2], 'w') as out:
    out.write(f"{len(seen)} {sum(1 for v in seen.values() if len(v) != 1)} {sum(raw.values()) - len(raw)}\n")
PY
read -r members wrong dup <"$TMP/per-member"
echo "# report: killed with $at_kill digests at the sink ($made made); after the restart $members members have a digest for 28 November, $wrong of them more or fewer than one, $dup delivered twice (in flight at the kill)"
check_eq "$expect" 400 "digests made for the period (the partner has nothing new)"
check_eq "$members $wrong" "400 0" "members with exactly one digest"
[ "$dup" -le 8 ] || fail "$dup copies delivered twice (more than the 8 connections in flight)"

test_done
