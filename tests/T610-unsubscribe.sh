#!/bin/sh
# T610 — one-click unsubscribe (RFC 8058) on `corridor serve --http`:
# /u/TOKEN with each member's token from the store.  A POST with
# List-Unsubscribe=One-Click (form-urlencoded or multipart/form-data)
# removes the member and records an opt-out 'one-click', with no sign-in,
# cookie or redirect; a wrong token is a 404 and a POST without that body a
# 400, and neither changes anything; GET and HEAD never change anything
# (mail scanners follow links); the write waits out another writer.  Then
# Chromium: the page under its own CSP, left with the keyboard alone, and
# axe-core on the page, on the answer and on the 404 (tests/browser/
# unsubscribe.mjs).  The screenshot goes to docs/screenshots/unsubscribe.png
# when CORRIDOR_SCREENSHOTS=1 or when it is missing there.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
token() {  # ADDRESS [GROUP]: the member's token (in planning by default)
    q "SELECT token FROM members WHERE address = '$1'
       AND group_id = (SELECT id FROM groups WHERE name = '${2:-planning}')"
}
members() { cor member list planning | cut -f1 | tr '\n' ' '; }
optouts() { q "SELECT count(*) FROM optouts"; }
# code ARGS... : the HTTP status of a curl request (body in $TMP/body,
# headers in $TMP/headers)
code() { curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@"; }
header() { grep -i "^$1:" "$TMP/headers" | cut -d' ' -f2- | tr -d '\r'; }
CSP="default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
B=$SRC/tests/browser

test_case "a group with members, each with a token of 32 hex digits; the daemon answers HTTP"
cor init >/dev/null || fail "init"
printf '[lmtp]\ndomains = lists.example.gov.uk\n' >>"$TMP/state/corridor.conf"
cor group create planning --title "Planning and Development" >/dev/null || fail "group"
cor group create casework --visibility private >/dev/null || fail "group casework"
for m in Jane.Smith@example.gov.uk bob@example.gov.uk carol@example.gov.uk \
         dave@example.gov.uk erin@example.gov.uk frank@example.gov.uk; do
    cor member add planning "$m" >/dev/null || fail "member add $m"
done
cor member add casework jane.smith@example.gov.uk >/dev/null || fail "member add casework"
ALL="bob@example.gov.uk carol@example.gov.uk dave@example.gov.uk erin@example.gov.uk frank@example.gov.uk jane.smith@example.gov.uk "
check_eq "$(members)" "$ALL" "members"
check_eq "$(q "SELECT count(*) FROM members WHERE token GLOB '[0-9a-f]*' AND length(token) = 32")" 7 "tokens"
check_eq "$(q "SELECT count(DISTINCT token) FROM members")" 7 "distinct"
JANE=$(token jane.smith@example.gov.uk)
cor archive build >/dev/null 2>&1 || fail "archive build"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$port
serve_start --http "127.0.0.1:$port" --lmtp "unix:$TMP/lmtp.sock" || fail "start"
wait_for 10 curl -sf -o /dev/null "$BASE/index.html" || fail "no answer on $BASE"
test_done

test_case "GET /u/TOKEN: the confirmation page, in the archive's look, with the security headers"
check_eq "$(code "$BASE/u/$JANE")" 200 "status"
check_eq "$(header Content-Security-Policy)" "$CSP" "CSP (form-action 'self': the form posts to itself)"
check_eq "$(header Cache-Control)" "no-store" "cache"
check_eq "$(header X-Frame-Options)" "DENY" "framing"
check_eq "$(header Set-Cookie)$(header Location)" "" "no cookie, no redirect"
grep -q '<link rel="stylesheet" href="../static/corridor.css">' "$TMP/body" || fail "the archive's stylesheet"
grep -q '<h1 class="govuk-heading-l">Leave Planning and Development</h1>' "$TMP/body" || fail "h1"
grep -q '<strong>j\*\*\*@example.gov.uk</strong>' "$TMP/body" || fail "the address partly shown"
grep -qi 'jane.smith@' "$TMP/body" && fail "the whole address is on the page"
grep -q "<form method=\"post\" action=\"$JANE\">" "$TMP/body" || fail "a form posting to its own address"
grep -q '<input type="hidden" name="List-Unsubscribe" value="One-Click">' "$TMP/body" || fail "hidden input"
grep -q '<button type="submit" class="govuk-button govuk-button--warning">Leave Planning and Development</button>' \
    "$TMP/body" || fail "button"
grep -q 'no more mail' "$TMP/body" || fail "what leaving means: mail"
grep -q "archive stays" "$TMP/body" || fail "what leaving means: the archive"
grep -q 'href="mailto:planning-join@lists.example.gov.uk">planning-join@lists.example.gov.uk</a>' \
    "$TMP/body" || fail "how to rejoin"
# the same member's token in another group names that group
check_eq "$(code "$BASE/u/$(token jane.smith@example.gov.uk casework)")" 200 "casework"
grep -q '<h1 class="govuk-heading-l">Leave casework</h1>' "$TMP/body" || fail "the other group's page"
test_done

test_case "GET and HEAD change nothing (also with the one-click pair in the query)"
check_eq "$(code -I "$BASE/u/$JANE")" 200 "HEAD"
grep -q '<html' "$TMP/body" && fail "HEAD sent a body"
check_eq "$(code "$BASE/u/$JANE?List-Unsubscribe=One-Click")" 200 "GET with the pair in the query"
check_eq "$(code -X GET -d 'List-Unsubscribe=One-Click' "$BASE/u/$JANE")" 200 "GET with the pair as a body"
check_eq "$(members)" "$ALL" "members"
check_eq "$(optouts)" 0 "opt-outs"
check_eq "$(token jane.smith@example.gov.uk)" "$JANE" "token kept"
test_done

test_case "a wrong token: 404 in the archive's look, and nothing changes"
for t in 0123456789abcdef0123456789abcdef "$(printf '%s' "$JANE" | cut -c1-31)" "${JANE}0" \
         "$(printf '%s' "$JANE" | cut -c1-31)g" "$JANE/" ""; do
    check_eq "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$t")" 404 "POST /u/$t"
    check_eq "$(code "$BASE/u/$t")" 404 "GET /u/$t"
done
check_eq "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u")" 404 "POST /u"
grep -q 'class="govuk-template"' "$TMP/body" || fail "the archive's look"
grep -q 'not valid' "$TMP/body" || fail "says the link is not valid"
check_eq "$(header Content-Security-Policy)" "$CSP" "CSP on the 404"
check_eq "$(members)" "$ALL" "members"
check_eq "$(optouts)" 0 "opt-outs"
test_done

test_case "a POST without List-Unsubscribe=One-Click: 400 with a clear page, and nothing changes"
for body in "" "List-Unsubscribe=Yes" "Unsubscribe=One-Click" "List-Unsubscribe=One-Click-Please" \
            "list-unsubscribe=one-click"; do
    check_eq "$(code -X POST --data-raw "$body" "$BASE/u/$JANE")" 400 "body '$body'"
done
check_eq "$(code -X POST -H 'Content-Type: application/json' -d '{"List-Unsubscribe":"One-Click"}' "$BASE/u/$JANE")" 400 "json"
check_eq "$(code -X POST -H 'Content-Type: text/plain' -d 'List-Unsubscribe=One-Click' "$BASE/u/$JANE")" 400 "text/plain"
check_eq "$(code -F 'List-Unsubscribe=Yes' "$BASE/u/$JANE")" 400 "multipart, another value"
grep -q '<h1 class="govuk-heading-l">Nothing has changed</h1>' "$TMP/body" || fail "page title"
grep -q 'List-Unsubscribe=One-Click' "$TMP/body" || fail "says what is needed"
check_eq "$(code -X POST --data-binary "@$SRC/archive-web/http.c" "$BASE/u/$JANE")" 413 "a large body"
for m in PUT DELETE PATCH; do
    check_eq "$(code -X "$m" -d 'List-Unsubscribe=One-Click' "$BASE/u/$JANE")" 405 "$m"
    check_eq "$(header Allow)" "GET, HEAD, POST" "Allow"
done
# POST elsewhere is still refused as before
check_eq "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/")" 405 "POST /"
check_eq "$(header Allow)" "GET, HEAD" "Allow elsewhere"
check_eq "$(members)" "$ALL" "members"
check_eq "$(optouts)" 0 "opt-outs"
test_done

test_case "curl -X POST -d 'List-Unsubscribe=One-Click' unsubscribes: 200, no cookie, no redirect, an opt-out, one log line"
check_eq "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$JANE")" 200 "status"
grep -q '<h1 class="govuk-heading-l">You have left Planning and Development</h1>' "$TMP/body" || fail "page"
grep -q 'href="mailto:planning-join@lists.example.gov.uk"' "$TMP/body" || fail "how to rejoin"
check_eq "$(header Set-Cookie)$(header Location)" "" "no cookie, no redirect"
check_eq "$(header Cache-Control)" "no-store" "cache"
check_eq "$(members)" "bob@example.gov.uk carol@example.gov.uk dave@example.gov.uk erin@example.gov.uk frank@example.gov.uk " "members"
check_eq "$(q "SELECT g.name || ' ' || o.address || ' ' || o.how FROM optouts o JOIN groups g ON g.id = o.group_id")" \
    "planning jane.smith@example.gov.uk one-click" "opt-out"
check_eq "$(cor member list casework | cut -f1)" "jane.smith@example.gov.uk" "still in casework"
check_eq "$(grep -c 'group planning: jane.smith@example.gov.uk left by one-click' "$TMP/serve.log")" 1 "log line"
# used up: the same request again finds no member
check_eq "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$JANE")" 404 "again"
check_eq "$(code "$BASE/u/$JANE")" 404 "GET after leaving"
check_eq "$(optouts)" 1 "one opt-out"
test_done

test_case "multipart/form-data (RFC 8058 allows it), and the pair among other fields"
BOB=$(token bob@example.gov.uk)
check_eq "$(code -F 'List-Unsubscribe=One-Click' "$BASE/u/$BOB")" 200 "multipart"
grep -q 'You have left Planning and Development' "$TMP/body" || fail "page"
ERIN=$(token erin@example.gov.uk)
check_eq "$(code -X POST -d 'x=1&List-Unsubscribe=One-Click&y=2' "$BASE/u/$ERIN")" 200 "urlencoded, with other fields"
check_eq "$(members)" "carol@example.gov.uk dave@example.gov.uk frank@example.gov.uk " "members"
check_eq "$(q "SELECT group_concat(address || ':' || how, ' ') FROM (SELECT * FROM optouts ORDER BY address)")" \
    "bob@example.gov.uk:one-click erin@example.gov.uk:one-click jane.smith@example.gov.uk:one-click" "opt-outs"
test_done

test_case "the leave waits for another writer's lock, then commits"
FRANK=$(token frank@example.gov.uk)
hold_store_lock "$db" 1.5
check_eq "$(code -X POST -d 'List-Unsubscribe=One-Click' "$BASE/u/$FRANK")" 200 "status"
wait "$LOCKER"
check_eq "$(members)" "carol@example.gov.uk dave@example.gov.uk " "members"
check_eq "$(q "SELECT how FROM optouts WHERE address = 'frank@example.gov.uk'")" one-click "opt-out"
test_done

test_case "chromium, node and the npm packages of tests/browser are installed"
missing=
[ -x /usr/bin/chromium ] || missing="$missing /usr/bin/chromium"
command -v node >/dev/null 2>&1 || missing="$missing node"
[ -f "$B/node_modules/playwright-core/package.json" ] || missing="$missing tests/browser/node_modules/playwright-core"
[ -f "$B/node_modules/axe-core/axe.min.js" ] || missing="$missing tests/browser/node_modules/axe-core"
[ -n "$missing" ] && fail "missing:$missing — run 'make deps' (Debian's chromium and node; npm ci in tests/browser)"
test_done

# each "ok - X" / "not ok - X" line of unsubscribe.mjs becomes a case
SHOTS=
{ [ ! -f "$SRC/docs/screenshots/unsubscribe.png" ] || [ "${CORRIDOR_SCREENSHOTS:-0}" = 1 ]; } &&
    SHOTS=$SRC/docs/screenshots
CAROL=$(token carol@example.gov.uk)
DAVE=$(token dave@example.gov.uk)
(cd "$B" && node unsubscribe.mjs "$BASE/u/$CAROL" "$BASE/u/$DAVE" \
    "$BASE/u/0123456789abcdef0123456789abcdef" $SHOTS) >"$TMP/browser.out" 2>"$TMP/browser.err"
rc=$?
summary=
while IFS= read -r line; do
    case $line in
    "ok - "*)     test_case "browser: ${line#ok - }" ;;
    "not ok - "*) test_case "browser: ${line#not ok - }"; _case_failed=1 ;;
    "# "*" checks: "*) summary=$line ;;
    "#"*)         echo "$line" >&2 ;;
    *)            echo "# $line" >&2 ;;
    esac
done <"$TMP/browser.out"
test_case "browser: unsubscribe.mjs ran to its end, and the two members it used have left"
[ -n "$summary" ] && echo "$summary" || fail "no summary line"
[ "$rc" != 0 ] && tail -20 "$TMP/browser.err" | sed 's/^/#   /' >&2
check_eq "$rc" 0 "exit status"
check_eq "$(members)" "" "members"
check_eq "$(optouts)" 6 "opt-outs"
test_done

test_case "corridor serve stops cleanly; no warning or error in its log"
serve_stop
# (the tests run as root with CORRIDOR_ALLOW_ROOT=1: that one warning is expected)
check_eq "$(grep -E 'warning|error|critical|Sanitizer' "$TMP/serve.log" | grep -vc 'running as root')" 0 "log"
grep -E 'warning|error|critical|Sanitizer' "$TMP/serve.log" | grep -v 'running as root' | head -5 | sed 's/^/#   /' >&2
check_eq "$(grep -c 'left by one-click' "$TMP/serve.log")" 6 "one line per leave"
test_done
