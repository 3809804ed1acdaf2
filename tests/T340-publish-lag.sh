#!/bin/sh
# T340 — the archive's HTTP listener while the renderer is behind the
# indexer (archive-web/http.h invariant 7): a post that is committed and
# searchable but whose page is not written yet is left out of the web
# search (HTML and JSON, the total lowered, the pager still reaching every
# later hit); its page's address answers 503 with Retry-After and the
# archive's "being added" page, to a viewer who may see the group only (a
# private group's post is the same 404 as a page that never existed); its
# original and attachments download from the store; `corridor search` is
# not affected.  The renderer is held back two real ways: `serve
# --no-archive` (nothing rendered, the indexer running), then the renderer
# running with [archive] debounce_ms = 60000 (its model loaded, a new post
# waiting a minute).  Once rendered (the renderer's catch-up at start,
# `corridor archive build`) the search lists the post and its page is 200.
# The 503 page goes through axe-core in chromium (tests/browser/page.mjs).
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
LMTP="python3 $SRC/tests/tools/lmtp_files.py"
A=$TMP/state/archive
key() { printf '%s' "$1" | sha256sum | cut -c1-16; }
# path ID GROUP: the address of a message page
path() { _k=$(key "$1@t340.test"); echo "/g/$2/m/$(echo "$_k" | cut -c1-2)/$_k"; }
q() { sqlite3 "$TMP/state/corridor.db" "$1"; }

cor init >/dev/null
cor group create planning --title "Planning and Development" >/dev/null
cor group create casework --visibility private >/dev/null
cor member add casework carol@council.test >/dev/null
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
domains = lists.test
[http]
user_domain = council.test
results_per_page = 2
[archive]
debounce_ms = 60000
CONF

# mail ID GROUP DAY WORDS [ATTACHMENT]: a message file "$TMP/ID.eml"
mail() {
    {
        printf 'From: Alice Example <alice@example.org>\nTo: %s@lists.test\n' "$2"
        printf 'Subject: Note %s\nDate: %s Mar 2005 12:00:00 +0000\nMessage-ID: <%s@t340.test>\n' \
            "$1" "$3" "$1"
        if [ -n "${5:-}" ]; then
            printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
            printf 'Content-Type: text/plain\n\nThe words: %s.\n--b\n' "$4"
            printf 'Content-Type: application/pdf; name="%s"\n' "$5"
            printf 'Content-Disposition: attachment; filename="%s"\n' "$5"
            printf 'Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKZmFrZQo=\n--b--\n'
        else
            printf '\nThe words: %s.\n' "$4"
        fi
    } >"$TMP/$1.eml"
}
# lmtp ID GROUP: delivers "$TMP/ID.eml" to the daemon
lmtp() {
    $LMTP "unix:$TMP/lmtp.sock" "$2@lists.test" "$TMP/$1.eml" >"$TMP/$1.out" || fail "lmtp $1"
    grep -q '	250 .* stored' "$TMP/$1.out" || fail "$1 not stored: $(cat "$TMP/$1.out")"
}
# indexed WORD ID [SEARCH OPTIONS]: `corridor search` (as staff; --as for a
# private group) finds ID
indexed() {
    _w=$1; _id=$2; shift 2
    cor search --json "$@" "$_w" 2>/dev/null | grep -q "\"$_id@t340.test\""
}
start_http() {
    serve_start --lmtp "unix:$TMP/lmtp.sock" --http 127.0.0.1:0 --no-outbound "$@" || return 1
    port=$(sed -n 's/.*listening for HTTP on 127.0.0.1:0 (port \([0-9]*\),.*/\1/p' "$TMP/serve.log" | tail -1)
    U=http://127.0.0.1:$port
}
# get PATH [CURL ARGS...]: into $TMP/body and $TMP/head; prints the status
get() {
    _p=$1; shift
    rm -f "$TMP/body" "$TMP/head"
    curl -s -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' "$@" "$U$_p"
    touch "$TMP/body" "$TMP/head"
}
header() { tr -d '\r' <"$TMP/head" | sed -n "s/^$1: //Ip" | head -1; }
# search QUERY [PAGE [CURL ARGS...]]: the JSON answer as "TOTAL ID ID..."
search() {
    _q=$1; _pg=${2:-1}; shift; [ $# -gt 0 ] && shift
    curl -s "$@" "$U/search?q=$_q&page=$_pg&format=json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join([str(d["total"])] + [r["message_id"].split("@")[0] for r in d["results"]]))'
}

test_case "two published posts per group, rendered by a full build"
mail old-1 planning 01 "caching aardvark"
mail old-2 planning 03 "caching badger"
mail old-p casework 02 "caching cobra"
for m in old-1:planning old-2:planning old-p:casework; do
    cor deliver --group "${m#*:}" <"$TMP/${m%%:*}.eml" >/dev/null || fail "deliver $m"
done
cor reindex >/dev/null 2>&1 || fail "reindex"
cor archive build >/dev/null 2>&1 || fail "archive build"
check -f "$A$(path old-1 planning).html"
check -f "$A/static/corridor.css"
test_done

test_case "serve --no-archive: the indexer runs, nothing is rendered"
start_http --no-archive || fail "start"
mail lag-1 planning 05 "caching quokkalag"
mail lag-p casework 06 "caching wombatlag"
lmtp lag-1 planning
lmtp lag-p casework
wait_for 20 indexed quokkalag lag-1 || fail "lag-1 is not indexed"
wait_for 20 indexed wombatlag lag-p --as carol@council.test || fail "lag-p is not indexed"
check_eq "$(q "SELECT count(*) FROM work WHERE kind = 'index'")" 0 "index work left"
check_eq "$(q "SELECT count(*) FROM work WHERE kind = 'render'")" 2 "render work queued"
P1=$(path lag-1 planning); PP=$(path lag-p casework)
check ! -e "$A$P1.html"
check ! -e "$TMP/state/archive-restricted$PP.html"
test_done

test_case "corridor search is not affected: it lists the post whose page is missing"
check_eq "$(cor search --json quokkalag | grep -c '"lag-1@t340.test"')" 1 "CLI"
test_done

test_case "web search (JSON) leaves out the post whose page is missing, and counts it out"
check_eq "$(search quokkalag)" "0" "its word alone"
check_eq "$(search caching 1)" "2 old-2" "page 1: lag-1 (newest) left out, the total lowered"
check_eq "$(search caching 2)" "3 old-1" "page 2: the next hit of the index, not lost"
check_eq "$(search wombatlag 1 -H 'X-Remote-User: carol')" "0" "a member's private post"
check_eq "$(search caching 1 -H 'X-Remote-User: carol')" "3" "a member: page 1, both left out"
check_eq "$(search caching 2 -H 'X-Remote-User: carol')" "5 old-2 old-p" "a member: page 2"
test_done

test_case "web search (HTML): no link to the missing page; the pager still goes on"
check_eq "$(get '/search?q=quokkalag')" 200 "status"
grep -q '<h2 class="govuk-heading-m" id="results">0 results</h2>' "$TMP/body" || fail "not 0 results"
grep -q "$P1" "$TMP/body" && fail "links to the missing page"
check_eq "$(get '/search?q=caching')" 200 "status"
grep -q '2 results, showing 1 to 1' "$TMP/body" || fail "count: $(grep -o '[0-9]* results[^<]*' "$TMP/body")"
grep -q "href=\"$(path old-2 planning | cut -c2-).html\"" "$TMP/body" || fail "no link to old-2"
grep -q "$P1" "$TMP/body" && fail "links to lag-1's missing page"
grep -q 'href="search?q=caching&amp;page=2" rel="next"' "$TMP/body" || fail "no next page"
test_done

test_case "the missing page of a visible post: 503, Retry-After: 5, no-store, the 'being added' page"
check_eq "$(get "$P1.html")" 503 "status"
check_eq "$(header Retry-After)" 5 "Retry-After"
check_eq "$(header Cache-Control)" no-store "Cache-Control"
check_eq "$(header Content-Type)" "text/html; charset=utf-8" "type"
check -n "$(header Content-Security-Policy)"
grep -q '<h1 class="govuk-heading-l">This message is being added to the archive</h1>' "$TMP/body" ||
    fail "no heading"
grep -q 'posted moments ago and is being added to the archive' "$TMP/body" || fail "no explanation"
grep -q '<a class="govuk-link" href="../../../../g/planning/">Planning and Development</a>' "$TMP/body" ||
    fail "no link to the group"
grep -q "href=\"../../../../${P1#/}.eml\" download" "$TMP/body" || fail "no link to the original"
grep -q '<link rel="stylesheet" href="../../../../static/corridor.css">' "$TMP/body" || fail "not the archive's look"
cp "$TMP/body" "$TMP/pending.html"
check_eq "$(curl -s -I -o /dev/null -D "$TMP/head" -w '%{http_code}' "$U$P1.html")" 503 "HEAD"
check_eq "$(header Retry-After)" 5 "HEAD Retry-After"
check_eq "$(get "$PP.html" -H 'X-Remote-User: carol')" 503 "a private group's post, to its member"
grep -q 'being added to the archive' "$TMP/body" || fail "member: no explanation"
check_eq "$(get "$(path old-1 planning).html")" 200 "a published page"
test_done

test_case "its original and attachments come from the store before the page"
check_eq "$(get "$P1.eml")" 200 "original"
check_eq "$(header Content-Type)" message/rfc822 "type"
grep -q '^Message-ID: <lag-1@t340.test>' "$TMP/body" || fail "not the original"
check_eq "$(get "$PP.eml")" 404 "a private group's original, anonymous"
check_eq "$(get "$PP.eml" -H 'X-Remote-User: carol')" 200 "a private group's original, member"
test_done

test_case "a private post's missing page to whoever may not see it: the 404 of a page that never existed"
get /g/planning/m/00/0000000000000000.html >/dev/null; cp "$TMP/body" "$TMP/404-never"
tr -d '\r' <"$TMP/head" | grep -iv '^date:' >"$TMP/404-never.head"
for who in "" "X-Remote-User: bob" "X-Remote-User: dave@elsewhere.test"; do
    check_eq "$(get "$PP.html" ${who:+-H "$who"})" 404 "private post ($who)"
    cmp -s "$TMP/body" "$TMP/404-never" || fail "the body differs ($who)"
    tr -d '\r' <"$TMP/head" | grep -iv '^date:' | cmp -s - "$TMP/404-never.head" || fail "the headers differ ($who)"
    grep -qi 'being added\|casework\|wombat' "$TMP/body" && fail "it tells ($who)"
done
check_eq "$(get "/g/planning/m/$(key lag-p@t340.test | cut -c1-2)/$(key lag-p@t340.test).html" \
            -H 'X-Remote-User: carol')" 404 "its key under another group"
check_eq "$(get /g/nosuchgroup/m/00/0000000000000000.html)" 404 "no such group"
cmp -s "$TMP/body" "$TMP/404-never" || fail "a missing group's body differs"
test_done

test_case "the 503 page in chromium: axe-core, link text, the stylesheet, 320 px (tests/browser/page.mjs)"
B=$SRC/tests/browser
missing=
command -v node >/dev/null 2>&1 || missing="$missing node"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -f "$B/node_modules/axe-core/axe.min.js" ] || missing="$missing tests/browser/node_modules"
if [ -n "$missing" ]; then
    fail "missing:$missing — run 'make deps'"
else
    (cd "$B" && node page.mjs 503 "$U$P1.html") >"$TMP/browser.out" 2>&1 ||
        { fail "page.mjs"; sed 's/^/# /' "$TMP/browser.out" >&2; }
    check_eq "$(grep -c '^ok - ' "$TMP/browser.out")" 6 "checks passed"
fi
serve_stop
test_done

test_case "the renderer catches up at start: the post is found and its page is 200"
start_http || fail "start with the archive"
wait_for 20 test -f "$A$P1.html" || fail "lag-1 not rendered"
wait_for 20 test -f "$TMP/state/archive-restricted$PP.html" || fail "lag-p not rendered"
check_eq "$(search quokkalag)" "1 lag-1" "its word"
check_eq "$(search caching 1)" "3 lag-1 old-2" "page 1"
check_eq "$(get "$P1.html")" 200 "its page"
cmp -s "$TMP/body" "$A$P1.html" || fail "not the rendered page"
check_eq "$(get "$PP.html" -H 'X-Remote-User: carol')" 200 "the private post, to its member"
check_eq "$(get "$PP.html")" 404 "the private post, anonymous"
test_done

test_case "the renderer running but behind (debounce_ms = 60000): the same answers, downloads too"
mail lag-2 planning 07 "caching numbatlag" "Lag report.pdf"
lmtp lag-2 planning
wait_for 20 indexed numbatlag lag-2 || fail "lag-2 is not indexed"
P2=$(path lag-2 planning)
check ! -e "$A$P2.html"
check_eq "$(q "SELECT count(*) FROM work WHERE kind = 'render'")" 1 "its render work waits"
check_eq "$(search numbatlag)" "0" "search"
check_eq "$(search caching 1)" "3 lag-1" "page 1: lag-2 left out"
check_eq "$(get "$P2.html")" 503 "its page"
check_eq "$(header Retry-After)" 5 "Retry-After"
grep -q 'being added to the archive' "$TMP/body" || fail "no explanation"
check_eq "$(get "$P2.eml")" 200 "its original (the renderer's model does not have it yet)"
grep -q '^Message-ID: <lag-2@t340.test>' "$TMP/body" || fail "not the original"
check_eq "$(get "$P2/1.pdf")" 200 "its attachment"
check_eq "$(header Content-Type)" application/pdf "attachment type"
check_eq "$(cat "$TMP/body")" "%PDF-1.4
fake" "attachment bytes"
check_eq "$(get "$P2/1.exe")" 404 "another extension"
check ! -e "$A$P2.html"
test_done

test_case "after corridor archive build: the search lists it and its page is 200"
cor archive build >/dev/null 2>&1 || fail "archive build"
check -f "$A$P2.html"
check_eq "$(search numbatlag)" "1 lag-2" "search"
check_eq "$(search caching 1)" "4 lag-2 lag-1" "page 1"
check_eq "$(get "$P2.html")" 200 "its page"
check_eq "$(header Retry-After)" "" "no Retry-After"
serve_stop
grep -E ': (warning|error|critical): ' "$TMP/serve.log" | grep -v 'running as root' | head -5 |
    sed 's/^/#   /' >&2
check_eq "$(grep -E ': (warning|error|critical): ' "$TMP/serve.log" | grep -vc 'running as root')" 0 \
    "warnings and errors logged"
test_done
