#!/bin/sh
# T130 — search: one case per prefix and operator with known answers, and
# counts equal to notmuch's on linux-mips-2005.mbox where the semantics match
# (from:, quoted subject:, date: ranges, phrases, operators).
. "$(dirname "$0")/lib.sh"
MBOX2005=$CORPORA/linux-mips-2005.mbox
SAMPLE=$SRC/tests/data/sample/planning.mbox
cor init >/dev/null
cor group create mips >/dev/null
cor group create planning >/dev/null
cor import --group mips "$MBOX2005" >/dev/null || fail "import mips"
cor import --group planning "$SAMPLE" >/dev/null || fail "import sample"

# notmuch over the same messages
python3 "$SRC/tests/tools/mbox2maildir.py" "$MBOX2005" "$TMP/md" >/dev/null
notmuch_db "$TMP/md" "$TMP/nm.conf" || fail "notmuch new: $(cat "$TMP/nm.conf.err")"
export NOTMUCH_CONFIG="$TMP/nm.conf"

ids() { cor search "$@" | awk '{print $NF}' | cut -c2-5 | tr '\n' ' ' | sed 's/ $//'; }
count() { cor search --group mips "$1" | wc -l; }

test_case "counts equal notmuch's: from:, quoted subject:, date: ranges, phrases, operators"
while IFS= read -r q; do
    [ -z "$q" ] && continue
    c=$(count "$q"); n=$(notmuch count "$q")
    echo "#   $c corridor, $n notmuch: $q"
    check_eq "$c" "$n" "$q"
done <<'QUERIES'
from:ralf@linux-mips.org
from:ralf
from:"Ralf Baechle"
from:linux-mips.org
to:linux-mips@linux-mips.org
subject:"patch"
subject:"cache"
subject:"au1xxx"
subject:sb1*
date:2005-03-01..2005-03-31
date:2005-06-15
date:20050101..20050131
date:2005-12-01..
date:..2005-01-15
date:2005-07
"cache coherency"
"page table"
"cache aliasing"
subject:"patch" AND from:ralf
subject:"patch" OR subject:"bug"
subject:"patch" NOT from:ralf
subject:"patch" -from:ralf
subject:"mips" AND date:2005-05
(subject:"patch" OR subject:"bug") AND from:ralf
QUERIES

test_case "short prefixes equal the long ones"
check_eq "$(count 'f:"Ralf Baechle"')" "$(count 'from:"Ralf Baechle"')" "f:"
check_eq "$(count 's:"cache"')" "$(count 'subject:"cache"')" "s:"
check_eq "$(count 'd:2005-06-15')" "$(count 'date:2005-06-15')" "d:"
check_eq "$(count 't:linux-mips@linux-mips.org')" "$(count 'to:linux-mips@linux-mips.org')" "t:"
check_eq "$(count 'b:"page table"')" "$(count 'body:"page table"')" "b:"

test_case "phrases also find inline text attachments (patches), which notmuch skips"
cor search --group mips --json '"Signed-off-by"' | sed 's/.*"message_id":"\([^"]*\)".*/\1/' | sort >"$TMP/c.ids"
notmuch search --output=messages '"Signed-off-by"' | sed 's/^id://' | sort >"$TMP/n.ids"
check_eq "$(comm -13 "$TMP/c.ids" "$TMP/n.ids" | wc -l)" 0 "found by notmuch only"
extra=$(comm -23 "$TMP/c.ids" "$TMP/n.ids")
check -n "$extra"
for id in $extra; do
    check_eq "$(cor search "id:$id AND has:attachment" | wc -l)" 1 "extra $id has a text attachment"
done

test_case "English stemming: subject:patch finds patches, patched, patching"
c=$(count 'subject:patch')
u=$(count 'subject:"patch" OR subject:"patches" OR subject:"patched" OR subject:"patching"')
check_eq "$c" "$u"
check "$c" -gt "$(count 'subject:"patch"')"

test_case "AND, OR, NOT, -word and parentheses obey set algebra"
a=$(count 'subject:"patch"'); b=$(count 'from:ralf'); ab=$(count 'subject:"patch" AND from:ralf')
check_eq "$(count 'subject:"patch" OR from:ralf')" "$((a + b - ab))" "inclusion-exclusion"
check_eq "$(count 'subject:"patch" NOT from:ralf')" "$((a - ab))" "NOT"
check_eq "$(count 'subject:"patch" from:ralf')" "$ab" "implicit AND"
check_eq "$(count '-from:ralf')" "$((2896 - b))" "leading -"
check_eq "$(count 'from:ralf AND (subject:"patch" OR subject:"bug")')" \
    "$(count '(from:ralf AND subject:"patch") OR (from:ralf AND subject:"bug")')" "distribution"

test_case "word* matches the prefix"
check_eq "$(count 'subject:sb1*')" "$(count 'subject:sb1250 OR subject:sb1 OR subject:sb1xxx OR subject:sb1250e OR subject:sb1a OR subject:sb1125 OR subject:sb1480')" "sb1*"

test_case "q: quoted text only, nq: new text only, bare words both"
check_eq "$(ids --group planning 'nq:holidays')" "f0a4 4a9e"
check_eq "$(ids --group planning 'q:holidays')" "7f3b"
check_eq "$(ids --group planning 'holidays')" "f0a4 7f3b 4a9e"
check_eq "$(ids --group planning 'q:drainage')" "3e7a A1E4"

test_case "body:/b: searches the text, subject:/s: the subject"
check_eq "$(ids --group planning 'b:"screen reader"')" "a9c7 d5b3"
check_eq "$(ids --group planning 'body:"screen reader"')" "a9c7 d5b3"
check_eq "$(ids --group planning 's:portal')" "6e1d a9c7 d5b3 2f8d"
check_eq "$(ids --group planning 'subject:portal AND nq:accessibility')" "d5b3"

test_case "from:/f: decodes RFC 2047 names; to:/t:; cc:/c:"
check_eq "$(ids --group planning 'f:sian')" "4d8b c2a6"
check_eq "$(ids --group planning 'from:"Siân Llewelyn"')" "4d8b c2a6"
check_eq "$(cor search --group planning 't:planning@lists.northshire.gov.uk' | wc -l)" 20
check_eq "$(cor search --group mips 'c:ralf' | wc -l)" "$(notmuch count 'from:ralf' >/dev/null; cor search --group mips 'cc:ralf' | wc -l)" "c: = cc:"
check "$(cor search --group mips 'cc:ralf' | wc -l)" -gt 0

test_case "attachment:/n: file names, has:attachment, and attachment text"
check_eq "$(ids --group planning 'has:attachment')" "8d1e"
check_eq "$(ids --group planning 'attachment:timetable')" "8d1e"
check_eq "$(ids --group planning 'n:csv')" "8d1e"
check_eq "$(ids --group planning 'Llewelyn')" "f0a4 8d1e c2a6"

test_case "group:/g: and id:/m: (with or without angle brackets)"
check_eq "$(cor search 'group:planning' | wc -l)" 20
check_eq "$(cor search 'g:mips' | wc -l)" 2896
check_eq "$(cor search 'g:nothere' | wc -l)" 0
check_eq "$(ids 'id:<9d3f5b1a-7e8c-4a2d-b6f0-3c1e9a8d7b52@northshire.gov.uk>')" "9d3f"
check_eq "$(ids 'm:9d3f5b1a-7e8c-4a2d-b6f0-3c1e9a8d7b52@northshire.gov.uk')" "9d3f"

test_case "thread: finds the thread's messages"
t=$(cor search --json 'id:9d3f5b1a-7e8c-4a2d-b6f0-3c1e9a8d7b52@northshire.gov.uk' | sed 's/.*"thread_id":\([0-9]*\).*/\1/')
check_eq "$(ids "thread:$t")" "F3E8 6c0f 3e7a A1E4 9d3f"
want=$(cor threads --group planning --json | grep "\"thread_id\":$t," | tr ',' '\n' | grep -c '@')
check_eq "$(cor search "thread:$t" | wc -l)" "$want"

test_case "date:/d: single day, month, year, YYYYMMDD, open ranges"
check_eq "$(ids --group planning 'd:2025-03-18')" "3e7a A1E4"
check_eq "$(ids --group planning 'date:20250318')" "3e7a A1E4"
check_eq "$(cor search --group planning 'date:2025-04' | wc -l)" 4
check_eq "$(cor search --group planning 'date:2025' | wc -l)" 20
check_eq "$(cor search --group planning 'date:2025-04-02..' | wc -l)" 3
check_eq "$(cor search --group planning 'date:..2025-03-04' | wc -l)" 2

test_case "relative dates and local-time day bounds (BST)"
cor group create when >/dev/null
now=$(date +%s)
mk() {  # mk ID EPOCH
    printf 'From: When <when@example.org>\nSubject: timing %s\nMessage-ID: <%s@when>\nDate: %s\n\nbody\n' \
        "$1" "$1" "$(date -u -R -d "@$2")" >"$TMP/$1.eml"
    cor import --group when "$TMP/$1.eml" >/dev/null
}
mk recent $((now - 2 * 86400))
mk older $((now - 40 * 86400))
mk ancient $((now - 400 * 86400))
# 2025-06-01 23:30 UTC is 2025-06-02 00:30 in London (BST)
mk midnight "$(date -u -d '2025-06-01 23:30:00' +%s)"
check_eq "$(ids --group when 'date:7d')" "rece"
check_eq "$(ids --group when 'date:1w')" "rece"
check_eq "$(ids --group when 'date:2m')" "rece olde"
check_eq "$(ids --group when 'date:2y')" "rece olde anci midn"
check_eq "$(ids --group when 'date:2m..1w')" "olde"
check_eq "$(ids --group when 'date:2025-06-02')" "midn"
check_eq "$(ids --group when 'date:2025-06-01')" ""
check_eq "$(TZ=UTC "$CORRIDOR" --state "$TMP/state" search --group when 'date:2025-06-01' | wc -l)" 1 "UTC day"

test_case "sort: newest first by default, oldest, relevance; --limit; --json fields"
first=$(cor search --group planning --limit 1 --json '*')
case $first in
    *'"message_id":"1b9c'*|*'"date":"2025-04-07'*) ;;
    *) fail "newest first: $first" ;;
esac
check_eq "$(cor search --group planning --sort oldest --limit 1 '*' | awk '{print $NF}' | cut -c2-5)" "b7d2"
check_eq "$(cor search --group planning --limit 3 '*' | wc -l)" 3
check_eq "$(cor search --group planning --sort relevance --limit 1 'drainage drainage' | wc -l)" 1
echo "$first" | python3 -c '
import json,sys
o=json.loads(sys.stdin.read())
assert set(["message_id","thread_id","group","date","from","subject"]) <= set(o), o
assert o["date"].endswith("Z") and "T" in o["date"], o' || fail "json fields"

test_case "private groups are searched only with --as a member"
cor group create hr --visibility private >/dev/null
printf 'From: HR <hr@example.org>\nSubject: salary review\nMessage-ID: <salary@hr>\nDate: Mon, 3 Mar 2025 10:00:00 +0000\n\nconfidential salary bands\n' >"$TMP/hr.eml"
cor import --group hr "$TMP/hr.eml" >/dev/null
cor member add hr pat@example.org >/dev/null
check_eq "$(cor search salary | wc -l)" 0 "staff"
check_eq "$(cor search --as someone@example.org salary | wc -l)" 0 "non-member"
check_eq "$(cor search --as Pat@Example.org salary | wc -l)" 1 "member"

test_done
