#!/bin/sh
# T510 — `corridor group create|set|show|delete`: a group created with its
# description, owners, moderators and settings in one transaction; the
# distribution keys (subject prefix, footer, reply-to, DMARC, digest time
# and day) beside the filter keys; owners= and moderators= moving roles;
# show --json with every effective setting, owners, moderators and member
# counts; clear errors that change nothing; delete refused without --yes
# (saying what it would delete), and with it every row of the group gone,
# the messages only it had gone from the store, the index and the archive,
# a message another group shares kept, the Postfix tables rewritten.
. "$(dirname "$0")/lib.sh"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
cor init >/dev/null
cat >"$TMP/state/corridor.conf" <<EOF
[lmtp]
domains = lists.example.gov.uk
[postfix]
maps_dir = $TMP/maps
EOF
mkdir -p "$TMP/maps"

test_case "group create: description, owners, moderators and settings in one go"
out=$(cor group create planning --title "Planning team" --description "Planning policy and casework" \
    --visibility staff --owner Carol@Council.example --moderator dave@council.example,eve@council.example \
    subject_prefix="[planning] " posting=members digest_time=18:30 2>&1); rc=$?
check_eq "$rc:$out" "0:created group planning (staff)
added carol@council.example as owner
added dave@council.example as moderator
added eve@council.example as moderator" "output"
cor group show planning --json >"$TMP/show.json"
check_eq "$(jq_ 'd["title"], "|", d["description"], "|", d["visibility"], "|", d["address"]' <"$TMP/show.json")" \
    "Planning team | Planning policy and casework | staff | planning@lists.example.gov.uk" "fields"
check_eq "$(jq_ 'd["owners"], d["moderators"], d["group_settings"]' <"$TMP/show.json")" \
    "['carol@council.example'] ['dave@council.example', 'eve@council.example'] ['digest_time', 'posting', 'subject_prefix']" "roles"
check_eq "$(jq_ 'repr(d["settings"]["subject_prefix"]), d["settings"]["posting"], d["settings"]["digest_time"], d["settings"]["digest_day"], d["settings"]["reply_to"], d["settings"]["dmarc"], d["settings"]["moderation"]' <"$TMP/show.json")" \
    "'[planning] ' members 18:30 daily group munge-external none" "effective settings"
check_eq "$(jq_ 'd["members"]' <"$TMP/show.json")" \
    "{'total': 3, 'each': 3, 'digest': 0, 'none': 0, 'enabled': 3, 'disabled': 0}" "member counts"
check_eq "$(q "SELECT group_concat(source) FROM members")" "cli,cli,cli" "source cli"
grep -q '^planning@lists.example.gov.uk ' "$TMP/maps/transport" || fail "postfix maps not written"

test_case "group create: a bad setting, owner or name creates nothing"
out=$(cor group create housing reply_to=everyone 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: reply_to: 'everyone' is not group or author" "bad value"
out=$(cor group create housing colour=blue 2>&1)
check_eq "$out" "corridor: colour: unknown setting 'colour'" "unknown key"
out=$(cor group create housing --owner a@x.example --moderator A@x.example 2>&1)
check_eq "$out" "corridor: a@x.example cannot be both an owner and a moderator" "both roles"
out=$(cor group create housing --owner not-an-address 2>&1)
check_eq "$out" "corridor: owners: invalid address 'not-an-address'" "bad owner"
out=$(cor group create housing posting=members posting=anyone 2>&1)
check_eq "$out" "corridor: posting: given twice" "twice"
out=$(cor group create planning 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: cannot create group: group 'planning' already exists" "exists"
check_eq "$(q "SELECT count(*) FROM groups")" 1 "no group made"
check_eq "$(q "SELECT count(*) FROM members")" 3 "no member made"

test_case "group set: the distribution keys, checked, shown, unset"
cor group set planning footer='Planning team\nCouncil offices' reply_to=author dmarc=munge-all \
    digest_day=friday >/dev/null || fail "set"
cor group show planning --json >"$TMP/show.json"
check_eq "$(jq_ 'repr(d["settings"]["footer"]), d["settings"]["reply_to"], d["settings"]["dmarc"], d["settings"]["digest_day"]' <"$TMP/show.json")" \
    "'Planning team\nCouncil offices' author munge-all friday" "json"
cor group show planning >"$TMP/show.txt"
grep -qx '  footer               Planning team\\nCouncil offices   \[group\]' "$TMP/show.txt" || fail "footer line: $(grep footer "$TMP/show.txt")"
grep -qx '  subject_prefix       "\[planning\] "   \[group\]' "$TMP/show.txt" || fail "prefix line: $(grep subject_prefix "$TMP/show.txt")"
grep -qx '  digest_day           friday   \[group\]' "$TMP/show.txt" || fail "digest_day line"
grep -qx '  posting              members   \[group\]' "$TMP/show.txt" || fail "posting line"
grep -qx 'owners      carol@council.example' "$TMP/show.txt" || fail "owners line"
grep -qx 'moderators  dave@council.example, eve@council.example' "$TMP/show.txt" || fail "moderators line"
grep -qx 'members     3: 3 each, 0 digest, 0 none; 3 enabled, 0 disabled' "$TMP/show.txt" || fail "members line"
for bad in "digest_time=25:00|digest_time: '25:00' is not a time HH:MM" \
           "digest_day=funday|digest_day: 'funday' is not daily or a weekday (monday ... sunday)" \
           "dmarc=sometimes|dmarc: 'sometimes' is not none, munge-external or munge-all" \
           "visibility=secret|visibility: 'secret' is not public, staff or private" \
           "title=|title: a group needs a title" \
           "nonsense|'nonsense' is not KEY=VALUE"; do
    out=$(cor group set planning "${bad%%|*}" 2>&1); rc=$?
    check_eq "$rc:$out" "1:corridor: ${bad#*|}" "${bad%%|*}"
done
out=$(cor group set planning --unset title 2>&1)
check_eq "$out" "corridor: title cannot be unset: give it a value" "unset title"
out=$(cor group set planning --unset colour 2>&1)
check_eq "$out" "corridor: unknown setting 'colour'" "unset unknown"
out=$(cor group set planning reply_to=group --unset reply_to 2>&1)
check_eq "$out" "corridor: reply_to: both set and unset" "set and unset"
cor group set planning --unset reply_to --unset footer >/dev/null || fail "unset"
check_eq "$(cor group show planning --json | jq_ 'd["settings"]["reply_to"], repr(d["settings"]["footer"])')" \
    "group ''" "defaults again"
check_eq "$(q "SELECT group_concat(key) FROM group_settings")" "digest_day,digest_time,dmarc,posting,subject_prefix" "stored"

test_case "group set owners= and moderators=: roles move, new people join, the rest become members"
out=$(cor group set planning owners=dave@council.example,Fay@council.example moderators= 2>&1)
check_eq "$out" "changed group planning
added fay@council.example as owner" "output"
check_eq "$(cor member list planning | cut -f1,4 | tr '\t\n' ' |')" \
    "carol@council.example member|dave@council.example owner|eve@council.example member|fay@council.example owner|" "roles"
cor group set planning moderators=eve@council.example >/dev/null
check_eq "$(cor group show planning --json | jq_ 'd["owners"], d["moderators"]')" \
    "['dave@council.example', 'fay@council.example'] ['eve@council.example']" "owners kept"
cor group set planning --unset owners >/dev/null
check_eq "$(q "SELECT count(*) FROM members WHERE role = 'owner'")" 0 "--unset owners"
out=$(cor group set nosuch posting=anyone 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: no such group 'nosuch'" "no group"

# two groups sharing one message; planning has members, settings, a held
# post, control mail, queued mail (the welcome, the held post's notice to
# its moderator), an opt-out, a token and a bounce
cor group create housing >/dev/null
D=$SRC/tests/data
cor import --group planning "$D/mailbox/mboxo.mbox" "$D/message/rfc2231.eml" >/dev/null
cor import --group planning "$D/mailbox/single.eml" >/dev/null
cor import --group housing "$D/mailbox/single.eml" "$D/mailbox/mboxrd.mbox" >/dev/null
cor group set planning moderation=all >/dev/null
printf 'From: Fay <fay@council.example>\nSubject: Held one\nMessage-ID: <held-1@council.example>\n\nHold me.\n' |
    cor deliver --group planning >/dev/null 2>&1
printf 'From: Fay <fay@council.example>\nSubject: help\nMessage-ID: <req-1@council.example>\n\nhelp\n' |
    cor deliver --recipient planning-request@lists.example.gov.uk >/dev/null 2>&1
cor member add planning gil@council.example --welcome >/dev/null
cor member remove planning eve@council.example --opt-out >/dev/null
gid=$(q "SELECT id FROM groups WHERE name = 'planning'")
q "INSERT INTO tokens (token, kind, group_id, address, created, expires) VALUES ('t1', 'join', $gid, 'x@outside.example', 0, 9999999999)"
q "INSERT INTO bounce_events (group_id, address, at, class, score, source) VALUES ($gid, 'gil@council.example', 0, 'hard', 1, 'test')"
cor archive build >/dev/null 2>&1 || fail "archive build"
A=$TMP/state/archive-restricted
check -d "$A/g/planning"

test_case "group delete without --yes: refused, saying what it would delete; nothing deleted"
out=$(cor group delete planning 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: not deleting group planning without --yes: it would delete 4 members, 5 posts in 5 threads (4 messages only in planning), 1 held post, 2 queued copies, 1 control mail, 1 opt-out, 6 settings, and its archive pages (there is no undo)" "refusal"
check_eq "$(q "SELECT count(*) FROM groups")" 2 "still there"
out=$(cor group delete nosuch --yes 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: no such group 'nosuch'" "no group"

test_case "group delete --yes: every row of the group, its own messages, index and archive pages go"
check_eq "$(q "SELECT count(*) FROM attachments")" 3 "rfc2231.eml's attachments before"
out=$(cor group delete planning --yes 2>&1); rc=$?
check_eq "$rc:$out" "0:deleted group planning: 4 members, 5 posts in 5 threads (4 messages only in planning), 1 held post, 2 queued copies, 1 control mail, 1 opt-out, 6 settings
index: removed 4 documents
archive: removed g/planning and rebuilt the pages that listed it" "output"
for t in members group_settings held control_mail outbox tokens optouts bounce_events thread_nodes \
         threads thread_conversations; do
    check_eq "$(q "SELECT count(*) FROM $t WHERE group_id = $gid")" 0 "$t"
done
check_eq "$(q "SELECT count(*) FROM outbox_rcpt")" 0 "outbox_rcpt"
check_eq "$(q "SELECT count(*) FROM messages")" 3 "housing's 3 messages stay"
check_eq "$(q "SELECT count(*) FROM originals")" 3 "originals"
check_eq "$(q "SELECT count(*) FROM attachments")" 0 "attachments"
check_eq "$(q "SELECT count(*) FROM work WHERE msg NOT IN (SELECT id FROM messages)")" 0 "no work for gone rows"
check_eq "$(cor search --json 'id:single@example.org' | jq_ 'd["group"]')" "housing" "shared message: housing only"
check_eq "$(cor search 'group:planning' | wc -l)" 0 "no planning documents"
check_eq "$(cor search 'id:mboxo-2@example.org' | wc -l)" 0 "its own messages gone from search"
if command -v xapian-delve >/dev/null; then   # Debian xapian-tools: the documents themselves
    check_eq "$(xapian-delve "$TMP/state/index" | sed -n 's/^number of documents = //p')" 3 "index documents"
fi
check ! -e "$A/g/planning"
grep -rq 'g/planning' "$TMP/state/archive" "$A" && fail "a page still links g/planning"
check_eq "$(grep -c planning "$TMP/maps/transport")" 0 "postfix maps rewritten"
check_eq "$(cor group list | awk '{print $1}')" "housing" "group list"
test_done
