# tests/lib.sh — sourced by every tests/T*.sh integration script.
#
# Each script is a sequence of cases; each case prints one TAP line
# ("ok N - name" / "not ok N - name") that tests/run.sh counts.  Expectations
# stay next to the case that checks them.
#
#   . "$(dirname "$0")/lib.sh"
#   test_case "import is idempotent"
#   ... commands ...; check "$out" = "imported 0, duplicates 5, failed 0"
#   test_done            # prints nothing, ends the case as ok unless a check failed
#
# Environment: $CORRIDOR (the binary, absolute), $CORPORA (../shared/corpora),
# $TMP (a fresh directory for this script, removed at the end), $SRC.

set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
CORRIDOR=${CORRIDOR_BIN:-$SRC/corridor}
case $CORRIDOR in /*) ;; *) CORRIDOR=$SRC/$CORRIDOR ;; esac
CORPORA=${CORRIDOR_CORPORA:-$SRC/../shared/corpora}
CORPORA=$(cd "$CORPORA" 2>/dev/null && pwd || echo "$CORPORA")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/corridor-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
_n=0
_case=
_case_failed=0
export LC_ALL=C.UTF-8 TZ=${TZ:-Europe/London}
# the suite runs as root: let `corridor serve` run as root without [daemon]
# user (docs/security.md); T920 unsets it to test the refusal and the drop
export CORRIDOR_ALLOW_ROOT=1

test_case() {
    [ -n "$_case" ] && test_done
    _case=$1
    _case_failed=0
}

# check EXPR... : like test(1); on failure prints a diagnostic and fails the case.
check() {
    if ! test "$@"; then
        echo "# check failed in '$_case': test $*" >&2
        _case_failed=1
    fi
}

# check_eq ACTUAL EXPECTED [what]
check_eq() {
    if [ "$1" != "$2" ]; then
        printf '# in %s: %s\n#   expected: %s\n#   actual:   %s\n' "$_case" "${3:-value}" "$2" "$1" >&2
        _case_failed=1
    fi
}

# fail MESSAGE : fails the current case.
fail() {
    echo "# in '$_case': $*" >&2
    _case_failed=1
}

test_done() {
    [ -z "$_case" ] && return 0
    _n=$((_n + 1))
    if [ "$_case_failed" = 0 ]; then
        echo "ok $_n - $_case"
    else
        echo "not ok $_n - $_case"
    fi
    _case=
}

# cor ARGS... : runs corridor against this script's state directory.
cor() {
    "$CORRIDOR" --state "$TMP/state" "$@"
}

# notmuch_db MAILDIR CONFIG : a notmuch database over MAILDIR configured in
# CONFIG (the reference for threading and search counts); sets NOTMUCH_CONFIG.
notmuch_db() {
    cat >"$2" <<CONF
[database]
path=$1
[new]
tags=
[search]
exclude_tags=
[index]
decrypt=false
CONF
    NOTMUCH_CONFIG=$2 notmuch new --quiet >/dev/null 2>"$2.err"
}

# hold_store_lock DB SECONDS : another process holds the store's write lock
# for SECONDS (in the background; sets LOCKER to its pid) and returns once it
# has it.
hold_store_lock() {
    rm -f "$TMP/locked"
    python3 -c "
import sqlite3, time
c = sqlite3.connect('$1', isolation_level=None)
c.execute('BEGIN IMMEDIATE'); c.execute(\"INSERT INTO meta VALUES ('lock', 'x')\")
open('$TMP/locked', 'w').close(); time.sleep($2); c.execute('ROLLBACK')" &
    LOCKER=$!
    _i=0
    while [ ! -e "$TMP/locked" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
}
