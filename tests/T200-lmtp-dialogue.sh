#!/bin/sh
# T200 — the LMTP server's dialogue, script by script (tests/data/lmtp/*.dlg,
# run by tests/tools/lmtp_dialogue.py): every reply code of RFC 2033 and our
# limits, pipelining, timeouts, bare LF and NUL bytes; then Python's
# smtplib.LMTP as an independent client over the Unix socket and TCP.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
DLG=$SRC/tests/tools/lmtp_dialogue.py
PORT=$((20000 + $$ % 20000))

cor init >/dev/null
cor group create planning >/dev/null
cor group create housing >/dev/null
cat >"$TMP/state/corridor.conf" <<CONF
[store]
busy_timeout = 1s
[lmtp]
listen = unix:$TMP/lmtp.sock, 127.0.0.1:$PORT
domains = lists.test
max_message_size = 20k
max_recipients = 3
max_line_length = 1000
max_sessions = 8
command_timeout = 2s
data_timeout = 2s
CONF
serve_start || fail "daemon did not start"

for script in "$SRC"/tests/data/lmtp/*.dlg; do
    name=$(basename "$script" .dlg)
    test_case "dialogue: $name"
    out=$(python3 "$DLG" --connect "unix:$TMP/lmtp.sock" "$script" 2>&1)
    case $out in ok*) ;; *) fail "$out" ;; esac
done

db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }

test_case "what the dialogues stored: each message once, in its groups; control mail kept"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'twice-1@council.test'")" 1 "redelivery stored once"
check_eq "$(q "SELECT group_concat(g.name) FROM (SELECT g.name FROM thread_nodes n JOIN groups g ON g.id = n.group_id JOIN messages m ON m.id = n.msg WHERE m.message_id = 'basic-1@council.test' ORDER BY g.name) g")" "housing,planning" "basic-1 groups"
check_eq "$(q "SELECT kind || ':' || detail FROM control_mail ORDER BY id" | tr '\n' ' ')" \
    "request: owner: bounces:clerk=council.test bounces: " "control mail"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'big-1@council.test'")" 0 "oversize not stored"
raw=$(cor show --raw pipe-1@council.test | od -c | grep -c '\\r')
check_eq "$raw" 0 "stored with LF line ends"
check_eq "$(cor show --raw basic-1@council.test | grep -c '^\.a line that began')" 1 "dot-unstuffed"
check_eq "$(cor show --raw bare-1@council.test | grep -c '^RCPT TO:<housing')" 1 "bare-LF dot did not end the message"

test_case "one log line per transaction: session, envelope, each recipient's reply and filter steps, size, ms"
chain="loop=pass bounce=pass auto-reply=pass command=pass spam=pass size=pass attachments=pass posting=pass marking=pass moderation=pass -> accept"
line=$(grep 'message-id=<basic-1@council.test>' "$TMP/serve.log")
case $line in
    *"info: L"*": from=<clerk@council.test> message-id=<basic-1@council.test> size="*" ms="*" rcpt: <planning@lists.test> 250 2.0.0 [$chain], <housing-request@lists.test> 250 2.0.0, <Housing@LISTS.TEST> 250 2.0.0 [$chain]") ;;
    *) fail "log line: $line" ;;
esac

test_case "Python's smtplib.LMTP, over the Unix socket and over TCP"
cat >"$TMP/lmtp_client.py" <<'PY'
import smtplib, sys
target, n = sys.argv[1], sys.argv[2]
if target.startswith("unix:"):
    l = smtplib.LMTP(target[5:])
else:
    host, port = target.rsplit(":", 1)
    l = smtplib.LMTP(host, int(port))
code, caps = l.docmd("LHLO", "python.test")
assert code == 250, (code, caps)
l.ehlo_resp = caps; l.does_esmtp = True
l.esmtp_features = {c.split()[0].lower(): " ".join(c.split()[1:]) for c in caps.decode().split("\n")[1:]}
assert "pipelining" in l.esmtp_features and "enhancedstatuscodes" in l.esmtp_features
msg = ("From: Python <py@council.test>\r\nTo: planning@lists.test\r\nSubject: smtplib %s\r\n"
       "Message-ID: <smtplib-%s@council.test>\r\n\r\nSent by smtplib.LMTP.\r\n" % (n, n)).encode()
refused = l.sendmail("py@council.test", ["planning@lists.test", "ghost@lists.test", "housing@lists.test"], msg)
assert list(refused) == ["ghost@lists.test"], refused
assert refused["ghost@lists.test"][0] == 550, refused
print("sent", n)
l.quit()
PY
check_eq "$(python3 "$TMP/lmtp_client.py" "unix:$TMP/lmtp.sock" 1 2>&1)" "sent 1" "unix"
check_eq "$(python3 "$TMP/lmtp_client.py" "127.0.0.1:$PORT" 2 2>&1)" "sent 2" "tcp"
check_eq "$(q "SELECT count(*) FROM thread_nodes n JOIN messages m ON m.id = n.msg WHERE m.message_id LIKE 'smtplib-%'")" 4 "stored in both groups"

test_case "the index catches up behind the commits: delivered mail is searchable"
wait_for 20 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM work WHERE kind = 'index'\") = 0 ]" || fail "index backlog did not drain"
check_eq "$(cor search 'subject:smtplib' | wc -l)" 2 "search"
# the control mail is handled by the outbound worker (mta-bridge/control.h)
wait_for 20 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM control_mail WHERE status = 'new'\") = 0 ]" || fail "control mail not handled"
check_eq "$(cor status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["daemon_running"], d["index_backlog"], d["control_mail_waiting"])')" "True 0 0" "status"
check_eq "$(q "SELECT DISTINCT status FROM control_mail")" "done" "control mail handled"

test_case "too many sessions: 421 4.3.2, and the others carry on"
python3 - "$TMP/lmtp.sock" <<'PY' || fail "max sessions"
import socket, sys
socks = []
for i in range(8):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(100); socks.append(s)
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
reply = s.recv(200).decode()
assert reply.startswith("421 4.3.2 "), reply
socks[0].sendall(b"NOOP\r\n")
assert socks[0].recv(100).startswith(b"250 2.0.0"), "first session still served"
PY


test_case "the daemon stops cleanly on SIGTERM (exit 0)"
serve_stop

test_case "a bad [lmtp] socket_mode stops the start with the setting named"
cp "$TMP/state/corridor.conf" "$TMP/good.conf"
printf '[lmtp]\nlisten = unix:%s/bad.sock\nsocket_mode = rw-rw----\n' "$TMP" >"$TMP/state/corridor.conf"
out=$("$CORRIDOR" --state "$TMP/state" serve 2>&1); rc=$?
check_eq "$rc" 1 "exit status"
check_eq "$out" "corridor: cannot start: [lmtp] socket_mode 'rw-rw----' is not an octal file mode such as 0660" "message"
check "! -e $TMP/bad.sock"
cp "$TMP/good.conf" "$TMP/state/corridor.conf"
test_done
