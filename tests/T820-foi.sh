#!/bin/sh
# T820 — an FOI case end to end on the real linux-mips-2005 corpus split
# into three groups by month (Jan–Apr public, May–Aug staff, Sep–Dec
# private): open the case, `foi search` and `case add` (every group, the
# private one included), propose redactions (members' names from the
# directory, mail addresses, ...), reject one, accept the rest, add a manual
# span, export.  The bundle is unzipped (python3 zipfile) and checked: every
# manifest SHA-256 against the .eml in the bundle and messages.sha256 in the
# store, no byte order mark and the required columns, the private group's
# messages there for the officer (with an empty archive url) but absent from
# a non-officer `corridor search`, every redacted copy without any text
# redacted in it (as written or HTML-escaped), the redaction log without
# them, two exports byte-identical, the requester's version without the
# originals of redacted messages, the originals in the store unchanged, and
# the export in the audit trail with the file's SHA-256.
# Then the reviewer's case on hand-made mail (tests/data/records/bundle/gp-*):
# a name in HTML attributes, hidden text, Reply-To, References, an X- header,
# a Message-ID and an attachment's name never reaches a --release bundle
# (names and bytes of every entry, queries included) unless the attachment is
# released on purpose (--attachment), and then only under its redacted name;
# a Message-ID two messages share is refused for a manual span, the number
# works; with the audit anchor unwritable, `case redact --list` shows nothing
# and an export leaves the earlier bundle of that name untouched.
. "$(dirname "$0")/lib.sh"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
MBOX=$CORPORA/linux-mips-2005.mbox
if [ ! -r "$MBOX" ]; then
    echo "ok 1 # SKIP $MBOX not readable"
    exit 0
fi
REF=FOI/2005-07
QUERY='vr41xx OR yamon OR tx4927'
OP="--operator records.officer"
cor init >/dev/null

test_case "the corpus in three groups by month, one of them private"
python3 "$SRC/tests/tools/mbox_split.py" "$MBOX" "$TMP/split" --groups 3 --by month >"$TMP/split.out" \
    || fail "split"
cor group create mips-a --title "MIPS, January to April" >/dev/null || fail "group a"
cor group create mips-b --title "MIPS, May to August" --visibility staff >/dev/null || fail "group b"
cor group create mips-c --title "MIPS, September to December" --visibility private >/dev/null || fail "group c"
i=0
for g in a b c; do
    cor import --group mips-$g "$TMP/split/$i.mbox" >"$TMP/import-$g.out" 2>&1 || fail "import $g: $(cat "$TMP/import-$g.out")"
    i=$((i + 1))
done
check_eq "$(q "SELECT count(*) FROM thread_nodes WHERE msg IS NOT NULL")" 2896 "posts"
check_eq "$(q "SELECT group_concat(n, ' ') FROM (SELECT count(*) AS n FROM thread_nodes tn JOIN groups g ON g.id = tn.group_id WHERE msg IS NOT NULL GROUP BY g.name ORDER BY g.name)")" \
    "$(cat "$TMP/split.out")" "per group"
# the staff directory knows some of the corpus's people by name
cor member add mips-a ralf@linux-mips.org --name "Ralf Baechle" >/dev/null || fail "member"
cor member add mips-b yuasa@hh.iij4u.or.jp --name "Yoichi Yuasa" >/dev/null || fail "member"
cor member add mips-c macro@linux-mips.org --name "Maciej W. Rozycki" >/dev/null || fail "member"
cor member add mips-c ths@networkno.de --name "Thiemo Seufer" >/dev/null || fail "member"
test_done

test_case "open, foi search and case add: every group, the private one included"
out=$(cor case open "$REF" --type foi --received 2025-03-03 $OP 2>&1) || fail "open: $out"
cor foi search --case "$REF" --json $OP "$QUERY" >"$TMP/foi.json" 2>"$TMP/foi.err" || fail "foi search: $(cat "$TMP/foi.err")"
n_foi=$(wc -l <"$TMP/foi.json")
check "$n_foi" -ge 50
grep -q '"group":"mips-c"' "$TMP/foi.json" || fail "no private message found by the officer"
out=$(cor case add "$REF" --query "$QUERY" $OP 2>&1) || fail "case add: $out"
n_case=$(q "SELECT count(*) FROM case_messages")
check_eq "$n_case" "$(python3 -c "
import json,sys
print(len({json.loads(l)['message_id'] for l in open('$TMP/foi.json')}))")" "case messages = distinct results"
check_eq "$(cor case show "$REF" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])')" "$n_case" "case show"
test_done

test_case "the private group's messages: in the case, absent from a non-officer search"
cor search --json -n 100000 "$QUERY" >"$TMP/staff.json" 2>&1 || fail "search"
q "SELECT m.message_id FROM case_messages cm JOIN messages m ON m.id = cm.msg
   WHERE NOT EXISTS (SELECT 1 FROM thread_nodes tn JOIN groups g ON g.id = tn.group_id
                     WHERE tn.msg = m.id AND g.visibility <> 'private')" >"$TMP/private.ids"
check "$(wc -l <"$TMP/private.ids")" -ge 5
python3 - "$TMP/private.ids" "$TMP/staff.json" "$TMP/foi.json" <<'EOF' || fail "visibility"
import json, sys
private = set(open(sys.argv[1]).read().split())
staff = {json.loads(l)['message_id'] for l in open(sys.argv[2])}
foi = {json.loads(l)['message_id'] for l in open(sys.argv[3])}
leaked = private & staff
assert not leaked, 'private messages in a staff search: %s' % sorted(leaked)[:3]
assert private <= foi, 'the officer misses private messages'
assert staff and staff < foi, 'the staff search should find the public ones only'
EOF
test_done

test_case "redactions: proposed from the directory and the text, one rejected, the rest accepted, one manual"
before=$(q "SELECT group_concat(sha256) FROM (SELECT sha256 FROM messages ORDER BY id)")
out=$(cor case redact "$REF" --propose $OP 2>&1) || fail "propose: $out"
n_prop=$(q "SELECT count(*) FROM redactions WHERE state = 'proposed'")
check_eq "$out" "proposed $n_prop redactions in $n_case messages of case $REF (see case redact $REF --list)" "propose output"
check "$n_prop" -ge 100
check "$(q "SELECT count(*) FROM redactions WHERE kind = 'name'")" -gt 0
check "$(q "SELECT count(*) FROM redactions WHERE kind = 'email'")" -gt 0
out=$(cor case redact "$REF" --propose $OP 2>&1)
check_eq "$out" "proposed 0 redactions in $n_case messages of case $REF (see case redact $REF --list)" "again: nothing new"
first=$(q "SELECT min(id) FROM redactions")
out=$(cor case redact "$REF" --reject "$first" $OP 2>&1)
check_eq "$out" "rejected 1 redaction of case $REF" "reject"
out=$(cor case redact "$REF" --accept-all $OP 2>&1)
check_eq "$out" "accepted $((n_prop - 1)) redactions of case $REF" "accept-all"
# a manual span: the subject of the case's newest private message, once
mid=$(q "SELECT m.message_id FROM case_messages cm JOIN messages m ON m.id = cm.msg
         JOIN thread_nodes tn ON tn.msg = m.id JOIN groups g ON g.id = tn.group_id
         WHERE g.name = 'mips-c' ORDER BY m.date DESC LIMIT 1")
subj=$(q "SELECT subject FROM messages WHERE message_id = '$mid'")
out=$(cor case redact "$REF" --message "<$mid>" --text "$subj" --occurrence 1 --exemption s35 $OP 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: unknown exemption 's35': use one of s40(2), s41, s42, s43, s31, s36, eir-12, eir-13" "bad code"
out=$(cor case redact "$REF" --message "<$mid>" --text "$subj" --occurrence 1 --exemption s36 $OP 2>&1) \
    || fail "manual: $out"
case $out in "redacted 1 span (s36) in <$mid>: id "*) ;; *) fail "manual output: $out" ;; esac
check_eq "$(q "SELECT count(*) FROM redactions WHERE kind = 'manual' AND state = 'accepted' AND exemption = 's36'")" 1 "manual row"
cor case redact "$REF" --list --json --state accepted >"$TMP/accepted.json" || fail "list"
check_eq "$(wc -l <"$TMP/accepted.json")" "$n_prop" "accepted listed"
check_eq "$(q "SELECT count(*) FROM audit WHERE action = 'redact'")" 6 "audit entries (propose twice, reject, accept, manual, list)"
check_eq "$(q "SELECT count(*) FROM audit WHERE action = 'redact' AND (detail LIKE '%linux-mips.org%' OR detail LIKE '%Baechle%')")" 0 "no text in the audit"
check_eq "$(q "SELECT group_concat(sha256) FROM (SELECT sha256 FROM messages ORDER BY id)")" "$before" "originals unchanged"
test_done

test_case "export: the manifest against the store, redacted copies without the redacted text"
out=$(cor case export "$REF" --out "$TMP/b1.zip" $OP 2>&1) || fail "export: $out"
case $out in "exported case $REF to $TMP/b1.zip: $n_case messages, "*) ;; *) fail "export output: $out" ;; esac
python3 - "$TMP/b1.zip" "$db" "$TMP/accepted.json" "$n_case" "$mid" <<'EOF' || fail "bundle checks"
import csv, hashlib, html, io, json, sqlite3, sys, zipfile
path, dbfile, accepted, n_case, manual_mid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
z = zipfile.ZipFile(path)
names = z.namelist()
raw = z.read('manifest.csv')
assert not raw.startswith(b'\xef\xbb\xbf'), 'byte order mark'
rows = list(csv.DictReader(io.StringIO(raw.decode('utf-8'), newline='')))
need = ['message_id', 'date', 'from', 'to', 'cc', 'subject', 'group', 'url', 'sha256', 'marking']
assert all(c in rows[0] for c in need), 'columns: %s' % list(rows[0])
assert len(rows) == n_case, '%d rows, %d in the case' % (len(rows), n_case)
db = sqlite3.connect('file:%s?mode=ro' % dbfile, uri=True)
stored = dict(db.execute('SELECT m.message_id, m.sha256 FROM case_messages cm JOIN messages m ON m.id = cm.msg'))
private = {r['message_id'] for r in rows if r['group'] == 'mips-c'}
assert private, 'no private message in the bundle'
for r in rows:
    body = z.read(r['original'])
    h = hashlib.sha256(body).hexdigest()
    assert h == r['sha256'] == stored[r['message_id']], 'sha256 of %s' % r['message_id']
    assert db.execute('SELECT raw FROM originals o JOIN messages m ON m.id = o.message WHERE m.message_id = ?',
                      (r['message_id'],)).fetchone()[0] == body, 'original bytes of %s' % r['message_id']
    if r['message_id'] in private:
        assert r['url'] == '', 'a private message has an archive url'
    elif 'mips-a' in r['group'].split(';') or 'mips-b' in r['group'].split(';'):
        assert r['url'].startswith('http') and '/g/mips-' in r['url'], r['url']
    assert r['html'] in names
m = json.loads(z.read('manifest.json'))
assert [x['sha256'] for x in m['messages']] == [r['sha256'] for r in rows], 'manifest.json differs'
# every redacted copy lacks every text redacted in it
by_number = {}
for line in open(accepted):
    x = json.loads(line)
    assert x['text'], 'an accepted span without its text: %s' % x
    by_number.setdefault(x['message'], []).append(x['text'])
checked = 0
for num, texts in by_number.items():
    t = z.read('redacted/%s.txt' % num).decode('utf-8')
    h = z.read('redacted/%s.html' % num).decode('utf-8')
    for s in texts:
        for form in (s, html.escape(s, quote=True), html.escape(s, quote=False)):
            assert form not in t and form not in h, 'redacted/%s still has %r' % (num, s)
        checked += 1
    assert '[Redacted \u2013 s.40(2)]' in t or '[Redacted \u2013 s.36]' in t
assert checked > 100, checked
num = [r['number'] for r in rows if r['message_id'] == manual_mid][0]
assert '[Redacted \u2013 s.36]' in z.read('redacted/%s.txt' % num).decode(), 'manual span'
# the log: every accepted span, never the text
log = list(csv.DictReader(io.StringIO(z.read('redaction-log.csv').decode('utf-8'), newline='')))
assert len(log) == checked, (len(log), checked)
alltexts = {s for v in by_number.values() for s in v}
for row in log:
    for k, v in row.items():
        if k != 'message_id':
            assert v not in alltexts, 'the log holds a redacted text'
q = list(csv.DictReader(io.StringIO(z.read('queries.csv').decode('utf-8'), newline='')))
assert [x['query'] for x in q][:1] == ['vr41xx OR yamon OR tx4927'] and q[0]['operator'] == 'records.officer'
assert 'SHA-256' in z.read('README.txt').decode()
EOF
test_done

echo "# report: case $REF: $n_case messages ($(wc -l <"$TMP/private.ids") only in the private group), $n_prop redactions accepted, bundle $(wc -c <"$TMP/b1.zip") bytes"
test_case "two exports of the same case are byte-identical"
sleep 1
# what a killed export left (an hour old), and one another export is writing now
printf 'partial' >"$TMP/b2.zip.tmp-Ab12Cd"; touch -d '1 hour ago' "$TMP/b2.zip.tmp-Ab12Cd"
printf 'live' >"$TMP/b2.zip.tmp-Ef34Gh"
cor case export "$REF" --out "$TMP/b2.zip" $OP >/dev/null 2>&1 || fail "second export"
cmp "$TMP/b1.zip" "$TMP/b2.zip" || fail "the exports differ"
[ ! -e "$TMP/b2.zip.tmp-Ab12Cd" ] || fail "a killed export's temporary file was left"
[ -e "$TMP/b2.zip.tmp-Ef34Gh" ] || fail "a fresh temporary file (a live export's) was removed"
rm -f "$TMP/b2.zip.tmp-Ef34Gh"
test_done

test_case "the requester's version: redacted messages only as redacted copies"
out=$(cor case export "$REF" --out "$TMP/release.zip" --release $OP 2>&1) || fail "release: $out"
python3 - "$TMP/release.zip" "$TMP/accepted.json" <<'EOF' || fail "release checks"
import csv, io, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
rows = list(csv.DictReader(io.StringIO(z.read('manifest.csv').decode('utf-8'), newline='')))
red = [r for r in rows if r['redactions'] != '0']
assert red
for r in red:
    assert r['original'] == '' and r['html'] == '' and r['attachments'] == '', r
    assert not any(n.startswith('originals/%s' % r['number']) or n.startswith('attachments/%s/' % r['number'])
                   or n == 'html/%s.html' % r['number'] for n in z.namelist())
    assert r['redacted_txt'] in z.namelist()
assert 'left out' in z.read('README.txt').decode()
EOF
test_done

test_case "the exports are in the audit trail with the files' SHA-256"
sha=$(sha256sum "$TMP/b1.zip" | cut -d' ' -f1)
check_eq "$(q "SELECT count(*) FROM audit WHERE action = 'export' AND case_ref = '$REF' AND detail LIKE '%$sha%'")" 2 "two exports of these bytes"
check_eq "$(q "SELECT operator FROM audit WHERE action = 'export' ORDER BY seq LIMIT 1")" records.officer "operator"
out=$(cor audit verify 2>&1) || fail "audit verify: $out"
test_done

# ---- the requester's version holds only what was scanned and decided on ----
# The reviewer's case (tests/data/records/bundle/gp-*.eml): a name in an HTML
# message's title attribute, img alt, hidden span, comment, Reply-To,
# References, an X- header and its Message-ID; another with the attachment
# "Gareth Pryce CV.pdf"; a second message with the first one's Message-ID.
GP=FOI/GP
GD=$SRC/tests/data/records/bundle
anchor=$db.audit-anchor
test_case "release: a name never reaches it unless released on purpose"
cor group create culvert --title "Culvert" >/dev/null || fail "group"
cor group create culvert-staff --title "Culvert staff" --visibility staff >/dev/null || fail "group"
for f in gp-html gp-cv gp-plain; do
    cor deliver --group culvert <"$GD/$f.eml" >/dev/null || fail "deliver $f"
done
cor deliver --group culvert-staff <"$GD/gp-dup.eml" >/dev/null || fail "deliver dup"
cor case open "$GP" --type foi --received 2024-03-13 $OP >/dev/null || fail "open"
out=$(cor case add "$GP" "<gareth.pryce.7@northshire.gov.uk>" "<m8@northshire.gov.uk>" \
      "<survey.9@lists.example.gov.uk>" $OP 2>&1) || fail "case add: $out"
check_eq "$(q "SELECT count(*) FROM case_messages cm JOIN cases c ON c.id = cm.case_id WHERE c.ref = '$GP'")" 4 "four messages (two share a Message-ID)"
out=$(cor case redact "$GP" --propose --name "Gareth Pryce" $OP 2>&1) || fail "propose: $out"
# what the scanner now reads: Reply-To, the Message-ID and the attachment's name
cor case redact "$GP" --list --json $OP >"$TMP/gp-list.json" || fail "list"
python3 - "$TMP/gp-list.json" <<'PY' || fail "proposals"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
texts = {(r['message'], r['text']) for r in rows}
for want in [('0001', 'Gareth Pryce'), ('0001', 'gp@example.org'),
             ('0001', 'gareth.pryce.7@northshire.gov.uk'), ('0002', 'gareth.pryce.7@northshire.gov.uk'),
             ('0003', 'Gareth Pryce')]:
    assert want in texts, ('not proposed', want, sorted(texts))
assert sum(1 for m, t in texts if m == '0001' and t == 'Gareth Pryce') >= 1
PY
# a Message-ID two messages of the case share names neither: the number does
out=$(cor case redact "$GP" --message "<gareth.pryce.7@northshire.gov.uk>" --text "called again" --exemption s40\(2\) $OP 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: 2 messages of case $GP have the Message-ID <gareth.pryce.7@northshire.gov.uk> (0001, 0002, different originals): name one by its number, e.g. --message 0001" "ambiguous Message-ID"
out=$(cor case redact "$GP" --message 0002 --text "called again" --exemption s40\(2\) $OP 2>&1) || fail "manual by number: $out"
case $out in "redacted 1 span (s40(2)) in <gareth.pryce.7@northshire.gov.uk>: id "*" (message 0002)") ;; *) fail "manual output: $out" ;; esac
# the fourth message (no personal data) is released as it is
rej=$(python3 -c "
import json
print(','.join(str(r['id']) for r in map(json.loads, open('$TMP/gp-list.json')) if r['message'] == '0004'))")
if [ -n "$rej" ]; then cor case redact "$GP" --reject "$rej" $OP >/dev/null || fail "reject"; fi
cor case redact "$GP" --accept-all $OP >/dev/null || fail "accept"
cor case export "$GP" --out "$TMP/gp1.zip" --release $OP >"$TMP/gp1.out" 2>&1 || fail "release: $(cat "$TMP/gp1.out")"
cor case export "$GP" --out "$TMP/gp2.zip" --release $OP >/dev/null 2>&1 || fail "release again"
cmp "$TMP/gp1.zip" "$TMP/gp2.zip" || fail "two releases differ"
cor case export "$GP" --out "$TMP/gp-att.zip" --release --attachment 0003/1 $OP >/dev/null 2>&1 || fail "release with the CV"
cor case export "$GP" --out "$TMP/gp-full.zip" $OP >/dev/null 2>&1 || fail "officer's export"
python3 - "$TMP/gp1.zip" "$TMP/gp-att.zip" "$TMP/gp-full.zip" <<'PY' || fail "release contents"
import csv, io, sys, zipfile
never = ['gareth', 'pryce', 'hidden text', 'comment', 'laptop', 'complaint', 'profile',
         'at his house', 'gp@example.org', 'called again']
def scan(path):
    z = zipfile.ZipFile(path)
    for n in z.namelist():
        body = z.read(n).decode('utf-8', 'replace').lower()
        for w in never:
            assert w not in n.lower() and w not in body, '%s: %r in %s' % (path, w, n)
    return z
z = scan(sys.argv[1])
names = z.namelist()
assert not [n for n in names if n.startswith(('originals/', 'html/', 'attachments/'))], names
rows = list(csv.DictReader(io.StringIO(z.read('manifest.csv').decode(), newline='')))
assert len(rows) == 4
for r in rows:
    assert r['original'] == r['html'] == r['attachments'] == '', r
    assert r['redacted_txt'] in names and r['redacted_html'] in names, r
    if r['redactions'] != '0':
        assert r['url'] == '', r
assert rows[3]['redactions'] == '0' and rows[3]['url'].startswith('http'), rows[3]
assert rows[3]['message_id'] == 'survey.9@lists.example.gov.uk'
assert rows[0]['message_id'] == '[Redacted \u2013 s.40(2)]', rows[0]
q = z.read('queries.csv').decode()
assert '<[Redacted \u2013 s.40(2)]>' in q, q
assert 'Attachment 1: [Redacted \u2013 s.40(2)] CV.pdf (application/pdf)' in z.read('redacted/0003.txt').decode()
a = scan(sys.argv[2])
cv = 'attachments/0003/[Redacted \u2013 s.40(2)] CV.pdf'
assert cv in a.namelist(), a.namelist()
assert a.read(cv).startswith(b'%PDF-1.4')
assert [n for n in a.namelist() if n.startswith('attachments/')] == [cv]
f = zipfile.ZipFile(sys.argv[3])
assert b'Gareth Pryce' in f.read('originals/0001.eml'), "the officer's version keeps the originals"
assert 'attachments/0003/Gareth Pryce CV.pdf' in f.namelist()
PY
out=$(cor case export "$GP" --out "$TMP/x.zip" --attachment 0003/1 $OP 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: --attachment goes with --release (the officer's bundle has every attachment)" "attachment without release"
out=$(cor case export "$GP" --out "$TMP/x.zip" --release --attachment 0003/3 $OP 2>&1); rc=$?
check_eq "$rc:$out" "1:corridor: cannot release attachment 0003/3: message 0003 has no attachment 3 (see the Attachment lines of its text)" "no such attachment"
check "! -e $TMP/x.zip"
check_eq "$(q "SELECT json_extract(detail, '\$.attachments_released') FROM audit WHERE action = 'export' AND case_ref = '$GP' AND json_extract(detail, '\$.file') = '$TMP/gp-att.zip'")" '["0003/1"]' "released attachments in the audit entry"
test_done

test_case "nothing shown or renamed into place without its audit entry"
# the anchor file cannot be appended to: every audit commit is refused
mv "$anchor" "$TMP/anchor.saved" && mkdir "$anchor"
out=$(cor case redact "$GP" --list $OP 2>"$TMP/list.err"); rc=$?
check_eq "$rc:$out" "1:" "--list shows nothing it could not record"
grep -q "cannot record the view (nothing shown)" "$TMP/list.err" || fail "list error: $(cat "$TMP/list.err")"
out=$(cor case export "$GP" --out "$TMP/gp1.zip" --release $OP 2>&1); rc=$?
check "$rc" -ne 0
case $out in *"cannot record the export"*) ;; *) fail "export error: $out" ;; esac
cmp "$TMP/gp1.zip" "$TMP/gp2.zip" || fail "the earlier bundle was replaced"
ls "$TMP" | grep -q '\.tmp-' && fail "a temporary file was left"
rmdir "$anchor" && mv "$TMP/anchor.saved" "$anchor"
out=$(cor audit verify 2>&1) || fail "audit verify: $out"
test_done
