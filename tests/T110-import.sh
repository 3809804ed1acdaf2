#!/bin/sh
# T110 — import: real archives, every container format recognised from the
# content, idempotence, immediate searchability, progress only on a terminal.
. "$(dirname "$0")/lib.sh"
MBOX2005=$CORPORA/linux-mips-2005.mbox
SAMPLE=$SRC/tests/data/sample/planning.mbox

cor init >/dev/null
cor group create mips >/dev/null
cor group create sample >/dev/null

test_case "linux-mips-2005.mbox imports all 2,896 messages"
check -f "$MBOX2005"
cor import --group mips "$MBOX2005" >"$TMP/out" 2>"$TMP/err"; rc=$?
check "$rc" -eq 0
check_eq "$(tail -1 "$TMP/out")" "imported 2896, duplicates 0, failed 0"
check_eq "$(wc -c <"$TMP/err")" 0 "stderr when not a terminal"

test_case "importing it again adds nothing"
out=$(cor import --group mips "$MBOX2005" | tail -1)
check_eq "$out" "imported 0, duplicates 2896, failed 0"

test_case "after import every message is indexed and searchable"
check_eq "$(cor search --group mips '*' | wc -l)" 2896 "search '*'"
check_eq "$(cor group list --json | grep '"name":"mips"' | sed 's/.*"messages":\([0-9]*\).*/\1/')" 2896

test_case "show --raw gives the original bytes (first message of the mbox)"
# the Message-ID of the first message (the header ends at its first blank line)
first_id=$(awk '/^$/ {exit} /^[Mm][Ee][Ss][Ss][Aa][Gg][Ee]-[Ii][Dd]:/ {sub(/^[^:]*:[ \t]*/, ""); print; exit}' "$MBOX2005")
check -n "$first_id"
cor show --raw "$first_id" >"$TMP/raw" || fail "show --raw"
awk 'NR==1{next} /^From /{exit} {print}' "$MBOX2005" | sed -e '$ { /^$/d; }' >"$TMP/expect"
cmp -s "$TMP/raw" "$TMP/expect" || fail "original bytes differ"

test_case "every notmuch corpus folder imports, and again adds nothing"
for d in "$CORPORA"/notmuch/*/; do
    name=$(basename "$d")
    [ "$name" = expected-trees ] && continue
    g=nm-$(echo "$name" | tr 'A-Z' 'a-z')
    cor group create "$g" >/dev/null || fail "group $g"
    files=$(find "$d" -type f | wc -l)
    out=$(cor import --group "$g" "$d" 2>"$TMP/err" | tail -1) || { fail "import $name: $(cat "$TMP/err")"; continue; }
    imp=$(echo "$out" | sed 's/imported \([0-9]*\), duplicates \([0-9]*\), failed \([0-9]*\)/\1 \2 \3/')
    set -- $imp
    check "$3" -eq 0
    check "$(($1 + $2))" -eq "$files"
    again=$(cor import --group "$g" "$d" | tail -1)
    check_eq "$again" "imported 0, duplicates $(($1 + $2)), failed 0" "$name again"
done

test_case "every message under mime/ imports, each with its text salvaged"
# Each file goes into a group of its own (many reuse one Message-ID). A file
# corridor refuses must be one that is not a message at all; every stored
# message whose original has a body shows text or names an attachment.
n=0 stored=0 refused=0
for f in $(find "$CORPORA/mime" -type f | sort); do
    n=$((n + 1))
    g=mime-$n
    cor group create "$g" >/dev/null
    if ! cor import --group "$g" "$f" >"$TMP/out" 2>"$TMP/err"; then
        refused=$((refused + 1))
        echo "# refused: ${f#$CORPORA/}: $(cat "$TMP/err")"
        grep -q 'not a mailbox\|no mail found\|empty' "$TMP/err" || fail "${f#$CORPORA/}: $(cat "$TMP/err")"
        continue
    fi
    check_eq "$(tail -1 "$TMP/out")" "imported 1, duplicates 0, failed 0" "${f#$CORPORA/}"
    stored=$((stored + 1))
    id=$(cor search --group "$g" --json '*' | sed 's/.*"message_id":"\([^"]*\)".*/\1/')
    cor show "$id" >"$TMP/shown" || { fail "show ${f#$CORPORA/}"; continue; }
    text=$(sed '1,/^$/d' "$TMP/shown" | tr -d ' \n\t\r' | wc -c)
    att=$(grep -c '^Attachment:' "$TMP/shown")
    raw=$(cor show --raw "$id" | tr -d '\r' | sed '1,/^$/d' | tr -d ' \n\t' | wc -c)
    if [ "$raw" -gt 0 ] && [ "$text" = 0 ] && [ "$att" = 0 ]; then
        fail "no text salvaged from ${f#$CORPORA/}"
    fi
done
echo "# mime/: $n files, $stored stored, $refused refused as not messages"
check "$refused" -eq 5

test_case "the sample conversation imports"
cor import --group sample "$SAMPLE" >"$TMP/out" || fail "import sample"
n=$(grep -c '^From ' "$SAMPLE")
check_eq "$(tail -1 "$TMP/out")" "imported $n, duplicates 0, failed 0"

test_case "xz and gzip compressed mboxes are recognised by content, not name"
cor group create packed >/dev/null
xz -c "$SAMPLE" >"$TMP/archive-one"
gzip -c "$SAMPLE" >"$TMP/archive-two.txt"
out=$(cor import --group packed "$TMP/archive-one" | tail -1)
check_eq "$out" "imported $n, duplicates 0, failed 0" "xz"
out=$(cor import --group packed "$TMP/archive-two.txt" | tail -1)
check_eq "$out" "imported 0, duplicates $n, failed 0" "gz"

test_case "a single message file and a maildir import"
cor group create single >/dev/null
awk 'NR==1{next} /^From /{exit} {print}' "$SAMPLE" >"$TMP/one.eml"
out=$(cor import --group single "$TMP/one.eml" | tail -1)
check_eq "$out" "imported 1, duplicates 0, failed 0"
python3 "$SRC/tests/tools/mbox2maildir.py" "$SAMPLE" "$TMP/md" >/dev/null
out=$(cor import --group single "$TMP/md" | tail -1)
check_eq "$out" "imported $((n - 1)), duplicates 1, failed 0"

test_case "several paths in one import"
cor group create multi >/dev/null
out=$(cor import --group multi "$TMP/one.eml" "$TMP/md" | tail -1)
check_eq "$out" "imported $n, duplicates 1, failed 0"

test_case "a progress bar on a terminal, none otherwise"
cor group create tty >/dev/null
script -qec "'$CORRIDOR' --state '$TMP/state' import --group tty '$SAMPLE'" /dev/null >"$TMP/tty" 2>&1
grep -q 'importing \[' "$TMP/tty" || fail "no progress bar on a terminal"
tail -1 "$TMP/tty" | tr -d '\r' | grep -qx "imported $n, duplicates 0, failed 0" || fail "summary not last"

test_done
