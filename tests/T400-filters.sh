#!/bin/sh
# T400 — the filter chain (filters/): `corridor filter explain` golden files
# for one message of each kind; per-group settings; over LMTP, two groups in
# one transaction getting their own verdicts (550 5.7.1 with the sentence
# for the open group, 250 restricted for the private one), checked from the
# client's side; a restricted post kept out of search and the archive;
# held posts surviving SIGKILL and approved exactly once; first-post
# moderation; `corridor deliver` exit 77 for a policy refusal; a bad
# [filters] value refused at start and on SIGHUP.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
D=$SRC/tests/data/filters
LMTP="python3 $SRC/tests/tools/lmtp_files.py"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }

cor init >/dev/null
SOCK=$TMP/state/lmtp.sock
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
listen = unix:$SOCK
domains = lists.example.gov.uk
[archive]
dir = $TMP/archive
[filters]
staff_domains = example.gov.uk
CONF
cor group create open >/dev/null
cor group create private --visibility private >/dev/null
cor group create mod >/dev/null
cor group create small >/dev/null
cor group create newcomers >/dev/null

test_case "group set: values checked, stored, shown; --unset restores the default"
cor group set mod moderation=all >/dev/null || fail "set moderation"
cor group set small max_message_size=1k >/dev/null || fail "set size"
cor group set newcomers moderation=first-post posting=anyone >/dev/null || fail "set first-post"
out=$(cor group set mod moderation=sometimes 2>&1); rc=$?
check_eq "$rc" 1 "bad value exit"
check_eq "$out" "corridor: moderation: 'sometimes' is not none, all or first-post" "bad value"
out=$(cor group set mod colour=blue 2>&1)
check_eq "$out" "corridor: colour: unknown setting 'colour'" "unknown key"
out=$(cor group set mod chain=loop,antivirus 2>&1)
case $out in *"unknown filter 'antivirus'"*) ;; *) fail "chain: $out" ;; esac
check_eq "$(cor group show mod --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["settings"]["moderation"], d["settings"]["posting"], d["group_settings"])')" \
    "all auto ['moderation']" "show --json"
cor group set small spam_action=reject >/dev/null
cor group set small --unset spam_action >/dev/null
check_eq "$(q "SELECT group_concat(key) FROM group_settings WHERE group_id = (SELECT id FROM groups WHERE name = 'small')")" \
    "max_message_size" "unset"
case $(cor group show small) in *"max_message_size     1k   [group]"*) ;; *) fail "show: $(cor group show small)" ;; esac

test_case "filter explain: golden output for a message of each kind"
explain() { # NAME GROUP FILE [ARGS...]
    _name=$1 _group=$2 _file=$3; shift 3
    cor filter explain --group "$_group" "$@" "$D/$_file" >"$TMP/$_name.out" 2>&1 || fail "$_name: exit $?"
    if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
        cp "$TMP/$_name.out" "$D/explain/$_name.out"
    elif ! diff -u "$D/explain/$_name.out" "$TMP/$_name.out" >"$TMP/diff" 2>&1; then
        fail "$_name differs from $D/explain/$_name.out:"
        sed 's/^/#   /' "$TMP/diff" >&2
    fi
}
explain accept open accept.eml
explain marking-reject open marking-subject.eml
explain marking-restrict private marking-body.eml
explain autoreply open autoreply.eml
explain bounce open bounce.eml
explain command open command.eml
explain loop open loop.eml
explain attachment open attachment.eml
explain spam open spam.eml
explain outsider open outsider.eml
explain moderated mod accept.eml
explain too-big small big.eml
explain first-post newcomers outsider.eml

test_case "explain refuses an unknown group and an unreadable file, naming them"
out=$(cor filter explain --group nosuch "$D/accept.eml" 2>&1); rc=$?
check_eq "$rc" 1 "exit"
case $out in *"nosuch"*) ;; *) fail "group: $out" ;; esac
out=$(cor filter explain --group open "$TMP/missing.eml" 2>&1)
case $out in *"cannot read '$TMP/missing.eml'"*) ;; *) fail "file: $out" ;; esac

serve_start || fail "corridor did not start"

test_case "LMTP, one transaction to two groups: the open group says 550 5.7.1 and why, the private one keeps it restricted"
out=$($LMTP "unix:$SOCK" open@lists.example.gov.uk,private@lists.example.gov.uk "$D/marking-subject.eml")
check_eq "$(echo "$out" | awk -F'\t' '$2 == "open@lists.example.gov.uk" { print $3 }')" \
    "550 5.7.1 protectively marked mail is not accepted here: it is marked OFFICIAL-SENSITIVE: PERSONAL (subject) and open is an open group: protectively marked mail belongs in the inboxes of the people who need it, so please send it to them directly" \
    "open group's reply"
check_eq "$(echo "$out" | awk -F'\t' '$2 == "private@lists.example.gov.uk" { print $3 }')" \
    "250 2.0.0 ok: private <marking-1@example.gov.uk> stored (restricted)" "private group's reply"
check_eq "$(q "SELECT g.name || ' ' || n.status FROM thread_nodes n JOIN groups g ON g.id = n.group_id WHERE n.message_id = 'marking-1@example.gov.uk'")" \
    "private restricted" "stored once, restricted, in the private group only"
grep -q "marking=reject -> reject (marking: it is marked OFFICIAL-SENSITIVE" "$TMP/serve.log" ||
    fail "the log does not show the chain's steps by name"

test_case "a restricted post: indexed, but not in a member's search, the group's threads or the archive"
cor member add private raj.patel@example.gov.uk >/dev/null
wait_for 20 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM work WHERE kind = 'index'\") = 0 ]" || fail "index backlog"
check_eq "$(cor search --as raj.patel@example.gov.uk 'subject:flat' | wc -l)" 0 "member's search"
check_eq "$(cor threads --group private --as raj.patel@example.gov.uk --json | wc -l)" 0 "threads"
cor archive build >/dev/null 2>&1 || fail "archive build"
check_eq "$(grep -rl 'Flat 4' "$TMP/archive" | wc -l)" 0 "archive pages"

test_case "moderation: a held post survives SIGKILL; approval posts it exactly once"
sed 's/accept-1@/held-1@/' "$D/accept.eml" >"$TMP/held.eml"
out=$($LMTP "unix:$SOCK" mod@lists.example.gov.uk "$TMP/held.eml")
check_eq "$(echo "$out" | cut -f3)" "250 2.0.0 ok: mod <held-1@example.gov.uk> held for moderation (moderation)" "reply"
serve_kill
serve_start || fail "restart"
check_eq "$(cor held list --group mod | cut -f2,4,6)" \
    "mod	jane.smith@example.gov.uk	moderation: every post to mod is moderated" "held list after SIGKILL"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'held-1@example.gov.uk'")" 0 "not posted while held"
id=$(cor held list --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
cor held show "$id" --raw | cmp -s - "$TMP/held.eml" || fail "held show --raw is not the original"
check_eq "$(cor held approve "$id" --operator moderator1)" "approved held post $id" "approve"
check_eq "$(q "SELECT count(*) FROM thread_nodes n JOIN groups g ON g.id = n.group_id WHERE g.name = 'mod' AND n.message_id = 'held-1@example.gov.uk' AND n.status = 'accepted'")" 1 "posted"
out=$(cor held approve "$id" 2>&1); rc=$?
check_eq "$rc" 1 "second approval exit"
check_eq "$out" "corridor: cannot approve held post $id: held post $id was approved already by moderator1" "second approval"
out=$($LMTP "unix:$SOCK" mod@lists.example.gov.uk "$TMP/held.eml")
check_eq "$(echo "$out" | cut -f3)" "250 2.0.0 ok, already stored: mod <held-1@example.gov.uk> was held already" "redelivery answered"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'held-1@example.gov.uk'")" 1 "still one copy"
check_eq "$(cor held list | wc -l)" 0 "nothing left held"
check_eq "$(cor held list --all --json | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(d["status"], d["decided_by"])')" \
    "approved moderator1" "decision recorded"
wait_for 20 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM work WHERE kind = 'index'\") = 0 ]" || fail "index backlog"
check_eq "$(cor search --group mod 'id:held-1@example.gov.uk' | wc -l)" 1 "searchable once approved"

test_case "held reject: recorded with the reason, never posted"
sed 's/accept-1@/held-2@/' "$D/accept.eml" >"$TMP/held2.eml"
$LMTP "unix:$SOCK" mod@lists.example.gov.uk "$TMP/held2.eml" >/dev/null
id2=$(cor held list --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
check_eq "$(cor held reject "$id2" --reason 'off topic' --operator moderator1)" "rejected held post $id2" "reject"
check_eq "$(q "SELECT status || ' ' || note FROM held WHERE id = $id2")" "rejected off topic" "recorded"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'held-2@example.gov.uk'")" 0 "not posted"
out=$(cor held approve "$id2" 2>&1)
case $out in *"was rejected already"*) ;; *) fail "approve after reject: $out" ;; esac

test_case "a hold never hides a marking: held spam marked OFFICIAL-SENSITIVE is refused by an open group, held restricted by a private one"
sed 's/spam-1@/spam-marked@/; s/^Subject: .*/Subject: OFFICIAL-SENSITIVE: staff list/' "$D/spam.eml" >"$TMP/spam-marked.eml"
cor group set private posting=anyone >/dev/null
out=$($LMTP "unix:$SOCK" open@lists.example.gov.uk,private@lists.example.gov.uk "$TMP/spam-marked.eml")
case $(echo "$out" | grep '^[^	]*	open@' | cut -f3) in
    "550 5.7.1 protectively marked mail is not accepted here: it is marked OFFICIAL-SENSITIVE (subject) and open is an open group"*) ;;
    *) fail "open: $out" ;;
esac
check_eq "$(echo "$out" | grep '^[^	]*	private@' | cut -f3)" \
    "250 2.0.0 ok: private <spam-marked@cheap-deals.example.com> held for moderation (spam)" "private"
check_eq "$(q "SELECT g.name || ' ' || h.restricted FROM held h JOIN groups g ON g.id = h.group_id WHERE h.message_id = 'spam-marked@cheap-deals.example.com'")" \
    "private 1" "held, to be restricted"
idm=$(q "SELECT id FROM held WHERE message_id = 'spam-marked@cheap-deals.example.com'")
cor held approve "$idm" >/dev/null || fail "approve"
check_eq "$(q "SELECT status FROM thread_nodes WHERE message_id = 'spam-marked@cheap-deals.example.com'")" \
    "restricted" "approved as restricted"
cor group set private --unset posting >/dev/null

test_case "first-post moderation: a new sender's first post is held, the next goes straight through"
out=$($LMTP "unix:$SOCK" newcomers@lists.example.gov.uk "$D/outsider.eml")
check_eq "$(echo "$out" | cut -f3)" "250 2.0.0 ok: newcomers <outsider-1@example.com> held for moderation (moderation)" "first"
id3=$(cor held list --group newcomers --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
cor held approve "$id3" >/dev/null || fail "approve"
sed 's/outsider-1@/outsider-2@/' "$D/outsider.eml" >"$TMP/second.eml"
out=$($LMTP "unix:$SOCK" newcomers@lists.example.gov.uk "$TMP/second.eml")
check_eq "$(echo "$out" | cut -f3)" "250 2.0.0 ok: newcomers <outsider-2@example.com> stored" "second"

test_case "posting policy, size, attachments over LMTP: precise refusals, nothing stored"
out=$($LMTP "unix:$SOCK" open@lists.example.gov.uk "$D/outsider.eml" "$D/attachment.eml")
case $(echo "$out" | grep outsider | cut -f3) in
    "550 5.7.1 sender not allowed to post to this group: only staff and members may post to open, and resident@example.com is neither; to join, write to open-request@lists.example.gov.uk with the subject \"subscribe\"") ;;
    *) fail "outsider: $out" ;;
esac
case $(echo "$out" | grep attachment | cut -f3) in
    "550 5.7.1 attachment type not accepted: the attachment \"invoice.pdf.exe\""*) ;;
    *) fail "attachment: $out" ;;
esac
out=$($LMTP "unix:$SOCK" small@lists.example.gov.uk "$D/big.eml")
case $(echo "$out" | cut -f3) in "552 5.2.3 message length exceeds the group's limit: "*) ;; *) fail "size: $out" ;; esac
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id IN ('outsider-1@example.com', 'attach-1@example.gov.uk', 'big-1@example.gov.uk') AND id IN (SELECT msg FROM thread_nodes WHERE group_id IN (SELECT id FROM groups WHERE name IN ('open', 'small')))")" 0 "nothing stored"

test_case "bounce and command on the post address: routed (stored for their handlers), not posted"
out=$($LMTP "unix:$SOCK" open@lists.example.gov.uk "$D/bounce.eml" "$D/command.eml")
check_eq "$(echo "$out" | cut -f3 | tr '\n' '|')" \
    "250 2.0.0 ok: open <dsn-1@mx.example.net> passed to bounce processing|250 2.0.0 ok: open <command-1@example.gov.uk> passed to the command handler|" "replies"
check_eq "$(q "SELECT kind || ' ' || rcpt || ' <' || env_from || '>' FROM control_mail ORDER BY id" | tr '\n' '|')" \
    "bounces open@lists.example.gov.uk <>|request open@lists.example.gov.uk <pat.brown@example.gov.uk>|" "control mail"

test_case "corridor deliver: a marking refused by an open group exits 77 (EX_NOPERM) with the reply"
out=$(cor deliver --group open --sender raj.patel@example.gov.uk <"$D/marking-subject.eml" 2>&1); rc=$?
check_eq "$rc" 77 "exit"
case $out in *"550 5.7.1 protectively marked mail is not accepted here"*) ;; *) fail "message: $out" ;; esac

test_case "a bad [filters] value: SIGHUP keeps the old configuration, a start is refused"
cp "$TMP/state/corridor.conf" "$TMP/good.conf"
printf 'posting = everybody\n' >>"$TMP/state/corridor.conf"
kill -HUP "$SERVE_PID"
wait_for 10 grep -q "configuration not reloaded, keeping the old one: .*\[filters\] posting: 'everybody' is not anyone, staff, members or auto" "$TMP/serve.log" ||
    fail "reload not refused: $(tail -3 "$TMP/serve.log")"
out=$($LMTP "unix:$SOCK" open@lists.example.gov.uk "$TMP/held.eml")
case $(echo "$out" | cut -f3) in "250 "*) ;; *) fail "still serving: $out" ;; esac
serve_stop
out=$("$CORRIDOR" --state "$TMP/state" serve 2>&1); rc=$?
check_eq "$rc" 1 "start refused"
case $out in *"[filters] posting: 'everybody'"*) ;; *) fail "start message: $out" ;; esac
cp "$TMP/good.conf" "$TMP/state/corridor.conf"
test_done
