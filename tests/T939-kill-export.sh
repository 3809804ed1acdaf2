#!/bin/sh
# T939 — SIGKILL during `corridor case export` (issue 9, fault injection;
# docs/faults.md).  The target file is always either the previous complete
# bundle or the new complete one, never a partial one: killed at several
# points while replacing a bundle, the file is still the previous one,
# byte for byte, and a valid ZIP; a first export killed half-way leaves no
# file at the target; an export run to its end gives the new bundle.  What
# a killed export leaves beside the target (its temporary file) is counted
# and reported.
. "$(dirname "$0")/lib.sh"
MBOX=$CORPORA/linux-mips-2005.mbox
OP="--operator records.officer"
OUT=$TMP/out
mkdir -p "$OUT"
valid_zip() { python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); sys.exit(1 if z.testzip() else 0)" "$1" 2>/dev/null; }
litter() { find "$OUT" -name 'bundle.zip?*' | wc -l; }
# export_killed_at SECONDS : starts an export to $OUT/bundle.zip, kills it
export_killed_at() {
    "$CORRIDOR" --state "$TMP/state" case export FOI-1 --out "$OUT/bundle.zip" $OP >/dev/null 2>&1 &
    _pid=$!
    sleep "$1"
    kill -KILL "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
    return 0
}

cor init >/dev/null
cor group create mips >/dev/null
cor import --group mips "$MBOX" >/dev/null || { echo "Bail out! import"; exit 1; }
cor case open FOI-1 --type foi --received 2025-03-03 $OP >/dev/null || { echo "Bail out! case open"; exit 1; }
cor case add FOI-1 --query 'from:ralf' $OP >/dev/null || { echo "Bail out! case add"; exit 1; }

test_case "a first export killed half-way: nothing at the target"
cor case add FOI-1 --query '*' $OP >/dev/null || fail "case add"
export_killed_at 0.4
[ -e "$OUT/bundle.zip" ] && { valid_zip "$OUT/bundle.zip" && fail "the export had finished: nothing proven" || fail "a partial bundle at the target"; }
echo "# report: first export killed at 0.4 s: no file at the target, $(litter) temporary file(s) beside it"

test_case "an export run to its end: a complete bundle"
out=$(cor case export FOI-1 --out "$OUT/bundle.zip" $OP 2>&1) || fail "export: $out"
valid_zip "$OUT/bundle.zip" || fail "not a valid ZIP"
cp "$OUT/bundle.zip" "$TMP/previous.zip"
n=$(python3 -c "import sys, zipfile; print(sum(1 for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.endswith('.eml')))" "$OUT/bundle.zip")
echo "# a complete bundle: $n originals"
check "$n" -ge 2800

test_case "replacing it, killed at five points: the previous bundle, byte for byte, each time"
printf 'From: a@council.test\nSubject: one more\nMessage-ID: <more1@council.test>\nDate: Tue, 1 Mar 2005 10:00:00 +0000\n\nOne more.\n' >"$TMP/more.eml"
cor import --group mips "$TMP/more.eml" >/dev/null || fail "import one more"
cor case add FOI-1 '<more1@council.test>' $OP >/dev/null || fail "case add one more"
for at in 0.1 0.3 0.6 0.9 1.2; do
    export_killed_at "$at"
    if ! cmp -s "$OUT/bundle.zip" "$TMP/previous.zip"; then
        if valid_zip "$OUT/bundle.zip"; then
            echo "# killed at $at s: the new bundle was already in place"
        else
            fail "killed at $at s: the target is neither the previous bundle nor a complete one"
        fi
    fi
done
echo "# report: export killed 5 times while replacing a bundle: $(litter) temporary file(s) left beside the target"

test_case "the next export to its end: the new complete bundle"
out=$(cor case export FOI-1 --out "$OUT/bundle.zip" $OP 2>&1) || fail "export: $out"
valid_zip "$OUT/bundle.zip" || fail "not a valid ZIP"
cmp -s "$OUT/bundle.zip" "$TMP/previous.zip" && fail "still the previous bundle"
n2=$(python3 -c "import sys, zipfile; print(sum(1 for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.endswith('.eml')))" "$OUT/bundle.zip")
check_eq "$n2" "$((n + 1))" "originals"
left=$(litter)
echo "# report: temporary files beside the target after all the kills: $left"
test_done
