#!/bin/sh
# T300 — the static archive: a full build of real mail (linux-mips-2005 plus
# the notmuch corpora) with no broken internal link, hostile mail archived
# without active content, one message changes exactly the pages it should
# and the result is byte-identical to a full rebuild (from the CLI and from
# the daemon, merges included), templates a council overrides, the
# stylesheet's promises.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/lib-postfix.sh"
A=$TMP/state/archive
sumtree() { (cd "$1" && find . -type f ! -name '*.tmp~' | sort | xargs sha256sum) >"$2"; }
key() { printf '%s' "$1" | sha256sum | cut -c1-16; }
cor init >/dev/null

test_case "archive build: linux-mips-2005 and the notmuch corpora, every page type present"
cor group create linux-mips --title "Linux on MIPS" >/dev/null
cor import --group linux-mips "$CORPORA/linux-mips-2005.mbox" >/dev/null 2>&1
for d in "$CORPORA"/notmuch/*/; do
    n=nm-$(basename "$d")
    cor group create "$n" >/dev/null
    cor import --group "$n" "$d" >/dev/null 2>&1
done
out=$(cor archive build 2>&1); rc=$?
check_eq "$rc" 0 "exit"
echo "# $out"
case $out in "rendered "*" messages, "*" files"*) ;; *) fail "output: $out" ;; esac
check -f "$A/index.html"
check -f "$A/static/corridor.css"
check -f "$A/g/linux-mips/index.html"
check -f "$A/g/linux-mips/page-1.html"
check -f "$A/g/linux-mips/2005-03.html"
check -f "$A/g/linux-mips/about.html"
check -f "$A/g/linux-mips/atom.xml"
check "$(ls "$A"/g/linux-mips/t/*/*.html | wc -l)" -gt 900
check "$(ls "$A"/g/linux-mips/m/*/*.html | wc -l)" -eq 2896
check "$(ls "$A"/author/*.html | wc -l)" -gt 300
check_eq "$(find "$TMP/state" -name '*.tmp~' -o -name '*.new' | wc -l)" 0 "no leftovers"
python3 -c "
import sys, xml.dom.minidom as m
for f in sys.argv[1:]: m.parse(f)" "$A/g/linux-mips/atom.xml" $(ls "$A"/g/linux-mips/t/*/*.atom | head -200) 2>"$TMP/xml" || fail "feeds are not XML: $(head -3 "$TMP/xml")"

test_case "link check: every internal link of the whole tree resolves (downloads and search over HTTP)"
port=$(postfix_free_port)
serve_start --lmtp "unix:$TMP/lmtp.sock" --http "127.0.0.1:$port" --no-archive
python3 "$SRC/tests/tools/linkcheck.py" "$A" --http "http://127.0.0.1:$port" >"$TMP/links" 2>&1; rc=$?
sed 's/^/# /' "$TMP/links" | tail -12
check_eq "$rc" 0 "link check"
serve_stop

test_case "rebuilding a current archive writes nothing"
sumtree "$A" "$TMP/before"
out=$(cor archive build 2>&1)
case $out in *" 0 files, "*) ;; *) fail "output: $out" ;; esac
sumtree "$A" "$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "tree changed"

test_case "one reply changes exactly its pages: message, thread page and feed, group front page, month, group feed, author, site index"
last=$(ls -t "$A"/g/linux-mips/m/*/*.html | head -1)
parent=$(cor search --json 'date:2005-12-20..2005-12-31' | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
rows.sort(key=lambda r: r['date'])
print(rows[-1]['message_id'])")
check -n "$parent"
sumtree "$A" "$TMP/before"
printf 'From: Ralf Baechle <ralf@linux-mips.org>\nTo: linux-mips@linux-mips.org\nSubject: Re: the last word\nDate: Sat, 31 Dec 2005 23:59:00 +0000\nMessage-ID: <t300-reply@corridor.test>\nIn-Reply-To: <%s>\nReferences: <%s>\n\nAgreed.\n' "$parent" "$parent" |
    cor deliver --group linux-mips
out=$(cor archive update 2>&1) || fail "update: $out"
sumtree "$A" "$TMP/after"
diff "$TMP/before" "$TMP/after" | sed -n 's/^[<>] [0-9a-f]*  \.\///p' | sort -u >"$TMP/changed"
sed 's/^/#   /' "$TMP/changed"
k=$(key t300-reply@corridor.test)
a=$(key ralf@linux-mips.org)
check_eq "$(wc -l <"$TMP/changed")" 8 "pages changed"
for f in "g/linux-mips/m/$(echo $k | cut -c1-2)/$k.html" g/linux-mips/index.html g/linux-mips/2005-12.html \
         g/linux-mips/atom.xml "author/$a.html" index.html; do
    grep -qx "$f" "$TMP/changed" || fail "not changed: $f"
done
check_eq "$(grep -c '^g/linux-mips/t/.*\.html$' "$TMP/changed")" 1 "thread page"
check_eq "$(grep -c '^g/linux-mips/t/.*\.atom$' "$TMP/changed")" 1 "thread feed"
grep -q "id=\"m-$k\"" "$A/$(grep '^g/linux-mips/t/.*\.html$' "$TMP/changed")" || fail "thread page lacks the reply"

test_case "…and a full rebuild after it is byte-identical (writes nothing)"
out=$(cor archive build 2>&1)
case $out in *" 0 files, "*) ;; *) fail "output: $out" ;; esac
sumtree "$A" "$TMP/rebuilt"
cmp -s "$TMP/after" "$TMP/rebuilt" || { fail "differs from a full rebuild"; diff "$TMP/after" "$TMP/rebuilt" | head -5 | sed 's/^/#   /'; }

test_case "the daemon renders what LMTP delivers (merging threads too), byte-identical to a full rebuild"
cor group create merge >/dev/null
m() { printf 'From: %s <%s@council.test>\nTo: merge@lists.test\nSubject: %s\nDate: %s\nMessage-ID: <%s@council.test>\n%s\nBody of %s.\n' "$@"; }
m Ann ann Alpha "Mon, 2 Mar 2026 09:00:00 +0000" a1 "" a1 >"$TMP/a1.eml"
m Bob bob Beta "Mon, 2 Mar 2026 10:00:00 +0000" b1 "References: <z1@council.test>" b1 >"$TMP/b1.eml"
m Cy cy "Re: Alpha" "Tue, 3 Mar 2026 09:00:00 +0000" z1 "In-Reply-To: <a1@council.test>" z1 >"$TMP/z1.eml"
m Ann ann "Re: Alpha" "Wed, 4 Apr 2026 09:00:00 +0000" a2 "In-Reply-To: <z1@council.test>" a2 >"$TMP/a2.eml"
printf '[archive]\ndebounce_ms = 0\n' >"$TMP/state/corridor.conf"
serve_start --lmtp "unix:$TMP/lmtp.sock"
pending() { [ "$(sqlite3 "$TMP/state/corridor.db" "SELECT count(*) FROM work WHERE kind = 'render'")" = 0 ]; }
lmtp() { python3 -c "
import smtplib, sys
c = smtplib.LMTP(sys.argv[1]); c.sendmail('a@council.test', ['merge@lists.test'], open(sys.argv[2], 'rb').read()); c.quit()" "$TMP/lmtp.sock" "$1"; }
for f in a1 b1; do lmtp "$TMP/$f.eml" || fail "deliver $f"; done
wait_for 30 pending || fail "render queue not empty"
check "$(ls "$A"/g/merge/t/*/*.html | wc -l)" -eq 2
for f in z1 a2; do lmtp "$TMP/$f.eml" || fail "deliver $f"; done
wait_for 30 pending || fail "render queue not empty"
sleep 0.5
grep -l "This conversation has moved" "$A"/g/merge/t/*/*.html >"$TMP/moved" || fail "no page for the merged thread"
check_eq "$(grep -l 'id="m-' "$A"/g/merge/t/*/*.html | wc -l)" 1 "one live thread page"
check -f "$A/g/merge/2026-04.html"
serve_stop
sumtree "$A" "$TMP/daemon"
out=$(cor archive build 2>&1)
case $out in *" 0 files, "*) ;; *) fail "output: $out" ;; esac
sumtree "$A" "$TMP/rebuilt"
cmp -s "$TMP/daemon" "$TMP/rebuilt" || { fail "differs from a full rebuild"; diff "$TMP/daemon" "$TMP/rebuilt" | head -5 | sed 's/^/#   /'; }

test_case "the daemon catches up after a restart: mail stored while it was down is rendered at start"
printf 'From: Ann <ann@council.test>\nSubject: While you were out\nDate: Thu, 5 Apr 2026 09:00:00 +0000\nMessage-ID: <offline-1@council.test>\nIn-Reply-To: <a2@council.test>\n\nStored by deliver.\n' |
    cor deliver --group merge
check_eq "$(sqlite3 "$TMP/state/corridor.db" "SELECT count(*) FROM work WHERE kind = 'render'")" 1 "queued"
serve_start --lmtp "unix:$TMP/lmtp.sock"
wait_for 30 pending || fail "render queue not empty"
serve_stop
k=$(key offline-1@council.test)
check -f "$A/g/merge/m/$(echo $k | cut -c1-2)/$k.html"
sumtree "$A" "$TMP/daemon"
out=$(cor archive build 2>&1)
case $out in *" 0 files, "*) ;; *) fail "output: $out" ;; esac

test_case "hostile mail: archived, and no page or feed holds active content"
cor group create hostile >/dev/null
out=$(cor import --group hostile "$SRC"/tests/data/hostile/*.eml 2>&1)
case $out in "imported 16, "*) ;; *) fail "import: $out" ;; esac
cor archive build >/dev/null 2>&1 || fail "build"
python3 "$SRC/tests/tools/hostilecheck.py" "$A" "$TMP/state/archive-restricted" >"$TMP/hostile"; rc=$?
tail -5 "$TMP/hostile" | sed 's/^/# /'
check_eq "$rc" 0 "active content"
check "$(grep -rl 'formatted' "$A/g/hostile/m" | wc -l)" -gt 3
grep -rhq '&lt;script&gt;alert' "$A/g/hostile" || fail "escaped markup is not shown as text"

test_case "archive build --group: only that group's folder (and the site pages) are made"
rm -rf "$A/g/nm-lkml"
out=$(cor archive build --group nm-lkml 2>&1) || fail "build: $out"
check -f "$A/g/nm-lkml/index.html"
out=$(cor archive build --group nosuch 2>&1); rc=$?
check_eq "$rc" 1 "exit for an unknown group"
check_eq "$out" "corridor: archive build failed: no group 'nosuch'" "message"

test_case "a private group's pages are never in the public tree"
cor group create secret --visibility private >/dev/null
printf 'From: a@council.test\nSubject: zanzibar budget\nMessage-ID: <secret-1@council.test>\n\nThe zanzibar figures.\n' | cor deliver --group secret
cor archive build >/dev/null 2>&1
check ! -e "$A/g/secret"
check -f "$TMP/state/archive-restricted/g/secret/index.html"
check_eq "$(grep -rl zanzibar "$A" | wc -l)" 0 "files in the public tree naming it"

test_case "templates: a council's folder overrides a built-in one; a syntax error names the file and line"
mkdir -p "$TMP/tmpl"
sed 's|Archived by corridor.|Archived by corridor for Anytown Council.|' "$SRC/archive-web/templates/foot.html" >"$TMP/tmpl/foot.html"
printf '[archive]\ntemplates = %s\norganisation = Anytown Council\n' "$TMP/tmpl" >"$TMP/state/corridor.conf"
cor archive build >/dev/null 2>&1 || fail "build"
grep -q 'for Anytown Council' "$A/g/linux-mips/index.html" || fail "override not used"
grep -q 'Published by Anytown Council' "$A/index.html" || fail "organisation not shown"
printf '{{#x}}\nunclosed\n' >"$TMP/tmpl/about.html"
out=$(cor archive build 2>&1); rc=$?
check_eq "$rc" 1 "exit"
case $out in *"$TMP/tmpl/about.html:2: section 'x' opened on line 1 is not closed"*) ;; *) fail "message: $out" ;; esac
rm -f "$TMP/state/corridor.conf"

test_case "the stylesheet: GOV.UK Frontend with Arial, no GDS Transport, no crown, nothing loaded from elsewhere"
css=$SRC/archive-web/static/corridor.css
grep -q 'arial,sans-serif' "$css" || fail "no Arial"
check_eq "$(grep -ci 'GDS Transport' "$css")" 0 "GDS Transport"
check_eq "$(grep -ci '@font-face' "$css")" 0 "font-face"
check_eq "$(grep -c 'url(' "$css")" 0 "url()"
grep -q 'govuk-frontend-version: "6' "$css" || fail "not GOV.UK Frontend 6"
cmp -s "$css" "$A/static/corridor.css" || fail "the archive's copy differs"
grep -q '@media print' "$css" || fail "no print styles"

test_done
