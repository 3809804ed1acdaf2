#!/bin/sh
# fuzz/seeds.sh BUILD — makes the seed corpora of every fuzz target in
# BUILD/seeds/TARGET/ from the shared real-mail corpora
# ($CORRIDOR_CORPORA, else ../shared/corpora) and the project's own files.
# The shared corpora are never copied into the repository: seeds live in
# the build folder only.  Hand-made seeds are in fuzz/seeds/TARGET/ and
# found inputs that crashed in fuzz/regressions/TARGET/; fuzz/run.sh gives
# libFuzzer all three.  Runs once per build folder (delete
# BUILD/seeds to make them again).
#
#   message   every message of mime/, notmuch/, replies/, bounces/ (up to
#             64 KiB) and 300 messages of linux-mips-2005.mbox
#   filter    the same messages, each behind a byte that picks the sender
#   bounce    bounces/ and the delivery reports of mime/
#   sanitize  the HTML of replies/ and of every message that has some
#   lmtp      LMTP dialogues carrying 60 of those messages, dot-stuffed
#   mbox      40 runs of 3 messages of linux-mips-2005.mbox, a few xz/gz
#   template  the built-in templates of archive-web/ and digest/ with values
#   query     the queries of docs/search.md
#   config    the tunables table of core/config.c as a file
set -eu
B=${1:-build-fuzz}
S=$B/seeds
[ -f "$S/.done" ] && exit 0
C=${CORRIDOR_CORPORA:-$(dirname "$0")/../../shared/corpora}
rm -rf "$S"
mkdir -p "$S/message" "$S/filter" "$S/bounce" "$S/sanitize" "$S/lmtp" "$S/mbox" \
         "$S/template" "$S/query" "$S/config"

# a file of at most 64 KiB, named after its path in the corpora
put() {   # DIR FILE
    head -c 65536 "$2" >"$1/$(echo "${2#"$C"/}" | tr -c 'A-Za-z0-9._\n-' '_')"
}

if [ -d "$C" ]; then
    # messages: real mail of every kind
    find "$C/mime" "$C/notmuch" "$C/replies" "$C/bounces" -type f ! -name '*.golden' \
        ! -name '*.html' ! -name '*_text' -size -200k 2>/dev/null | sort >"$S/.list"
    while read -r f; do put "$S/message" "$f"; done <"$S/.list"
    # 300 messages of the mailing list, every ninth
    if [ -f "$C/linux-mips-2005.mbox" ]; then
        awk -v dir="$S/message" '
            /^From / { k++; keep = (k % 9 == 0 && k <= 2700); if (out) close(out);
                       out = keep ? sprintf("%s/mips%04d", dir, k) : ""; next }
            out != "" { print > out }' "$C/linux-mips-2005.mbox"
    fi
    # bounces: the bounce corpus and the delivery reports among the MIME tests
    find "$C/bounces" -type f | sort | while read -r f; do put "$S/bounce" "$f"; done
    grep -rlis 'delivery-status\|Mail Delivery\|MAILER-DAEMON' "$C/mime" | sort |
        while read -r f; do put "$S/bounce" "$f"; done
    # HTML: the reply fixtures and any message with HTML in it
    find "$C/replies" -name '*.html' | sort | while read -r f; do put "$S/sanitize" "$f"; done
    grep -rlis '<html\|<div\|<table' "$C/mime" "$C/notmuch/html" | sort |
        while read -r f; do put "$S/sanitize" "$f"; done
    # mbox: runs of three messages, separators and all
    if [ -f "$C/linux-mips-2005.mbox" ]; then
        awk -v dir="$S/mbox" '
            /^From / { k++; if (k % 70 == 1) { if (out) close(out); out = sprintf("%s/run%04d", dir, k) }
                       else if (k % 70 == 4) { if (out) close(out); out = "" } }
            out != "" { print > out }' "$C/linux-mips-2005.mbox"
        for f in "$S"/mbox/run0001 "$S"/mbox/run0141; do
            [ -f "$f" ] || continue
            xz -c "$f" >"$f.xz"
            gzip -c "$f" >"$f.gz"
        done
    fi
else
    echo "fuzz/seeds.sh: no corpora at $C: hand-made seeds only" >&2
fi

# filter: each message behind a byte choosing the envelope sender
i=0
for f in "$S"/message/*; do
    [ -f "$f" ] || continue
    i=$((i + 1))
    [ $((i % 3)) = 0 ] || continue        # a third of them is plenty
    { printf "\\$(printf '%03o' $((i % 4)))"; cat "$f"; } >"$S/filter/$(basename "$f")"
done

# lmtp: whole transactions carrying small messages (CRLF, dot-stuffed);
# header bytes: all at once, generous limits, store answers from 0
i=0
for f in "$S"/message/*; do
    [ -f "$f" ] || continue
    [ "$(wc -c <"$f")" -lt 12000 ] || continue
    i=$((i + 1))
    [ $((i % 5)) = 0 ] || continue
    [ "$i" -le 300 ] || break
    {
        printf '\000\377\004\377\000'
        printf 'LHLO mx.example\r\nMAIL FROM:<sender@example.com> BODY=8BITMIME\r\n'
        printf 'RCPT TO:<planning@lists.test>\r\nRCPT TO:<tmp-bounces+a=b.example@lists.test>\r\nDATA\r\n'
        sed -e 's/\r$//' -e 's/^\./../' -e 's/$/\r/' "$f"
        printf '.\r\nQUIT\r\n'
    } >"$S/lmtp/$(basename "$f")"
done

# templates: the real ones, with a few values (byte 0, text, NUL, values)
for f in archive-web/templates/* digest/templates/*; do
    [ -f "$f" ] || continue
    { printf '\005'; cat "$f"; printf '\000Tea & <b>cakes</b>\000it'"'"'s "quoted"\000caf\303\251'; } \
        >"$S/template/$(basename "$f")"
done

# queries: every `...` example of docs/search.md
if [ -f docs/search.md ]; then
    grep -o '`[^`]*`' docs/search.md | tr -d '`' | grep -v '^corridor\|^--' | sort -u |
        awk -v dir="$S/query" '{ f = sprintf("%s/doc%03d", dir, NR); printf "%s", $0 > f; close(f) }'
fi

# config: every tunable with its default, as one file (the table in
# core/config.c; a default may be on the line after the key)
awk '
    want { split($0, q, "\""); printf "%s = %s\n", key, q[2]; want = 0; next }
    /^ *\{ "[a-z_]+", "[a-z_]+", COR_CONFIG_/ {
        n = split($0, q, "\""); sec = q[2]; key = q[4]
        if (sec != last) { printf "\n[%s]\n", sec; last = sec }
        if (n >= 7) printf "%s = %s\n", key, q[6]; else want = 1 }' core/config.c >"$S/config/tunables"

# config's dictionary: every section and key of the table, with the
# open sections and value forms
{
    echo '# made by fuzz/seeds.sh from core/config.c'
    awk '/^ *\{ "[a-z_]+", "[a-z_]+", COR_CONFIG_/ { split($0, q, "\""); print "\"[" q[2] "]\""; print "\"" q[4] " = \"" }
         /^ *\{ "[a-z_]+", "[^"]*" \},/ { split($0, q, "\""); print "\"[" q[2] "]\"" }' core/config.c | sort -u
    for v in '\x0a' '=' ',' ';' '#' 'true' 'false' '10k' '25M' '2G' '5s' '5m' '2h' '1d' '6y' '18m' '90d' 'permanent' \
             'unix:' '127.0.0.1:2424' '[::1]:25' 'http://' '-1' '9223372036854775807'; do
        printf '"%s"\n' "$v"
    done
} >"$S/config.dict"

touch "$S/.done"
for d in "$S"/*/; do
    printf '%s %s\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"
done | tr '\n' ' '
echo
