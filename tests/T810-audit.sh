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

# hash_of SEQ AT OPERATOR ACTION CASE DETAIL PREV, as docs/records.md says
hash_of() {
    python3 - "$@" <<'PY'
import hashlib, sys
def ns(s): b = s.encode(); return str(len(b)).encode() + b":" + b + b","
print(hashlib.sha256(b"corridor-audit-1\n" + b"".join(ns(a) for a in sys.argv[1:])).hexdigest())
PY
}

test_case "a well-formed row appended with the sqlite3 tool: neither anchor knows it"
fresh
last=$(sqlite3 "$TMP/t/corridor.db" "SELECT hash FROM audit WHERE seq = $N")
h=$(hash_of $((N + 1)) 1712577600 mallory export SAR-8 '{}' "$last")
tamper "INSERT INTO audit VALUES ($((N + 1)), 1712577600, 'mallory', 'export', 'SAR-8', '{}', '$last', '$h')"
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
    fields = [str(e["seq"]), str(e["at"]), e["operator"], e["action"], e["case_ref"], e["detail"], e["prev"]]
    h = hashlib.sha256(b"corridor-audit-1\n" + b"".join(ns(f) for f in fields)).hexdigest()
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
test_done
