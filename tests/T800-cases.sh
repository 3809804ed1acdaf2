#!/bin/sh
# T800 — records cases (records/cases.h, records/calendar.h): `case open`
# working out FOI, FOISA, EIR and SAR due dates; `case list` soonest first
# with days left (overdue, working days, stopped), closed only with --all;
# `case show --json` with its fields, queries and events; stop-clock and
# resume moving the due date by the kind of stop (FOI/FOISA: a fee's working
# days disregarded, a clarification restarting the count; SAR: a
# clarification's days added); notes; `case add` by query and by Message-IDs with counts and
# sizes; `foi search` finding a private group's post and a restricted post
# that `corridor search` does not, with the same --json shape; `sar search`
# by address and by name, showing its query; --add; every action in the
# audit trail with its operator; clear errors (unknown case, duplicate,
# bad dates quoted, closed case, outside 2020-2030).  "Now" is fixed with
# CORRIDOR_NOW (Monday 8 April 2024).
. "$(dirname "$0")/lib.sh"
D=$SRC/tests/data/records/core
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
py() { python3 -c "import json,sys; $1"; }
export CORRIDOR_NOW=2024-04-08T12:00:00Z
sian=sian.llewelyn@northshire.gov.uk

cor init >/dev/null
cat >"$TMP/state/corridor.conf" <<'CONF'
[lmtp]
domains = lists.northshire.gov.uk
[records]
officers = foi, alice
CONF
cor group create planning >/dev/null
cor group create hr --visibility private >/dev/null
cor group create social --visibility private >/dev/null
cor import --group planning "$D/planning.mbox" >/dev/null || fail "import"
cor deliver --group hr <"$D/hr-private.eml" >/dev/null || fail "deliver hr"
cor deliver --group social <"$D/restricted.eml" >/dev/null || fail "deliver social"
cor reindex >/dev/null 2>&1 || fail "reindex"
size() { q "SELECT sum(size) FROM messages WHERE message_id IN ($1)"; }

test_case "the test mail is where the test needs it: one restricted post, one private group"
check_eq "$(q "SELECT group_concat(g.name || ':' || n.message_id || ':' || n.status, ' ') FROM thread_nodes n JOIN groups g ON g.id = n.group_id WHERE n.msg IS NOT NULL AND g.name <> 'planning'")" \
    "hr:hr-1@northshire.gov.uk:accepted social:marked-1@northshire.gov.uk:restricted" "places"

test_case "case open: FOI, FOISA, EIR (NI) and SAR due dates"
check_eq "$(cor case open FOI-2024-001 --type foi --received 2024-03-25 --operator alice)" \
    "opened case FOI-2024-001 (foi, england-wales): received 2024-03-25, due 2024-04-24" "FOIA across Easter"
check_eq "$(cor case open FOI-2024-002 --type foi --jurisdiction scotland --received 2024-03-25 --operator alice)" \
    "opened case FOI-2024-002 (foi, scotland): received 2024-03-25, due 2024-04-23" "FOISA: Easter Monday counts"
check_eq "$(cor case open EIR-2024-003 --type eir --jurisdiction northern-ireland --received 2024-03-11)" \
    "opened case EIR-2024-003 (eir, northern-ireland): received 2024-03-11, due 2024-04-11" "EIR across St Patrick's Day and Easter"
check_eq "$(cor case open SAR-2024-004 --type sar --received 2024-02-29 --person $sian --operator foi)" \
    "opened case SAR-2024-004 (sar, england-wales): received 2024-02-29, due 2024-04-02" "SAR: 29 Mar is Good Friday"
check_eq "$(cor case open FOI-2024-000 --type foi --received 2024-03-01 --operator alice)" \
    "opened case FOI-2024-000 (foi, england-wales): received 2024-03-01, due 2024-04-03" \
    "FOI: NI's St Patrick's Day substitute (18 Mar), Good Friday and Easter Monday skipped"
check_eq "$(q "SELECT group_concat(ref || ':' || opened_by || ':' || status, ' ') FROM cases ORDER BY id")" \
    "FOI-2024-001:alice:open FOI-2024-002:alice:open EIR-2024-003:$(id -un):open SAR-2024-004:foi:open FOI-2024-000:alice:open" \
    "operators: --operator, else the login user"

test_case "case open: clear errors that change nothing"
err() { out=$(cor "$@" 2>&1); echo "$?:$out"; }
check_eq "$(err case open FOI-2024-001 --type foi --received 2024-03-26)" \
    "1:corridor: case 'FOI-2024-001' exists already (opened by alice, received 2024-03-25)" "duplicate"
check_eq "$(err case open FOI-9 --type foi --received 2024-02-30)" \
    "1:corridor: --received: bad date '2024-02-30' (no such day)" "no such day"
check_eq "$(err case open FOI-9 --type foi --received 25/03/2024)" \
    "1:corridor: --received: bad date '25/03/2024' (use YYYY-MM-DD)" "format"
check_eq "$(err case open FOI-9 --type foi --received 2019-12-02)" \
    "1:corridor: 2019-12-02 is outside the bank-holiday tables (2020-01-01 to 2030-12-31): corridor cannot work out working days there" \
    "outside the tables"
check_eq "$(err case open FOI-9 --type foia --received 2024-03-01)" "1:corridor: bad --type 'foia' (foi, eir or sar)" "type"
check_eq "$(err case open FOI-9 --type foi --jurisdiction wales --received 2024-03-01)" \
    "1:corridor: bad --jurisdiction 'wales' (england-wales, scotland or northern-ireland)" "jurisdiction"
check_eq "$(err case open SAR-9 --type sar --received 2024-03-01)" \
    "1:corridor: a SAR case needs --person ADDRESS (the data subject)" "SAR without a person"
check_eq "$(err case open 'FOI 9' --type foi --received 2024-03-01)" \
    "1:corridor: bad case reference 'FOI 9' (1-64 letters, digits and - _ . / :)" "bad ref"
check_eq "$(err case open FOI-9 --type foi --received 2024-05-01)" \
    "1:corridor: received date '2024-05-01' is in the future" "future"
check_eq "$(err case show NOPE)" "1:corridor: no case 'NOPE'" "unknown case"
check_eq "$(err case note NOPE hello)" "1:corridor: no case 'NOPE'" "unknown case (note)"
check_eq "$(err case frobnicate)" \
    "1:corridor: case: unknown subcommand 'frobnicate' (open, list, show, stop-clock, resume, note, close, add, export, redact)" \
    "unknown subcommand"
check_eq "$(q "SELECT count(*) FROM cases")" 5 "no case made"

test_case "case close; case list: soonest first with days left, closed only with --all"
check_eq "$(cor case close FOI-2024-000)" "case FOI-2024-000 closed" "close"
check_eq "$(err case close FOI-2024-000)" "1:corridor: case 'FOI-2024-000' is closed already" "close twice"
cor case list >"$TMP/list"
check_eq "$(cat "$TMP/list")" \
"CASE                 TYPE JURISDICTION     RECEIVED    DUE         LEFT                       MESSAGES
SAR-2024-004         sar  england-wales    2024-02-29  2024-04-02  overdue 6 days             0
EIR-2024-003         eir  northern-ireland 2024-03-11  2024-04-11  3 working days             0
FOI-2024-002         foi  scotland         2024-03-25  2024-04-23  11 working days            0
FOI-2024-001         foi  england-wales    2024-03-25  2024-04-24  12 working days            0
4 cases open" "list"
check_eq "$(cor case list --json | py 'print(" ".join("%s:%s:%s" % (d["ref"], d["days_left"], d["working_days_left"]) for d in map(json.loads, sys.stdin)))')" \
    "SAR-2024-004:-6:-6 EIR-2024-003:3:3 FOI-2024-002:15:11 FOI-2024-001:16:12" "list --json"
check_eq "$(cor case list --all --json | py 'print(" ".join(d["ref"] + ":" + d["status"] for d in map(json.loads, sys.stdin)))')" \
    "SAR-2024-004:open EIR-2024-003:open FOI-2024-002:open FOI-2024-001:open FOI-2024-000:closed" "--all"

test_case "stop-clock and resume: a fee pauses FOI, a clarification restarts it (FOISA too) and pauses a SAR"
check_eq "$(cor case stop-clock FOI-2024-001 --kind fee --on 2024-04-03 --reason 'fees notice sent' --operator alice)" \
    "clock of case FOI-2024-001 stopped on 2024-04-03 for a fee" "stop"
cor case list | grep '^FOI-2024-001 ' >"$TMP/line"
# working days left counted from the stop: (3 Apr, 24 Apr] = 4,5, 8-12, 15-19, 22-24 = 15
check_eq "$(cat "$TMP/line")" \
    "FOI-2024-001         foi  england-wales    2024-03-25  2024-04-24  15 working days (stopped)  0" "stopped in the list"
check_eq "$(err case stop-clock FOI-2024-001 --on 2024-04-04 --reason again)" \
    "1:corridor: the clock of case 'FOI-2024-001' is already stopped (since 2024-04-03)" "stop twice"
check_eq "$(err case resume FOI-2024-001 --on 2024-04-02)" \
    "1:corridor: the clock cannot resume (2024-04-02) before it stopped (2024-04-03)" "resume before the stop"
check_eq "$(err case stop-clock FOI-2024-002 --reason x --on 2024-03-20)" \
    "1:corridor: cannot stop the clock on 2024-03-20, before the request was received (2024-03-25)" "stop before receipt"
check_eq "$(err case stop-clock FOI-2024-002 --on 2024-04-03)" \
    "1:corridor: usage: corridor case stop-clock REF [--kind clarification|fee] [--on YYYY-MM-DD] --reason TEXT" "no reason"
check_eq "$(err case stop-clock FOI-2024-002 --kind payment --reason x)" \
    "1:corridor: bad --kind 'payment' (clarification or fee)" "bad kind"
# FOIA s.10(2): the working days from the notice (3 Apr) to the payment (10 Apr) are
# disregarded: 3, 4, 5, 8, 9, 10 = 6; the 26th working day after 25 Mar: 24 Apr (20),
# 25, 26, 29, 30 Apr, 1 May, Thu 2 May (26)
check_eq "$(cor case resume FOI-2024-001 --on 2024-04-10 --operator alice)" \
    "clock of case FOI-2024-001 resumed; due 2024-05-02" "resume"
check_eq "$(err case resume FOI-2024-001)" "1:corridor: the clock of case 'FOI-2024-001' is not stopped (it is open)" \
    "resume twice"
# FOISA s.1(3), s.10(1)(b): clarification asked 27 Mar (the default kind), received Tue 2
# Apr: 20 working days after 2 Apr in Scotland (Easter Monday was before; no holiday
# after): 3-5 (3), 8-12 (8), 15-19 (13), 22-26 (18), 29, Tue 30 Apr (20)
check_eq "$(cor case stop-clock FOI-2024-002 --on 2024-03-27 --reason 'which culvert?')" \
    "clock of case FOI-2024-002 stopped on 2024-03-27 for a clarification" "clarification is the default"
check_eq "$(cor case resume FOI-2024-002 --on 2024-04-02)" "clock of case FOI-2024-002 resumed; due 2024-04-30" \
    "FOISA restarts"
# SAR (UK GDPR Art 12A): clarification asked 10 Mar, answered 20 Mar: the 11 days 10-20
# Mar do not count: 29 Mar + 11 = Tue 9 Apr
cor case stop-clock SAR-2024-004 --on 2024-03-10 --reason "which records?" >/dev/null || fail "SAR stop"
check_eq "$(cor case resume SAR-2024-004 --on 2024-03-20)" "clock of case SAR-2024-004 resumed; due 2024-04-09" "SAR resume"
check_eq "$(q "SELECT ref || ':' || status || ':' || days_stopped || ':' || due || ':' || coalesce(stopped_on, '-') || ':' || clock_from || ':' || coalesce(stop_kind, '-') FROM cases WHERE ref IN ('FOI-2024-001', 'FOI-2024-002', 'SAR-2024-004') ORDER BY ref")" \
    "FOI-2024-001:open:6:2024-05-02:-:2024-03-25:-
FOI-2024-002:open:0:2024-04-30:-:2024-04-02:-
SAR-2024-004:open:11:2024-04-09:-:2024-02-29:-" "stored"
check_eq "$(q "SELECT text FROM case_events WHERE kind = 'resume' ORDER BY id")" \
    "clock resumed on 2024-04-10 (fee): 6 working days not counted; due 2024-05-02 (was 2024-04-24)
clock resumed on 2024-04-02 (clarification): the 20 working days restart after 2024-04-02; due 2024-04-30 (was 2024-04-23)
clock resumed on 2024-03-20 (clarification): 11 days not counted; due 2024-04-09 (was 2024-04-02)" "history"

test_case "case note"
check_eq "$(cor case note FOI-2024-001 Spoke to the requester about the scope --operator alice)" \
    "note added to case FOI-2024-001" "note"
check_eq "$(q "SELECT kind || ':' || operator || ':' || text FROM case_events WHERE kind = 'note'")" \
    "note:alice:Spoke to the requester about the scope" "stored"

test_case "foi search: every group, private and restricted included, unlike corridor search"
check_eq "$(cor search --json drainage | py 'print(" ".join(sorted(json.loads(l)["message_id"] for l in sys.stdin)))')" \
    "mill-1@northshire.gov.uk mill-2@northshire.gov.uk" "corridor search: the archive's view"
cor foi search --case FOI-2024-002 --json --operator foi drainage >"$TMP/foi.json" 2>"$TMP/foi.err" || fail "foi search"
check_eq "$(py 'print(" ".join(json.loads(l)["message_id"] + "@" + json.loads(l)["group"] for l in sys.stdin))' <"$TMP/foi.json")" \
    "mill-1@northshire.gov.uk@planning mill-2@northshire.gov.uk@planning hr-1@northshire.gov.uk@hr marked-1@northshire.gov.uk@social" \
    "foi search: oldest first, private and restricted"
check_eq "$(head -1 "$TMP/foi.json" | py 'print(sorted(json.loads(sys.stdin.read())))')" \
    "$(cor search --json drainage | head -1 | py 'print(sorted(json.loads(sys.stdin.read())))')" "same JSON shape as corridor search"
b4=$(size "'mill-1@northshire.gov.uk','mill-2@northshire.gov.uk','hr-1@northshire.gov.uk','marked-1@northshire.gov.uk'")
check_eq "$(cat "$TMP/foi.err")" "4 messages, $b4 bytes (search #1 recorded for case FOI-2024-002)" "summary on stderr with --json"
cor foi search --case FOI-2024-002 -- drainage -overtime >"$TMP/foi.txt" || fail "foi search text"
check_eq "$(cat "$TMP/foi.txt")" \
"2024-03-04  planning     Siân Llewelyn <$sian>; Drainage survey for Mill Lane  <mill-1@northshire.gov.uk>
2024-03-04  planning     Tom Hughes <tom.hughes@northshire.gov.uk>; Re: Drainage survey for Mill Lane  <mill-2@northshire.gov.uk>
2024-03-11  social (restricted) Gwen Morgan <gwen.morgan@northshire.gov.uk>; Drainage complaint follow-up  <marked-1@northshire.gov.uk>
3 messages, $(size "'mill-1@northshire.gov.uk','mill-2@northshire.gov.uk','marked-1@northshire.gov.uk'") bytes (search #2 recorded for case FOI-2024-002)" \
    "text, a -word term"
check_eq "$(q "SELECT group_concat(kind || '|' || query || '|' || count || '|' || bytes || '|' || operator, ' / ') FROM case_queries")" \
    "foi|drainage|4|$b4|foi / foi|drainage -overtime|3|$(size "'mill-1@northshire.gov.uk','mill-2@northshire.gov.uk','marked-1@northshire.gov.uk'")|$(id -un)" \
    "recorded with count and size"
check_eq "$(q "SELECT count(*) FROM case_messages")" 0 "nothing added without --add"
check_eq "$(err foi search --case NOPE drainage)" "1:corridor: no case 'NOPE'" "unknown case"
check_eq "$(err foi search --case FOI-2024-000 drainage)" "1:corridor: case 'FOI-2024-000' is closed" "closed case"
check_eq "$(err foi search --case FOI-2024-002 'subject:(drainage')" \
    "1:corridor: malformed query: position 18: missing ')'" "malformed query"
check_eq "$(q "SELECT count(*) FROM case_queries")" 2 "failed searches not recorded"

test_case "foi search --add: the results join the case under that search, in one transaction"
cor foi search --case FOI-2024-002 --add culvert >"$TMP/add.txt" || fail "search --add"
check_eq "$(tail -1 "$TMP/add.txt")" \
    "added 2 to case FOI-2024-002; the case has 2 messages, $(size "'mill-2@northshire.gov.uk','budget-1@northshire.gov.uk'") bytes" "summary"
check_eq "$(q "SELECT group_concat(m.message_id || ':' || (cm.query_id = (SELECT max(id) FROM case_queries)), ' ') FROM case_messages cm JOIN messages m ON m.id = cm.msg")" \
    "mill-2@northshire.gov.uk:1 budget-1@northshire.gov.uk:1" "linked to the search"

test_case "case add: by query and by Message-IDs, with counts and sizes"
out=$(cor case add FOI-2024-001 --query drainage --operator alice)
check_eq "$out" "added 4 of 4 messages ($b4 bytes) to case FOI-2024-001; the case has 4 messages, $b4 bytes" "by query"
b5=$(size "'mill-1@northshire.gov.uk','mill-2@northshire.gov.uk','hr-1@northshire.gov.uk','marked-1@northshire.gov.uk','carpark-1@northshire.gov.uk'")
out=$(cor case add FOI-2024-001 '<carpark-1@northshire.gov.uk>' mill-1@northshire.gov.uk)
check_eq "$out" "added 1 of 2 messages ($(size "'carpark-1@northshire.gov.uk','mill-1@northshire.gov.uk'") bytes) to case FOI-2024-001; the case has 5 messages, $b5 bytes" \
    "by ids, one already there"
check_eq "$(err case add FOI-2024-001 nosuch@northshire.gov.uk)" "1:corridor: no message <nosuch@northshire.gov.uk>" "unknown id"
check_eq "$(err case add FOI-2024-000 --query drainage)" "1:corridor: case 'FOI-2024-000' is closed" "closed"
check_eq "$(q "SELECT kind || '|' || query || '|' || count FROM case_queries WHERE case_id = (SELECT id FROM cases WHERE ref = 'FOI-2024-001') ORDER BY id")" \
    "query|drainage|4
ids|<carpark-1@northshire.gov.uk> <mill-1@northshire.gov.uk>|2" "recorded"

test_case "sar search: by address (from, to, cc, mentioned), then by name too; the query shown"
cor sar search --case SAR-2024-004 --json >"$TMP/sar.json" 2>"$TMP/sar.err" || fail "sar search"
check_eq "$(py 'print(" ".join(json.loads(l)["message_id"] for l in sys.stdin))' <"$TMP/sar.json")" \
    "mill-1@northshire.gov.uk mill-2@northshire.gov.uk budget-1@northshire.gov.uk hr-1@northshire.gov.uk" \
    "from, to, cc, and the address in a private group's text"
check_eq "$(head -1 "$TMP/sar.err")" \
    "query: from:\"$sian\" OR to:\"$sian\" OR cc:\"$sian\" OR \"$sian\"" "query shown (person from the case)"
cor sar search --case SAR-2024-004 --person $sian --name "Siân Llewelyn" --operator foi >"$TMP/sar.txt" || fail "sar by name"
check_eq "$(head -1 "$TMP/sar.txt")" \
    "query: from:\"$sian\" OR to:\"$sian\" OR cc:\"$sian\" OR \"$sian\" OR from:\"Siân Llewelyn\" OR to:\"Siân Llewelyn\" OR \"Siân Llewelyn\"" "query with the name"
check_eq "$(sed -n '2,$p' "$TMP/sar.txt" | grep -o '<[^>]*>$' | tr '\n' ' ')" \
    "<mill-1@northshire.gov.uk> <mill-2@northshire.gov.uk> <budget-1@northshire.gov.uk> <rota-1@northshire.gov.uk> <hr-1@northshire.gov.uk> " \
    "the rota mentions her by name only"
check_eq "$(q "SELECT kind || '|' || count || '|' || operator FROM case_queries WHERE case_id = (SELECT id FROM cases WHERE ref = 'SAR-2024-004') ORDER BY id")" \
    "sar|4|$(id -un)
sar|5|foi" "recorded"
check_eq "$(err sar search --case FOI-2024-001)" "1:corridor: case 'FOI-2024-001' names no person: give --person ADDRESS" "no person"
check_eq "$(err sar search --case SAR-2024-004 --person nobody)" "1:corridor: bad --person 'nobody' (an email address)" "bad person"

test_case "case show --json: the fields, queries with times and counts, events, bytes"
cor case show FOI-2024-001 --json --operator alice >"$TMP/show.json" || fail "show"
check_eq "$(py 'd = json.load(sys.stdin); print(d["ref"], d["type"], d["jurisdiction"], d["received"], d["due"], d["status"], d["messages"], d["bytes"], d["days_stopped"], d["opened_by"])' <"$TMP/show.json")" \
    "FOI-2024-001 foi england-wales 2024-03-25 2024-05-02 open 5 $b5 6 alice" "fields"
check_eq "$(py 'd = json.load(sys.stdin); print(" / ".join("%s %s %d %d %s" % (q["kind"], q["query"], q["count"], q["bytes"], q["at"][:2]) for q in d["queries"]))' <"$TMP/show.json")" \
    "query drainage 4 $b4 20 / ids <carpark-1@northshire.gov.uk> <mill-1@northshire.gov.uk> 2 $(size "'carpark-1@northshire.gov.uk','mill-1@northshire.gov.uk'") 20" "queries"
check_eq "$(py 'd = json.load(sys.stdin); print(" / ".join(e["kind"] + ":" + e["operator"] for e in d["events"]))' <"$TMP/show.json")" \
    "open:alice / stop:alice / resume:alice / note:alice" "events"
check_eq "$(py 'd = json.load(sys.stdin); print(d["events"][2]["text"])' <"$TMP/show.json")" \
    "clock resumed on 2024-04-10 (fee): 6 working days not counted; due 2024-05-02 (was 2024-04-24)" "resume event"
check_eq "$(py 'd = json.load(sys.stdin); print(len(d["message_ids"]), d["days_left"], d["working_days_left"])' <"$TMP/show.json")" \
    "5 24 18" "ids and days left"
cor case show FOI-2024-001 >"$TMP/show.txt" || fail "show text"
grep -q '^due:           2024-05-02 (18 working days)$' "$TMP/show.txt" || fail "text show: $(cat "$TMP/show.txt")"

test_case "every action is in the audit trail with its operator, and the trail verifies"
check_eq "$(cor audit list --case FOI-2024-001 --json | py 'print(" ".join(json.loads(l)["action"] + ":" + json.loads(l)["operator"] for l in sys.stdin))')" \
    "case.open:alice case.stop-clock:alice case.resume:alice case.note:alice case.add:alice case.add:$(id -un) case.view:alice case.view:$(id -un)" \
    "FOI-2024-001"
check_eq "$(q "SELECT group_concat(action, ' ') FROM (SELECT DISTINCT action FROM audit ORDER BY action)")" \
    "case.add case.close case.note case.open case.resume case.stop-clock case.view foi.search role.change sar.search" "actions"
check_eq "$(q "SELECT operator || ' ' || detail FROM audit WHERE seq = 1")" \
    "alice {\"role\":\"records officer\",\"officers\":[\"alice\",\"foi\"],\"previous\":[]}" "the officer list recorded once"
check_eq "$(q "SELECT detail FROM audit WHERE action = 'foi.search' ORDER BY seq LIMIT 1")" \
    "{\"query\":\"drainage\",\"count\":4,\"bytes\":$b4,\"query_id\":1}" "search entry: query, count, size"
out=$(cor audit verify); rc=$?
check_eq "$rc" 0 "verify: $out"
test_done
