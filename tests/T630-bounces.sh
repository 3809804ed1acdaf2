#!/bin/sh
# T630 — bounce handling with real parts.  Every message of the corpus
# bounces/bounceparser/msgs/ (126 real bounces, auto-replies and spams) goes
# into a real Postfix from the null sender, addressed as a bounce of one of
# our copies comes back: GROUP-bounces+MEMBER=DOMAIN@ (VERP), a member of
# its own per file.  Postfix delivers them to corridor over LMTP and the
# outbound worker's control handler reads them.  Checked, file by file: the
# class the daemon counted (the member's bounce event; none for ignored) is
# the one tests/data/bounces/expected.tsv gives (the table the unit test
# test-bounce checks the parser against); reported as
# "# report: bounces hard=N soft=N ignored=N".  Then: `corridor bounces`
# shows the scores; a member crossing [bounces] threshold is disabled and
# the owners are told (at the sink), and `corridor member set --enable`
# brings them back; auto-replies sent to -bounces never count; a 550 from
# the relay at send time counts as a hard bounce with source 'smtp'.
# KEEP_LOG=FILE keeps the daemon's log there.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
. "$SRC/tests/lib-sink.sh"
PF=$TMP/pf
MAPS=$TMP/maps
SINK=$TMP/sink
MSGS=$CORPORA/bounces/bounceparser/msgs
EXPECTED=$SRC/tests/data/bounces/expected.tsv
SUBMIT="python3 $SRC/tests/tools/smtp_submit.py"
HDR="python3 $SRC/tests/tools/mailhdr.py"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
REFUSE_PID=
trap 'serve_kill; sink_stop; [ -n "$REFUSE_PID" ] && kill "$REFUSE_PID"; postfix_stop "$PF"; [ -n "${KEEP_LOG:-}" ] && cp "$TMP/serve.log" "$KEEP_LOG"; rm -rf "$TMP"' EXIT

[ -d "$MSGS" ] || { echo "Bail out! no corpus at $MSGS"; exit 1; }
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
[bounces]
threshold = 3
CONF

# the corpus, one member per file: m001@example.net for the first file...
ls "$MSGS" | sort >"$TMP/files"
cor group create corpus --owner boss@council.test >/dev/null || fail "group create corpus"
{
    echo "BEGIN;"
    i=0
    while read -r f; do
        i=$((i + 1))
        printf "INSERT INTO members (group_id, address, added, token) VALUES ((SELECT id FROM groups WHERE name = 'corpus'), 'm%03d@example.net', 0, lower(hex(randomblob(16))));\n" $i
    done <"$TMP/files"
    echo "COMMIT;"
} | sqlite3 "$db"
cor group create planning --title "Planning team" --owner boss@council.test >/dev/null || fail "group create"
for a in ann@council.test flaky@example.net gone@example.net; do cor member add planning "$a" >/dev/null; done
sink_start "$SINK" "$SINK_PORT" || fail "smtp-sink"
serve_start --no-archive || fail "corridor did not start"
postfix_start "$PF" || fail "postfix did not start"
postfix_reload "$PF"

settle() {
    postfix_wait_empty "$PF" 60 || fail "postfix queue not empty"
    wait_for 60 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM control_mail WHERE status = 'new'\") = 0 ]" ||
        fail "control mail not handled"
    wait_for 30 sh -c "[ \$(sqlite3 '$db' 'SELECT count(*) FROM outbox_rcpt') = 0 ]" ||
        fail "outbox not empty: $(cor outbox list | tail -3)"
    sleep 0.3
}
# bounce FILE VERP-ADDRESS : FILE through Postfix from the null sender
bounce() {
    $SUBMIT --port "$SMTP_PORT" --from "" --to "planning-bounces+$2@lists.test" "$1" >"$TMP/submit.out" 2>&1 &&
        grep -q '^OK' "$TMP/submit.out" || fail "submit $1: $(cat "$TMP/submit.out")"
}
events() { q "SELECT count(*) FROM bounce_events WHERE address = '$1'"; }
status() { q "SELECT status FROM members WHERE group_id = (SELECT id FROM groups WHERE name = 'planning') AND address = '$1'"; }

test_case "every message of the corpus through Postfix to -bounces+VERP: the daemon's classes are the table's"
start=$(date +%s)
# One SMTP session, each file to its own member's VERP address, from the
# null sender.  Bytes as in the file but for line ends (CRLF); a leading
# mbox "From " line is dropped, as a delivery agent would.
python3 - "$SMTP_PORT" "$MSGS" "$TMP/files" >"$TMP/sent.out" 2>&1 <<'PY' || fail "sending the corpus: $(tail -3 "$TMP/sent.out")"
import re, smtplib, sys
port, msgs, files = int(sys.argv[1]), sys.argv[2], open(sys.argv[3]).read().split()
s = smtplib.SMTP('127.0.0.1', port, timeout=60)
s.ehlo()
bad = 0
for i, name in enumerate(files, 1):
    data = open(msgs + '/' + name, 'rb').read()
    if data.startswith(b'From '):
        data = data[data.index(b'\n') + 1:]
    data = re.sub(rb'(?<!\r)\n', b'\r\n', data)
    opts = ['BODY=8BITMIME'] if re.search(rb'[\x80-\xff]', data) else []
    rcpt = 'corpus-bounces+m%03d=example.net@lists.test' % i
    try:
        s.sendmail('', [rcpt], data, mail_options=opts)
    except smtplib.SMTPException as e:
        print('REFUSED', name, e)
        bad += 1
s.quit()
print('sent', len(files) - bad)
sys.exit(1 if bad else 0)
PY
settle
echo "# corpus through Postfix and corridor in $(($(date +%s) - start)) s"
check_eq "$(q "SELECT count(*) FROM control_mail WHERE kind = 'bounces'")" "$(wc -l <"$TMP/files")" "every file reached corridor"
# the daemon's class for each file: its member's event, or ignored
q "SELECT substr(address, 2, 3) || ' ' || class FROM bounce_events WHERE group_id = (SELECT id FROM groups WHERE name = 'corpus')" >"$TMP/events"
hard=0 soft=0 ignored=0 i=0 wrong=0
while read -r f; do
    i=$((i + 1))
    n=$(printf '%03d' $i)
    got=$(awk -v n="$n" '$1 == n { print $2 }' "$TMP/events" | tr '\n' ' ' | sed 's/ $//')
    [ -n "$got" ] || got=ignored
    case $got in hard) hard=$((hard + 1)) ;; soft) soft=$((soft + 1)) ;; ignored) ignored=$((ignored + 1)) ;; esac
    want=$(awk -F'\t' -v f="$f" '$1 == f { print $2 }' "$EXPECTED")
    if [ "$got" != "$want" ]; then
        echo "# $f: expected $want, the daemon counted $got" >&2
        wrong=$((wrong + 1))
    fi
done <"$TMP/files"
echo "# report: bounces hard=$hard soft=$soft ignored=$ignored (through Postfix and corridor; the parser's table: $(cut -f2 "$EXPECTED" | grep -c '^hard') hard, $(cut -f2 "$EXPECTED" | grep -c '^soft') soft, $(cut -f2 "$EXPECTED" | grep -c '^ignored') ignored)"
check_eq "$wrong" 0 "files counted otherwise than the table says"
check_eq "$(q "SELECT count(*) FROM bounce_events WHERE source = 'dsn'")" $((hard + soft)) "one event per counted bounce"
check_eq "$(q "SELECT count(*) FROM members WHERE status <> 'enabled'")" 0 "one bounce disables nobody"

test_case "corridor bounces shows the scores"
out=$(cor bounces corpus)
check_eq "$(echo "$out" | tail -1)" "$((hard + soft)) addresses with bounces in corpus (threshold 3)" "summary"
# a hard one and a soft one, by the table
hf=$(awk -F'\t' '$2 == "hard" { print $1; exit }' "$EXPECTED")
sf=$(awk -F'\t' '$2 == "soft" { print $1; exit }' "$EXPECTED")
ha=$(printf 'm%03d@example.net' "$(grep -n -x "$hf" "$TMP/files" | cut -d: -f1)")
sa=$(printf 'm%03d@example.net' "$(grep -n -x "$sf" "$TMP/files" | cut -d: -f1)")
echo "$out" | grep -q "^$ha  *score  1.00    1 hard   0 soft  enabled " || fail "no hard line for $ha: $(echo "$out" | grep "$ha")"
echo "$out" | grep -q "^$sa  *score  0.50    0 hard   1 soft  enabled " || fail "no soft line for $sa: $(echo "$out" | grep "$sa")"
check_eq "$(cor bounces corpus --json | grep -c '"address"')" $((hard + soft)) "json lines"
cor bounces corpus --json | grep "\"$ha\"" | grep -q '"score" *: *1' || fail "json score: $(cor bounces corpus --json | grep "$ha")"

test_case "auto-replies sent to -bounces never count"
printf 'From: Ann Example <ann@council.test>\nTo: planning-bounces+ann=council.test@lists.test\nSubject: Automatic reply: Road closure\nAuto-Submitted: auto-replied\nMessage-ID: <oof-1@council.test>\n\nI am out of the office until Monday.\n' >"$TMP/oof1.eml"
printf 'From: Ann Example <ann@council.test>\nTo: planning-bounces+ann=council.test@lists.test\nSubject: Out of Office: Road closure\nX-MS-Exchange-Inbox-Rules-Loop: ann@council.test\nMessage-ID: <oof-2@council.test>\n\nI am away.\n' >"$TMP/oof2.eml"
printf 'From: ann@council.test\nTo: planning-bounces+ann=council.test@lists.test\nSubject: Thank you for your e-mail\nPrecedence: bulk\nMessage-ID: <oof-3@council.test>\n\nThank you, I will answer soon.\n' >"$TMP/oof3.eml"
for f in oof1 oof2 oof3; do bounce "$TMP/$f.eml" ann=council.test; done
settle
check_eq "$(events ann@council.test)" 0 "no events for ann"
check_eq "$(grep -c 'to planning-bounces+ann=council.test@lists.test: ignored (auto-reply' "$TMP/serve.log")" 3 \
    "each read as an auto-reply"
check_eq "$(status ann@council.test)" enabled "ann enabled"

test_case "a member crossing the threshold is disabled and the owners are told"
hardfile=$MSGS/doesnotexist.msg
bounce "$hardfile" flaky=example.net
bounce "$hardfile" flaky=example.net
settle
check_eq "$(status flaky@example.net)" enabled "two hard bounces: still enabled"
before=$(sink_count "$SINK")
bounce "$hardfile" flaky=example.net
settle
check_eq "$(status flaky@example.net)" disabled "three: disabled"
check_eq "$(events flaky@example.net)" 3 "three events"
cor member list planning | grep "^flaky@example.net" | grep -q "disabled: bounces: score 3.0 reached 3.0" ||
    fail "member list: $(cor member list planning | grep flaky)"
f=$(sink_file "$SINK" boss@council.test "disabled after bounces") || fail "the owner was not told"
if [ -n "$f" ]; then
    check_eq "$($HDR "$f" Subject Auto-Submitted)" "Subject: planning: delivery to flaky@example.net disabled after bounces
Auto-Submitted: auto-generated" "notice"
    $HDR "$f" --body | grep -q "corridor member set planning flaky@example.net --enable" || fail "no --enable hint"
    check_eq "$(sed -n 's/^X-Mail-Args: <\([^>]*\)>.*/\1/p' "$f")" "planning-bounces@lists.test" "notice sender"
fi
check_eq "$(sink_count "$SINK")" $((before + 1)) "one notice"
cor bounces planning | grep "^flaky@example.net .* 3 hard .* disabled" >/dev/null || fail "bounces: $(cor bounces planning)"
# a fourth bounce: no second notice
bounce "$hardfile" flaky=example.net
settle
check_eq "$(sink_count "$SINK")" $((before + 1)) "no second notice"

test_case "a disabled member gets no copies; member set --enable brings them back"
post() {
    printf 'From: Ann Example <ann@council.test>\nTo: planning@lists.test\nSubject: %s\nMessage-ID: <%s@council.test>\n\nText.\n' "$1" "$1" >"$TMP/$1.eml"
    $SUBMIT --port "$SMTP_PORT" --from ann@council.test --to planning@lists.test "$TMP/$1.eml" >/dev/null 2>&1 || fail "post $1"
}
rm -f "$SINK"/*
post post1
settle
check_eq "$(sink_rcpts "$SINK" | sort | tr '\n' ' ')" "boss@council.test gone@example.net " "no copy for flaky"
out=$(cor member set planning flaky@example.net --enable) || fail "member set --enable: $out"
check_eq "$out" "changed flaky@example.net in planning (delivery enabled, bounce score cleared)" "output"
check_eq "$(status flaky@example.net)" enabled "enabled"
cor bounces planning | grep "^flaky@example.net  *score  0.00 .* enabled" >/dev/null || fail "score not cleared: $(cor bounces planning)"
cor member set planning nobody@example.net --enable >/dev/null 2>&1 && fail "--enable for a non-member succeeded"
cor member add planning x@example.net --enable >/dev/null 2>&1 && fail "--enable with add accepted"
rm -f "$SINK"/*
post post2
settle
check_eq "$(sink_rcpts "$SINK" | sort | tr '\n' ' ')" "boss@council.test flaky@example.net gone@example.net " "flaky gets copies again"

test_case "a 550 from the relay at send time is a hard bounce (source smtp)"
sink_stop
rm -f "$SINK"/*
echo "rcpt-550 gone@example.net" >"$TMP/relay-mode"
python3 "$SRC/tests/tools/smtp_fault.py" "$SINK_PORT" "$SINK" "$TMP/relay-mode" >"$TMP/relay.out" 2>&1 &
REFUSE_PID=$!
wait_for 10 grep -q ready "$TMP/relay.out" || fail "smtp_fault did not start"
post post3
settle
check_eq "$(sink_rcpts "$SINK" | sort | tr '\n' ' ')" "boss@council.test flaky@example.net " "the others got it"
check_eq "$(q "SELECT class || ' ' || source || ' ' || status FROM bounce_events WHERE address = 'gone@example.net'")" \
    "hard smtp 550" "event"
check_eq "$(status gone@example.net)" enabled "one bounce: still enabled"
cor bounces planning | grep "^gone@example.net  *score  1.00    1 hard" >/dev/null || fail "bounces: $(cor bounces planning)"
grep -q "outbound: post to gone@example.net refused" "$TMP/serve.log" || fail "not logged"

serve_stop
kill "$REFUSE_PID" 2>/dev/null; wait "$REFUSE_PID" 2>/dev/null; REFUSE_PID=
test_done
