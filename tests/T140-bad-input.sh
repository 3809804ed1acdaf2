#!/bin/sh
# T140 — bad input: each a clear one-line error, a non-zero exit, and
# nothing half-imported.
. "$(dirname "$0")/lib.sh"
SAMPLE=$SRC/tests/data/sample/planning.mbox
cor init >/dev/null
cor group create planning >/dev/null

# expect_error WHAT PATTERN CMD... : one line on stderr matching PATTERN, rc != 0
expect_error() {
    what=$1 pattern=$2; shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
    check "$rc" -ne 0
    check_eq "$(wc -l <"$TMP/err")" 1 "$what: stderr lines"
    case $(cat "$TMP/err") in
        $pattern) ;;
        *) fail "$what: message was: $(cat "$TMP/err")" ;;
    esac
}

messages() { cor group list --json | grep '"name":"planning"' | sed 's/.*"messages":\([0-9]*\).*/\1/'; }

test_case "a truncated mbox (ends inside a header block) imports nothing"
head -c 2000 "$SAMPLE" >"$TMP/cut.mbox"
# make sure the cut is inside the headers of a later message
printf '\n\nFrom someone@example Mon Jan  6 09:00:00 2025\nFrom: Someone <s@example.org>\nSubject: cut off' >>"$TMP/cut.mbox"
expect_error truncated "corridor: $TMP/cut.mbox*truncated*nothing imported" cor import --group planning "$TMP/cut.mbox"
check_eq "$(messages)" 0 "messages stored"

test_case "a truncated xz archive imports nothing"
xz -c "$SAMPLE" | head -c 1500 >"$TMP/cut.mbox.xz"
expect_error xz "corridor: $TMP/cut.mbox.xz*nothing imported" cor import --group planning "$TMP/cut.mbox.xz"
check_eq "$(messages)" 0 "messages stored"

test_case "a binary file is refused"
head -c 4096 /dev/urandom >"$TMP/noise.bin"
expect_error binary "corridor: $TMP/noise.bin*not a mailbox*" cor import --group planning "$TMP/noise.bin"
check_eq "$(messages)" 0 "messages stored"

test_case "a directory without mail is refused"
mkdir -p "$TMP/empty/sub"; echo "just notes" >"$TMP/empty/sub/notes.txt"
expect_error emptydir "corridor: $TMP/empty*no mail found*" cor import --group planning "$TMP/empty"

test_case "a missing path is refused, and a good path with it is not half-imported"
expect_error missing "corridor: $TMP/nope.mbox*no such file*" cor import --group planning "$SAMPLE" "$TMP/nope.mbox"
check_eq "$(messages)" 0 "messages stored"

test_case "a missing group is refused"
expect_error nogroup "corridor: no such group 'nosuch'*" cor import --group nosuch "$SAMPLE"

test_case "malformed queries name the position"
cor import --group planning "$SAMPLE" >/dev/null
expect_error paren "corridor: malformed query: position *" cor search '(flood AND'
expect_error prefix "corridor: malformed query: position 1: unknown prefix 'colour:'*" cor search 'colour:red'
expect_error quote "corridor: malformed query: position *quote*" cor search '"unterminated phrase'
expect_error date "corridor: malformed query: position *date*" cor search 'date:2025-13-45'

test_case "search in a missing group or a private one is refused"
cor group create secret --visibility private >/dev/null
expect_error nogroup "corridor: no such group 'nosuch'" cor search --group nosuch flood
expect_error private "corridor: group 'secret' is private*" cor search --group secret flood

test_case "show and thread of an unknown message are clear errors"
expect_error show "corridor: no message <nobody@nowhere>" cor show '<nobody@nowhere>'
expect_error thread "corridor: no message <nobody@nowhere>" cor thread --json nobody@nowhere

test_case "a corrupt store file is an error, not a crash"
mkdir -p "$TMP/bad"; head -c 8192 /dev/urandom >"$TMP/bad/corridor.db"
expect_error corrupt "corridor: cannot open store: *" "$CORRIDOR" --state "$TMP/bad" group list

test_done
