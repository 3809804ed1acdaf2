#!/bin/sh
# T320 — the archive in a real browser: Debian's chromium, driven by
# tests/browser/walk.mjs (playwright-core), walks the archive `corridor serve
# --http` publishes as a reader would (site, group, thread, message and its
# .eml, month, about, author, older pages, search form and JSON, a search
# error, a 404, a moved conversation), runs axe-core (WCAG 2.2 AA) on every
# page type, uses the keyboard and no JavaScript; then opens every page of a
# group of hostile mail and checks nothing runs, nothing is fetched from
# another origin and no attachment is offered under an active type.
# Each check of walk.mjs is a case here.
#
# Screenshots go to docs/screenshots/ when CORRIDOR_SCREENSHOTS=1 or when one
# is missing there, else to a temporary folder (a normal run leaves the tree
# alone).  Needs chromium, node and tests/browser/node_modules: `make deps`.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
B=$SRC/tests/browser
MBOX=$CORPORA/linux-mips-2005.mbox
SHOT_NAMES="site group month thread thread-mobile message about author search error"

# run_walk NAME ARGS... : runs walk.mjs; each "ok - X" / "not ok - X" line
# becomes a case "NAME: X" (the "#" lines after it are its diagnostics), and
# one more case checks the walk ran to its end.
run_walk() {
    _w=$1; shift
    (cd "$B" && node walk.mjs "$@") >"$TMP/$_w.out" 2>"$TMP/$_w.err"
    _rc=$?
    _summary=
    _bad=0
    while IFS= read -r _line; do
        case $_line in
        "ok - "*)     test_case "$_w: ${_line#ok - }" ;;
        "not ok - "*) test_case "$_w: ${_line#not ok - }"; _case_failed=1; _bad=$((_bad + 1)) ;;
        "# "*" checks: "*) _summary=$_line ;;
        "#"*)         echo "$_line" >&2 ;;
        *)            echo "# $_line" >&2 ;;
        esac
    done <"$TMP/$_w.out"
    test_case "$_w: walk.mjs ran to its end"
    [ -n "$_summary" ] && echo "$_summary" || fail "no summary line"
    if [ "$_rc" != 0 ] && [ "$_bad" = 0 ]; then
        fail "walk.mjs exited $_rc with no failed check"
    elif [ "$_rc" = 0 ] && [ "$_bad" != 0 ]; then
        fail "walk.mjs exited 0 with $_bad failed checks"
    fi
    if [ "$_rc" != 0 ] && [ -s "$TMP/$_w.err" ]; then
        tail -20 "$TMP/$_w.err" | sed 's/^/#   /' >&2
    fi
    test_done
}

test_case "chromium, node and the npm packages of tests/browser are installed"
missing=
[ -x /usr/bin/chromium ] || missing="$missing /usr/bin/chromium"
command -v node >/dev/null 2>&1 || missing="$missing node"
[ -f "$B/node_modules/playwright-core/package.json" ] || missing="$missing tests/browser/node_modules/playwright-core"
[ -f "$B/node_modules/axe-core/axe.min.js" ] || missing="$missing tests/browser/node_modules/axe-core"
if [ -n "$missing" ]; then
    fail "missing:$missing — run 'make deps' (Debian's chromium and node; npm ci in tests/browser)"
    test_done
    exit 1
fi
check -f "$MBOX"
test_done

test_case "a state with linux-mips (2005), planning (a merged conversation) and hostile mail, built"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$port
cor init >/dev/null || fail "init"
# the absolute URL the pages show (permanent links, feeds): a fixed one, so
# that screenshots do not change with the port
printf '[archive]\nurl = https://groups.example.org/\n' >>"$TMP/state/corridor.conf"
cor group create linux-mips --title "Linux on MIPS" >/dev/null || fail "group linux-mips"
cor group create planning --title "Planning and Development" >/dev/null || fail "group planning"
cor group create hostile --title "Hostile mail" >/dev/null || fail "group hostile"
out=$(cor import --group linux-mips "$MBOX" | tail -1)
check_eq "$out" "imported 2896, duplicates 0, failed 0" "linux-mips import"
out=$(cor import --group hostile "$SRC"/tests/data/hostile/*.eml | tail -1)
check_eq "$out" "imported 16, duplicates 0, failed 0" "hostile import"
cor import --group planning "$SRC/tests/data/sample/planning.mbox" >/dev/null || fail "planning import"
# a reply to a message not seen yet starts a conversation of its own; the
# missing message, arriving last, joins the two: the old one becomes a
# "this conversation has moved" page
mkdir -p "$TMP/merge"
msg() {  # FILE ID FROM DATE SUBJECT PARENT TEXT
    {
        printf 'From: %s\nTo: planning@lists.northshire.gov.uk\nSubject: %s\n' "$3" "$5"
        printf 'Date: %s\nMessage-ID: <%s>\n' "$4" "$2"
        [ -n "$6" ] && printf 'In-Reply-To: <%s>\nReferences: <%s>\n' "$6" "$6"
        printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "$7"
    } >"$TMP/merge/$1"
}
msg 1.eml merge-1@northshire.test "Ffion Hughes <ffion.hughes@northshire.gov.uk>" \
    "Tue, 06 May 2025 09:12:00 +0100" "Library car park resurfacing" "" \
    "The resurfacing of the library car park starts on 19 May. Comments by Friday, please."
msg 2.eml merge-3@northshire.test "Tom Pryce <tom.pryce@northshire.gov.uk>" \
    "Tue, 06 May 2025 14:40:00 +0100" "Re: Library car park resurfacing" merge-2@northshire.test \
    "Agreed with Sam: the disabled bays should stay open throughout."
msg 3.eml merge-2@northshire.test "Sam Lewis <sam.lewis@northshire.gov.uk>" \
    "Tue, 06 May 2025 11:05:00 +0100" "Re: Library car park resurfacing" merge-1@northshire.test \
    "Could the work be done in two halves, so the disabled bays stay open?"
for f in 1 2 3; do
    cor import --group planning "$TMP/merge/$f.eml" >/dev/null || fail "merge message $f"
done
cor archive build >"$TMP/build.out" 2>&1 || fail "archive build: $(cat "$TMP/build.out")"
moved=$(cd "$TMP/state/archive" && grep -rl "This conversation has moved" g/planning/t | head -1)
check -n "$moved"
test_done

test_case "corridor serve --http answers"
serve_start --http "127.0.0.1:$port" --lmtp "unix:$TMP/lmtp.sock" || fail "start"
wait_for 10 curl -sf -o /dev/null "$BASE/index.html" || fail "no answer on $BASE"
test_done

# the screenshots: into the tree only when asked, or when one is missing
SHOTS=$TMP/screenshots
for s in $SHOT_NAMES; do
    [ -f "$SRC/docs/screenshots/$s.png" ] || SHOTS=$SRC/docs/screenshots
done
[ "${CORRIDOR_SCREENSHOTS:-0}" = 1 ] && SHOTS=$SRC/docs/screenshots
mkdir -p "$SHOTS"
echo "# screenshots: $SHOTS" >&2

run_walk walk "$BASE" "$SHOTS" --group linux-mips --word kernel --moved "$moved"

test_case "the ten screenshots are written"
for s in $SHOT_NAMES; do
    check -s "$SHOTS/$s.png"
done

run_walk hostile --hostile "$BASE/g/hostile/"

test_case "corridor serve stops cleanly after the browser"
serve_stop
grep -E 'error|critical|Sanitizer' "$TMP/serve.log" | head -5 | sed 's/^/#   /' >&2
test_done
