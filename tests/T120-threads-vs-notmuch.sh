#!/bin/sh
# T120 — thread membership agrees with notmuch on real mail (notmuch/lkml,
# notmuch/default and linux-mips-2005.mbox): 100% agreement except threads
# joined by the Microsoft Thread-Index rule, each of which must be one.
. "$(dirname "$0")/lib.sh"
command -v notmuch >/dev/null || { test_case "notmuch is installed (make deps)"; fail "notmuch missing"; test_done; exit 0; }
cor init >/dev/null

# compare NAME MAILDIR : imports MAILDIR into corridor and notmuch, compares
compare() {
    name=$1 md=$2
    cor group create "$name" >/dev/null
    cor import --group "$name" "$md" >/dev/null 2>"$TMP/err" || { fail "import: $(cat "$TMP/err")"; return; }
    cor threads --group "$name" --json >"$TMP/$name.cor"
    mkdir -p "$TMP/nm-$name"
    notmuch_db "$md" "$TMP/nm-$name/config" || { fail "notmuch new: $(cat "$TMP/nm-$name/config.err")"; return; }
    NOTMUCH_CONFIG="$TMP/nm-$name/config" notmuch show --format=json --body=false --entire-thread=true '*' >"$TMP/$name.nm" 2>/dev/null
    python3 "$SRC/tests/tools/compare_threads.py" "$TMP/$name.cor" "$TMP/$name.nm" "$md" >"$TMP/$name.cmp"; rc=$?
    sed 's/^/# /' "$TMP/$name.cmp"
    check "$rc" -eq 0
    grep -q 'only corridor: 0, only notmuch: 0' "$TMP/$name.cmp" || fail "message sets differ"
}

test_case "notmuch/lkml threads agree with notmuch"
cp -r "$CORPORA/notmuch/lkml" "$TMP/lkml"
compare lkml "$TMP/lkml"

test_case "notmuch/default threads agree with notmuch"
cp -r "$CORPORA/notmuch/default" "$TMP/default"
compare default "$TMP/default"

test_case "linux-mips-2005.mbox threads agree with notmuch (Thread-Index joins excepted)"
python3 "$SRC/tests/tools/mbox2maildir.py" "$CORPORA/linux-mips-2005.mbox" "$TMP/mips" >/dev/null
compare mips "$TMP/mips"

test_case "notmuch/threading and notmuch/broken: one thread per conversation, loops end"
for c in threading/parent-priority threading/ghost-root broken/loop; do
    cp -r "$CORPORA/notmuch/$c" "$TMP/case"
    g=$(echo "$c" | tr '/' '-')
    cor group create "$g" >/dev/null
    cor import --group "$g" "$TMP/case" >/dev/null 2>&1 || fail "import $c"
    rm -rf "$TMP/case"
done
check_eq "$(cor threads --group threading-parent-priority --json | wc -l)" 1 "parent-priority threads"
out=$(cor thread --json B01-grand-child@example.org | python3 -c '
import json,sys
t=json.load(sys.stdin)
def show(n): return n["message_id"].split("@")[0] + ("[" + " ".join(show(c) for c in n["children"]) + "]" if n["children"] else "")
print(" ".join(show(r) for r in t["roots"]))')
check_eq "$out" "B00-root[B01-child[B01-grand-child]]" "parent-priority tree"
# ghost-root: the real root heads its thread; the reply to a missing message
# stays under the real conversation
out=$(cor thread --json 000-real-root@example.org | python3 -c '
import json,sys
t=json.load(sys.stdin)
print(t["roots"][0]["message_id"], len(t["roots"]))')
check_eq "$out" "000-real-root@example.org 1" "ghost-root head"
check_eq "$(cor threads --group broken-loop --json | wc -l)" 1 "loop threads"
out=$(cor thread --json mid-loop-12@example.org | python3 -c '
import json,sys
t=json.load(sys.stdin)
print(len(t["roots"]), len(t["roots"][0]["children"]))')
check_eq "$out" "1 1" "loop: one root with one child"

test_done
