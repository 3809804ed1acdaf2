#!/bin/sh
# T950 — the daemon under valgrind (memcheck): no definite leak, no invalid
# read or write, no use of uninitialised memory, in two runs on one state:
#   1. LMTP: the dialogue scripts of T200 (bad input, every reply code), a
#      few hundred real messages (linux-mips 2005) over LMTP to two groups
#      (copies fanned out to smtp-sink), a barrage of bad neighbours (endless
#      line, garbage, oversize, 1,000 pipelined commands), hostile HTML mail,
#      mail commands, a bounce, a held post, the digest scheduler's run;
#   2. a restart, then the archive: more mail and redeliveries while the
#      renderer keeps the pages current, SIGHUP, and HTTP pages of every kind,
#      downloads, searches (HTML, JSON, a bad query, an officer's audited
#      search), one-click unsubscribe, errors.
# Each run ends with SIGTERM; valgrind's exit status (--error-exitcode) and
# its log decide.  Known reports that are not corridor's are suppressed by
# function in tests/valgrind.supp.  valgrind cannot run an ASan binary: under
# `make test-asan` (CORRIDOR_ASAN=1) this test checks ./corridor instead
# (CORRIDOR_VALGRIND_BIN overrides).  About 2-3 minutes: valgrind runs the
# daemon ~20x slower, so the message counts are small (T950_MESSAGES).
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-sink.sh"
. "$SRC/tests/lib-postfix.sh"   # postfix_free_port
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
SOCK=$TMP/lmtp.sock
CLI=$SRC/tests/tools/lmtp_clients.py
DLG=$SRC/tests/tools/lmtp_dialogue.py
FILES=$SRC/tests/tools/lmtp_files.py
MBOX=$CORPORA/linux-mips-2005.mbox
N=${T950_MESSAGES:-150}
VG_PID='' REFUSE_PID=''
trap 'sink_stop; [ -n "$REFUSE_PID" ] && kill "$REFUSE_PID"; [ -n "$VG_PID" ] && kill -KILL "$VG_PID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
chmod o+x "$TMP"   # smtp-sink runs as nobody

VGBIN=${CORRIDOR_VALGRIND_BIN:-$CORRIDOR}
if [ -z "${CORRIDOR_VALGRIND_BIN:-}" ] && [ "${CORRIDOR_ASAN:-}" = 1 ]; then
    VGBIN=$SRC/corridor
    echo "# report: valgrind cannot run an ASan binary: checking $VGBIN"
fi

test_case "valgrind, the binary and the corpus are there"
command -v valgrind >/dev/null || fail "valgrind is not installed (make deps)"
[ -x "$VGBIN" ] || fail "no binary at $VGBIN (make corridor)"
[ -f "$MBOX" ] || fail "no corpus at $MBOX"
cc -O2 -pthread -o "$TMP/lmtp-load" "$SRC/bench/lmtp-load.c" || fail "cannot build bench/lmtp-load.c"
if [ "$_case_failed" = 1 ]; then test_done; echo "Bail out! cannot run valgrind"; exit 1; fi

SINK_PORT=$(postfix_free_port)
HTTP_PORT=$(postfix_free_port)
CLOCK=$TMP/clock
export CORRIDOR_NOW_FILE=$CLOCK
# Monday 23 November 2026, 06:00 in London: digests at 07:00
echo 2026-11-23T06:00:00Z >"$CLOCK"
cor init >/dev/null
# the limits T200's dialogue scripts expect (size.dlg and timeout.dlg aside:
# real mail needs more than 20k, and valgrind's pace makes 2 s too short)
cat >"$TMP/state/corridor.conf" <<CONF
[lmtp]
listen = unix:$SOCK
domains = lists.test
max_message_size = 20k
max_recipients = 3
max_line_length = 1000
[filters]
staff_domains = council.test
[outbound]
relay = smtp://127.0.0.1:$SINK_PORT
retry = 1s
[digest]
max_age = 0
[records]
officers = officer@council.test
CONF
cor group create planning --owner owner@council.test >/dev/null || fail "group create"
cor group create housing --visibility staff >/dev/null || fail "group create"
cor group create moderated moderation=all --moderator mod@council.test >/dev/null || fail "group create"
for g in planning housing; do cor group set $g posting=anyone >/dev/null || fail "group set"; done
cor member add planning bob@council.test >/dev/null
cor member add housing cat@council.test >/dev/null
cor member add planning ann@council.test --mode digest >/dev/null
cor member add housing ann@council.test --mode digest >/dev/null
cor member add planning dora@council.test --mode digest >/dev/null
cor digest set ann@council.test --combined >/dev/null || fail "digest set"
sink_start "$TMP/sink" "$SINK_PORT" || fail "smtp-sink"

# vg_start NAME [SERVE ARGS...]: the daemon under valgrind, its report in
# $TMP/vg-NAME.log; waits (2 minutes at most) until it is ready
vg_start() {
    _vg_name=$1; shift
    _vg_ready=$(grep -c 'info: ready (pid' "$TMP/serve.log" 2>/dev/null || echo 0)
    G_SLICE=always-malloc G_DEBUG=gc-friendly \
    valgrind --tool=memcheck --leak-check=full --show-leak-kinds=${T950_LEAK_KINDS:-definite} \
        --errors-for-leak-kinds=definite --error-exitcode=97 --num-callers=40 \
        --suppressions="$SRC/tests/valgrind.supp" --gen-suppressions=all \
        --log-file="$TMP/vg-$_vg_name.log" \
        "$VGBIN" --state "$TMP/state" serve "$@" >>"$TMP/serve.log" 2>&1 &
    VG_PID=$!
    _i=0
    until [ "$(grep -c 'info: ready (pid' "$TMP/serve.log")" -gt "$_vg_ready" ]; do
        _i=$((_i + 1))
        if [ $_i -ge 1200 ] || ! kill -0 "$VG_PID" 2>/dev/null; then
            fail "the daemon did not start under valgrind"
            tail -5 "$TMP/serve.log" | sed 's/^/#   /' >&2
            return 1
        fi
        sleep 0.1
    done
}

# vg_stop: SIGTERM, then valgrind's verdict: exit 0, no error, no definite
# leak; otherwise the first reports go to the TAP output
vg_stop() {
    kill -TERM "$VG_PID"
    wait "$VG_PID"
    _rc=$?
    VG_PID=
    _log=$TMP/vg-$_vg_name.log
    _errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$_log")
    _def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$_log")
    _sup=$(sed -n 's/.*ERROR SUMMARY: .*(suppressed: \([0-9]*\) from.*/\1/p' "$_log")
    echo "# report: valgrind $_vg_name: exit $_rc, errors ${_errs:-?}, definitely lost ${_def:-0} bytes, suppressed ${_sup:-?}"
    if [ "$_rc" != 0 ] || [ "${_errs:-x}" != 0 ] || [ "${_def:-0}" != 0 ]; then
        fail "valgrind $_vg_name: exit $_rc, ${_errs:-?} errors, ${_def:-0} bytes definitely lost ($_log):"
        grep -v '^==[0-9]*== *$' "$_log" | grep -A25 -E 'Invalid|uninitialised|definitely lost in|Syscall param|Mismatched|free\(\)' |
            head -80 | sed 's/^/#   /' >&2
    fi
}

# acked FILE: messages lmtp-load had accepted (its "messages" - "failed")
acked() { awk '$1 == "messages" { m = $2 } $1 == "failed" { f = $2 } END { print m - f }' "$1"; }
in_group() { # GROUP TAG: stored messages of lmtp-load's run TAG in GROUP
    q "SELECT count(DISTINCT n.msg) FROM thread_nodes n JOIN groups g ON g.id = n.group_id
       JOIN messages m ON m.id = n.msg WHERE g.name = '$1' AND m.message_id LIKE '%.${2}r0@%'"
}
idle() { # the store's queues are empty: indexed, rendered, copies sent
    [ "$(q "SELECT (SELECT count(*) FROM work) + (SELECT count(*) FROM outbox_rcpt)")" = 0 ]
}
wait_until() { # SECONDS CMD...: poll every 0.5 s
    _w=$(($(date +%s) + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$_w" ] && return 1
        sleep 0.5
    done
}

# -- run 1: LMTP ------------------------------------------------------------
vg_start lmtp || { test_done; echo "Bail out! no daemon"; exit 1; }

test_case "bad input: T200's dialogue scripts under valgrind"
for script in "$SRC"/tests/data/lmtp/*.dlg; do
    case $(basename "$script") in size.dlg|timeout.dlg) continue ;; esac
    out=$(python3 "$DLG" --connect "unix:$SOCK" --timeout 60 "$script" 2>&1) || true
    case $out in ok*) ;; *) fail "$out" ;; esac
done

test_case "SIGHUP: a bad configuration is refused, a good one taken (larger messages)"
cp "$TMP/state/corridor.conf" "$TMP/good.conf"
printf '[lmtp]\nmax_message_size = lots\n' >>"$TMP/state/corridor.conf"
kill -HUP "$VG_PID"
wait_until 60 grep -q 'configuration not reloaded' "$TMP/serve.log" || fail "bad configuration taken"
sed 's/^max_message_size = 20k/max_message_size = 2M/' "$TMP/good.conf" >"$TMP/state/corridor.conf"
kill -HUP "$VG_PID"
wait_until 60 grep -q 'configuration reloaded' "$TMP/serve.log" || fail "no reload"

test_case "$N real messages over LMTP to two groups, each stored once in both"
"$TMP/lmtp-load" --connect "unix:$SOCK" --clients 4 --rcpt planning@lists.test \
    --rcpt housing@lists.test --mbox "$MBOX" --messages "$N" --unique --tag a \
    --timeout 120 >"$TMP/load-a.out" 2>"$TMP/load-a.err" || fail "lmtp-load: $(cat "$TMP/load-a.err")"
check_eq "$(acked "$TMP/load-a.out")" "$N" "accepted"
check_eq "$(in_group planning a):$(in_group housing a)" "$N:$N" "stored"

test_case "bad neighbours while a good client delivers"
out=$(python3 "$CLI" bad-neighbours "unix:$SOCK" 2>&1) || fail "bad neighbours: $out"

test_case "hostile HTML mail, mail commands, a bounce, a held post"
python3 "$FILES" "unix:$SOCK" planning@lists.test "$SRC"/tests/data/hostile/*.eml >"$TMP/hostile.out" 2>&1 ||
    fail "hostile: $(tail -3 "$TMP/hostile.out")"
# all but one accepted: 11-attachment-names.eml carries an .exe (550 5.7.1)
check_eq "$(grep -c '250 2.0.0' "$TMP/hostile.out"):$(grep -c '550 5.7.1 attachment type' "$TMP/hostile.out")" \
    "$(($(ls "$SRC"/tests/data/hostile/*.eml | wc -l) - 1)):1" "hostile mail: $(grep -v '250 2.0.0' "$TMP/hostile.out")"
printf 'From: Eve <eve@council.test>\nTo: planning-request@lists.test\nSubject: subscribe\nMessage-ID: <join-1@council.test>\n\nsubscribe\n' >"$TMP/join.eml"
printf 'From: Bob <bob@council.test>\nTo: planning-request@lists.test\nSubject: help\nMessage-ID: <help-1@council.test>\n\nhelp\n' >"$TMP/help.eml"
printf 'From: Bob <bob@council.test>\nTo: moderated@lists.test\nSubject: please hold\nMessage-ID: <held-1@council.test>\n\nA post for the moderator.\n' >"$TMP/held.eml"
python3 "$FILES" "unix:$SOCK" planning-request@lists.test "$TMP/join.eml" "$TMP/help.eml" >"$TMP/cmd.out" 2>&1 || fail "commands"
python3 "$FILES" "unix:$SOCK" moderated@lists.test "$TMP/held.eml" >>"$TMP/cmd.out" 2>&1 || fail "held"
bounce=$SRC/tests/data/bounces/postfix-rfc3464-hard.eml
python3 "$FILES" "unix:$SOCK" planning-bounces+bob=council.test@lists.test --sender "" "$bounce" >>"$TMP/cmd.out" 2>&1
check_eq "$(grep -c '250 2.0.0' "$TMP/cmd.out")" 4 "replies: $(cat "$TMP/cmd.out")"
check_eq "$(q "SELECT count(*) FROM held")" 1 "held"

test_case "the copies go out, the queues empty, the digest scheduler runs"
wait_until 120 idle || fail "queues not empty: $(q "SELECT kind, count(*) FROM work GROUP BY kind") outbox $(q "SELECT count(*) FROM outbox_rcpt")"
echo 2026-11-24T07:00:20Z >"$CLOCK"
wait_until 120 sh -c "[ \"\$(sqlite3 '$db' \"SELECT count(*) FROM digests WHERE period = '2026-11-24' AND state = 'queued'\")\" -ge 2 ]" ||
    fail "digests not made: $(q "SELECT address, scope, period, state FROM digests")"
wait_until 120 idle || fail "digests not sent"
check "$(sink_count "$TMP/sink")" -gt "$N"

test_case "SIGTERM: no leak, no invalid access (LMTP run)"
vg_stop

# -- run 2: restart, the archive ----------------------------------------------
test_case "a restart under valgrind, more mail and redeliveries while the renderer works"
# this run's relay refuses cat for good: a hard failure, a bounce event
sink_stop
REFUSE_PORT=$(postfix_free_port)
echo "rcpt-550 cat@council.test" >"$TMP/relay-mode"
python3 "$SRC/tests/tools/smtp_fault.py" "$REFUSE_PORT" "$TMP/refuse" "$TMP/relay-mode" >"$TMP/relay.out" 2>&1 &
REFUSE_PID=$!
wait_until 10 grep -q ready "$TMP/relay.out" || fail "smtp_fault did not start"
sed -i "s|^relay = .*|relay = smtp://127.0.0.1:$REFUSE_PORT|" "$TMP/state/corridor.conf"
vg_start archive --http "127.0.0.1:$HTTP_PORT" || { test_done; echo "Bail out! no daemon"; exit 1; }
"$TMP/lmtp-load" --connect "unix:$SOCK" --clients 4 --rcpt planning@lists.test \
    --rcpt housing@lists.test --mbox "$MBOX" --messages $((N / 2)) --unique --tag b \
    --timeout 120 >"$TMP/load-b.out" 2>"$TMP/load-b.err" || fail "lmtp-load b: $(cat "$TMP/load-b.err")"
before=$(q "SELECT count(*) FROM messages")
"$TMP/lmtp-load" --connect "unix:$SOCK" --clients 2 --rcpt planning@lists.test \
    --mbox "$MBOX" --messages 20 --unique --tag a --timeout 120 >"$TMP/load-r.out" 2>&1 || fail "redelivery"
check_eq "$(acked "$TMP/load-b.out"):$(acked "$TMP/load-r.out")" "$((N / 2)):20" "accepted"
check_eq "$(in_group planning b):$(in_group housing b)" "$((N / 2)):$((N / 2))" "stored"
check_eq "$(q "SELECT count(*) FROM messages")" "$before" "redeliveries stored once"
kill -HUP "$VG_PID"
wait_until 60 sh -c "[ \$(grep -c 'configuration reloaded' '$TMP/serve.log') -ge 2 ]" || fail "no reload"
wait_until 120 idle || fail "queues not empty: $(q "SELECT kind, count(*) FROM work GROUP BY kind")"
check "$(q "SELECT count(*) FROM bounce_events WHERE address = 'cat@council.test' AND class = 'hard'")" -ge 1
last=$(q "SELECT m.message_id FROM messages m WHERE m.message_id LIKE '%.br0@%' ORDER BY m.id DESC LIMIT 1")

test_case "HTTP: pages, downloads, feeds, searches, unsubscribe, errors"
U=http://127.0.0.1:$HTTP_PORT
get() { # PATH [CURL ARGS...]: the status code
    _p=$1; shift
    curl -s -o "$TMP/body" -w '%{http_code}' "$@" "$U$_p"
}
A=$TMP/state/archive
thread=$(cd "$A" && find g/planning/t -name '*.html' | sort | head -1)
msg=$(cd "$A" && find g/planning/m -name '*.html' | sort | tail -1)
month=$(cd "$A/g/planning" && find . -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-[0-9][0-9].html' | sort | head -1)
month=${month#./}
author=$(cd "$A" && find author -name '*.html' | head -1)
for p in / /g/planning/ "/$thread" "/${thread%.html}.atom" "/$msg" "/${msg%.html}.eml" "/g/planning/$month" \
         /g/planning/atom.xml /g/planning/about.html "/$author" /static/corridor.css \
         "/search?q=kernel" "/search?q=kernel&format=json" "/search?q=from:ralf&group=planning&format=json" \
         "/search?q=mips&page=2"; do
    check_eq "$(get "$p")" 200 "GET $p"
done
# the newest message of run 2 has its page: the renderer of this run wrote it
key=$(printf '%s' "$last" | sha256sum | cut -c1-16)
check_eq "$(get "/g/planning/m/$(echo "$key" | cut -c1-2)/$key.html")" 200 "page of $last"
check_eq "$(get /g/housing/)" 404 "staff group to an anonymous viewer"
check_eq "$(get /g/housing/ -H 'X-Remote-User: cat@council.test')" 200 "staff group to staff"
check_eq "$(get '/search?q=kernel&format=json' -H 'X-Remote-User: officer@council.test')" 200 "officer's search"
check "$(q "SELECT count(*) FROM audit WHERE action = 'web.search'")" -ge 1
check_eq "$(get '/search?q=(kernel&format=json')" 400 "bad query"
check_eq "$(get '/search?q=(kernel')" 400 "bad query, HTML"
check_eq "$(get /g/nosuch/)" 404 "no such group"
case $(get /../../etc/passwd --path-as-is) in 400|404) ;; *) fail "path outside: $(cat "$TMP/body")" ;; esac
check_eq "$(get "/${msg%.html}/99.bin")" 404 "no such attachment"
att=$(q "SELECT m.message_id FROM attachments a JOIN messages m ON m.id = a.message
         JOIN thread_nodes n ON n.msg = m.id JOIN groups g ON g.id = n.group_id WHERE g.name = 'planning' LIMIT 1")
if [ -n "$att" ]; then
    akey=$(printf '%s' "$att" | sha256sum | cut -c1-16)
    name=$(curl -s "$U/g/planning/m/$(echo "$akey" | cut -c1-2)/$akey.html" | grep -o "$akey/[0-9]*\.[a-z0-9]*" | head -1)
    check_eq "$(get "/g/planning/m/$(echo "$akey" | cut -c1-2)/$name")" 200 "attachment '$name' of $att"
fi
token=$(q "SELECT token FROM members m JOIN groups g ON g.id = m.group_id WHERE g.name = 'planning' AND address = 'bob@council.test'")
check_eq "$(get "/u/$token")" 200 "unsubscribe page"
check_eq "$(get "/u/$token" -d List-Unsubscribe=One-Click)" 200 "one-click unsubscribe"
check_eq "$(get /u/0123456789abcdef)" 404 "unknown token"

test_case "SIGTERM: no leak, no invalid access (archive run)"
vg_stop
kill -TERM "$REFUSE_PID"; wait "$REFUSE_PID" 2>/dev/null; REFUSE_PID=
test_done
