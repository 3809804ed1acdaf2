#!/bin/sh
# T933 — the commands under a file size limit (issue 9, fault injection;
# docs/faults.md).  `ulimit -f` (systemd's LimitFSIZE=) would kill a command
# with SIGXFSZ, silently and perhaps half-way through; corridor ignores the
# signal, so the write fails with EFBIG and the command says which file it
# could not write and exits 1.  Nothing half-written is left to trip a
# rerun: import's batch is rolled back, archive build and case export leave
# no temporary file, and once the limit is lifted the same command run again
# gives the complete result: every message of the mbox imported and found,
# every page rendered, a bundle whose manifest matches its originals, an
# audit trail that verifies.
. "$(dirname "$0")/lib.sh"
MBOX=$TMP/mips-300.mbox
OP="--operator records.officer"
OUT=$TMP/out
mkdir -p "$OUT"
# the first 300 messages of a real list archive
awk '/^From / { n++ } n <= 300' "$CORPORA/linux-mips-2005.mbox" >"$MBOX"
total=$(grep -c '^From ' "$MBOX")
[ "$total" = 300 ] || { echo "Bail out! no corpus at $CORPORA"; exit 1; }

# limited KIB COMMAND... : runs COMMAND with a file size limit of KIB KiB,
# its stdout and stderr in $TMP/out.txt and $TMP/err.txt; sets rc
limited() {
    _kib=$1
    shift
    # sh's ulimit -f counts 512-byte blocks
    (ulimit -f $((_kib * 2)) && exec "$@") >"$TMP/out.txt" 2>"$TMP/err.txt"
    rc=$?
}
# check_failed WHAT : the limited command exited 1 (not killed: 128 + SIGXFSZ)
# and said WHAT on stderr
check_failed() {
    check_eq "$rc" 1 "exit status (153 = killed by SIGXFSZ)"
    grep -qF "$1" "$TMP/err.txt" || fail "stderr does not say: $1 (it says: $(cat "$TMP/err.txt"))"
}

cor init >/dev/null || { echo "Bail out! init"; exit 1; }
cor group create mips >/dev/null || { echo "Bail out! group create"; exit 1; }

test_case "import over the limit: exit 1 naming the store, File too large; nothing stored"
# the store grows to about 2 MiB: its first write past 1 MiB fails
limited 1024 "$CORRIDOR" --state "$TMP/state" import --group mips "$MBOX"
check_failed "corridor: import of '$MBOX' stopped: cannot commit: cannot write '$TMP/state/corridor.db': File too large"
check_eq "$(cat "$TMP/out.txt")" "imported 0, duplicates 0, failed 0" "counts (the batch was rolled back)"
check_eq "$(sqlite3 "$TMP/state/corridor.db" 'SELECT count(*) FROM messages')" 0 "messages"
check_eq "$(sqlite3 "$TMP/state/corridor.db" 'PRAGMA integrity_check')" ok "integrity_check"
check_eq "$(ls -A "$TMP/state/tmp")" "" "nothing left in the state's tmp"

test_case "the limit lifted: the rerun imports every message of the mbox, each found by search"
out=$(cor import --group mips "$MBOX" 2>&1) || fail "import: $out"
check_eq "$out" "imported $total, duplicates 0, failed 0" "import"
check_eq "$(cor search --group mips '*' | wc -l)" "$total" "found by search"

test_case "reindex over the limit: exit 1 naming the index; the rerun indexes every message"
limited 256 "$CORRIDOR" --state "$TMP/state" reindex
check_failed "corridor: reindex failed: index: cannot commit index '$TMP/state/index': "
grep -q "File too large" "$TMP/err.txt" || fail "not 'File too large': $(cat "$TMP/err.txt")"
out=$(cor reindex 2>&1) || fail "reindex: $out"
check_eq "$out" "indexed $total, failed 0" "reindex"
check_eq "$(cor search --group mips '*' | wc -l)" "$total" "found by search"

test_case "archive build over the limit: exit 1 naming the page; no temporary tree; the rerun renders every page"
# thread and month pages of this list are larger than 40 KiB
limited 40 "$CORRIDOR" --state "$TMP/state" archive build
check_failed "corridor: archive build failed: cannot write '$TMP/state/archive.new/"
grep -q "': File too large$" "$TMP/err.txt" || fail "not 'File too large': $(cat "$TMP/err.txt")"
check_eq "$(ls -d "$TMP/state"/archive.new* "$TMP/state/archive" 2>/dev/null)" "" "left behind"
out=$(cor archive build 2>&1) || fail "archive build: $out"
case $out in "rendered $total messages, "*) ;; *) fail "archive build: $out" ;; esac
check_eq "$(find "$TMP/state/archive/g/mips/m" -name '*.html' | wc -l)" "$total" "message pages"

test_case "case export over the limit: exit 1 naming the bundle; nothing at the target or beside it, no audit entry"
cor case open FOI-1 --type foi --received 2025-03-03 $OP >/dev/null || fail "case open"
cor case add FOI-1 --query 'from:ralf' $OP >/dev/null || fail "case add"
n=$(cor search --group mips 'from:ralf' | wc -l)
entries=$(sqlite3 "$TMP/state/corridor.db" 'SELECT count(*) FROM audit')
# the bundle of these messages is about 70 KiB
limited 48 "$CORRIDOR" --state "$TMP/state" case export FOI-1 --out "$OUT/bundle.zip" $OP
check_failed "corridor: cannot write '$OUT/bundle.zip': File too large (at '"
check_eq "$(ls -A "$OUT")" "" "left in the target's folder"
check_eq "$(sqlite3 "$TMP/state/corridor.db" 'SELECT count(*) FROM audit')" "$entries" "audit entries"
out=$(cor audit verify 2>&1) || fail "audit verify: $out"

test_case "the limit lifted: the export's rerun gives a complete bundle, its manifest matches, the audit trail verifies"
out=$(cor case export FOI-1 --out "$OUT/bundle.zip" $OP 2>&1) || fail "export: $out"
python3 - "$OUT/bundle.zip" "$n" <<'PY' || fail "the bundle"
import csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None, "a damaged entry"
rows = list(csv.DictReader(io.StringIO(z.read('manifest.csv').decode('utf-8'), newline='')))
assert len(rows) == int(sys.argv[2]), "%d rows in the manifest, %s messages in the case" % (len(rows), sys.argv[2])
for r in rows:
    got = hashlib.sha256(z.read(r['original'])).hexdigest()
    assert got == r['sha256'], "%s: %s in the manifest, %s in the bundle" % (r['original'], r['sha256'], got)
PY
check_eq "$(ls -A "$OUT")" "bundle.zip" "in the target's folder"
check_eq "$(sqlite3 "$TMP/state/corridor.db" "SELECT count(*) FROM audit WHERE action = 'export'")" 1 "export entries"
out=$(cor audit verify 2>&1) || fail "audit verify: $out"

test_case "output to a file over the limit: exit 1 naming the file"
# the store needs 32 KiB for its -shm; the 300 lines are about 45 KiB
limited 40 "$CORRIDOR" --state "$TMP/state" search --group mips '*'
check_failed "corridor: cannot write '$TMP/out.txt' (standard output): File too large"
test_done
