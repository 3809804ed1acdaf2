#!/bin/sh
# T640 — moderation by email with real parts: a post to a group with
# moderation=all goes into a real Postfix, which delivers it to corridor
# over LMTP; corridor holds it (250 "held") and sends the moderators a
# request (token in the subject, the start of the post in the text) through
# libcurl to Postfix's smtp-sink.  A moderator's reply, written as a mail
# client writes it and sent through Postfix, approves (the post is stored
# once and the members get their copies) or rejects it (the author is told
# why).  A member who is no moderator is refused and the post stays held; a
# second approval with the same token does nothing; `corridor held approve`
# still works and queues the copies.
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
trap 'serve_kill; sink_stop; postfix_stop "$PF"; [ -n "${KEEP_LOG:-}" ] && cp "$TMP/serve.log" "$KEEP_LOG" && cp "$TMP/sink.log" "$KEEP_LOG.sink" 2>/dev/null; rm -rf "$TMP"' EXIT

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

cor group create planning --title "Planning team" --moderator mod@council.test >/dev/null || fail "group create"
cor group set planning moderation=all >/dev/null || fail "moderation=all"
for u in ann bob cat; do cor member add planning "$u@council.test" --name "${u} Example" >/dev/null; done
sink_start "$SINK" "$SINK_PORT" || fail "smtp-sink"
serve_start --no-archive || fail "corridor did not start"
postfix_start "$PF" || fail "postfix did not start"
postfix_reload "$PF"

# submit FROM TO FILE
submit() {
    $SUBMIT --port "$SMTP_PORT" --from "$1" --to "$2" "$3" >"$TMP/submit.out" 2>&1 &&
        grep -q '^OK' "$TMP/submit.out" || fail "submit $3: $(cat "$TMP/submit.out")"
}
settle() {
    postfix_wait_empty "$PF" 30 || fail "postfix queue not empty"
    wait_for 30 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM control_mail WHERE status = 'new'\") = 0 ]" ||
        fail "control mail not handled"
    wait_for 30 sh -c "[ \$(sqlite3 '$db' 'SELECT count(*) FROM outbox_rcpt') = 0 ]" ||
        fail "outbox not empty: $(cor outbox list | tail -3)"
    sleep 0.3
}
# post N FROM SUBJECT TEXT : a post to planning@
post() {
    printf 'From: %s\nTo: planning@lists.test\nSubject: %s\nMessage-ID: <%s@council.test>\nDate: Sun, 22 Nov 2026 10:00:00 +0000\n\n%s\n' \
        "$2" "$3" "$1" "$4" >"$TMP/$1.eml"
    submit "$(echo "$2" | sed 's/.*<\(.*\)>.*/\1/')" planning@lists.test "$TMP/$1.eml"
}
# request SUBJECT : the file of the moderation request at mod@council.test
# for the post with SUBJECT
request() {
    for _f in $(grep -l -i -x "X-Rcpt-Args: <mod@council.test>" "$SINK"/* 2>/dev/null); do
        case $($HDR "$_f" Subject) in
        "Subject: approve "*": held post to planning: $1"*) echo "$_f"; return 0 ;;
        esac
    done
    return 1
}
# answer FILE FROM N FIRSTLINES : a reply to the request FILE as a mail
# client writes it (Re: subject, In-Reply-To, References, the request quoted
# under an attribution), FIRSTLINES above it; sent through Postfix to where
# Reply-To or From points
answer() {
    [ -n "$1" ] || { fail "no request to answer"; return 1; }
    _subj=$($HDR "$1" Subject | sed 's/^Subject: //')
    _mid=$($HDR "$1" Message-ID | sed 's/^Message-ID: //')
    _to=$($HDR "$1" From | sed 's/.*<\(.*\)>.*/\1/')
    {
        printf 'From: %s\nTo: %s\nSubject: Re: %s\nMessage-ID: <answer-%s@council.test>\n' "$2" "$_to" "$_subj" "$3"
        printf 'In-Reply-To: %s\nReferences: %s\nDate: Sun, 22 Nov 2026 11:00:00 +0000\n' "$_mid" "$_mid"
        printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n\n' "$4"
        printf 'On Sun, 22 Nov 2026 at 10:00, planning (corridor) <%s> wrote:\n' "$_to"
        $HDR "$1" --body | sed 's/^/> /'
    } >"$TMP/answer-$3.eml"
    submit "$(echo "$2" | sed 's/.*<\(.*\)>.*/\1/')" "$_to" "$TMP/answer-$3.eml"
}
held_status() { q "SELECT status FROM held WHERE message_id = '$1@council.test'"; }
stored() { q "SELECT count(*) FROM messages WHERE message_id = '$1@council.test'"; }
copies() { grep -l -x "Message-ID: <$1@council.test>" "$SINK"/* 2>/dev/null | xargs -r sed -n 's/^X-Rcpt-Args: <\(.*\)>.*/\1/p' | sort | tr '\n' ' '; }

test_case "a post is held (250 held) and the moderator gets the request with the token and the post's start"
post p1 "Ann Example <ann@council.test>" "Road closure on the High Street" "The High Street closes on Monday for resurfacing.
Buses will be diverted along Station Road."
settle
reply=$(postfix_log_reply "$PF" planning@lists.test | tail -1)
case $reply in *"250 2.0.0"*held*) ;; *) fail "LMTP reply: $reply" ;; esac
check_eq "$(held_status p1)" held "held"
check_eq "$(stored p1)" 0 "not posted"
r1=$(request "Road closure") || fail "no request at the sink"
if [ -n "$r1" ]; then
    subj=$($HDR "$r1" Subject)
    tok1=$(printf '%s\n' "$subj" | grep -o '[0-9a-f]\{32\}')
    [ -n "$tok1" ] || fail "no token in the subject: $subj"
    check_eq "$(q "SELECT kind FROM tokens WHERE token = '$tok1'")" moderate "a moderation token"
    case $subj in *"Road closure on the High Street"*) ;; *) fail "subject without the post's: $subj" ;; esac
    body=$($HDR "$r1" --body)
    case $body in *"The High Street closes on Monday"*"Station Road"*) ;; *) fail "no start of the post: $body" ;; esac
    check_eq "$($HDR "$r1" Auto-Submitted)" "Auto-Submitted: auto-generated" "auto-generated"
fi
check_eq "$(copies p1)" "" "no copies yet"

test_case "a member who is no moderator replying with the token is refused; the post stays held"
answer "$r1" "Cat Example <cat@council.test>" cat1 "approve"
settle
check_eq "$(held_status p1)" held "still held"
check_eq "$(stored p1)" 0 "not posted"
check_eq "$(q "SELECT count(*) FROM tokens WHERE token = '$tok1'")" 1 "the token still works"
sink_file "$SINK" cat@council.test "Only the moderators" >/dev/null || fail "cat not told"

test_case "an outsider replying with the token is refused too"
answer "$r1" "Mallory <mallory@evil.test>" mallory1 "approve"
settle
check_eq "$(held_status p1)" held "still held"
check_eq "$(q "SELECT count(*) FROM tokens WHERE token = '$tok1'")" 1 "the token still works"

test_case "the moderator's 'approve' reply through Postfix posts it once and the members get copies"
answer "$r1" "Mod Erator <mod@council.test>" mod1 "approve"
settle
check_eq "$(held_status p1)" approved "approved"
check_eq "$(q "SELECT decided_by FROM held WHERE message_id = 'p1@council.test'")" "mod@council.test (email)" "decided by"
check_eq "$(stored p1)" 1 "stored once"
check_eq "$(copies p1)" "bob@council.test cat@council.test mod@council.test " "copies (not to the author)"
sink_file "$SINK" mod@council.test "Approved:" >/dev/null || fail "the moderator is not told"
wait_for 20 sh -c "'$CORRIDOR' --state '$TMP/state' search --group planning resurfacing | grep -q 'p1@council.test'" ||
    fail "the approved post is not indexed: $(cor search --group planning resurfacing)"

test_case "a second approval with the same token does nothing"
answer "$r1" "Mod Erator <mod@council.test>" mod2 "approve"
settle
check_eq "$(stored p1)" 1 "stored once"
check_eq "$(copies p1)" "bob@council.test cat@council.test mod@council.test " "no more copies"
sink_file "$SINK" mod@council.test "decided already" >/dev/null || fail "no answer to the second approval"

test_case "'reject' with a reason on the next line: rejected, the author is told why"
post p2 "Bob Example <bob@council.test>" "Car boot sale" "Selling my old bike, any offers?"
settle
r2=$(request "Car boot sale") || fail "no request for p2"
answer "$r2" "Mod Erator <mod@council.test>" mod3 "reject
This group is for planning matters only."
settle
check_eq "$(held_status p2)" rejected "rejected"
check_eq "$(stored p2)" 0 "not posted"
check_eq "$(copies p2)" "" "no copies"
f=$(sink_file "$SINK" bob@council.test "not accepted") || fail "the author is not told"
if [ -n "$f" ]; then
    $HDR "$f" --body | grep -q "This group is for planning matters only." || fail "no reason: $($HDR "$f" --body)"
    check_eq "$($HDR "$f" In-Reply-To Auto-Submitted)" "In-Reply-To: <p2@council.test>
Auto-Submitted: auto-generated" "notice headers"
    $HDR "$f" --body | grep -q "^On Sun" && fail "the quoted request's attribution in the reason"
fi
check_eq "$(q "SELECT note FROM held WHERE message_id = 'p2@council.test'")" \
    "This group is for planning matters only." "reason recorded"

test_case "'reject: reason' on one line; the reason is what follows the word"
post p3 "Cat Example <cat@council.test>" "Lost cat" "Has anyone seen a ginger cat?"
settle
r3=$(request "Lost cat") || fail "no request for p3"
answer "$r3" "Mod Erator <mod@council.test>" mod4 "Reject: not for this group, sorry."
settle
check_eq "$(held_status p3)" rejected "rejected"
check_eq "$(q "SELECT note FROM held WHERE message_id = 'p3@council.test'")" "not for this group, sorry." "reason"

test_case "a reply whose text mentions a command word is still an approval"
post p4 "Cat Example <cat@council.test>" "Consultation meeting" "The consultation meeting is on Tuesday."
settle
r4=$(request "Consultation meeting") || fail "no request for p4"
answer "$r4" "Mod Erator <mod@council.test>" mod5 "Fine by me.
Leave the room booking to me."
settle
check_eq "$(held_status p4)" approved "approved"
check_eq "$(q "SELECT count(*) FROM members WHERE address = 'mod@council.test'")" 1 "the moderator is still a member"
check_eq "$(copies p4)" "ann@council.test bob@council.test mod@council.test " "copies"

test_case "corridor held approve still works and queues the copies"
post p5 "Ann Example <ann@council.test>" "Minutes" "The minutes of the last meeting."
settle
check_eq "$(held_status p5)" held "held"
id=$(q "SELECT id FROM held WHERE message_id = 'p5@council.test'")
cor held approve "$id" >/dev/null || fail "held approve"
check_eq "$(q "SELECT count(*) FROM outbox_rcpt")" 3 "copies queued"
settle
check_eq "$(stored p5)" 1 "stored once"
check_eq "$(copies p5)" "bob@council.test cat@council.test mod@council.test " "copies"
r5=$(request "Minutes")
if [ -n "$r5" ]; then
    answer "$r5" "Mod Erator <mod@council.test>" mod6 "approve"
    settle
    check_eq "$(stored p5)" 1 "still stored once"
    check_eq "$(copies p5)" "bob@council.test cat@council.test mod@council.test " "no more copies"
fi

serve_stop
test_done
