#!/bin/sh
# T620 — mail commands end to end with real parts: commands go into a real
# Postfix, which delivers them to corridor over LMTP (GROUP-request@,
# GROUP-join@, GROUP-leave@); corridor's replies go out through libcurl to
# Postfix's smtp-sink, which keeps them.  Checked: every reply is marked
# auto-generated, comes from the null sender and answers the request
# (In-Reply-To); a staff address joins at once, an outside address only
# after replying to the confirmation (token) as a mail client would; a
# wrong or used token does nothing; -join@ and -leave@ with an empty body;
# mode, leave (an opt-out), who (owners and moderators only); no reply to
# an auto-reply, an Outlook out-of-office or the null sender; help for
# anything that is not a command; a private group takes no email joins.
# KEEP_LOG=FILE keeps the daemon's log there.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
. "$SRC/tests/lib-sink.sh"
PF=$TMP/pf
MAPS=$TMP/maps
SINK=$TMP/sink
SUBMIT="python3 $SRC/tests/tools/smtp_submit.py"
HDR="python3 $SRC/tests/tools/mailhdr.py"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
trap 'serve_kill; sink_stop; postfix_stop "$PF"; [ -n "${KEEP_LOG:-}" ] && cp "$TMP/serve.log" "$KEEP_LOG"; rm -rf "$TMP"' EXIT

SMTP_PORT=$(postfix_free_port)
SINK_PORT=$(postfix_free_port)
postfix_setup "$PF" "$SMTP_PORT" "$MAPS" >/dev/null || { echo "Bail out! postfix_setup"; exit 1; }

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
CONF

cor group create planning --title "Planning team" --owner boss@council.test >/dev/null || fail "group create"
cor member add planning ann@council.test --name "Ann Example" >/dev/null
cor group create hr --title "HR casework" --visibility private --owner boss@council.test >/dev/null ||
    fail "group create hr"
cor group create intranet --title "Staff news" --visibility staff >/dev/null || fail "group create intranet"
sink_start "$SINK" "$SINK_PORT" || fail "smtp-sink"
serve_start --no-archive || fail "corridor did not start"
postfix_start "$PF" || fail "postfix did not start"
postfix_reload "$PF"

n=0
# send FROM TO [SUBJECT [BODY [HEADERS]]] : one message through Postfix;
# prints its Message-ID (without <>).  FROM "" is the null sender (the
# From: header then says MAILER-DAEMON).
send() {
    n=$((n + 1))
    _mid="cmd-$n.$$@t620.test"
    _hfrom=${1:-nobody@t620.test}
    {
        printf 'From: %s\nTo: %s\n' "$_hfrom" "$2"
        [ -n "${3:-}" ] && printf 'Subject: %s\n' "$3"
        printf 'Message-ID: <%s>\nDate: Sun, 22 Nov 2026 10:00:00 +0000\n' "$_mid"
        [ -n "${5:-}" ] && printf '%s\n' "$5"
        printf '\n'
        [ -n "${4:-}" ] && printf '%s\n' "$4"
    } >"$TMP/m$n.eml"
    $SUBMIT --port "$SMTP_PORT" --from "$1" --to "$2" "$TMP/m$n.eml" >"$TMP/submit.out" 2>&1 ||
        fail "submit $n: $(cat "$TMP/submit.out")"
    grep -q '^OK' "$TMP/submit.out" || fail "submit $n: $(cat "$TMP/submit.out")"
    echo "$_mid"
}
# settle : Postfix has delivered everything, corridor has handled every
# command and sent every reply
settle() {
    postfix_wait_empty "$PF" 30 || fail "postfix queue not empty"
    wait_for 30 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM control_mail WHERE status = 'new'\") = 0 ]" ||
        fail "control mail not handled"
    wait_for 30 sh -c "[ \$(sqlite3 '$db' 'SELECT count(*) FROM outbox_rcpt') = 0 ]" ||
        fail "replies not sent: $(cor outbox list | tail -3)"
    sleep 0.3
}
# reply_to ADDRESS PATTERN : the file of the reply to ADDRESS whose text has PATTERN
reply_to() {
    sink_file "$SINK" "$1" "$2"
}
replies_to() {
    sink_rcpts "$SINK" | grep -c -i -x "$1"
}
member() { q "SELECT mode || ',' || source FROM members WHERE group_id = (SELECT id FROM groups WHERE name = '${2:-planning}') AND address = '$1'"; }

test_case "help to GROUP-request@: the reply is auto-generated, from the null sender, answers the request"
mid=$(send ann@council.test planning-request@lists.test help)
settle
f=$(reply_to ann@council.test "planning-join@lists.test") || fail "no help reply"
if [ -n "$f" ]; then
    check_eq "$(sed -n 's/^X-Mail-Args: \(<[^>]*>\).*/\1/p' "$f")" "<>" "null envelope sender"
    check_eq "$($HDR "$f" Auto-Submitted In-Reply-To Subject From)" "Auto-Submitted: auto-generated
In-Reply-To: <$mid>
Subject: Re: help
From: \"planning (corridor)\" <planning-request@lists.test>" "reply headers"
    $HDR "$f" --body | grep -q "To post, write to planning@lists.test" || fail "help text: $($HDR "$f" --body)"
fi

test_case "join from a staff address: a member at once (source email), welcomed"
send bob@council.test planning-request@lists.test join >/dev/null
settle
check_eq "$(member bob@council.test)" "each,email" "bob's membership"
cor member list planning | grep -q "^bob@council.test" || fail "member list: $(cor member list planning)"
f=$(reply_to bob@council.test "You have joined") || fail "no welcome"
[ -n "$f" ] && { $HDR "$f" --body | grep -q "https://lists.council.test/u/$(q "SELECT token FROM members WHERE address = 'bob@council.test'")" ||
    fail "welcome without the member's leave link"; }

test_case "join from outside: a confirmation with a token, not a member yet"
join_mid=$(send "Pat Partner <pat@agency.test>" planning-request@lists.test "" join)
settle
check_eq "$(member pat@agency.test)" "" "not a member before confirming"
cf=$(reply_to pat@agency.test "To confirm") || fail "no confirmation"
csubj=$($HDR "$cf" Subject | sed 's/^Subject: //')
token=$(printf '%s\n' "$csubj" | grep -o '[0-9a-f]\{32\}')
[ -n "$token" ] || fail "no token in the subject: $csubj"
check_eq "$(q "SELECT kind || ',' || address || ',' || (expires - created) FROM tokens WHERE token = '$token'")" \
    "join,pat@agency.test,604800" "token stored, valid for [commands] confirm_ttl (7d)"
$HDR "$cf" --body | grep -q "expires in 7 days" || fail "confirmation text: $($HDR "$cf" --body)"
check_eq "$($HDR "$cf" In-Reply-To Auto-Submitted)" "In-Reply-To: <$join_mid>
Auto-Submitted: auto-generated" "confirmation headers"
check_eq "$(sed -n 's/^X-Mail-Args: \(<[^>]*>\).*/\1/p' "$cf")" "<>" "null envelope sender"

test_case "a wrong token does nothing"
send pat@agency.test planning-request@lists.test "Re: confirm 0123456789abcdef0123456789abcdef: join planning" >/dev/null
settle
check_eq "$(member pat@agency.test)" "" "still not a member"
reply_to pat@agency.test "unknown, used already" >/dev/null || fail "no answer to the wrong token"

test_case "the right token from another address does nothing and stays usable"
send mallory@evil.test planning-request@lists.test "Re: $csubj" >/dev/null
settle
check_eq "$(member mallory@evil.test)$(member pat@agency.test)" "" "nobody joined"
check_eq "$(q "SELECT count(*) FROM tokens WHERE token = '$token'")" 1 "the token is still there"
reply_to mallory@evil.test "unknown, used already" >/dev/null || fail "mallory not answered"

test_case "replying to the confirmation as a mail client makes the outside address a member"
cmid=$($HDR "$cf" Message-ID | sed 's/^Message-ID: //')
body=$($HDR "$cf" --body | sed 's/^/> /')
send "Pat Partner <pat@agency.test>" planning-request@lists.test "Re: $csubj" "Yes please.

On Sun, 22 Nov 2026 at 10:00, planning (corridor) wrote:
$body" "In-Reply-To: $cmid
References: $cmid" >/dev/null
settle
check_eq "$(member pat@agency.test)" "each,email" "pat's membership"
check_eq "$(q "SELECT count(*) FROM tokens WHERE token = '$token'")" 0 "the token is used up"
reply_to pat@agency.test "You have joined" >/dev/null || fail "no welcome after confirming"

test_case "the used token does nothing a second time"
cor member remove planning pat@agency.test >/dev/null
send pat@agency.test planning-request@lists.test "Re: $csubj" >/dev/null
settle
check_eq "$(member pat@agency.test)" "" "not a member again"
check_eq "$(grep -l -i -x "X-Rcpt-Args: <pat@agency.test>" "$SINK"/* | xargs grep -l "unknown, used already" | wc -l)" 2 \
    "a second 'unknown' answer"

test_case "an Outlook reply (unquoted original under the header block) to a confirmation"
send ivy@agency.test planning-request@lists.test "join" >/dev/null
settle
cf2=$(reply_to ivy@agency.test "To confirm") || fail "no confirmation for ivy"
csubj2=$($HDR "$cf2" Subject | sed 's/^Subject: //')
send "Ivy <ivy@agency.test>" planning-request@lists.test "RE: $csubj2" "Please add me.

________________________________
From: planning (corridor) <planning-request@lists.test>
Sent: 22 November 2026 10:00
To: ivy@agency.test
Subject: $csubj2

$($HDR "$cf2" --body)" "Thread-Topic: $csubj2" >/dev/null
settle
check_eq "$(member ivy@agency.test)" "each,email" "ivy joined"

test_case "a command word in an ordinary sentence is no command; 'subscribe me' is one"
send jo@council.test planning-request@lists.test "" "Join us for the launch on Monday.
Leave your coat at the door." >/dev/null
settle
check_eq "$(member jo@council.test)" "" "jo did not join"
reply_to jo@council.test "did not find a command" >/dev/null || fail "no help for jo"
send kim@council.test planning-request@lists.test "Hello" "Hi,

subscribe me

Kim" >/dev/null
settle
check_eq "$(member kim@council.test)" "each,email" "kim joined"

test_case "GROUP-join@ and GROUP-leave@ with an empty body"
send cat@council.test planning-join@lists.test >/dev/null
settle
check_eq "$(member cat@council.test)" "each,email" "joined by -join@"
send cat@council.test planning-leave@lists.test >/dev/null
settle
check_eq "$(member cat@council.test)" "" "left by -leave@"
check_eq "$(q "SELECT how FROM optouts WHERE address = 'cat@council.test'")" email "opt-out recorded"
reply_to cat@council.test "You have left" >/dev/null || fail "no answer to -leave@"

test_case "a mail client's automatic unsubscribe to GROUP-leave@ is carried out, not answered"
send dog@council.test planning-join@lists.test >/dev/null
settle
check_eq "$(member dog@council.test)" "each,email" "joined"
before=$(replies_to dog@council.test)
send dog@council.test planning-leave@lists.test "unsubscribe" "" "Auto-Submitted: auto-generated" >/dev/null
settle
check_eq "$(member dog@council.test)" "" "left"
check_eq "$(replies_to dog@council.test)" "$before" "no reply to an automatic message"

test_case "mode digest changes the mode"
send bob@council.test planning-request@lists.test "mode digest" >/dev/null
settle
check_eq "$(member bob@council.test)" "digest,email" "bob's mode"
reply_to bob@council.test "now digest" >/dev/null || fail "no answer to mode"

test_case "leave removes the member and records an opt-out (how = email)"
send bob@council.test planning-request@lists.test "" "leave" >/dev/null
settle
check_eq "$(member bob@council.test)" "" "bob left"
check_eq "$(q "SELECT how FROM optouts WHERE address = 'bob@council.test' AND group_id = (SELECT id FROM groups WHERE name = 'planning')")" \
    email "opt-out"

test_case "'Unsubscribe.' from someone who is no member: told so, and the opt-out stands"
send lee@council.test planning-request@lists.test "Unsubscribe." >/dev/null
settle
check_eq "$(q "SELECT how FROM optouts WHERE address = 'lee@council.test'")" email "opt-out"
reply_to lee@council.test "is not a member of planning" >/dev/null || fail "lee not answered"

test_case "who answers the member list only to an owner or moderator"
send ann@council.test planning-request@lists.test who >/dev/null
settle
f=$(reply_to ann@council.test "Only the owners") || fail "a member was not refused"
[ -n "$f" ] && $HDR "$f" --body | grep -q "pat@\|boss@" && fail "a member saw the list"
send boss@council.test planning-request@lists.test who >/dev/null
settle
f=$(reply_to boss@council.test "Members of planning") || fail "no list for the owner"
[ -n "$f" ] && { $HDR "$f" --body | grep -q "ann@council.test" || fail "list without ann: $($HDR "$f" --body)"; }

test_case "no reply to an auto-reply, an Outlook out-of-office, or the null sender"
before=$(sink_count "$SINK")
send dan@council.test planning-request@lists.test "Re: help" "I am away until Monday." "Auto-Submitted: auto-replied" >/dev/null
# Outlook's out-of-office: the subject says it (the reply to a "help" mail)
send eve@council.test planning-request@lists.test "Automatic reply: help" "I am out of the office until Monday." \
    "Thread-Topic: help
Thread-Index: AQHbPq3mAAAAAAAAAAAAAAAAAAAAAA==
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
X-Auto-Response-Suppress: All
Content-Language: en-GB" >/dev/null
# an Outlook rule's reply: only the Exchange header says it
send hal@council.test planning-request@lists.test "RE: help" "Thanks, I will read this later." \
    "X-MS-Exchange-Inbox-Rules-Loop: hal@council.test" >/dev/null
send "" planning-request@lists.test help >/dev/null
settle
check_eq "$(sink_count "$SINK")" "$before" "no reply sent"
check_eq "$(replies_to dan@council.test)$(replies_to eve@council.test)$(replies_to hal@council.test)" "000" "no replies"
check_eq "$(q "SELECT count(*) FROM control_mail WHERE status = 'done'")" "$(q "SELECT count(*) FROM control_mail")" "all handled"

test_case "a message that is no command gets the help text"
send fay@council.test planning-request@lists.test "Question" "Could you tell me how this list works?

Thanks, Fay" >/dev/null
settle
f=$(reply_to fay@council.test "did not find a command") || fail "no help for a non-command"
[ -n "$f" ] && { $HDR "$f" --body | grep -q "mode digest" || fail "help text missing"; }
check_eq "$(member fay@council.test)" "" "fay not joined"

test_case "mail to GROUP-owner@ reaches the owners as corridor's own message, the original attached"
send pat@agency.test planning-owner@lists.test "Question about the group" "Who runs this group?" >/dev/null
settle
f=$(reply_to boss@council.test "Question about the group") || fail "the owner got nothing"
check_eq "$($HDR "$f" Subject Auto-Submitted Reply-To)" "Subject: For the owners of planning: Question about the group
Auto-Submitted: auto-generated
Reply-To: pat@agency.test" "the notice"
grep -q '^Content-Type: message/rfc822' "$f" || fail "the original is not attached"
grep -q '^Who runs this group?' "$f" || fail "the original's text is not there"
before=$(replies_to boss@council.test)
send pat@agency.test planning-owner@lists.test "Automatic reply: Question" "I am away." "Auto-Submitted: auto-replied" >/dev/null
settle
check_eq "$(replies_to boss@council.test)" "$before" "an auto-reply to -owner@ is not passed on"

test_case "a private group refuses email joins"
send gil@council.test hr-request@lists.test join >/dev/null
send gil@council.test hr-join@lists.test >/dev/null
settle
check_eq "$(member gil@council.test hr)" "" "not a member of hr"
check_eq "$(grep -l -i -x "X-Rcpt-Args: <gil@council.test>" "$SINK"/* | xargs grep -l "private group" | wc -l)" 2 "told twice"

test_case "a staff-only group refuses joins from outside the staff domains"
send zed@agency.test intranet-request@lists.test join >/dev/null
settle
check_eq "$(member zed@agency.test intranet)" "" "not a member"
check_eq "$(q "SELECT count(*) FROM tokens WHERE address = 'zed@agency.test'")" 0 "no confirmation offered"
reply_to zed@agency.test "open to staff only" >/dev/null || fail "not told why"
send hal@council.test intranet-request@lists.test join >/dev/null
settle
check_eq "$(member hal@council.test intranet)" "each,email" "a staff address joins"

test_case "digest combined / separate / format: a member's digest choices by mail"
send hal@council.test intranet-request@lists.test "digest combined" >/dev/null
settle
check_eq "$(q "SELECT combined || ',' || format FROM digest_prefs WHERE address = 'hal@council.test'")" "1,multipart" "combined"
reply_to hal@council.test "one digest a day for all your groups" >/dev/null || fail "no answer to digest combined"
send hal@council.test intranet-request@lists.test "" "digest format rfc1153" >/dev/null
settle
check_eq "$(q "SELECT combined || ',' || format FROM digest_prefs WHERE address = 'hal@council.test'")" "1,rfc1153" "format"
reply_to hal@council.test "RFC 1153" >/dev/null || fail "no answer to digest format"
send hal@council.test intranet-request@lists.test "digest sideways" >/dev/null
settle
check_eq "$(q "SELECT combined || ',' || format FROM digest_prefs WHERE address = 'hal@council.test'")" "1,rfc1153" "unchanged"
reply_to hal@council.test 'Send "digest combined"' >/dev/null || fail "no usage answer"
send nobody@agency.test intranet-request@lists.test "digest combined" >/dev/null
settle
check_eq "$(q "SELECT count(*) FROM digest_prefs WHERE address = 'nobody@agency.test'")" 0 "a non-member changes nothing"

serve_stop
test_done
