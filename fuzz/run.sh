#!/bin/sh
# fuzz/run.sh BUILD SECONDS TARGET... — runs each libFuzzer harness of
# BUILD/fuzz/ for SECONDS, one after the other, one process each
# (-jobs/-workers are not used: the machine is shared), and prints one
# table: executions, executions per second, corpus size, coverage and the
# result.  `make fuzz` calls it after building; see docs/fuzzing.md.
#
# Quiet: each target's libFuzzer output goes to BUILD/logs/TARGET.log.
# Inputs: BUILD/corpus/TARGET (grows from run to run: libFuzzer writes new
# inputs there), BUILD/seeds/TARGET (fuzz/seeds.sh, from the shared
# corpora), fuzz/seeds/TARGET (hand-made) and fuzz/regressions/TARGET
# (every input that ever crashed: run first, so a regression shows at
# once).  A crash leaves its input in BUILD/artifacts/TARGET/ and the
# table says so; copy it to fuzz/regressions/TARGET/ once the bug is fixed.
# Exit status: 0 when every target ran clean, 1 otherwise.
set -u
cd "$(dirname "$0")/.." || exit 2
B=$1
T=$2
shift 2
[ $# -gt 0 ] || set -- bounce config filter lmtp mbox message query sanitize template

sh fuzz/seeds.sh "$B" >/dev/null || exit 2
mkdir -p "$B/logs" "$B/tmp"
# what a target that crashed left behind (its folder is removed at exit only)
rm -rf "$B"/tmp/corridor-fuzz.*

# the longest input each target is given (larger seeds are cut)
max_len() {
    case $1 in
    query|config|template) echo 4096 ;;
    lmtp) echo 16384 ;;
    sanitize) echo 32768 ;;
    *) echo 65536 ;;
    esac
}

# libFuzzer and the sanitizers: every error stops the target; leaks are
# errors (one-time library allocations are suppressed by name in
# fuzz/lsan.supp)
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0}
export TMPDIR=$PWD/$B/tmp
export TZ=Europe/London LC_ALL=C.UTF-8

rows=
failed=0
for t in "$@"; do
    bin=$B/fuzz/fuzz-$t
    log=$B/logs/$t.log
    if [ ! -x "$bin" ]; then
        echo "fuzz/run.sh: $bin is not built" >&2
        failed=1
        rows="$rows$t - - - - not built\n"
        continue
    fi
    mkdir -p "$B/corpus/$t" "$B/artifacts/$t"
    dirs="$B/corpus/$t"
    for d in "$B/seeds/$t" "fuzz/seeds/$t" "fuzz/regressions/$t"; do
        [ -d "$d" ] && dirs="$dirs $d"
    done
    dict=
    for f in "fuzz/dict/$t.dict" "$B/seeds/$t.dict"; do
        [ -f "$f" ] && dict="-dict=$f"
    done
    echo "fuzzing $t for $T s"
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$T" -print_final_stats=1 -timeout=30 -rss_limit_mb=2560 \
        -max_len="$(max_len "$t")" -detect_leaks=1 -artifact_prefix="$B/artifacts/$t/" \
        $dict $dirs >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(find "$B/corpus/$t" -type f | wc -l)
    crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
    if [ "$rc" = 0 ] && [ -z "$crash" ]; then
        result=clean
    else
        failed=1
        result="FAILED (exit $rc) ${crash:-see $log}"
    fi
    rows="$rows$t ${execs:--} ${rate:--} ${corpus:--} ${cov:--} $result\n"
done

printf '\nfuzzing, %s s per target (logs: %s/logs/)\n' "$T" "$B"
printf '%-10s %12s %8s %8s %6s  %s\n' target executions exec/s corpus cov result
printf "$rows" | while read -r t e r c v res; do
    printf '%-10s %12s %8s %8s %6s  %s\n' "$t" "$e" "$r" "$c" "$v" "$res"
done
exit "$failed"
