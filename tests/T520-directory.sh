#!/bin/sh
# T520 — `corridor directory sync`: three syncs of a staff directory with
# default-follow rules ([directory] everyone, [follow] by department).  New
# staff join (source 'directory', mode [directory] mode); a member who opted
# out stays out on every later sync; a leaver's directory memberships go; a
# mover changes groups; members added by hand are kept (and reported when
# they are not in the directory); RFC 4180 quoting, a BOM, CRLF and
# first-name/surname columns; a malformed file names FILE:LINE and changes
# nothing; --dry-run changes nothing; bad rules are refused.
. "$(dirname "$0")/lib.sh"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
D=$SRC/tests/data/directory
cor init >/dev/null
cat >"$TMP/state/corridor.conf" <<'EOF'
[lmtp]
domains = lists.council.example

[directory]
everyone = all-staff
mode = digest

[follow]
Planning = planning
Housing & Communities = housing, tenants
EOF
for g in all-staff planning housing tenants book-club; do cor group create "$g" >/dev/null; done
# by hand: Zoe (not in the directory), Dave in housing, a contractor elsewhere
cor member add planning zoe@council.example >/dev/null
cor member add housing dave@council.example --name "Dave S." >/dev/null
cor member add all-staff contractor@agency.example >/dev/null
# who is where: "group address source mode" lines
members() { q "SELECT g.name || ' ' || m.address || ' ' || m.source || ' ' || m.mode FROM members m
               JOIN groups g ON g.id = m.group_id ORDER BY g.name, m.address"; }
snapshot() { q "SELECT g.name, m.address, m.name, m.mode, m.role, m.source, m.token FROM members m
                JOIN groups g ON g.id = m.group_id ORDER BY 1, 2; SELECT * FROM optouts ORDER BY 1, 2"; }

test_case "sync 1: everyone joins all-staff and their department's groups (BOM, CRLF, quotes)"
cd "$D" || exit 1
out=$(cor directory sync staff1.csv 2>&1); rc=$?
check_eq "$rc" 0 "exit"
check_eq "$out" "staff1.csv: 5 people
joined 8, left 0, kept out by opt-out 0, unchanged 1, renamed 0, kept by hand 1" "summary"
check_eq "$(members)" "all-staff carol@council.example directory digest
all-staff contractor@agency.example cli each
all-staff dave@council.example directory digest
all-staff eve@council.example directory digest
all-staff frank@council.example directory digest
all-staff grace@council.example directory digest
housing dave@council.example cli each
planning carol@council.example directory digest
planning eve@council.example directory digest
planning zoe@council.example cli each
tenants dave@council.example directory digest" "memberships"
check_eq "$(q "SELECT group_concat(name, '|') FROM (SELECT m.name FROM members m
               JOIN groups g ON g.id = m.group_id WHERE g.name = 'all-staff' ORDER BY m.address)")" \
    'Jones, Carol||Dave Smith|Eve "Evie" Brown|Frank Green|Grace Hall' "names from quoted fields"
check_eq "$(q "SELECT name FROM members WHERE address = 'dave@council.example' AND group_id =
               (SELECT id FROM groups WHERE name = 'housing')")" "Dave S." "a hand-given name kept"
check_eq "$(q "SELECT count(*) FROM outbox")" 0 "a sync sends nothing"

test_case "a member opts out between syncs"
check_eq "$(cor member remove planning eve@council.example --opt-out)" \
    "removed eve@council.example from planning (opted out: a directory sync will not add them back)" "remove"
check_eq "$(q "SELECT how FROM optouts")" "cli" "opt-out recorded"

test_case "--dry-run says what sync 2 would do and changes nothing"
before=$(snapshot)
out=$(cor directory sync --dry-run staff2.csv 2>&1); rc=$?
check_eq "$rc:$(echo "$out" | tail -1)" \
    "0:joined 4, left 2, kept out by opt-out 1, unchanged 5, renamed 0, kept by hand 1 (dry run: nothing changed)" "summary"
check_eq "$(snapshot)" "$before" "unchanged"

test_case "sync 2: the opted-out member stays out, a leaver goes, a mover changes groups, a joiner joins"
out=$(cor directory sync --verbose staff2.csv 2>&1); rc=$?
check_eq "$rc" 0 "exit"
check_eq "$out" "joined all-staff henry@council.example (Housing - Communities)
left all-staff frank@council.example: not in the directory
joined housing henry@council.example (Housing - Communities)
joined planning dave@council.example (PLANNING)
kept-out planning eve@council.example: left it themselves
kept planning zoe@council.example: not in the directory, but added by hand (cli)
joined tenants henry@council.example (Housing - Communities)
left tenants dave@council.example: department now 'PLANNING', and no rule gives it
group all-staff: joined 1, left 1, kept out by opt-out 0, unchanged 4, renamed 0, kept by hand 0
group housing: joined 1, left 0, kept out by opt-out 0, unchanged 0, renamed 0, kept by hand 0
group planning: joined 1, left 0, kept out by opt-out 1, unchanged 1, renamed 0, kept by hand 1
group tenants: joined 1, left 1, kept out by opt-out 0, unchanged 0, renamed 0, kept by hand 0
staff2.csv: 5 people
joined 4, left 2, kept out by opt-out 1, unchanged 5, renamed 0, kept by hand 1" "verbose"
check_eq "$(members)" "all-staff carol@council.example directory digest
all-staff contractor@agency.example cli each
all-staff dave@council.example directory digest
all-staff eve@council.example directory digest
all-staff grace@council.example directory digest
all-staff henry@council.example directory digest
housing dave@council.example cli each
housing henry@council.example directory digest
planning carol@council.example directory digest
planning dave@council.example directory digest
planning zoe@council.example cli each
tenants henry@council.example directory digest" "memberships"
check_eq "$(q "SELECT count(*) FROM optouts")" 1 "the opt-out stays"

test_case "sync 3: still out; names follow the directory (first name + surname columns)"
q "UPDATE members SET mode = 'each' WHERE address = 'grace@council.example'"   # her own choice
out=$(cor directory sync staff3.csv 2>&1)
check_eq "$out" "staff3.csv: 5 people
joined 0, left 0, kept out by opt-out 1, unchanged 7, renamed 2, kept by hand 1" "summary"
check_eq "$(q "SELECT DISTINCT name FROM members WHERE address = 'carol@council.example'")" "Carol Jones-Smith" "renamed"
check_eq "$(q "SELECT count(*) FROM members WHERE address = 'eve@council.example' AND group_id =
               (SELECT id FROM groups WHERE name = 'planning')")" 0 "eve still out"
check_eq "$(q "SELECT mode FROM members WHERE address = 'grace@council.example'")" "each" "a member's own mode kept"

test_case "a malformed directory names the file and line and changes nothing"
before=$(snapshot)
out=$(cor directory sync bad-quote.csv 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: bad-quote.csv:2: a quoted field is not closed
corridor: bad-quote.csv: nothing changed" "unclosed quote"
out=$(cor directory sync bad-rows.csv 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: bad-rows.csv:4: 3 fields, but the header has 4
corridor: bad-rows.csv:6: 'not-an-address' is not a mail address
corridor: bad-rows.csv:7: eve@council.example is in the directory twice (first on line 5)
corridor: bad-rows.csv: nothing changed" "bad rows (line numbers after a field with a new line)"
out=$(cor directory sync latin1.csv 2>&1)
check_eq "$out" 'corridor: latin1.csv:3: not UTF-8 text (save the directory as "CSV UTF-8")
corridor: latin1.csv: nothing changed' "not UTF-8"
out=$(cor directory sync no-name.csv 2>&1)
case $out in "corridor: no-name.csv:1: the header has no name column (it has 'mail', 'department';"*) ;;
    *) fail "no name column: $out" ;; esac
printf 'email,name\n' >"$TMP/empty.csv"
out=$(cor directory sync "$TMP/empty.csv" 2>&1); rc=$?
check_eq "$rc" 1 "header only: refused"
out=$(cor directory sync "$TMP/nonexistent.csv" 2>&1); rc=$?
check_eq "$rc" 1 "missing file"
check_eq "$(snapshot)" "$before" "nothing changed"

test_case "rules naming a missing group, or a department twice, are refused"
cp "$TMP/state/corridor.conf" "$TMP/conf.good"
sed 's/^Planning = planning/Planning = planing/' "$TMP/conf.good" >"$TMP/state/corridor.conf"
out=$(cor directory sync staff3.csv 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: $TMP/state/corridor.conf: [follow] Planning: no group 'planing' (create it first, or correct the rule)" "missing group"
printf 'planning = book-club\n' | cat "$TMP/conf.good" - >"$TMP/state/corridor.conf"
out=$(cor directory sync staff3.csv 2>&1)
check_eq "$out" "corridor: $TMP/state/corridor.conf: [follow] 'Planning' and 'planning' name the same department (names are compared without case and punctuation)" "same department"
printf 'Planning = book-club\n' | cat "$TMP/conf.good" - >"$TMP/state/corridor.conf"
out=$(cor directory sync staff3.csv 2>&1)
check_eq "$out" "corridor: $TMP/state/corridor.conf: line 11: [follow] Planning: given twice" "twice"
sed 's/^mode = digest/mode = weekly/' "$TMP/conf.good" >"$TMP/state/corridor.conf"
out=$(cor directory sync staff3.csv 2>&1)
check_eq "$out" "corridor: $TMP/state/corridor.conf: [directory] mode: 'weekly' is not each, digest or none" "mode"
cp "$TMP/conf.good" "$TMP/state/corridor.conf"
check_eq "$(snapshot)" "$before" "nothing changed"

test_case "a rule that goes takes its directory memberships with it; hand-added ones stay"
grep -v '^Housing' "$TMP/conf.good" >"$TMP/state/corridor.conf"
out=$(cor directory sync staff3.csv 2>&1)
check_eq "$(echo "$out" | tail -1)" "joined 0, left 2, kept out by opt-out 1, unchanged 7, renamed 0, kept by hand 1" "summary"
check_eq "$(q "SELECT g.name || ' ' || m.address FROM members m JOIN groups g ON g.id = m.group_id
               WHERE g.name IN ('housing', 'tenants') ORDER BY 1")" "housing dave@council.example" "left"
cp "$TMP/conf.good" "$TMP/state/corridor.conf"
test_done
