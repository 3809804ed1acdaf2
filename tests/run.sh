#!/bin/sh
# tests/run.sh — runs every test and ends with "N passed, N failed".
#
# Unit tests: $CORRIDOR_BUILD/tests/unit/test-* (GLib g_test, run with --tap).
# Integration: tests/T*.sh in name order (each prints TAP lines).
# A program that crashes or exits non-zero without a "not ok" line counts as
# one failure.  Lines "# report: ..." (figures a test reports) are shown
# even when it passes.  Set T=T200 to run only the scripts whose names start with it.
cd "$(dirname "$0")/.." || exit 2
BUILD=${CORRIDOR_BUILD:-build}
export CORRIDOR_BIN=${CORRIDOR_BIN:-corridor}
pass=0 failn=0 skip=0
log=$(mktemp)

run_tap() {   # name command...
    name=$1; shift
    start=$(date +%s)
    "$@" >"$log" 2>&1
    rc=$?
    p=$(grep -c '^ok ' "$log")
    s=$(grep -c '^ok .*# *[Ss][Kk][Ii][Pp]' "$log")
    f=$(grep -c '^not ok ' "$log")
    p=$((p - s))
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
    if [ "$p" = 0 ] && [ "$f" = 0 ] && [ "$s" = 0 ]; then f=1; echo "# $name ran no test" >>"$log"; fi
    pass=$((pass + p)); failn=$((failn + f)); skip=$((skip + s))
    echo "$name: $p passed, $f failed ($(($(date +%s) - start))s)"
    if [ "$f" != 0 ] || [ -n "${VERBOSE:-}" ]; then
        sed 's/^/    /' "$log"
    else
        # what a test reports on purpose (figures, splits) is always shown
        grep '^# report: ' "$log" | sed 's/^/    /'
    fi
}

if [ -z "${T:-}" ] || [ "$T" = unit ]; then
    for t in "$BUILD"/tests/unit/test-*; do
        [ -x "$t" ] || continue
        run_tap "unit/$(basename "$t")" "$t" --tap
    done
fi
for t in tests/T*.sh; do
    [ -f "$t" ] || continue
    case $(basename "$t") in "${T:-T}"*) ;; *) continue ;; esac
    run_tap "$(basename "$t" .sh)" sh "$t"
done
rm -f "$log"
if [ "$skip" != 0 ]; then
    echo "$pass passed, $failn failed, $skip skipped"
else
    echo "$pass passed, $failn failed"
fi
[ "$failn" = 0 ]
