#!/bin/sh
# T900 — every input the fuzzers ever crashed on stays a test.  Each fuzz
# harness (fuzz/fuzz-TARGET.c) is also built with fuzz/replay.c as main()
# into $CORRIDOR_BUILD/fuzz/replay-TARGET by `make unit` — the normal build
# for `make test`, the ASan + UBSan build for `make test-asan` — so no clang
# fuzzer runtime is needed here.  Each replays fuzz/regressions/TARGET/ (the
# crashes found, fixed since) and fuzz/seeds/TARGET/ (hand-made cases)
# through the same invariant checks libFuzzer runs, then the shared real
# mail corpora go through the message, bounce and sanitize harnesses.
# docs/fuzzing.md says how to run the fuzzers themselves (`make fuzz`).
. "$(dirname "$0")/lib.sh"
BUILD=${CORRIDOR_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
export TMPDIR=$TMP
export LSAN_OPTIONS=suppressions=$SRC/fuzz/lsan.supp:print_suppressions=0
export TZ=Europe/London

targets=$(cd "$SRC/fuzz" && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//')

# replay TARGET DIR... : runs the inputs; checks every file was replayed
replay() {
    t=$1
    shift
    bin=$BUILD/fuzz/replay-$t
    if [ ! -x "$bin" ]; then
        fail "$bin is not built (make unit builds it)"
        return
    fi
    want=0
    for d in "$@"; do
        want=$((want + $(find "$d" -maxdepth 1 -type f | wc -l)))
    done
    "$bin" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" != 0 ]; then
        fail "replay-$t exited $rc"
        grep -v '^replay: ' "$TMP/err" | head -20 | sed 's/^/#   /' >&2
        tail -1 "$TMP/err" | sed 's/^/#   last input: /' >&2
    fi
    check_eq "$(cat "$TMP/out")" "replayed $want inputs" "replay-$t"
}

for t in $targets; do
    test_case "$t: regressions and hand-made seeds replay clean"
    dirs=
    for d in "$SRC/fuzz/regressions/$t" "$SRC/fuzz/seeds/$t"; do
        [ -d "$d" ] && dirs="$dirs $d"
    done
    check -n "$dirs"
    # shellcheck disable=SC2086
    replay "$t" $dirs
    test_done
done

test_case "every regression folder belongs to a harness"
for d in "$SRC"/fuzz/regressions/*/; do
    [ -d "$d" ] || continue
    [ -f "$SRC/fuzz/fuzz-$(basename "$d").c" ] || fail "fuzz/regressions/$(basename "$d") has no harness"
done
test_done

# The real corpora, through the harnesses' invariants (a few hundred
# files each; the fuzzers start from these too).
if [ -d "$CORPORA/mime" ]; then
    test_case "real mail: mime/ and notmuch/ through the message harness"
    mkdir -p "$TMP/msg"
    find "$CORPORA/mime" "$CORPORA/notmuch" -type f ! -name '*.golden' -size -256k |
        while read -r f; do cp "$f" "$TMP/msg/$(echo "$f" | cksum | cut -d' ' -f1)"; done
    replay message "$TMP/msg"
    test_done

    test_case "real mail: bounces/ through the bounce and filter harnesses"
    mkdir -p "$TMP/bounce" "$TMP/filter"
    find "$CORPORA/bounces" -type f | while read -r f; do
        k=$(echo "$f" | cksum | cut -d' ' -f1)
        cp "$f" "$TMP/bounce/$k"
        # the filter harness's first byte picks the sender (3: the null sender)
        { printf '\003'; cat "$f"; } >"$TMP/filter/$k"
    done
    replay bounce "$TMP/bounce"
    replay filter "$TMP/filter"
    test_done

    test_case "real mail: the HTML of replies/ and notmuch/html through the sanitizer harness"
    mkdir -p "$TMP/html"
    find "$CORPORA/replies" "$CORPORA/notmuch/html" -type f | while read -r f; do
        cp "$f" "$TMP/html/$(echo "$f" | cksum | cut -d' ' -f1)"
    done
    replay sanitize "$TMP/html"
    test_done
fi
