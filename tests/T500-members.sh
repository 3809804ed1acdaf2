#!/bin/sh
# T500 — `corridor member add|set|remove|list`: members with a name, a
# delivery mode and a role; JSON lines with address, name, mode, role and
# status (a disabled member with its reason); clear errors for a bad
# address, mode, role, group or a missing member; `group set` for a group's
# title, description and visibility; the posting filter sees the members;
# `add --welcome` queues one welcome message (and plain `add` none);
# `remove --opt-out` records an opt-out that a later `add` clears; a
# staff-only group refuses an address outside [filters] staff_domains.
. "$(dirname "$0")/lib.sh"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
cor init >/dev/null
cor group create hr --visibility private >/dev/null
printf '[lmtp]\ndomains = lists.example.gov.uk\n' >"$TMP/state/corridor.conf"

test_case "member add with name, mode and role; addresses kept lowercase; list --json"
check_eq "$(cor member add hr Carol.Jones@Council.example --name 'Carol Jones' --mode digest --role owner)" \
    "added carol.jones@council.example to hr" "add"
cor member add hr dave@council.example >/dev/null || fail "add plain"
check_eq "$(cor member list hr --json | tr '\n' '|')" \
    '{"address":"carol.jones@council.example","name":"Carol Jones","mode":"digest","role":"owner","status":"enabled"}|{"address":"dave@council.example","name":"","mode":"each","role":"member","status":"enabled"}|' \
    "json lines"
check_eq "$(cor member add hr dave@council.example --name Dave)" "added dave@council.example to hr" "again: renames"
check_eq "$(q "SELECT count(*) || ' ' || group_concat(name) FROM members WHERE address = 'dave@council.example'")" "1 Dave" "once"

test_case "member set changes only what is given; remove"
check_eq "$(cor member set hr DAVE@council.example --mode none --role moderator)" "changed dave@council.example in hr" "set"
check_eq "$(q "SELECT name || ' ' || mode || ' ' || role FROM members WHERE address = 'dave@council.example'")" "Dave none moderator" "kept the name"
check_eq "$(cor member remove hr dave@council.example)" "removed dave@council.example from hr" "remove"
check_eq "$(cor member list hr | cut -f1)" "carol.jones@council.example" "left"

test_case "a disabled member is listed with its reason"
q "UPDATE members SET status = 'disabled', reason = 'bounces: 550 5.1.1 user unknown' WHERE address = 'carol.jones@council.example'"
check_eq "$(cor member list hr --json)" \
    '{"address":"carol.jones@council.example","name":"Carol Jones","mode":"digest","role":"owner","status":"disabled","reason":"bounces: 550 5.1.1 user unknown"}' "json"
q "UPDATE members SET status = 'enabled', reason = ''"

test_case "errors name what is wrong and change nothing"
out=$(cor member add hr not-an-address 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: invalid address 'not-an-address'" "address"
out=$(cor member add hr x@council.example --mode weekly 2>&1)
check_eq "$out" "corridor: invalid mode 'weekly' (use each, digest or none)" "mode"
out=$(cor member set hr carol.jones@council.example --role boss 2>&1)
check_eq "$out" "corridor: invalid role 'boss' (use member, owner or moderator)" "role"
out=$(cor member set hr nobody@council.example --mode none 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: cannot set nobody@council.example in hr: nobody@council.example is not a member" "set missing"
out=$(cor member remove hr nobody@council.example 2>&1)
check_eq "$out" "corridor: cannot remove nobody@council.example from hr: nobody@council.example is not a member" "remove missing"
out=$(cor member list nosuch 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: no such group 'nosuch'" "group"
out=$(cor member frobnicate hr 2>&1); rc=$?
check_eq "$rc" 1 "unknown verb"
check_eq "$(q "SELECT count(*) FROM members")" 1 "nothing changed"

test_case "group set: title, description and visibility, with the filter keys in one command"
out=$(cor group set hr title="Human resources" description="HR managers' group" visibility=staff posting=members 2>&1)
check_eq "$out" "changed group hr
corridor: hr is now staff: run 'corridor archive build' to move its pages" "output"
check_eq "$(cor group show hr --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["title"], "|", d["description"], "|", d["visibility"], "|", d["settings"]["posting"])')" \
    "Human resources | HR managers' group | staff | members" "show"
out=$(cor group set hr visibility=secret 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: visibility: 'secret' is not public, staff or private" "bad visibility"
out=$(cor group set hr title= 2>&1)
check_eq "$out" "corridor: title: a group needs a title" "empty title"
cor group set hr visibility=private >/dev/null 2>&1
check_eq "$(q "SELECT title || '|' || visibility FROM groups WHERE name = 'hr'")" "Human resources|private" "stored"

test_case "member add sends nothing; --welcome queues one welcome message with the member's links"
check_eq "$(q "SELECT count(*) FROM outbox")" 0 "nothing queued by add"
cor group set hr description="For HR managers." digest_day=monday >/dev/null
out=$(cor member add hr 'Smith@Council.example' --name 'Smith, Ann' --mode digest --welcome); rc=$?
check_eq "$rc:$out" "0:added smith@council.example to hr (welcome message queued)" "add"
check_eq "$(q "SELECT o.kind || ' ' || o.env_from || ' ' || o.domain || ' ' || r.address FROM outbox o
               JOIN outbox_rcpt r ON r.outbox = o.id")" \
    "welcome hr-bounces@lists.example.gov.uk lists.example.gov.uk smith@council.example" "outbox row"
token=$(q "SELECT token FROM members WHERE address = 'smith@council.example'")
q "SELECT body FROM outbox" | python3 -c '
import email, email.policy, sys
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
print(m["From"]); print(m["To"]); print(m["Subject"]); print(m["Auto-Submitted"]); print(m["List-Id"])
print(m["List-Unsubscribe"]); print(m["List-Unsubscribe-Post"])
print(m.get_content())' >"$TMP/welcome.txt"
check_eq "$(sed -n 1,7p "$TMP/welcome.txt")" "Human resources <hr-request@lists.example.gov.uk>
\"Smith, Ann\" <smith@council.example>
Welcome to Human resources
auto-generated
<hr.lists.example.gov.uk>
<http://127.0.0.1:8080/u/$token>, <mailto:hr-leave@lists.example.gov.uk>
List-Unsubscribe=One-Click" "headers"
for want in "Welcome to Human resources (hr@lists.example.gov.uk)." "For HR managers." \
    "send your message to hr@lists.example.gov.uk" \
    "You get a digest: one message a week, on monday at 07:00, with the week's posts." \
    "To change, write to hr-request@lists.example.gov.uk" \
    'with the subject "mode digest", "mode each" or "mode none".' \
    "To leave the group, write to hr-leave@lists.example.gov.uk" \
    "http://127.0.0.1:8080/u/$token"; do
    grep -qxF "$want" "$TMP/welcome.txt" || grep -qF "$want" "$TMP/welcome.txt" || fail "welcome text lacks: $want"
done
out=$(cor member set hr smith@council.example --welcome 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: --welcome goes with 'member add'" "--welcome with set"
check_eq "$(q "SELECT count(*) FROM outbox")" 1 "one message"

test_case "member remove --opt-out records an opt-out; adding again clears it and says so"
check_eq "$(cor member remove hr smith@council.example --opt-out)" \
    "removed smith@council.example from hr (opted out: a directory sync will not add them back)" "remove"
check_eq "$(q "SELECT address || ' ' || how FROM optouts")" "smith@council.example cli" "recorded"
check_eq "$(cor member remove hr nobody@council.example --opt-out)" \
    "nobody@council.example is not a member of hr; recorded the opt-out (a directory sync will not add them)" "not a member"
out=$(cor member add hr smith@council.example 2>&1)
check_eq "$out" "added smith@council.example to hr
corridor: smith@council.example had left hr themselves; adding them cleared that" "add again"
check_eq "$(q "SELECT group_concat(address) FROM optouts")" "nobody@council.example" "cleared"
out=$(cor member add hr x@council.example --opt-out 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: --opt-out goes with 'member remove'" "--opt-out with add"
cor member remove hr smith@council.example >/dev/null
q "DELETE FROM optouts; DELETE FROM outbox"

test_case "the posting filter sees members: members-only group, a member passes, an outsider does not"
printf 'From: Carol <carol.jones@council.example>\nSubject: Rota\nMessage-ID: <m1@council.example>\n\nHello.\n' >"$TMP/member.eml"
printf 'From: Eve <eve@elsewhere.example>\nSubject: Rota\nMessage-ID: <m2@elsewhere.example>\n\nHello.\n' >"$TMP/outsider.eml"
check_eq "$(cor filter explain --group hr "$TMP/member.eml" | grep '^  posting')" \
    "  posting      pass        carol.jones@council.example is a member" "member"
case $(cor filter explain --group hr "$TMP/outsider.eml" | grep '^decision') in
    *"550 5.7.1 sender not allowed to post to this group: only members may post to hr"*) ;;
    *) fail "outsider: $(cor filter explain --group hr "$TMP/outsider.eml" | grep '^decision')" ;;
esac
test_case "a staff-only group takes staff addresses only; a private group anyone"
printf '[filters]\nstaff_domains = council.example\n' >>"$TMP/state/corridor.conf"
cor group create team --visibility staff >/dev/null
out=$(cor member add team partner@agency.example 2>&1); rc=$?
check_eq "$rc" 1 "exit"
check_eq "$out" "corridor: cannot add partner@agency.example to team: team is open to staff only and partner@agency.example is not a staff address ([filters] staff_domains: council.example); a private group can take people from outside" "message"
check_eq "$(q "SELECT count(*) FROM members WHERE address = 'partner@agency.example'")" 0 "not added"
check_eq "$(cor member add team erin@council.example)" "added erin@council.example to team" "staff"
check_eq "$(cor member add hr partner@agency.example)" "added partner@agency.example to hr" "private group"

test_done
