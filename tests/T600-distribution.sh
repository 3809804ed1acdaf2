#!/bin/sh
# T600 — distribution end to end with real parts: a post goes into a real
# Postfix, which delivers it to corridor over LMTP; corridor sends one copy
# per member in 'each' mode through libcurl to Postfix's smtp-sink, which
# keeps every message.  Checked: the count, the VERP senders, every list
# header (incoming ones replaced), Archived-At, DMARC rewriting per setting,
# subject prefix and footer, the author's own copy, and that a reply to a
# copy (with the headers a mail client adds) threads under the original.
# Then: a relay that is down and comes back (nothing lost, nothing twice),
# and SIGKILL in the middle of a fan-out (every member gets the post; only
# copies in flight may come twice).
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
trap 'serve_kill; sink_stop; postfix_stop "$PF"; rm -rf "$TMP"' EXIT

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
connections = 8
CONF

cor group create planning --title "Planning team" >/dev/null || fail "group create"
for u in ann bob cat dan; do cor member add planning "$u@council.test" --name "${u} Example" >/dev/null; done
cor member add planning partner@agency.test --name "Pat Partner" >/dev/null
cor member add planning quiet@council.test --mode digest >/dev/null
cor member add planning none@council.test --mode none >/dev/null
sink_start "$SINK" "$SINK_PORT" || fail "smtp-sink"
serve_start --no-archive || fail "corridor did not start"
postfix_start "$PF" || fail "postfix did not start"
postfix_reload "$PF"

post() { # FILE FROM
    $SUBMIT --port "$SMTP_PORT" --from "$2" --to planning@lists.test "$1" >/dev/null 2>&1 || fail "submit $1"
}
token() { q "SELECT token FROM members WHERE address = '$1'"; }

test_case "a post from a member reaches every 'each' member but the author, with VERP senders"
cat >"$TMP/p1.eml" <<'EOF2'
From: Ann Example <ann@council.test>
To: planning@lists.test
Subject: Road closure on the High Street
Message-ID: <p1@council.test>
List-Id: Some other list <other.example.org>
List-Unsubscribe: <mailto:leave@example.org>
Precedence: bulk
Date: Sun, 22 Nov 2026 10:00:00 +0000

The High Street closes on Monday for resurfacing.
EOF2
post "$TMP/p1.eml" ann@council.test
sink_wait "$SINK" 4 30 || fail "copies did not arrive: $(sink_count "$SINK")"
sleep 0.5
check_eq "$(sink_rcpts "$SINK" | sort | tr '\n' ' ')" \
    "bob@council.test cat@council.test dan@council.test partner@agency.test " "recipients"
for r in bob@council.test partner@agency.test; do
    f=$(sink_file "$SINK" "$r") || fail "no copy for $r"
    local_part=${r%@*}; dom=${r#*@}
    check_eq "$(sed -n 's/^X-Mail-Args: <\([^>]*\)>.*/\1/p' "$f")" \
        "planning-bounces+$local_part=$dom@lists.test" "VERP sender for $r"
done

test_case "every list header once, incoming ones replaced; Archived-At is the permalink"
f=$(sink_file "$SINK" bob@council.test)
key=$(printf '%s' p1@council.test | sha256sum | cut -c1-16)
check_eq "$($HDR "$f" List-Id List-Post List-Help List-Subscribe List-Unsubscribe List-Unsubscribe-Post List-Archive Archived-At Precedence X-Auto-Response-Suppress X-Loop)" \
"List-Id: Planning team <planning.lists.test>
List-Post: <mailto:planning@lists.test>
List-Help: <mailto:planning-request@lists.test?subject=help>
List-Subscribe: <mailto:planning-join@lists.test>
List-Unsubscribe: <https://lists.council.test/u/$(token bob@council.test)>, <mailto:planning-leave@lists.test>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
List-Archive: <https://lists.council.test/g/planning/>
Archived-At: <https://lists.council.test/g/planning/m/$(printf %.2s "$key")/$key.html>
Precedence: list
X-Auto-Response-Suppress: OOF, AutoReply
X-Loop: planning@lists.test" "headers"
check_eq "$($HDR "$f" --count List-Id List-Unsubscribe Precedence | tr '\n' ' ')" \
    "List-Id: 1 List-Unsubscribe: 1 Precedence: 1 " "no duplicates"
check_eq "$($HDR "$f" Message-ID Subject)" "Message-ID: <p1@council.test>
Subject: Road closure on the High Street" "Message-ID and subject kept"
check_eq "$($HDR "$f" --body)" "The High Street closes on Monday for resurfacing." "body unchanged"
g=$(sink_file "$SINK" partner@agency.test)
check_eq "$($HDR "$g" List-Unsubscribe)" \
    "List-Unsubscribe: <https://lists.council.test/u/$(token partner@agency.test)>, <mailto:planning-leave@lists.test>" \
    "each member's own unsubscribe URL"
[ "$(token bob@council.test)" != "$(token partner@agency.test)" ] || fail "tokens differ"

test_case "DMARC munge-external (the default): a staff author keeps From:, replies go to the group"
check_eq "$($HDR "$f" From Reply-To Cc)" "From: Ann Example <ann@council.test>
Reply-To: planning@lists.test
Cc: <none>" "internal author"

test_case "the author gets their own copy when they ask for it"
cor member set planning bob@council.test --own-copies yes >/dev/null || fail "own-copies"
rm -f "$SINK"/*
sed 's/p1@council.test/p1b@council.test/; s/Ann Example <ann@/Bob Example <bob@/' "$TMP/p1.eml" >"$TMP/p1b.eml"
post "$TMP/p1b.eml" bob@council.test
sink_wait "$SINK" 4 30 || fail "copies: $(sink_count "$SINK")"
sleep 0.3
check_eq "$(sink_rcpts "$SINK" | grep -c bob@council.test)" 1 "bob's own copy"
cor member set planning bob@council.test --own-copies no >/dev/null
out=$(cor member set planning bob@council.test --own-copies maybe 2>&1) && fail "maybe accepted"
case $out in *"not yes or no"*) ;; *) fail "error: $out" ;; esac

test_case "DMARC munge-external: an outside author becomes 'Name via Group', author in Cc"
rm -f "$SINK"/*
cat >"$TMP/p2.eml" <<'EOF2'
From: Pat Partner <partner@agency.test>
To: planning@lists.test
Subject: Comments from the agency
Message-ID: <p2@agency.test>

Our comments are attached below.
EOF2
post "$TMP/p2.eml" partner@agency.test
sink_wait "$SINK" 4 30 || fail "copies: $(sink_count "$SINK")"
f=$(sink_file "$SINK" ann@council.test)
check_eq "$($HDR "$f" From Reply-To Cc)" "From: Pat Partner via Planning team <planning@lists.test>
Reply-To: <none>
Cc: Pat Partner <partner@agency.test>" "munged, author in Cc"
check_eq "$(sink_rcpts "$SINK" | grep -c partner@agency.test)" 0 "the author gets no copy"

test_case "DMARC munge-all with reply_to=author, subject prefix and footer"
cor group set planning dmarc=munge-all reply_to=author 'subject_prefix=[planning] ' \
    'footer=Planning team: https://lists.council.test/g/planning/' >/dev/null || fail "group set"
sleep 2.2   # the worker re-reads a group's settings within 2 s
rm -f "$SINK"/*
cat >"$TMP/p3.eml" <<'EOF2'
From: Bob Example <bob@council.test>
To: planning@lists.test
Subject: Re: Road closure on the High Street
Message-ID: <p3@council.test>
In-Reply-To: <p1@council.test>
References: <p1@council.test>

Buses will be diverted.
EOF2
post "$TMP/p3.eml" bob@council.test
sink_wait "$SINK" 4 30 || fail "copies: $(sink_count "$SINK")"
f=$(sink_file "$SINK" ann@council.test)
check_eq "$($HDR "$f" From Reply-To Subject)" "From: Bob Example via Planning team <planning@lists.test>
Reply-To: Bob Example <bob@council.test>
Subject: [planning] Re: Road closure on the High Street" "munge-all, Reply-To author, prefix"
check_eq "$($HDR "$f" --body)" "Buses will be diverted.
_______________________________________________
Planning team: https://lists.council.test/g/planning/" "footer appended"

test_case "the prefix is not added twice; a MIME post gets the footer as its own part"
rm -f "$SINK"/*
cat >"$TMP/p4.eml" <<'EOF2'
From: Cat Example <cat@council.test>
To: planning@lists.test
Subject: Re: [planning] Re: Road closure on the High Street
Message-ID: <p4@council.test>
In-Reply-To: <p3@council.test>
References: <p1@council.test> <p3@council.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 on the corner stays open.
EOF2
post "$TMP/p4.eml" cat@council.test
sink_wait "$SINK" 4 30 || fail "copies: $(sink_count "$SINK")"
f=$(sink_file "$SINK" ann@council.test)
check_eq "$($HDR "$f" Subject)" "Subject: [planning] Re: Road closure on the High Street" "prefix once"
check_eq "$($HDR "$f" --body)" "Café on the corner stays open.
Planning team: https://lists.council.test/g/planning/" "both parts readable"
cor group set planning --unset dmarc --unset reply_to --unset subject_prefix --unset footer >/dev/null
sleep 2.2

test_case "a reply to a copy, as a mail client writes it, threads under the original"
f=$(sink_file "$SINK" dan@council.test)
{
    printf 'From: Dan Example <dan@council.test>\n'
    printf 'To: %s\n' "$($HDR "$f" Reply-To | sed 's/^Reply-To: //')"
    printf 'Subject: RE: %s\n' "$($HDR "$f" Subject | sed 's/^Subject: //')"
    printf 'Message-ID: <reply-dan@council.test>\n'
    printf 'In-Reply-To: %s\n' "$($HDR "$f" Message-ID | sed 's/^Message-ID: //')"
    printf 'References: <p1@council.test> <p3@council.test> %s\n' "$($HDR "$f" Message-ID | sed 's/^Message-ID: //')"
    printf 'Thread-Topic: Road closure on the High Street\n\nAgreed.\n\n> Caf\xc3\xa9 on the corner stays open.\n'
} >"$TMP/reply.eml"
post "$TMP/reply.eml" dan@council.test
postfix_wait_empty "$PF" 30 || fail "postfix queue"
wait_for 10 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM messages WHERE message_id = 'reply-dan@council.test'\") = 1 ]" || fail "reply not stored"
t1=$(q "SELECT thread FROM thread_nodes WHERE message_id = 'p1@council.test'")
check_eq "$(q "SELECT thread = $t1 FROM thread_nodes WHERE message_id = 'reply-dan@council.test'")" 1 "same thread"
check_eq "$(q "SELECT parent FROM thread_nodes WHERE message_id = 'reply-dan@council.test'")" "p4@council.test" "under the message replied to"

test_case "the relay is down, then up: nothing lost, nothing twice"
sink_wait "$SINK" 4 20
wait_for 20 sh -c "[ \$(sqlite3 '$db' 'SELECT count(*) FROM outbox_rcpt') = 0 ]" || fail "outbox not empty"
sink_stop
rm -f "$SINK"/*
sed "s/p2@agency.test/p5@council.test/; s/partner@agency.test/ann@council.test/; s/Pat Partner/Ann Example/" "$TMP/p2.eml" >"$TMP/p5.eml"
post "$TMP/p5.eml" ann@council.test
wait_for 20 sh -c "[ \$(sqlite3 '$db' 'SELECT count(*) FROM outbox_rcpt WHERE attempts > 0') -ge 1 ]" || fail "no failed attempt recorded"
out=$(cor outbox list)
case $out in *"last error:"*) ;; *) fail "outbox list shows no error: $out" ;; esac
sleep 1
sink_start "$SINK" "$SINK_PORT" || fail "smtp-sink again"
wait_for 30 sh -c "[ \$(sqlite3 '$db' 'SELECT count(*) FROM outbox_rcpt') = 0 ]" || fail "outbox did not drain: $(cor outbox list | tail -2)"
sleep 0.5
check_eq "$(sink_rcpts "$SINK" | sort | tr '\n' ' ')" \
    "bob@council.test cat@council.test dan@council.test partner@agency.test " "each member once"

test_case "a staff-only group: an outside member added while it was open gets no copy, and the log says why"
# `member add` refuses such an address now (T500), but a member added before
# the group was made staff-only (or before staff_domains was set) is still
# there: the outbound worker withholds their copy, as digests and the
# archive already do
cor group set planning visibility=staff >/dev/null || fail "group set visibility=staff"
sleep 2.5   # the worker reads a group's settings again after 2 s
rm -f "$SINK"/*
sed "s/p5@council.test/p6@council.test/" "$TMP/p5.eml" >"$TMP/p6.eml"
post "$TMP/p6.eml" ann@council.test
wait_for 30 sh -c "[ \$(sqlite3 '$db' 'SELECT count(*) FROM outbox_rcpt') = 0 ]" || fail "outbox did not drain"
sink_wait "$SINK" 3 20 || fail "copies: $(sink_count "$SINK")"
sleep 0.5
check_eq "$(sink_rcpts "$SINK" | sort | tr '\n' ' ')" \
    "bob@council.test cat@council.test dan@council.test " "staff members only"
grep -q "info: outbound: not sending planning's post to partner@agency.test: the group is staff-only and the address is outside \[filters\] staff_domains" "$TMP/serve.log" ||
    fail "no log line for the withheld copy"
cor group set planning visibility=public >/dev/null || fail "group set visibility=public"

test_case "SIGKILL during a fan-out to 1,500 members: everyone gets it, only copies in flight twice"
cor group create big >/dev/null
{
    echo "BEGIN;"
    i=0
    while [ $i -lt 1500 ]; do
        printf "INSERT INTO members (group_id, address, added, token) VALUES ((SELECT id FROM groups WHERE name = 'big'), 'm%04d@council.test', 0, lower(hex(randomblob(16))));\n" $i
        i=$((i + 1))
    done
    echo "COMMIT;"
} | sqlite3 "$db"
check_eq "$(cor member list big | grep -c @)" 1500 "members"
postfix_reload "$PF"
sink_stop; rm -f "$SINK"/*
# a slow sink: each DATA is answered after a second, so the kill comes in
# the middle of the fan-out with every connection busy
sink_start "$SINK" "$SINK_PORT" -w 1 || fail "slow sink"
printf 'From: Ann Example <ann@council.test>\nTo: big@lists.test\nSubject: To everyone\nMessage-ID: <big-1@council.test>\n\nHello everyone.\n' >"$TMP/big.eml"
$SUBMIT --port "$SMTP_PORT" --from ann@council.test --to big@lists.test "$TMP/big.eml" >/dev/null 2>&1 || fail "submit big"
sink_wait "$SINK" 20 60 || fail "fan-out did not start"
serve_kill
before=$(sink_count "$SINK")
left=$(q "SELECT count(*) FROM outbox_rcpt")
echo "# report: fan-out killed with $before copies at the sink, $left still queued"
[ "$left" -gt 0 ] || fail "the kill came after the fan-out ended: nothing proven"
sink_stop
sink_start "$SINK" "$SINK_PORT" || fail "fast sink"
serve_start --no-archive || fail "restart"
wait_for 120 sh -c "[ \$(sqlite3 '$db' 'SELECT count(*) FROM outbox_rcpt') = 0 ]" || fail "fan-out did not finish"
sleep 0.5
total=$(sink_rcpts "$SINK" | grep -c '^m')
distinct=$(sink_rcpts "$SINK" | grep '^m' | sort -u | wc -l)
check_eq "$distinct" 1500 "every member got the post"
dups=$((total - distinct))
echo "# report: copies sent twice after the kill: $dups (connections: 8)"
[ "$dups" -le 8 ] || fail "$dups duplicates: more than the 8 transfers that can be in flight"

serve_stop
test_done
