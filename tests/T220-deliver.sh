#!/bin/sh
# T220 — `corridor deliver`: the LMTP acceptance path for MTAs that pipe,
# with the sysexits they understand; `corridor exim-config`.
. "$(dirname "$0")/lib.sh"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
cor init >/dev/null
cor group create planning >/dev/null
printf '[lmtp]\ndomains = lists.test\nmax_message_size = 10k\n[store]\nbusy_timeout = 1s\n' >"$TMP/state/corridor.conf"
msg() { printf 'From: Clerk <clerk@council.test>\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\nPiped.\r\n' "$2" "$1"; }

test_case "deliver --group: stored (exit 0), indexed, CRLF stored as LF"
msg d-1@council.test "piped one" | cor deliver --group planning --sender clerk@council.test; rc=$?
check_eq "$rc" 0 "exit"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'd-1@council.test'")" 1 "stored"
check_eq "$(cor show --raw d-1@council.test | grep -c "$(printf '\r')")" 0 "LF"
check_eq "$(cor search 'subject:piped' | wc -l)" 1 "indexed"

test_case "a redelivery exits 0 and is stored once"
msg d-1@council.test "piped one" | cor deliver --group planning; rc=$?
check_eq "$rc" 0 "exit"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'd-1@council.test'")" 1 "once"

test_case "deliver --recipient with an mbox From_ line (procmail): the line is dropped; -request goes to control mail"
{ echo "From clerk@council.test Sun Nov 22 10:00:00 2026"; msg d-2@council.test "from procmail"; } |
    cor deliver --recipient planning@lists.test; rc=$?
check_eq "$rc" 0 "exit"
check_eq "$(cor show --raw d-2@council.test | head -1)" "From: Clerk <clerk@council.test>" "first line"
msg d-3@council.test "subscribe" | cor deliver --recipient planning-request@lists.test --sender new@council.test; rc=$?
check_eq "$rc" 0 "exit"
check_eq "$(q "SELECT kind || ' ' || env_from FROM control_mail")" "request new@council.test" "control mail"

test_case "no such group: exit 67 (EX_NOUSER) with the address named; other domain: 67"
out=$(msg d-4@council.test x | cor deliver --group nosuch 2>&1); rc=$?
check_eq "$rc" 67 "exit"
check_eq "$out" "corridor: no group for 'nosuch'" "message"
out=$(msg d-4@council.test x | cor deliver --recipient planning@elsewhere.test 2>&1); rc=$?
check_eq "$rc" 67 "exit (domain)"

test_case "too big: exit 65 (EX_DATAERR); nothing stored"
out=$( { msg d-5@council.test big; head -c 20000 /dev/zero | tr '\0' 'x'; } | cor deliver --group planning 2>&1); rc=$?
check_eq "$rc" 65 "exit"
case $out in *"larger than [lmtp] max_message_size"*) ;; *) fail "message: $out" ;; esac
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'd-5@council.test'")" 0 "not stored"

test_case "store locked by another process: exit 75 (EX_TEMPFAIL), the MTA retries later"
hold_store_lock "$db" 3
out=$(msg d-6@council.test locked | cor deliver --group planning 2>&1); rc=$?
check_eq "$rc" 75 "exit"
case $out in *"451 4.3.0 store busy"*) ;; *) fail "message: $out" ;; esac
wait $LOCKER
msg d-6@council.test locked | cor deliver --group planning; rc=$?
check_eq "$rc" 0 "after the lock"

test_case "usage errors exit 64"
cor deliver </dev/null 2>/dev/null; rc=$?
check_eq "$rc" 64 "no group"

test_case "exim-config prints a router limited to corridor's table and an LMTP transport"
out=$(cor exim-config --socket /run/corridor/lmtp.sock --maps /var/lib/corridor/mta)
for want in "domainlist corridor_domains = lists.test" "driver = accept" \
    'condition = ${lookup{$local_part@$domain}lsearch{/var/lib/corridor/mta/relay_recipient_maps}{yes}{no}}' \
    "driver = lmtp" "socket = /run/corridor/lmtp.sock"; do
    case $out in *"$want"*) ;; *) fail "missing: $want" ;; esac
done
test_done
