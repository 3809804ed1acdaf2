#!/bin/sh
# T700 — digests (digest/digest.h): `corridor digest preview` of a group's
# posts against a golden text digest; the Reply link's RFC 6068 fields; the
# HTML and the whole message with its list headers; `digest send` made
# exactly once per slot, the next digest starting where the last ended
# (continuing threads); a restricted post, a held post and a private group
# the member is not in never appear, in a per-group or a combined digest;
# quotes, signatures and disclaimers left out while the stored original is
# unchanged; the RFC 1153 and MIME formats; the schedule across the spring
# clock change and a weekly digest; the HTML in chromium with axe-core.  The
# clock is set with CORRIDOR_NOW.
. "$(dirname "$0")/lib.sh"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
data=$SRC/tests/data/digest
ann=ann.other@northshire.gov.uk
cor init >/dev/null
cat >"$TMP/state/corridor.conf" <<'CONF'
[lmtp]
domains = lists.northshire.gov.uk
[web]
base_url = https://lists.northshire.gov.uk/
[filters]
staff_domains = northshire.gov.uk
[digest]
max_age = 60d
CONF
cor group create planning --title Planning >/dev/null
cor group create hr --title "Human resources" --visibility private >/dev/null
cor group create secret --title "Chief executive's office" --visibility private >/dev/null
cor member add planning "$ann" --name "Ann Other" --mode digest >/dev/null
cor member add hr "$ann" --name "Ann Other" --mode digest >/dev/null
cor member add hr bob.smith@northshire.gov.uk >/dev/null
cor member add secret dana.price@northshire.gov.uk --mode digest >/dev/null
# the sample group's first eight posts (to 14 March), then the other twelve
awk -v out="$TMP/part" '/^From /{n++} {print > (out (n <= 8 ? 1 : 2) ".mbox")}' \
    "$SRC/tests/data/sample/planning.mbox"
cor import --group planning "$TMP/part1.mbox" >/dev/null
token=$(q "SELECT token FROM members m JOIN groups g ON g.id = m.group_id
           WHERE g.name = 'planning' AND m.address = '$ann'")

test_case "preview --group prints the golden text digest and changes nothing"
before=$(q "SELECT (SELECT count(*) FROM digests) || ' ' || (SELECT count(*) FROM outbox)")
CORRIDOR_NOW=2025-03-15T07:00:00Z cor digest preview --member "$ann" --group planning \
    >"$TMP/planning.txt" 2>"$TMP/err"; rc=$?
check_eq "$rc" 0 "exit"
sed "s/$token/TOKEN/" "$TMP/planning.txt" >"$TMP/planning.golden"
if ! cmp -s "$TMP/planning.golden" "$data/planning.txt"; then
    fail "differs from tests/data/digest/planning.txt"
    diff "$data/planning.txt" "$TMP/planning.golden" | head -40 | sed 's/^/# /' >&2
fi
check_eq "$(q "SELECT (SELECT count(*) FROM digests) || ' ' || (SELECT count(*) FROM outbox)")" \
    "$before" "nothing written"
check_eq "$(cat "$TMP/err")" "" "stderr"

test_case "the Reply link: mailto the group, In-Reply-To, References and a Re: subject (RFC 6068)"
# Adam Whitlock's reply to Rachel Dunmore's first post
reply=$(grep -A 20 '^Adam Whitlock, ' "$TMP/planning.txt" | grep -m1 '    Reply: ' | sed 's/^    Reply: //')
python3 - "$reply" >"$TMP/mailto" <<'PY'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(u.scheme); print(u.path)
for k, v in urllib.parse.parse_qsl(u.query, strict_parsing=True):
    print(k + "=" + v)
PY
check_eq "$(cat "$TMP/mailto")" "mailto
planning@lists.northshire.gov.uk
In-Reply-To=<0c81f4a6-9e2d-4b7a-a5c3-64d8e1f09b37@northshire.gov.uk>
References=<b7d2e9c4-31a8-4f6e-9c0b-8e5a7d13f6a2@northshire.gov.uk> <0c81f4a6-9e2d-4b7a-a5c3-64d8e1f09b37@northshire.gov.uk>
subject=Re: Ward councillor briefing, 12 March" "mailto fields"
case $reply in *' '*|*'<'*|*'>'*) fail "unencoded characters in $reply" ;; esac

test_case "raw: multipart/alternative with the list headers, auto-generated, the member's one-click URL"
CORRIDOR_NOW=2025-03-15T07:00:00Z cor digest preview --member "$ann" --group planning --format raw \
    >"$TMP/raw.eml"
python3 - "$TMP/raw.eml" >"$TMP/raw.txt" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
for h in ("From", "To", "Subject", "Date", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
          "List-Post", "List-Help", "List-Archive", "Auto-Submitted", "Precedence", "X-Loop"):
    print(h + ": " + str(m[h]))
print("Message-ID generated:", m["Message-ID"].startswith("<corridor.digest."))
print([p.get_content_type() for p in m.walk()])
html = m.get_body(("html",)).get_content()
text = m.get_body(("plain",)).get_content()
print('lang="en"' in html, "<table role=\"presentation\"" in html, "<h1" in html)
print(text == open(sys.argv[1].replace("raw.eml", "planning.txt"), encoding="utf-8").read())
PY
check_eq "$(cat "$TMP/raw.txt")" "From: Planning <planning-request@lists.northshire.gov.uk>
To: Ann Other <$ann>
Subject: Planning digest, Saturday 15 March 2025
Date: Sat, 15 Mar 2025 07:00:00 +0000
List-Id: Planning <planning.lists.northshire.gov.uk>
List-Unsubscribe: <https://lists.northshire.gov.uk/u/$token>, <mailto:planning-leave@lists.northshire.gov.uk>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
List-Post: <mailto:planning@lists.northshire.gov.uk>
List-Help: <mailto:planning-request@lists.northshire.gov.uk?subject=help>
List-Archive: <https://lists.northshire.gov.uk/g/planning/>
Auto-Submitted: auto-generated
Precedence: list
X-Loop: planning@lists.northshire.gov.uk
Message-ID generated: True
['multipart/alternative', 'text/plain', 'text/html']
True True True
True" "headers and parts"

test_case "the HTML part: escaped text, every link, one heading per thread"
CORRIDOR_NOW=2025-03-15T07:00:00Z cor digest preview --member "$ann" --group planning --format html \
    >"$TMP/planning.html"
check_eq "$(grep -c '<h2 ' "$TMP/planning.html")" 2 "thread headings"
check_eq "$(grep -o 'Reply to [^<]*</a>' "$TMP/planning.html" | wc -l)" 8 "reply links"
grep -q "Wednesday&#39;s councillor briefing" "$TMP/planning.html" || fail "apostrophe not escaped"
grep -q "href=\"https://lists.northshire.gov.uk/u/$token\"" "$TMP/planning.html" || fail "leave link"
grep -q 'href="mailto:planning-request@lists.northshire.gov.uk?subject=mode%20each"' "$TMP/planning.html" ||
    fail "mode each link"
python3 -c '
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(s): super().__init__(); s.stack = []; s.bad = []
    def handle_starttag(s, t, a):
        if t not in ("br", "meta", "hr"): s.stack.append(t)
    def handle_endtag(s, t):
        if not s.stack or s.stack.pop() != t: s.bad.append(t)
p = P(); p.feed(open(sys.argv[1]).read())
print("balanced" if not p.bad and not p.stack else "unbalanced %s %s" % (p.bad, p.stack))' \
    "$TMP/planning.html" >"$TMP/balanced"
check_eq "$(cat "$TMP/balanced")" "balanced" "tags"

test_case "digest send: each slot once; the next digest starts where the last ended"
out=$(CORRIDOR_NOW=2025-03-15T07:30:00Z cor digest send --queue-only)
check_eq "$out" "digests: 1 queued, 2 with nothing new, 0 made before (2 people)" "first run"
check_eq "$(q "SELECT scope || ' ' || period || ' ' || state || ' ' || posts FROM digests
               WHERE address = '$ann' ORDER BY scope")" \
    "hr 2025-03-15 empty 0
planning 2025-03-15 queued 8" "records"
check_eq "$(q "SELECT o.kind || ' ' || o.env_from || ' ' || r.address FROM outbox o JOIN outbox_rcpt r ON r.outbox = o.id")" \
    "digest planning-bounces+ann.other=northshire.gov.uk@lists.northshire.gov.uk $ann" "outbox"
check_eq "$(q "SELECT count(*) FROM digests d JOIN outbox o ON o.id = d.outbox
               WHERE instr(o.body, 'Message-Id: <' || d.message_id || '>') > 0")" 1 "recorded with its message"
out=$(CORRIDOR_NOW=2025-03-15T09:00:00Z cor digest send --queue-only)
check_eq "$out" "digests: 0 queued, 0 with nothing new, 3 made before (2 people)" "same slot again"
out=$(CORRIDOR_NOW=2025-03-16T07:00:00Z cor digest preview --member "$ann" --group planning 2>&1)
check_eq "$out" "corridor: no digest for $ann in planning: nothing new since the last one" "nothing new"
cor import --group planning "$TMP/part2.mbox" >/dev/null
CORRIDOR_NOW=2025-04-08T06:00:00Z cor digest preview --member "$ann" --group planning >"$TMP/second.txt"
check_eq "$(sed -n 4,5p "$TMP/second.txt")" "3 new conversations, 9 replies, 7 people.
New since your last digest on Sat 15 Mar at 07:30." "counts"
check_eq "$(grep -E '^(New conversation|Continuing)' "$TMP/second.txt")" \
    "New conversation: Flood risk assessment for Mill Lane site
New conversation: Replacement of the planning portal
New conversation: Duty planner rota for April
Continuing, 4 earlier messages: Local Plan consultation timetable" "threads"
check_eq "$(grep -c '^    Read: ' "$TMP/second.txt")" 12 "only the twelve new posts"
out=$(CORRIDOR_NOW=2025-04-08T06:00:00Z cor digest send --queue-only)
check_eq "$out" "digests: 1 queued, 2 with nothing new, 0 made before (2 people)" "next day"
check_eq "$(q "SELECT from_seq || '-' || upto_seq FROM digests WHERE scope = 'planning' ORDER BY id")" \
    "0-8
8-20" "post sequence ranges meet"

test_case "switching to digest mode starts at that moment; the post sequence never goes back"
cor member add planning carl@northshire.gov.uk >/dev/null
cor member set planning carl@northshire.gov.uk --mode digest >/dev/null
check_eq "$(q "SELECT digest_from FROM members WHERE address = 'carl@northshire.gov.uk'")" \
    "$(q "SELECT value FROM counters WHERE name = 'post'")" "digest_from"
out=$(cor digest preview --member carl@northshire.gov.uk 2>&1)
check_eq "$out" "corridor: no digest for carl@northshire.gov.uk in planning: nothing new since the last one" "nothing before"
check_eq "$(q "SELECT count(*) FROM thread_nodes WHERE msg IS NOT NULL AND seq IS NULL")" 0 "every post numbered"
cor member remove planning carl@northshire.gov.uk >/dev/null

test_case "restricted and held posts and a private group the member is not in never appear"
cor deliver --group hr <"$data/hr-start.eml" || fail "deliver start"
cor deliver --group hr <"$data/hr-marked.eml" || fail "deliver marked"
check_eq "$(q "SELECT status FROM thread_nodes WHERE message_id = 'pay-1@northshire.gov.uk'")" restricted "kept restricted"
cor group set hr moderation=all >/dev/null
cor deliver --group hr <"$data/hr-held.eml"
check_eq "$(q "SELECT status FROM held WHERE message_id = 'held-1@northshire.gov.uk'")" held "held"
cor group set hr moderation=none >/dev/null
cor deliver --group hr <"$data/hr-reply.eml" || fail "deliver reply"
cor import --group secret "$data/secret.eml" >/dev/null
export CORRIDOR_NOW=2025-04-08T08:00:00Z
cor digest preview --member "$ann" >"$TMP/separate.txt" 2>"$TMP/err"
check_eq "$(grep -c '^==> ' "$TMP/separate.txt")" 1 "one non-empty digest (hr; planning sent)"
check_eq "$(grep -E '^(New conversation|Continuing)' "$TMP/separate.txt")" \
    "New conversation: Hybrid working policy review" "hr threads"
for w in RESTRICTED HELD PRIVATE pay-1 held-1 secret-1; do
    grep -q "$w" "$TMP/separate.txt" && fail "$w appears in the digest"
done
out=$(cor digest preview --member "$ann" --group secret 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: $ann is not in digest mode in secret" "secret refused"
check_eq "$(cor digest set "$ann" --combined)" "$ann: combined digests, format multipart" "set combined"
cor digest preview --member "$ann" >"$TMP/combined.txt"
check_eq "$(head -1 "$TMP/combined.txt")" "Your digest, Tuesday 8 April 2025" "title"
check_eq "$(grep -E '^[A-Z].* \(.*@lists\.northshire\.gov\.uk\)$' "$TMP/combined.txt")" \
    "Human resources (hr@lists.northshire.gov.uk)" "sections: only hr has news"
for w in RESTRICTED HELD PRIVATE restructure; do
    grep -q "$w" "$TMP/combined.txt" && fail "$w appears in the combined digest"
done
check_eq "$(grep -c '^You get ' "$TMP/combined.txt")" 2 "footer names both groups"
cor digest preview --member "$ann" --format html >"$TMP/combined.html"
cor digest preview --member "$ann" --format raw >"$TMP/combined.eml"
python3 - "$TMP/combined.eml" >"$TMP/combined.hdr" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print(m["From"]); print(m["List-Id"]); print(m["List-Unsubscribe"]); print(m["Auto-Submitted"])
PY
hr_token=$(q "SELECT token FROM members m JOIN groups g ON g.id = m.group_id
              WHERE g.name = 'hr' AND m.address = '$ann'")
check_eq "$(cat "$TMP/combined.hdr")" "Group digest <hr-request@lists.northshire.gov.uk>
Your digest <digest.lists.northshire.gov.uk>
<https://lists.northshire.gov.uk/u/$hr_token/digest>
auto-generated" "combined headers (its List-Unsubscribe stops the combined digest)"
out=$(cor digest send --queue-only)
check_eq "$out" "digests: 1 queued, 0 with nothing new, 1 made before (2 people)" "combined sent"
check_eq "$(q "SELECT scope || ' ' || posts FROM digests ORDER BY id DESC LIMIT 1")" "* 2" "recorded as *"
cor digest set "$ann" --separate >/dev/null
out=$(cor digest preview --member "$ann" 2>&1)
check_eq "$out" "corridor: no digest for $ann in hr: nothing new since the last one
corridor: no digest for $ann in planning: nothing new since the last one" "separate again: nothing twice"
unset CORRIDOR_NOW

test_case "quotes, the signature and the disclaimer are left out; the original is kept as it was"
grep -q "Agreed on the two office days" "$TMP/separate.txt" || fail "new text"
for w in QUOTED-TEXT SIGNATURE-MUST DISCLAIMER-MUST "wrote:" "^    >"; do
    grep -q -- "$w" "$TMP/separate.txt" && fail "'$w' in the digest"
done
q "SELECT writefile('$TMP/orig.eml', o.raw) FROM originals o JOIN messages m ON m.id = o.message
   WHERE m.message_id = 'hybrid-2@northshire.gov.uk'" >/dev/null
cmp -s "$TMP/orig.eml" "$data/hr-reply.eml" || fail "stored original changed"

test_case "RFC 1153 and MIME digests, chosen per person"
q "DELETE FROM digests WHERE address = '$ann'"
q "UPDATE members SET digest_from = 0"
check_eq "$(cor digest set "$ann" --format rfc1153)" "$ann: separate digests, format rfc1153" "set"
CORRIDOR_NOW=2025-04-08T08:00:00Z cor digest preview --member "$ann" --group hr --format raw >"$TMP/1153.eml"
python3 - "$TMP/1153.eml" >"$TMP/1153.txt" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print(m["Subject"]); print(m.get_content_type())
body = m.get_content()
lines = body.split("\n")
print(lines[0]); print(lines[2])
print(body.count("\n------------------------------\n"))
print("Subject: Re: Hybrid working policy review" in body, "- -- " in body, "RESTRICTED" in body)
print(lines[-3]); print(lines[-2])
PY
check_eq "$(cat "$TMP/1153.txt")" "Human resources Digest, Vol 2025, Issue 98
text/plain
Human resources Digest    Tue, 08 Apr 2025    Volume 2025 : Issue 98
Today's Topics:
3
True True False
End of Human resources Digest, Vol 2025, Issue 98
*************************************************" "rfc1153"
cor digest set "$ann" --format mime >/dev/null
CORRIDOR_NOW=2025-04-08T08:00:00Z cor digest preview --member "$ann" --group hr --format raw >"$TMP/mime.eml"
python3 - "$TMP/mime.eml" >"$TMP/mime.txt" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print([p.get_content_type() for p in m.walk()])
dig = [p for p in m.walk() if p.get_content_type() == "multipart/digest"][0]
print([p.get_payload(0)["Message-ID"] for p in dig.iter_parts()])
PY
check_eq "$(cat "$TMP/mime.txt")" "['multipart/mixed', 'text/plain', 'multipart/digest', 'message/rfc822', 'text/plain', 'message/rfc822', 'text/plain', 'text/plain']
['<hybrid-1@northshire.gov.uk>', '<hybrid-2@northshire.gov.uk>']" "mime"
out=$(cor digest set "$ann" --format html 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: digest set: --format is multipart, rfc1153 or mime, not 'html'" "bad format"

test_case "the schedule: a group's time across the spring clock change, a weekly digest"
q "DELETE FROM digests"
cor digest set "$ann" --format multipart >/dev/null
cor group set hr digest_time=07:00 >/dev/null
# 30 March 2025: the clocks go forward at 01:00 GMT; 07:00 is 06:00 UTC
out=$(CORRIDOR_NOW=2025-03-30T05:59:00Z cor digest send --group hr --queue-only)
check_eq "$(q "SELECT period FROM digests WHERE scope = 'hr'")" "2025-03-29" "before 07:00 BST"
out=$(CORRIDOR_NOW=2025-03-30T06:00:00Z cor digest send --group hr --queue-only)
check_eq "$(q "SELECT group_concat(period, ' ') FROM digests WHERE scope = 'hr'")" "2025-03-29 2025-03-30" "at 07:00 BST"
cor group set hr digest_day=wednesday digest_time=17:30 >/dev/null
out=$(CORRIDOR_NOW=2025-04-08T12:00:00Z cor digest send --group hr --queue-only)
check_eq "$(q "SELECT period FROM digests WHERE scope = 'hr' ORDER BY id DESC LIMIT 1")" "2025-04-02" "weekly: last Wednesday"
out=$(CORRIDOR_NOW=2025-04-09T16:29:00Z cor digest send --group hr --queue-only)
check_eq "$out" "digests: 0 queued, 0 with nothing new, 1 made before (1 person)" "not yet"
out=$(CORRIDOR_NOW=2025-04-09T16:30:00Z cor digest send --group hr --queue-only)
check_eq "$(q "SELECT period FROM digests WHERE scope = 'hr' ORDER BY id DESC LIMIT 1")" "2025-04-09" "17:30 BST"
check_eq "$(q "SELECT count(*) FROM digests WHERE scope = 'planning'")" 0 "--group hr only"

test_case "send --now: everything not yet had, whatever the schedule; at once again: nothing"
q "DELETE FROM digests"
export CORRIDOR_NOW=2025-04-09T18:00:00Z
out=$(cor digest send --now --queue-only)
check_eq "$out" "digests: 3 queued, 0 with nothing new, 0 made before (2 people)" "first"
out=$(cor digest send --now --queue-only)
check_eq "$out" "digests: 0 queued, 0 with nothing new, 3 made before (2 people)" "again, the same second"
out=$(CORRIDOR_NOW=2025-04-09T18:00:05Z cor digest send --now --queue-only)
check_eq "$out" "digests: 0 queued, 3 with nothing new, 0 made before (2 people)" "again"
check_eq "$(q "SELECT count(*) FROM digests")" 3 "no empty records"
unset CORRIDOR_NOW

test_case "digest send delivers through the relay, and a second run sends nothing"
. "$SRC/tests/lib-sink.sh"
trap 'sink_stop; rm -rf "$TMP"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chmod o+x "$TMP"  # smtp-sink runs as nobody
sink_start "$TMP/sink" "$port" || fail "smtp-sink"
q "DELETE FROM digests; DELETE FROM outbox_rcpt; DELETE FROM outbox"
out=$(CORRIDOR_NOW=2025-04-10T18:00:00Z cor digest send --now --relay "smtp://127.0.0.1:$port"); rc=$?
check_eq "$rc:$out" "0:digests: 3 queued, 0 with nothing new, 0 made before (2 people)
sent 3, deferred 0, failed 0, still queued 0" "first run"
sink_wait "$TMP/sink" 3 10 || { fail "the sink got $(sink_count "$TMP/sink")"; cor outbox list >&2; cat "$TMP/sink.log" >&2; }
check_eq "$(sink_rcpts "$TMP/sink" | sort | tr '\n' ' ')" "$ann $ann dana.price@northshire.gov.uk " "recipients"
check_eq "$(grep -l "^List-Id: Human resources <hr.lists.northshire.gov.uk>" "$TMP"/sink/* | wc -l)" 1 "hr's digest"
check_eq "$(sed -n 's/^X-Mail-Args: <\(.*\)>.*/\1/p' "$TMP"/sink/* | sort | tr '\n' ' ')" \
    "hr-bounces+ann.other=northshire.gov.uk@lists.northshire.gov.uk planning-bounces+ann.other=northshire.gov.uk@lists.northshire.gov.uk secret-bounces+dana.price=northshire.gov.uk@lists.northshire.gov.uk " \
    "VERP envelope senders"
out=$(CORRIDOR_NOW=2025-04-10T18:00:30Z cor digest send --now --relay "smtp://127.0.0.1:$port")
check_eq "$out" "digests: 0 queued, 3 with nothing new, 0 made before (2 people)
sent 0, deferred 0, failed 0, still queued 0" "second run"
sleep 0.3
check_eq "$(sink_count "$TMP/sink")" 3 "nothing more arrived"
sink_stop

test_case "SIGKILL in the middle of digest send: run again, everyone has exactly one digest"
q "DELETE FROM digests; DELETE FROM outbox_rcpt; DELETE FROM outbox"
q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
   INSERT INTO members (group_id, address, mode, added, token)
   SELECT (SELECT id FROM groups WHERE name = 'planning'), 'm' || i || '@northshire.gov.uk', 'digest',
          0, lower(hex(randomblob(16))) FROM n"
q "UPDATE members SET digest_from = 0"
export CORRIDOR_NOW=2025-04-10T07:00:00Z
# the binary itself in the background (not the cor function's subshell), so
# that the kill reaches it
"$CORRIDOR" --state "$TMP/state" digest send --queue-only >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(q "SELECT count(*) FROM digests" 2>/dev/null || echo 0)" -lt 50 ] && [ $i -lt 100 ]; do
    sleep 0.02; i=$((i + 1))
done
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
made=$(q "SELECT count(*) FROM digests")
[ "$made" -gt 0 ] && [ "$made" -lt 403 ] || fail "killed after $made digests: not in the middle"
echo "# report: killed after $made of 403 digests"
out=$(cor digest send --queue-only)
check_eq "$(q "SELECT count(*) || ' ' || count(DISTINCT address || scope) FROM digests WHERE state = 'queued'")" \
    "403 403" "one digest per person and group"
check_eq "$(q "SELECT count(*) FROM outbox_rcpt r JOIN outbox o ON o.id = r.outbox WHERE o.kind = 'digest'")" \
    403 "one outbox row each"
check_eq "$(q "SELECT count(*) FROM digests d LEFT JOIN outbox o ON o.id = d.outbox WHERE o.id IS NULL")" \
    0 "every record has its mail"
check_eq "$(cor digest send --queue-only)" "digests: 0 queued, 0 with nothing new, 403 made before (402 people)" "again"
unset CORRIDOR_NOW
q "DELETE FROM members WHERE address LIKE 'm%@northshire.gov.uk'; DELETE FROM digests WHERE address LIKE 'm%@northshire.gov.uk'"

test_case "the HTML parts in chromium: axe-core, 320 px reflow, link text (tests/browser/digest.mjs)"
B=$SRC/tests/browser
missing=
command -v node >/dev/null 2>&1 || missing="$missing node"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -f "$B/node_modules/axe-core/axe.min.js" ] || missing="$missing tests/browser/node_modules"
if [ -n "$missing" ]; then
    fail "missing:$missing — run 'make deps'"
else
    (cd "$B" && node digest.mjs "$TMP/planning.html" "$TMP/combined.html") >"$TMP/browser.out" 2>&1 ||
        { fail "digest.mjs"; sed 's/^/# /' "$TMP/browser.out" >&2; }
    check_eq "$(grep -c '^ok - ' "$TMP/browser.out")" 8 "checks passed"
fi

test_case "a group's digest records go with the group"
check_eq "$(q "SELECT count(*) FROM digests WHERE scope = 'hr'")" 1 "before"
cor group delete hr --yes >/dev/null || fail "group delete"
check_eq "$(q "SELECT count(*) FROM digests WHERE scope = 'hr'") $(q "SELECT count(*) FROM digests")" "0 2" "after"

test_case "threads come in the order they were written, not the order they were delivered"
cor group create order --title Order >/dev/null
cor member add order "$ann" --mode digest >/dev/null
mk() {  # ID DATE SUBJECT
    printf 'From: Cat Example <cat@northshire.gov.uk>\nTo: order@lists.northshire.gov.uk\nMessage-ID: <%s@northshire.gov.uk>\nDate: %s\nSubject: %s\n\nAbout %s.\n' \
        "$1" "$2" "$3" "$3"
}
# the later post is delivered first (Postfix delivers in parallel)
mk late "Mon, 20 Jul 2026 15:00:00 +0100" "Afternoon thread" | cor deliver --group order || fail "deliver late"
mk early "Mon, 20 Jul 2026 09:00:00 +0100" "Morning thread" | cor deliver --group order || fail "deliver early"
CORRIDOR_NOW=2026-07-21T07:00:00Z cor digest preview --member "$ann" --group order >"$TMP/order.txt" \
    || fail "preview"
check_eq "$(grep -o '^New conversation: .*' "$TMP/order.txt" | tr '\n' '|')" \
    "New conversation: Morning thread|New conversation: Afternoon thread|" "thread order"

test_done
