#!/bin/sh
# T810 — the records audit trail (records/audit.h), acceptance: after real
# records commands, the trail verifies; then, each on a fresh copy of that
# state, someone opens the store with the sqlite3 tool, drops the
# protective triggers and edits a row, deletes a middle row, deletes the
# last row (also rewriting the store's anchor), swaps two rows, renumbers
# two rows, or appends a well-formed row — and `corridor audit verify`
# exits non-zero naming the first bad entry (and which anchor disagrees).
# The triggers refuse the same edits while they are there.  `audit export`
# is re-verified by an independent script written from docs/records.md,
# which also finds an edited export line.  The officer list recorded is the
# one the web uses ([records] and the deprecated [http] officers, as addresses).
# What verify can and cannot prove (docs/records.md): the reviewer's three
# tamperings by someone who can write both the store and the anchor file,
# each found by the cross-check of the records tables or by `verify
# --anchor` against a copy shipped off the machine by
# contrib/corridor-anchor-ship; a crash's stray anchor line recorded by the
# next command and accepted; verify without the write lock; every entry's
# login; and two officers (two Unix users in the records group, set up as
# the docs say) running every records command, approval refused to the
# planner's own login, and the real error when the anchor file is not
# writable.
. "$(dirname "$0")/lib.sh"
D=$SRC/tests/data/records/core
export CORRIDOR_NOW=2024-04-08T12:00:00Z
sian=sian.llewelyn@northshire.gov.uk

cor init >/dev/null
printf '[records]\nofficers = foi\n' >"$TMP/state/corridor.conf"
cor group create planning >/dev/null
cor group create hr --visibility private >/dev/null
cor import --group planning "$D/planning.mbox" >/dev/null || fail "import"
cor deliver --group hr <"$D/hr-private.eml" >/dev/null || fail "deliver"
cor reindex >/dev/null 2>&1 || fail "reindex"

# real records work: 12 entries
cor case open FOI-7 --type foi --received 2024-03-25 --operator foi >/dev/null
cor foi search --case FOI-7 --operator foi drainage >/dev/null
cor case add FOI-7 --query culvert --operator foi >/dev/null
cor case note FOI-7 "scope agreed" --operator foi >/dev/null
cor case stop-clock FOI-7 --on 2024-04-02 --reason "fee notice" --operator foi >/dev/null
cor case resume FOI-7 --on 2024-04-05 --operator foi >/dev/null
cor case open SAR-8 --type sar --received 2024-03-01 --person $sian --operator bob >/dev/null
cor sar search --case SAR-8 --add --operator bob >/dev/null
cor case show SAR-8 --operator bob >/dev/null
cor case close SAR-8 --operator bob >/dev/null
N=$(sqlite3 "$TMP/state/corridor.db" "SELECT max(seq) FROM audit")
cp -r "$TMP/state" "$TMP/pristine"

# fresh STATE-copy; tamper SQL: the sqlite3 tool on the copy, triggers dropped first
fresh() { rm -rf "$TMP/t"; cp -r "$TMP/pristine" "$TMP/t"; }
tamper() {
    sqlite3 "$TMP/t/corridor.db" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $1" ||
        fail "sqlite3: $1"
}
verify() { out=$("$CORRIDOR" --state "$TMP/t" audit verify 2>&1); echo "$?:$out"; }
anchor=$TMP/t/corridor.db.audit-anchor

test_case "the real work made $N entries, each action there, and the untouched trail verifies"
check_eq "$N" 12 "entries"
check_eq "$(sqlite3 "$TMP/state/corridor.db" "SELECT group_concat(action, ' ') FROM (SELECT action FROM audit ORDER BY seq)")" \
    "role.change case.open foi.search case.add case.note case.stop-clock case.resume case.open sar.search case.add case.view case.close" \
    "actions"
out=$(cor audit verify); rc=$?
check_eq "$rc:$out" "0:audit trail intact: 12 entries, chain and anchors (meta audit_head, $TMP/state/corridor.db.audit-anchor) agree" "verify"
check_eq "$(wc -l <"$TMP/state/corridor.db.audit-anchor")" 10 "one anchor line per committed transaction"
check_eq "$(tail -1 "$TMP/state/corridor.db.audit-anchor")" \
    "$(sqlite3 "$TMP/state/corridor.db" "SELECT seq || ' ' || hash FROM audit ORDER BY seq DESC LIMIT 1")" "file anchor = head"
check_eq "$(sqlite3 "$TMP/state/corridor.db" "SELECT value FROM meta WHERE key = 'audit_head'")" \
    "$(tail -1 "$TMP/state/corridor.db.audit-anchor")" "meta anchor = head"

test_case "while the triggers are there, UPDATE and DELETE are refused"
fresh
out=$(sqlite3 "$TMP/t/corridor.db" "UPDATE audit SET operator = 'mallory' WHERE seq = 3" 2>&1); rc=$?
check "$rc" -ne 0
case $out in *"append-only"*) ;; *) fail "update: $out" ;; esac
out=$(sqlite3 "$TMP/t/corridor.db" "DELETE FROM audit WHERE seq = $N" 2>&1); rc=$?
check "$rc" -ne 0
check_eq "$(verify)" "0:audit trail intact: 12 entries, chain and anchors (meta audit_head, $anchor) agree" "still intact"

test_case "an edited row: the first bad entry is named"
fresh
tamper "UPDATE audit SET detail = replace(detail, 'drainage', 'parking') WHERE seq = 3"
check_eq "$(verify)" "1:corridor: audit trail broken at entry 3: entry 3: its hash does not match its contents (edited, or moved to another place)" "detail"
fresh
tamper "UPDATE audit SET operator = 'someone-else' WHERE seq = 7"
check_eq "$(verify)" "1:corridor: audit trail broken at entry 7: entry 7: its hash does not match its contents (edited, or moved to another place)" "operator"

test_case "a deleted middle row"
fresh
tamper "DELETE FROM audit WHERE seq = 5"
check_eq "$(verify)" "1:corridor: audit trail broken at entry 5: entry 5 is missing (deleted): the next entry is 6" "middle"

test_case "a deleted last row: the store's anchor says so; rewriting it too, the anchor file says so"
fresh
tamper "DELETE FROM audit WHERE seq = $N"
check_eq "$(verify)" "1:corridor: audit trail broken at entry $N: entry $N is missing (deleted): the store's anchor (meta audit_head) says the trail ends at entry $N but the table ends at $((N - 1))" "last"
fresh
tamper "DELETE FROM audit WHERE seq >= $((N - 1)); UPDATE meta SET value = (SELECT seq || ' ' || hash FROM audit WHERE seq = $((N - 2))) WHERE key = 'audit_head'"
check_eq "$(verify)" "1:corridor: audit trail broken at entry $((N - 1)): entry $((N - 1)) is missing (deleted): the anchor file '$anchor' (line 9) records entry $((N - 1)) but the table ends at $((N - 2))" \
    "last two, meta rewritten"

test_case "two rows swapped, and two rows renumbered"
fresh
tamper "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (4, 6);
UPDATE audit SET (at, operator, action, case_ref, detail, prev, hash) = (SELECT at, operator, action, case_ref, detail, prev, hash FROM t WHERE seq = 6) WHERE seq = 4;
UPDATE audit SET (at, operator, action, case_ref, detail, prev, hash) = (SELECT at, operator, action, case_ref, detail, prev, hash FROM t WHERE seq = 4) WHERE seq = 6;"
check_eq "$(verify)" "1:corridor: audit trail broken at entry 4: entry 4: its prev is not the previous entry's hash (an entry was removed, inserted or moved before it, or it was edited)" "swapped contents"
fresh
tamper "UPDATE audit SET seq = -1 WHERE seq = 8; UPDATE audit SET seq = 8 WHERE seq = 9; UPDATE audit SET seq = 9 WHERE seq = -1;"
check_eq "$(verify)" "1:corridor: audit trail broken at entry 8: entry 8: its prev is not the previous entry's hash (an entry was removed, inserted or moved before it, or it was edited)" "renumbered"

# hash_of SEQ AT OPERATOR LOGIN_UID LOGIN ACTION CASE DETAIL PREV, as docs/records.md
# says (hash version 2: an entry with a login)
hash_of() {
    python3 - "$@" <<'PY'
import hashlib, sys
def ns(s): b = s.encode(); return str(len(b)).encode() + b":" + b + b","
print(hashlib.sha256(b"corridor-audit-2\n" + b"".join(ns(a) for a in sys.argv[1:])).hexdigest())
PY
}

test_case "a well-formed row appended with the sqlite3 tool: neither anchor knows it"
fresh
last=$(sqlite3 "$TMP/t/corridor.db" "SELECT hash FROM audit WHERE seq = $N")
h=$(hash_of $((N + 1)) 1712577600 mallory 0 root export SAR-8 '{}' "$last")
tamper "INSERT INTO audit (seq, at, operator, login_uid, login, action, case_ref, detail, prev, hash) VALUES ($((N + 1)), 1712577600, 'mallory', 0, 'root', 'export', 'SAR-8', '{}', '$last', '$h')"
check_eq "$(verify)" "1:corridor: audit trail broken at entry $((N + 1)): entry $((N + 1)) is not anchored: the store's anchor (meta audit_head) says the trail ends at entry $N (entries added outside corridor)" "appended"

test_case "audit export: JSON lines that an independent script re-verifies"
cor audit export --out "$TMP/trail.jsonl" --operator auditor 2>"$TMP/export.err" || fail "export"
check_eq "$(cat "$TMP/export.err")" "exported 13 audit entries to $TMP/trail.jsonl" "message"
check_eq "$(tail -1 "$TMP/trail.jsonl" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["seq"], d["action"], d["operator"], d["detail"])')" \
    "13 audit.export auditor {\"out\":\"$TMP/trail.jsonl\"}" "the export records itself"
cat >"$TMP/reverify.py" <<'PY'
# Re-verifies a corridor audit export (docs/records.md): stdin, JSON lines.
import hashlib, json, sys
def ns(s): b = s.encode("utf-8"); return str(len(b)).encode() + b":" + b + b","
prev, expect = "0" * 64, 1
for line in sys.stdin:
    e = json.loads(line)
    if "login" in e:   # version 2
        fields = [str(e["seq"]), str(e["at"]), e["operator"], str(e["login_uid"]), e["login"],
                  e["action"], e["case_ref"], e["detail"], e["prev"]]
        domain = b"corridor-audit-2\n"
    else:              # version 1, written before the logins
        fields = [str(e["seq"]), str(e["at"]), e["operator"], e["action"], e["case_ref"],
                  e["detail"], e["prev"]]
        domain = b"corridor-audit-1\n"
    h = hashlib.sha256(domain + b"".join(ns(f) for f in fields)).hexdigest()
    if e["seq"] != expect or e["prev"] != prev or h != e["hash"]:
        print("bad entry", expect); sys.exit(1)
    prev, expect = e["hash"], expect + 1
print("ok", expect - 1, prev)
PY
check_eq "$(python3 "$TMP/reverify.py" <"$TMP/trail.jsonl")" \
    "ok 13 $(sqlite3 "$TMP/state/corridor.db" "SELECT hash FROM audit WHERE seq = 13")" "re-verified"
check_eq "$(cor audit export | python3 "$TMP/reverify.py" | cut -d' ' -f1,2)" "ok 14" "stdout"
sed 's/scope agreed/scope changed/' "$TMP/trail.jsonl" | python3 "$TMP/reverify.py" >"$TMP/bad.out"
check_eq "$(cat "$TMP/bad.out")" "bad entry 5" "an edited export line (the note, entry 5) is found"
check_eq "$(cor audit list --case SAR-8 | head -1 | awk '{print $1, $3, $4, $5}')" "8 bob case.open SAR-8" "list --case"
out=$(cor audit verify); rc=$?
check_eq "$rc" 0 "still intact: $out"

test_case "one officer list: a records command records [records] and the deprecated [http] officers as the web compares them"
printf '[records]\nofficers = foi, Lead\n[http]\nofficers = FOI@northshire.gov.uk, bob\nuser_domain = northshire.gov.uk\n' \
    >"$TMP/state/corridor.conf"
check_eq "$(cor config show | grep '^# in force')" \
    "# in force (with [http] officers and user_domain): bob@northshire.gov.uk, foi@northshire.gov.uk, lead@northshire.gov.uk" \
    "config show"
cor case note FOI-7 "officers changed" --operator auditor >/dev/null || fail "case note"
check_eq "$(sqlite3 "$TMP/state/corridor.db" "SELECT operator || ' ' || detail FROM audit WHERE action = 'role.change' ORDER BY seq DESC LIMIT 1")" \
    'auditor {"role":"records officer","officers":["bob@northshire.gov.uk","foi@northshire.gov.uk","lead@northshire.gov.uk"],"previous":["foi"]}' \
    "role.change"
cor case note FOI-7 "again" --operator auditor >/dev/null || fail "case note"
check_eq "$(sqlite3 "$TMP/state/corridor.db" "SELECT count(*) FROM audit WHERE action = 'role.change'")" 2 \
    "the same list again: no new entry"
out=$(cor audit verify); rc=$?
check_eq "$rc" 0 "intact: $out"

# ---- what verify proves against someone who can write the store and the
# anchor file (docs/records.md "What verify can and cannot prove") ----

# a fresh copy of the pristine state with its anchor file shipped "off the
# machine" by contrib/corridor-anchor-ship (the lines to a file here)
ship() {
    CORRIDOR_ANCHOR_SHIP="cat >>'$TMP/offsite'" sh "$SRC/contrib/corridor-anchor-ship" \
        "$TMP/t/corridor.db.audit-anchor" "$TMP/ship-state"
}
fresh_shipped() { fresh; rm -f "$TMP/offsite" "$TMP/ship-state"; ship || fail "ship"; }
verify_copy() { out=$("$CORRIDOR" --state "$TMP/t" audit verify --anchor "$TMP/offsite" 2>&1); echo "$?:$out"; }
head_line() { sqlite3 "$TMP/t/corridor.db" "SELECT seq || ' ' || hash FROM audit ORDER BY seq DESC LIMIT 1"; }

test_case "the anchor lines shipped off the machine: a copy that verify --anchor compares"
fresh_shipped
check_eq "$(cat "$TMP/offsite")" "$(cat "$anchor")" "the copy has every line"
check_eq "$(cat "$TMP/ship-state")" 10 "it remembers how far it got"
ship || fail "ship again"
check_eq "$(wc -l <"$TMP/offsite")" 10 "nothing sent twice"
check_eq "$(verify_copy)" "0:audit trail intact: 12 entries, chain and anchors (meta audit_head, $anchor, the copy $TMP/offsite) agree" "intact"
"$CORRIDOR" --state "$TMP/t" case note FOI-7 "later" --operator foi >/dev/null || fail "note"
ship || fail "ship the new line"
check_eq "$(tail -1 "$TMP/offsite")" "$(head_line)" "the new line follows"
head -3 "$anchor" >"$TMP/cut" && cat "$TMP/cut" >"$anchor"
out=$(ship 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor-anchor-ship: the audit anchor file $anchor has 3 lines, fewer than the 11 already sent: it was cut short or replaced" "a file cut short is reported, not shipped"

test_case "tampering 1: the last entry edited, meta and the file's last line rewritten: only the copy shows it"
fresh_shipped
# the case note (entry 12, the last) edited and rehashed; both anchors made to agree
last=$(sqlite3 -separator ' ' "$TMP/t/corridor.db" "SELECT at, login_uid, login, prev FROM audit WHERE seq = $N")
set -- $last
h=$(hash_of "$N" "$1" bob "$2" "$3" case.close SAR-8 '{"status_before":"open","due":"2024-04-01","messages":0}' "$4")
tamper "UPDATE audit SET detail = '{\"status_before\":\"open\",\"due\":\"2024-04-01\",\"messages\":0}', hash = '$h' WHERE seq = $N;
UPDATE meta SET value = '$N $h' WHERE key = 'audit_head'"
sed -i '$d' "$anchor" && echo "$N $h" >>"$anchor"
check_eq "$(verify)" "0:audit trail intact: 12 entries, chain and anchors (meta audit_head, $anchor) agree" \
    "plain verify cannot see it (the docs say so)"
check_eq "$(verify_copy)" "1:corridor: audit trail broken at entry $N: entry $N does not match the anchor copy '$TMP/offsite' (line 10): replaced" \
    "the copy shows it"

test_case "tampering 2: the last entry deleted, meta fixed, the file cut: the cross-check or the copy shows it"
fresh_shipped
tamper "DELETE FROM audit WHERE seq = $N; UPDATE meta SET value = (SELECT seq || ' ' || hash FROM audit WHERE seq = $((N - 1))) WHERE key = 'audit_head'"
sed -i '$d' "$anchor"
# entry 12 recorded closing SAR-8: the case's close event has lost its entry
check_eq "$(verify)" "1:corridor: audit trail broken: case 'SAR-8' has 1 'close' event but the audit trail records 0 (entries removed)" \
    "the cross-check"
check_eq "$(verify_copy)" "1:corridor: audit trail broken at entry $N: entry $N is missing (deleted): the anchor copy '$TMP/offsite' (line 10) records entry $N but the table ends at $((N - 1))" \
    "the copy"
# an entry that records no row (a case view) cut the same way: only the copy shows it
fresh; rm -f "$TMP/offsite" "$TMP/ship-state"
"$CORRIDOR" --state "$TMP/t" case show FOI-7 --operator foi >/dev/null || fail "show"
ship || fail "ship"
V=$((N + 1))
tamper "DELETE FROM audit WHERE seq = $V; UPDATE meta SET value = (SELECT seq || ' ' || hash FROM audit WHERE seq = $N) WHERE key = 'audit_head'"
sed -i '$d' "$anchor"
check_eq "$(verify)" "0:audit trail intact: 12 entries, chain and anchors (meta audit_head, $anchor) agree" \
    "a cut view: plain verify cannot see it"
check_eq "$(verify_copy)" "1:corridor: audit trail broken at entry $V: entry $V is missing (deleted): the anchor copy '$TMP/offsite' (line 11) records entry $V but the table ends at $N" \
    "the copy shows it"

test_case "tampering 3: the trail emptied, meta and the file deleted: the cross-check and the copy show it"
fresh_shipped
tamper "DELETE FROM audit; DELETE FROM meta WHERE key = 'audit_head'"
rm -f "$anchor"
check_eq "$(verify)" "1:corridor: audit trail broken: case 'FOI-7' has no case.open entry in the audit trail (its entry was removed)" \
    "the cross-check"
check_eq "$(verify_copy)" "1:corridor: audit trail broken at entry 1: entry 1 is missing (deleted): the anchor copy '$TMP/offsite' (line 1) records entry 2 but the table ends at 0" \
    "the copy"

test_case "the cross-check: a search, a case row or a hold without its entry, or an entry without its row"
fresh
tamper "DELETE FROM audit WHERE action = 'foi.search'"
case $(verify) in "1:corridor: audit trail broken at entry 3: entry 3 is missing"*) ;; *) fail "chain first: $(verify)" ;; esac
fresh
sqlite3 "$TMP/t/corridor.db" "DELETE FROM case_messages WHERE case_id = (SELECT id FROM cases WHERE ref = 'SAR-8'); DELETE FROM case_queries WHERE case_id = (SELECT id FROM cases WHERE ref = 'SAR-8'); DELETE FROM case_events WHERE case_id = (SELECT id FROM cases WHERE ref = 'SAR-8'); DELETE FROM cases WHERE ref = 'SAR-8'" || fail "delete"
check_eq "$(verify)" "1:corridor: audit trail broken at entry 8: entry 8 (case.open) records case 'SAR-8', which the store does not have (deleted)" \
    "a case deleted behind corridor's back"

test_case "a crash between the anchor line and the commit: the next command records it, verify accepts exactly that"
fresh
# what a commit that died after its anchor line leaves: a line for entry N+1
echo "$((N + 1)) 3333333333333333333333333333333333333333333333333333333333333333" >>"$anchor"
out=$(verify)
case $out in "1:corridor: audit trail broken at entry $((N + 1)): entry $((N + 1)) is missing (deleted): the anchor file '$anchor' (line 11) records entry $((N + 1)) but the table ends at $N (or a commit failed after writing its anchor line: the next records command records it)") ;;
    *) fail "before: $out" ;; esac
"$CORRIDOR" --state "$TMP/t" case note FOI-7 "after the crash" --operator foi >/dev/null 2>"$TMP/crash.err" || fail "note"
check_eq "$(sqlite3 "$TMP/t/corridor.db" "SELECT seq || ' ' || action || ' ' || detail FROM audit WHERE seq > $N ORDER BY seq")" \
    "$((N + 1)) audit.stray-anchor {\"stray\":[{\"seq\":$((N + 1)),\"hash\":\"3333333333333333333333333333333333333333333333333333333333333333\"}]}
$((N + 2)) case.note {\"text\":\"after the crash\"}" "recorded in the chain"
out=$("$CORRIDOR" --state "$TMP/t" audit verify 2>"$TMP/notes"); rc=$?
check_eq "$rc:$out" "0:audit trail intact: $((N + 2)) entries, chain and anchors (meta audit_head, $anchor) agree" "accepted"
case $(cat "$TMP/notes") in "corridor: note: entry $((N + 1)) (audit.stray-anchor, "*"records 1 anchor line of a commit that did not happen"*) ;;
    *) fail "note: $(cat "$TMP/notes")" ;; esac
# the same line with another hash is not what was recorded
sed -i "s/^$((N + 1)) 3333/$((N + 1)) 4444/" "$anchor"
case $(verify) in "1:corridor: note: "*"corridor: audit trail broken at entry $((N + 1)): entry $((N + 1)) does not match the anchor file"*) ;;
    *) fail "a changed stray line: $(verify)" ;; esac

test_case "verify takes no write lock: it answers while another process holds it"
fresh
hold_store_lock "$TMP/t/corridor.db" 6
start=$(date +%s)
out=$(verify)
check_eq "$out" "0:audit trail intact: 12 entries, chain and anchors (meta audit_head, $anchor) agree" "verify"
check "$(($(date +%s) - start))" -lt 5
kill "$LOCKER" 2>/dev/null; wait "$LOCKER" 2>/dev/null

test_case "every entry records the login that wrote it (uid and name), whatever --operator says"
check_eq "$(sqlite3 "$TMP/state/corridor.db" "SELECT count(*) FROM audit WHERE login_uid IS NULL OR login IS NULL")" 0 "all have one"
check_eq "$(sqlite3 "$TMP/state/corridor.db" "SELECT DISTINCT login_uid || ' ' || login FROM audit")" "$(id -u) $(id -un)" "this login"
check_eq "$(cor audit list --json | tail -1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["login_uid"], d["login"])')" \
    "$(id -u) $(id -un)" "in the export"

# ---- two officers, two Unix users in the records group, set up as
# docs/records.md "Installing" says ----
O=$TMP/officers
A=61001 B=61002 G=61000 DAEMON=61010
as() { u=$1; shift; setpriv --reuid="$u" --regid="$G" --groups="$G" "$CORRIDOR" --state "$O/state" "$@"; }

test_case "two officers in the records group can both run every records command and audit verify"
if ! command -v setpriv >/dev/null || [ "$(id -u)" != 0 ]; then
    echo "# skipped: needs root and setpriv" >&2
else
chmod 755 "$TMP"
mkdir -p "$O/out" && chmod 755 "$O" && chmod 1777 "$O/out"
"$CORRIDOR" --state "$O/state" init >/dev/null || fail "init"
printf '[records]\nofficers = foi\n[retention]\ndefault = permanent\nplanning = 1y\n' >"$O/state/corridor.conf"
"$CORRIDOR" --state "$O/state" group create planning >/dev/null
"$CORRIDOR" --state "$O/state" import --group planning "$D/planning.mbox" >/dev/null || fail "import"
"$CORRIDOR" --state "$O/state" reindex >/dev/null 2>&1 || fail "reindex"
# the install steps, as documented
chown -R "$DAEMON:$G" "$O/state"
chmod -R g+rwX,o-rwx "$O/state"
find "$O/state" -type d -exec chmod g+s {} +
check_eq "$(stat -c '%a %g' "$O/state/corridor.db.audit-anchor")" "660 $G" "init made the anchor file group-writable"
ok=0
run() { who=$1; shift; if ! out=$(as "$who" "$@" 2>&1); then fail "uid $who: corridor $*: $out"; else ok=$((ok + 1)); fi; }
run $A case open FOI-A --type foi --received 2024-03-25
run $B case open FOI-B --type foi --received 2024-03-25
run $B case note FOI-A "B reads A's case"
run $A case list
run $B case show FOI-A
run $A case stop-clock FOI-A --kind fee --on 2024-03-27 --reason "fees notice"
run $B case resume FOI-A --on 2024-04-02
run $A foi search --case FOI-A drainage
run $B case add FOI-A --query culvert
run $B case open SAR-B --type sar --received 2024-03-25 --person sian.llewelyn@northshire.gov.uk
run $A sar search --case SAR-B --add
run $B case redact FOI-A --propose
run $A case redact FOI-A --list
run $B case export FOI-A --out "$O/out/b.zip" --quiet
run $A hold place --case FOI-B --reason "litigation"
run $B hold list
run $B hold release 1 --reason "settled"
run $A retention plan
out=$(as $A retention approve 1 --operator somebody-else 2>&1); rc=$?
check_eq "$rc" 1 "the planner's own login cannot approve under another name: $out"
case $out in *"another person, logged in as themselves, must approve it"*) ;; *) fail "refusal: $out" ;; esac
run $B retention approve 1
run $A retention run 1 --out "$O/out/cert.json"
case $out in *"disposed of 0 "*) fail "nothing disposed of: $out" ;; *"index: removed"*) ;; *) fail "the run did not write the index: $out" ;; esac
run $B retention list
run $A retention show 1
run $B retention certificate 1
run $A audit list
run $B audit export --out "$O/out/trail.jsonl"
run $A case close FOI-B
run $B foi search --case FOI-A culvert
run $A audit verify
run $B audit verify
check_eq "$ok" 29 "commands that succeeded"
check_eq "$(sqlite3 "$O/state/corridor.db" "SELECT group_concat(DISTINCT login_uid) FROM (SELECT login_uid FROM audit ORDER BY login_uid)")" \
    "$A,$B" "each entry has the login that wrote it"
check_eq "$(sqlite3 "$O/state/corridor.db" "SELECT login || ' ' || operator FROM audit WHERE action = 'retention.approve'")" \
    "uid-$B uid-$B" "the approval's login"
check_eq "$(find "$O/state" -newer "$O/state/corridor.conf" -type f ! -perm -g=rw | wc -l)" 0 \
    "every file the officers made is group read-write: $(find "$O/state" -newer "$O/state/corridor.conf" -type f ! -perm -g=rw)"
# someone outside the group gets nothing
out=$(setpriv --reuid=61003 --regid=61003 --clear-groups "$CORRIDOR" --state "$O/state" case list 2>&1) && fail "an outsider listed cases"
# the first officer's anchor file as corridor made it before (0640, theirs): the
# second officer's command is refused, and says why
chmod 0640 "$O/state/corridor.db.audit-anchor"
chown "$A" "$O/state/corridor.db.audit-anchor"
out=$(as $B case note FOI-A "refused" 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: cannot write the audit anchor file '$O/state/corridor.db.audit-anchor': Permission denied; nothing was changed (the records group must be able to append to it: docs/records.md)" \
    "the real error"
check_eq "$(sqlite3 "$O/state/corridor.db" "SELECT count(*) FROM case_events WHERE text = 'refused'")" 0 "nothing changed"
chmod 0660 "$O/state/corridor.db.audit-anchor"
run $A audit verify
fi
test_done
