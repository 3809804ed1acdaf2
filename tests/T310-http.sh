#!/bin/sh
# T310 — the archive's HTTP listener (archive-web/http.h) through
# `corridor serve --http`: the static trees with their types and security
# headers, downloads from the store, paths that try to leave the tree, HEAD
# and 304, search as HTML and JSON, malformed queries, and who sees what:
# anonymous, staff, a private group's member (by address and via
# [http] user_domain), an officer, and a signed-in header from a peer that
# is not a trusted proxy.  Officers' searches are records searches: each is
# in the audit trail before it is shown (or refused with 503 when it cannot
# be written: the anchor file unwritable, the store locked), others' are
# not; the officer list is recorded at start and on SIGHUP, and the web
# follows it.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
A=$TMP/state/archive
R=$TMP/state/archive-restricted
key() { printf '%s' "$1" | sha256sum | cut -c1-16; }
CSP="default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

cor init >/dev/null
cor group create planning >/dev/null                          # public
cor group create staffroom --visibility staff >/dev/null
cor group create casework --visibility private >/dev/null
cor member add casework carol@council.test >/dev/null
cor member add casework dave@elsewhere.test >/dev/null
# the downloads case needs an .exe with a hostile name in the archive: this
# group lets every attachment type through (the filters refuse .exe by default)
cor group set planning blocked_extensions= >/dev/null

# post GROUP ID WORD [EXTRA-HEADERS-AND-BODY-FILE]: one message from Alice,
# with a word found nowhere else
post() {
    printf 'From: Alice Example <alice@example.org>\nTo: %s@lists.test\nSubject: Note %s\nDate: Tue, 01 Mar 2005 12:00:00 +0000\nMessage-ID: <%s@t310.test>\n\nThe word of this group is %s; also caching & <b>markup</b>.\n' \
        "$1" "$3" "$2" "$3" | cor deliver --group "$1" >/dev/null || fail "deliver $2"
}
post planning pub-1 aardvarkpublic
post staffroom staff-1 badgerstaff
post casework priv-1 cobraprivate
cat <<'EOF' | cor deliver --group planning >/dev/null || fail "deliver attachment"
From: Alice Example <alice@example.org>
To: planning@lists.test
Subject: The report
Date: Wed, 02 Mar 2005 12:00:00 +0000
Message-ID: <pub-att@t310.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

The attached report.
--b
Content-Type: application/pdf; name="Report 2005.pdf"
Content-Disposition: attachment; filename="Report 2005.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKZmFrZQo=
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe
Content-Transfer-Encoding: base64

TVoAAA==
--b--
EOF
cor reindex >/dev/null 2>&1 || fail "reindex"
cor archive build >/dev/null 2>&1 || fail "archive build"
cat >"$TMP/state/corridor.conf" <<CONF
[http]
user_domain = council.test
officers = foi
CONF

# start_http: serve with the listener on a free port; sets U
start_http() {
    serve_start --lmtp "unix:$TMP/lmtp.sock" --http 127.0.0.1:0 --no-archive || return 1
    port=$(sed -n 's/.*listening for HTTP on 127.0.0.1:0 (port \([0-9]*\),.*/\1/p' "$TMP/serve.log" | tail -1)
    U=http://127.0.0.1:$port
}
# get PATH [CURL ARGS...]: fetches into $TMP/body and $TMP/head; prints the status
get() {
    _p=$1; shift
    rm -f "$TMP/body" "$TMP/head"
    curl -s --path-as-is -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' "$@" "$U$_p"
    touch "$TMP/body" "$TMP/head"   # curl makes no file for an empty body
}
# header NAME: the value of a header of the last get
header() { tr -d '\r' <"$TMP/head" | sed -n "s/^$1: //Ip" | head -1; }
# json PATH [CURL ARGS...]: the search answer's "total" and groups of its results
json() {
    _p=$1; shift
    curl -s "$@" "$U$_p" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["total"], " ".join(sorted({r["group"] for r in d["results"]})))'
}

kp=$(key pub-1@t310.test); ka=$(key pub-att@t310.test); ks=$(key staff-1@t310.test)
kv=$(key priv-1@t310.test); kalice=$(key alice@example.org)
mp=g/planning/m/$(echo "$kp" | cut -c1-2)/$kp
ma=g/planning/m/$(echo "$ka" | cut -c1-2)/$ka
ms=g/staffroom/m/$(echo "$ks" | cut -c1-2)/$ks
mv=g/casework/m/$(echo "$kv" | cut -c1-2)/$kv
start_http || fail "start"

test_case "static files: site index, group, month, thread, message and feeds with their types"
thread=$(cd "$A" && ls g/planning/t/*/*.html | head -1)
for p in /:"text/html; charset=utf-8" /index.html:"text/html; charset=utf-8" \
         /static/corridor.css:text/css /g/planning/:"text/html; charset=utf-8" \
         /g/planning/2005-03.html:"text/html; charset=utf-8" \
         /g/planning/atom.xml:application/atom+xml "/$thread":"text/html; charset=utf-8" \
         "/${thread%.html}.atom":application/atom+xml "/$mp.html":"text/html; charset=utf-8" \
         "/author/$kalice.html":"text/html; charset=utf-8"; do
    path=${p%%:*}; type=${p#*:}
    check_eq "$(get "$path")" 200 "status of $path"
    check_eq "$(header Content-Type)" "$type" "type of $path"
    cmp -s "$TMP/body" "$A$(case $path in */) echo "${path}index.html" ;; *) echo "$path" ;; esac)" ||
        fail "$path is not the file"
done
check_eq "$(get /g/planning)" 301 "a folder without its /"
check_eq "$(header Location)" /g/planning/ "redirect"

test_case "downloads from the store: the original (.eml) and an attachment, offered as attachments"
check_eq "$(get "/$mp.eml")" 200 "original"
check_eq "$(header Content-Type)" message/rfc822 "original type"
case $(header Content-Disposition) in attachment*) ;; *) fail "original disposition: $(header Content-Disposition)" ;; esac
grep -q '^Message-ID: <pub-1@t310.test>' "$TMP/body" || fail "not the original"
att=$(grep -o "href=\"[^\"]*$ka/1\.[a-z]*\"" "$A/$ma.html" | head -1 | sed 's/href="//; s/"$//')
check_eq "$att" "../../../../$ma/1.pdf" "attachment link on the page"
check_eq "$(get "/$ma/1.pdf")" 200 "attachment"
check_eq "$(header Content-Type)" application/pdf "attachment type"
case $(header Content-Disposition) in "attachment; filename="*Report*) ;; *) fail "attachment disposition: $(header Content-Disposition)" ;; esac
check_eq "$(cat "$TMP/body")" "%PDF-1.4
fake" "attachment bytes"
check_eq "$(get "/$ma/1.exe")" 404 "another extension"
check_eq "$(get "/$ma/2.bin")" 200 "a name with a right-to-left override"
check_eq "$(header Content-Type)" application/octet-stream "its type"
case $(header Content-Disposition) in
    attachment*invoicefdp.exe*) ;; *) fail "its disposition: $(header Content-Disposition)" ;; esac
header Content-Disposition | grep -qi '%E2%80%AE' && fail "the override is offered"
check_eq "$(get "/$ma/2.pdf")" 404 "no such part"
check_eq "$(get "/$mv.eml")" 404 "a private group's original, anonymous"
check_eq "$(get "/$mv.eml" -H 'X-Remote-User: carol')" 200 "a private group's original, member"

test_case "security headers on every response: page, feed, download, search, 301, 304, 400, 404, 405"
etag=$(get /g/planning/atom.xml >/dev/null; header ETag)
for req in "/" "/g/planning/atom.xml" "/$mp.eml" "/search?q=caching" "/search?q=caching&format=json" \
           "/g/planning" "/g/planning/atom.xml|-H|If-None-Match: $etag" "/%2e%2e/x" "/nothing" \
           "/|-X|POST" "/g/casework/|-H|X-Remote-User: carol"; do
    IFS='|'; set -- $req; unset IFS
    path=$1; shift
    code=$(get "$path" "$@")
    check_eq "$(header Content-Security-Policy)" "$CSP" "CSP of $path ($code)"
    check_eq "$(header X-Content-Type-Options)" nosniff "nosniff of $path"
    check_eq "$(header Referrer-Policy)" same-origin "Referrer-Policy of $path"
    check_eq "$(header X-Frame-Options)" DENY "X-Frame-Options of $path"
    check_eq "$(header Vary)" X-Remote-User "Vary of $path"
    check -n "$(header Cache-Control)"
done

test_case "Cache-Control: public files public, restricted content and pages made for a signed-in viewer private"
get /g/planning/ >/dev/null; check_eq "$(header Cache-Control)" "public, max-age=60" "public group"
get /static/corridor.css >/dev/null; check_eq "$(header Cache-Control)" "public, max-age=60" "stylesheet"
get /g/staffroom/ -H 'X-Remote-User: bob' >/dev/null; check_eq "$(header Cache-Control)" "private, no-store" "staff group"
get "/$mv.html" -H 'X-Remote-User: carol' >/dev/null; check_eq "$(header Cache-Control)" "private, no-store" "private message"
get / -H 'X-Remote-User: bob' >/dev/null; check_eq "$(header Cache-Control)" "private, no-store" "site index for bob"
get "/author/$kalice.html" -H 'X-Remote-User: bob' >/dev/null; check_eq "$(header Cache-Control)" "private, no-store" "author page for bob"

test_case "paths leaving the tree (/../, %2e%2e, %2F, //, backslash, NUL, symlink) are 400 or 404, never a file outside"
echo "outside-secret-t310" >"$TMP/state/secret.txt"
ln -s ../secret.txt "$A/static/link.txt"
for p in /../secret.txt /static/../../secret.txt /%2e%2e/secret.txt /%2E%2E/%2e%2e/state/secret.txt \
         /static/%2e%2e/%2e%2e/secret.txt /static%2F..%2F..%2Fsecret.txt /static%2fcorridor.css \
         //etc/passwd /static//corridor.css '/static\corridor.css' /static/%5c../secret.txt \
         /static/corridor.css%00.html /%2e%2e%2fcorridor.db /../corridor.db /g/planning/../../../corridor.db \
         /g/%2e%2e/archive-restricted/g/casework/index.html /g/planning/%2e%2e/casework/ \
         /static/link.txt /%zz /static/%; do
    code=$(get "$p")
    case $code in 400|404) ;; *) fail "$p: $code" ;; esac
    grep -q 'outside-secret-t310\|SQLite format\|root:' "$TMP/body" && fail "$p: served a file outside the tree"
done
python3 - "$port" <<'EOF' || fail "raw request targets"
import socket, sys
for target in (b'../secret.txt', b'http://x/../secret.txt', b'/static/../../secret.txt', b'*'):
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.sendall(b'GET ' + target + b' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    data = b''
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    status = data.split(b'\r\n')[0]
    if b'outside-secret-t310' in data or not (b' 400 ' in status or b' 404 ' in status):
        sys.exit('%s: %s' % (target, status))
EOF
rm -f "$A/static/link.txt"

test_case "HEAD gives the headers of GET without the body; ETag and If-Modified-Since give 304"
check_eq "$(get /g/planning/atom.xml)" 200 "GET"
len=$(wc -c <"$TMP/body"); etag=$(header ETag); lm=$(header Last-Modified)
check_eq "$(curl -s -I -o /dev/null -D "$TMP/head" -w '%{http_code} %{size_download}' "$U/g/planning/atom.xml")" \
    "200 0" "HEAD status and body"
check_eq "$(header Content-Length)" "$len" "HEAD Content-Length"
check_eq "$(header ETag)" "$etag" "HEAD ETag"
check -n "$etag"
check_eq "$(get /g/planning/atom.xml -H "If-None-Match: $etag")" 304 "If-None-Match"
check_eq "$(wc -c <"$TMP/body")" 0 "304 body"
check_eq "$(header ETag)" "$etag" "304 ETag"
check_eq "$(get /g/planning/atom.xml -H 'If-None-Match: "other"')" 200 "another ETag"
check_eq "$(get /g/planning/atom.xml -H "If-Modified-Since: $lm")" 304 "If-Modified-Since"
check_eq "$(get /g/planning/atom.xml -H 'If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT')" 200 "modified since"

test_case "methods other than GET and HEAD: 405 with Allow"
for m in POST PUT DELETE OPTIONS; do
    check_eq "$(get / -X "$m")" 405 "$m"
    check_eq "$(header Allow)" "GET, HEAD" "Allow after $m"
done

test_case "search (HTML): results with the matching word marked, links to the message"
check_eq "$(get '/search?q=aardvarkpublic')" 200 "status"
check_eq "$(header Content-Type)" "text/html; charset=utf-8" "type"
grep -q '<mark>aardvarkpublic</mark>' "$TMP/body" || fail "no marked word"
grep -q "href=\"$mp.html\"" "$TMP/body" || fail "no link to the message"
grep -q '&lt;b&gt;markup&lt;/b&gt;' "$TMP/body" || fail "snippet not escaped"
grep -q '<b>markup' "$TMP/body" && fail "markup from the mail in the page"
check_eq "$(get '/search')" 200 "empty form"
check_eq "$(get '/search?q=')" 200 "empty query"

test_case "search (JSON): total, every field of a result, the url is a page that answers 200"
check_eq "$(get '/search?q=aardvarkpublic&format=json')" 200 "status"
check_eq "$(header Content-Type)" application/json "type"
python3 - "$TMP/body" "$mp" >"$TMP/url" <<'EOF' || fail "JSON: $(cat "$TMP/url")"
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ['query', 'total', 'page', 'per_page', 'results'], list(d)
assert d['query'] == 'aardvarkpublic' and d['total'] == 1 and d['page'] == 1 and d['per_page'] == 20, d
r = d['results'][0]
assert list(r) == ['message_id', 'group', 'subject', 'from', 'date', 'url', 'snippet'], list(r)
assert r['message_id'] == 'pub-1@t310.test' and r['group'] == 'planning', r
assert r['subject'] == 'Note aardvarkpublic' and r['from'] == 'Alice Example', r
assert r['date'] == '2005-03-01T12:00:00Z', r
assert r['url'] == '/' + sys.argv[2] + '.html', r
assert 'aardvarkpublic' in r['snippet'] and '<mark>' not in r['snippet'] and '<b>markup</b>' in r['snippet'], r
print(r['url'])
EOF
check_eq "$(get "$(cat "$TMP/url")")" 200 "the url"
check_eq "$(json '/search?q=caching&format=json&page=2')" "1 " "page 2 of one result"

test_case "a malformed query: 400 with the position, in the page and in JSON"
check_eq "$(get '/search?q=foo:bar')" 400 "HTML status"
grep -q "position 1: unknown prefix &#39;foo:&#39;\|position 1: unknown prefix 'foo:'" "$TMP/body" || fail "no position in the page"
check_eq "$(get '/search?q=(cache&format=json')" 400 "JSON status"
check_eq "$(cat "$TMP/body")" "{\"error\":\"position 7: missing ')'\"}" "JSON error"

test_case "anonymous: search finds only the public group's words (HTML and JSON)"
check_eq "$(json '/search?q=aardvarkpublic&format=json')" "1 planning" "public word"
check_eq "$(json '/search?q=badgerstaff&format=json')" "0 " "staff word"
check_eq "$(json '/search?q=cobraprivate&format=json')" "0 " "private word"
check_eq "$(json '/search?q=caching&format=json')" "1 planning" "a word in every group"
get '/search?q=caching' >/dev/null
grep -q 'cobraprivate\|badgerstaff\|casework\|staffroom' "$TMP/body" && fail "the page names a hidden word or group"

test_case "anonymous: the site index is the public one, listing no staff or private group"
check_eq "$(get /)" 200 "status"
grep -q 'planning' "$TMP/body" || fail "no public group"
grep -q 'staffroom\|casework' "$TMP/body" && fail "lists a hidden group"

test_case "anonymous: staff and private groups' pages, messages and feeds are 404 naming nothing"
for p in /g/staffroom/ /g/staffroom/index.html /g/staffroom/atom.xml "/$ms.html" "/$ms.eml" \
         /g/casework/ /g/casework/atom.xml "/$mv.html" /g/casework /g/nosuchgroup/; do
    check_eq "$(get "$p")" 404 "$p"
    grep -q 'staffroom\|casework\|nosuchgroup\|badgerstaff\|cobraprivate' "$TMP/body" && fail "$p: the 404 names it"
done
get /g/casework/ >/dev/null; cp "$TMP/body" "$TMP/404-private"
get /g/nosuchgroup/ >/dev/null
cmp -s "$TMP/body" "$TMP/404-private" || fail "a private group's 404 differs from a missing group's"

test_case "anonymous: the author page lists only public posts"
check_eq "$(get "/author/$kalice.html")" 200 "status"
grep -q 'aardvarkpublic' "$TMP/body" || fail "no public post"
grep -q 'badgerstaff\|cobraprivate\|staffroom\|casework' "$TMP/body" && fail "lists a hidden post"

test_case "anonymous: a search in a private group is empty, as in a group that does not exist"
check_eq "$(json '/search?q=cobraprivate&group=casework&format=json')" "0 " "private group"
check_eq "$(json '/search?q=cobraprivate&group=nosuchgroup&format=json')" "0 " "missing group"
check_eq "$(get '/search?q=cobraprivate&group=casework')" 200 "HTML, private group"

test_case "staff (X-Remote-User: bob): public and staff groups, not the private one"
H='X-Remote-User: bob'
check_eq "$(json '/search?q=caching&format=json' -H "$H")" "2 planning staffroom" "search"
check_eq "$(json '/search?q=cobraprivate&format=json' -H "$H")" "0 " "private word"
check_eq "$(get /g/staffroom/ -H "$H")" 200 "staff group"
check_eq "$(get "/$ms.html" -H "$H")" 200 "staff message"
check_eq "$(get /g/casework/ -H "$H")" 404 "private group"
get / -H "$H" >/dev/null
grep -q staffroom "$TMP/body" || fail "site index without the staff group"
grep -q casework "$TMP/body" && fail "site index lists the private group"

test_case "a private group's member by full address sees it"
H='X-Remote-User: dave@elsewhere.test'
check_eq "$(json '/search?q=caching&format=json' -H "$H")" "3 casework planning staffroom" "search"
check_eq "$(get /g/casework/ -H "$H")" 200 "private group"
check_eq "$(get "/$mv.html" -H "$H")" 200 "private message"
get / -H "$H" >/dev/null; grep -q casework "$TMP/body" || fail "site index without the private group"

test_case "a private group's member by user name, with [http] user_domain added (and any case)"
for H in 'X-Remote-User: carol' 'X-Remote-User: CAROL' 'X-Remote-User: Carol@Council.Test'; do
    check_eq "$(json '/search?q=cobraprivate&format=json' -H "$H")" "1 casework" "search ($H)"
    check_eq "$(get /g/casework/ -H "$H")" 200 "private group ($H)"
done
check_eq "$(get /g/casework/ -H 'X-Remote-User: carol@elsewhere.test')" 404 "another domain"

test_case "an officer sees every group"
H='X-Remote-User: foi'
check_eq "$(json '/search?q=caching&format=json' -H "$H")" "3 casework planning staffroom" "search"
check_eq "$(get /g/casework/ -H "$H")" 200 "private group"
check_eq "$(get /g/staffroom/ -H "$H")" 200 "staff group"

test_case "an empty or doubled trusted header is anonymous"
check_eq "$(get /g/staffroom/ -H 'X-Remote-User: ')" 404 "empty"
check_eq "$(get /g/staffroom/ -H 'X-Remote-User: bob' -H 'X-Remote-User: foi')" 404 "two headers"

# aq SQL: a query on the store (the audit trail)
aq() { sqlite3 "$TMP/state/corridor.db" "$1"; }
last_search() { aq "SELECT operator || '|' || case_ref || '|' || detail FROM audit WHERE action = 'web.search' ORDER BY seq DESC LIMIT 1"; }
n_searches() { aq "SELECT count(*) FROM audit WHERE action = 'web.search'"; }

test_case "serve recorded the officer list at start: [http] officers (deprecated name) with user_domain"
check_eq "$(aq "SELECT operator || ' ' || detail FROM audit WHERE action = 'role.change' ORDER BY seq")" \
    "$(id -un) {\"role\":\"records officer\",\"officers\":[\"foi@council.test\"],\"previous\":[]}" \
    "one role.change"
check_eq "$(cor config show | grep '^# in force')" \
    "# in force (with [http] officers and user_domain): foi@council.test" "config show"

test_case "an officer's web search is in the audit trail before it is shown; others' are not"
n0=$(n_searches)
check_eq "$(json '/search?q=cobraprivate&format=json' -H 'X-Remote-User: FOI')" "1 casework" "officer, JSON"
check_eq "$(last_search)" \
    'foi@council.test||{"query":"cobraprivate","group":"","page":1,"count":1,"peer":"127.0.0.1"}' \
    "entry: every group"
check_eq "$(get '/search?q=caching&group=planning&page=2' -H 'X-Remote-User: foi')" 200 "officer, HTML"
check_eq "$(last_search)" \
    'foi@council.test||{"query":"caching","group":"planning","page":2,"count":1,"peer":"127.0.0.1"}' \
    "entry: one group, page 2"
check_eq "$(n_searches)" $((n0 + 2)) "two officer searches, two entries"
check_eq "$(get '/search?q=' -H 'X-Remote-User: foi')" 200 "officer, empty query"
check_eq "$(get '/search?q=foo:bar' -H 'X-Remote-User: foi')" 400 "officer, malformed query"
check_eq "$(get '/search?q=cobraprivate' -H 'X-Remote-User: bob')" 200 "staff"
check_eq "$(get '/search?q=cobraprivate' -H 'X-Remote-User: carol')" 200 "member"
check_eq "$(get '/search?q=cobraprivate')" 200 "anonymous"
check_eq "$(get '/search?q=cobraprivate' -H 'X-Remote-User: bob' -H 'X-Remote-User: foi')" 200 \
    "two headers: anonymous"
check_eq "$(n_searches)" $((n0 + 2)) "nothing searched, or not by an officer: no entry"
check_eq "$(cor audit list | grep -c ' web.search ')" $((n0 + 2)) "audit list shows them"
out=$(cor audit verify); rc=$?
check_eq "$rc" 0 "verify while the daemon runs: $out"

test_case "an officer's search that cannot be audited is refused (503, no results); others are served"
anchor=$TMP/state/corridor.db.audit-anchor
mv "$anchor" "$TMP/anchor.saved" && mkdir "$anchor"    # the anchor line cannot be written
check_eq "$(get '/search?q=cobraprivate&format=json' -H 'X-Remote-User: foi')" 503 "JSON"
check_eq "$(cat "$TMP/body")" '{"error":"the search could not be recorded in the audit trail, try again"}' "JSON body"
check_eq "$(get '/search?q=cobraprivate' -H 'X-Remote-User: foi')" 503 "HTML"
grep -q 'Search not recorded' "$TMP/body" || fail "no explanation in the page"
grep -q 'Note cobraprivate' "$TMP/body" && fail "a result shown unaudited"
check_eq "$(json '/search?q=caching&format=json' -H 'X-Remote-User: bob')" "2 planning staffroom" "staff"
grep -q "officer foi@council.test's search refused: cannot write its audit entry" "$TMP/serve.log" ||
    fail "the refusal is not logged"
rmdir "$anchor" && mv "$TMP/anchor.saved" "$anchor"
check_eq "$(n_searches)" $((n0 + 2)) "no entry"
hold_store_lock "$TMP/state/corridor.db" 7    # another writer, longer than the 5 s the web waits
check_eq "$(get '/search?q=cobraprivate&format=json' -H 'X-Remote-User: foi')" 503 "store locked"
check_eq "$(json '/search?q=caching&format=json' -H 'X-Remote-User: bob')" "2 planning staffroom" \
    "staff, store locked"
wait "$LOCKER"
check_eq "$(json '/search?q=cobraprivate&format=json' -H 'X-Remote-User: foi')" "1 casework" "lock gone"
check_eq "$(n_searches)" $((n0 + 3)) "one more entry"
out=$(cor audit verify); rc=$?
check_eq "$rc" 0 "verify: $out"

test_case "SIGHUP: a changed officer list is recorded, then the web uses it"
cat >"$TMP/state/corridor.conf" <<CONF
[records]
officers = Lead
[http]
user_domain = council.test
CONF
kill -HUP "$SERVE_PID"
wait_for 10 grep -q "reload: the records officers are now 'lead@council.test'" "$TMP/serve.log" ||
    fail "no reload line"
check_eq "$(aq "SELECT detail FROM audit WHERE action = 'role.change' ORDER BY seq DESC LIMIT 1")" \
    '{"role":"records officer","officers":["lead@council.test"],"previous":["foi@council.test"]}' "role.change"
check_eq "$(json '/search?q=cobraprivate&format=json' -H 'X-Remote-User: lead')" "1 casework" "the new officer"
check_eq "$(last_search | cut -d'|' -f1)" lead@council.test "audited as the new officer"
check_eq "$(json '/search?q=cobraprivate&format=json' -H 'X-Remote-User: foi')" "0 " "the old one is staff now"
check_eq "$(n_searches)" $((n0 + 4)) "one more entry"
cat >"$TMP/state/corridor.conf" <<CONF
[http]
user_domain = council.test
officers = foi
CONF
kill -HUP "$SERVE_PID"
wait_for 10 grep -q "reload: the records officers are now 'foi@council.test'" "$TMP/serve.log" ||
    fail "no second reload line"
check_eq "$(json '/search?q=cobraprivate&format=json' -H 'X-Remote-User: foi')" "1 casework" "back again"
check_eq "$(aq "SELECT count(*) FROM audit WHERE action = 'role.change'")" 3 "three lists, three entries"
out=$(cor audit verify); rc=$?
check_eq "$rc" 0 "verify: $out"
serve_stop

test_case "the trusted header from a peer that is not a trusted proxy is ignored"
cat >>"$TMP/state/corridor.conf" <<CONF
trusted_proxies = 10.9.9.9
CONF
start_http || fail "start"
for H in 'X-Remote-User: bob' 'X-Remote-User: carol' 'X-Remote-User: foi'; do
    check_eq "$(json '/search?q=caching&format=json' -H "$H")" "1 planning" "search ($H)"
    check_eq "$(get /g/staffroom/ -H "$H")" 404 "staff group ($H)"
    check_eq "$(get /g/casework/ -H "$H")" 404 "private group ($H)"
    get / -H "$H" >/dev/null
    cmp -s "$TMP/body" "$A/index.html" || fail "site index is not the static one ($H)"
done
serve_stop

test_case "no staff or private word anywhere under the public tree"
check_eq "$(grep -rl 'cobraprivate\|badgerstaff' "$A" | wc -l)" 0 "files"
check "$(grep -rl 'cobraprivate' "$R" | wc -l)" -gt 0

test_case "a port in use: serve refuses to start, naming the address"
python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
open('$TMP/busyport', 'w').write(str(s.getsockname()[1]))
time.sleep(10)" &
holder=$!
wait_for 5 test -s "$TMP/busyport"
bp=$(cat "$TMP/busyport")
out=$("$CORRIDOR" --state "$TMP/state" serve --lmtp "unix:$TMP/lmtp2.sock" --http "127.0.0.1:$bp" 2>&1); rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
check "$rc" -ne 0
case $out in *"cannot listen for HTTP on '127.0.0.1:$bp': Address already in use"*) ;; *) fail "message: $out" ;; esac
test_done
