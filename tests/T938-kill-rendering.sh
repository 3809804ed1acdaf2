#!/bin/sh
# T938 — SIGKILL during archive rendering (issue 9, fault injection;
# docs/faults.md).  2,400 real messages (linux-mips-2005.mbox) are imported
# while no daemon runs, so all of them wait to be rendered; the daemon is
# started and killed with SIGKILL three times while its renderer works
# through them (in one round: every queued item is in it).  After the last restart it catches up by itself, and the
# archive is exactly what `corridor archive build` makes from a copy of the
# store in another directory, with no temporary file left in it.  Then
# `corridor archive build` itself is killed half-way, over a live archive
# and as a first build: the next build gives the same archive, and no
# half-built tree is left beside it.  (T330 checks the daemon's archive
# against a full build without a crash.)
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
. "$SRC/tests/tools/lib-faults.sh"
MBOX=$CORPORA/linux-mips-2005.mbox
db=$TMP/state/corridor.db
q() { sqlite3 "$db" "$1"; }
backlog() { q "SELECT count(*) FROM work WHERE kind = 'render'"; }
pages() { find "$TMP/state/archive/g" -path '*/m/*' -name '*.html' 2>/dev/null | wc -l; }
leftovers() { # temporary files and half-built trees
    { find "$TMP/state/archive" "$TMP/state/archive-restricted" -name '*.tmp~' 2>/dev/null
      ls -d "$TMP/state/archive.new" "$TMP/state/archive-restricted.new" 2>/dev/null; } | wc -l
}

cor init >/dev/null
cor group create mips >/dev/null
cor group create staffonly --visibility staff >/dev/null
printf '[lmtp]\nlisten = unix:%s/lmtp.sock\n[archive]\ndebounce_ms = 0\n' "$TMP" >"$TMP/state/corridor.conf"

test_case "2,400 messages imported with no daemon running: all wait to be rendered"
awk '/^From / { n++ } n > 2400 { exit } { print }' "$MBOX" >"$TMP/mips.mbox"
out=$(cor import --group mips "$TMP/mips.mbox" | tail -1)
check_eq "$out" "imported 2400, duplicates 0, failed 0" "import"
awk '/^From / { n++ } n > 80 { exit } { print }' "$MBOX" >"$TMP/part.mbox"
check_eq "$(cor import --group staffonly "$TMP/part.mbox" | tail -1)" "imported 80, duplicates 0, failed 0" "staffonly"
total=$(backlog)
check "$total" -ge 2400

test_case "the daemon's renderer killed with SIGKILL three times in the middle of its catch-up round"
# the catch-up is one round (archive.h: a round takes every item queued in
# its snapshot), and its work is deleted only once its pages are durable: a
# kill while it writes leaves every item queued and some pages written
kills=0 last=$total
while [ $kills -lt 3 ]; do
    # the message pages go first, so that this round has them to write again
    # and its progress shows (the round rewrites every page it covers)
    rm -rf "$TMP/state/archive/g/mips/m"
    serve_start --no-outbound --no-digests || { fail "start"; break; }
    i=0
    while [ "$(pages)" -lt 1 ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i + 1)); done
    [ $i -lt 2400 ] || fail "no pages written before kill $((kills + 1))"
    sleep "0.0$(( (kills * 41 + $$) % 9 ))"
    serve_kill
    kills=$((kills + 1))
    now=$(backlog)
    echo "# kill $kills: $(pages) message pages written, render backlog $now, $(leftovers) temporary files"
    [ "$now" -gt 0 ] || { fail "the round had ended before kill $kills: nothing proven"; break; }
    check_eq "$now" "$last" "the round's work still queued after kill $kills"
done
echo "# report: renderer killed 3 times; $last of $total messages still to render at the last kill"

test_case "after a restart the archive catches up and equals a full build in another directory"
serve_start --no-outbound --no-digests || fail "restart"
wait_for 120 faults_sql 0 "SELECT count(*) FROM work WHERE kind = 'render'" || fail "backlog left: $(backlog)"
sleep 0.5
serve_stop
check_eq "$(leftovers)" 0 "temporary files or trees left"
faults_archive_same || fail "the archive differs from a full build"

test_case "archive build killed half-way over the live archive: the next build is the same, nothing left over"
cor group create late >/dev/null
printf 'From: a@council.test\nSubject: late post\nMessage-ID: <late1@council.test>\n\nLate.\n' >"$TMP/late.eml"
cor import --group late "$TMP/late.eml" >/dev/null
rm -rf "$TMP/state/archive/g/mips/m"          # so the build has much to write again
"$CORRIDOR" --state "$TMP/state" archive build >/dev/null 2>&1 &
pid=$!
wait_for 60 sh -c "[ \$(find '$TMP/state/archive/g/mips/m' -name '*.html' 2>/dev/null | wc -l) -gt 200 ]" ||
    fail "the build wrote nothing"
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
made=$(find "$TMP/state/archive/g/mips/m" -name '*.html' | wc -l)
echo "# killed the rebuild with $made message pages written"
[ "$made" -lt 2400 ] || fail "the build had finished: nothing proven"
out=$(cor archive build 2>&1) || fail "build: $out"
check_eq "$(leftovers)" 0 "temporary files or trees left"
faults_archive_same || fail "the archive differs from a full build"

test_case "a first archive build killed half-way: the next build is the same, nothing left over"
rm -rf "$TMP/state/archive" "$TMP/state/archive-restricted"
"$CORRIDOR" --state "$TMP/state" archive build >/dev/null 2>&1 &
pid=$!
wait_for 60 sh -c "[ \$(find '$TMP/state/archive.new/g/mips/m' -name '*.html' 2>/dev/null | wc -l) -gt 200 ]" ||
    fail "the build wrote nothing"
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ -d "$TMP/state/archive" ] && fail "the half-built tree is in place"
out=$(cor archive build 2>&1) || fail "build: $out"
check_eq "$(leftovers)" 0 "temporary files or trees left"
faults_archive_same || fail "the archive differs from a full build"

test_case "a first build killed half-way, then the daemon: it renders by itself and leaves nothing over"
rm -rf "$TMP/state/archive" "$TMP/state/archive-restricted"
"$CORRIDOR" --state "$TMP/state" archive build >/dev/null 2>&1 &
pid=$!
wait_for 60 sh -c "[ \$(find '$TMP/state/archive.new/g/mips/m' -name '*.html' 2>/dev/null | wc -l) -gt 200 ]" ||
    fail "the build wrote nothing"
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
# what the daemon has to do: every message (the build deleted the queue
# only when it would have finished)
q "INSERT INTO work (kind, msg, created) SELECT 'render', id, 0 FROM messages"
serve_start --no-outbound --no-digests || fail "start"
wait_for 120 faults_sql 0 "SELECT count(*) FROM work WHERE kind = 'render'" || fail "backlog left: $(backlog)"
sleep 0.5
serve_stop
check_eq "$(leftovers)" 0 "temporary files or trees left"
faults_archive_same || fail "the archive differs from a full build"
test_case "the daemon's own full build ([archive] full_build_at) killed half-way: every page whole, the next start builds again"
# a new site title changes every page, so the build has every file to replace
printf 'full_build_at = 1000\nsite_title = Northshire conversations\n' >>"$TMP/state/corridor.conf"
printf 'From: b@council.test\nSubject: later post\nMessage-ID: <late2@council.test>\n\nLater.\n' >"$TMP/late2.eml"
cor import --group late "$TMP/late2.eml" >/dev/null
q "INSERT INTO work (kind, msg, created) SELECT 'render', id, 0 FROM messages"
check "$(backlog)" -ge 2400
retitled() { grep -rl --include='*.html' 'Northshire conversations' "$TMP/state/archive" 2>/dev/null | wc -l; }
serve_start --no-outbound --no-digests || fail "start"
wait_for 60 sh -c "[ \$(grep -rl --include='*.html' 'Northshire conversations' '$TMP/state/archive' 2>/dev/null | wc -l) -gt 200 ]" ||
    fail "the daemon's full build wrote nothing"
serve_kill
grep -q 'archive: [0-9]* messages to render: full build' "$TMP/serve.log" || fail "no full build logged"
pages=$(find "$TMP/state/archive" -name '*.html' | wc -l)
echo "# killed the daemon's full build with $(retitled) of $pages pages rewritten"
[ "$(retitled)" -lt "$pages" ] || fail "the build had finished: nothing proven"
check "$(backlog)" -ge 2400
whole=$(find "$TMP/state/archive" -name '*.html' -size +0 -exec tail -c 8 {} + | grep -c '</html>')
check_eq "$whole" "$pages" "every page whole (old or new)"
serve_start --no-outbound --no-digests || fail "restart"
wait_for 180 faults_sql 0 "SELECT count(*) FROM work WHERE kind = 'render'" || fail "backlog left: $(backlog)"
sleep 0.5
serve_stop
check_eq "$(grep -c 'archive: [0-9]* messages to render: full build' "$TMP/serve.log")" 2 "full builds logged"
check_eq "$(retitled)" "$(find "$TMP/state/archive" -name '*.html' | wc -l)" "every page has the new title"
check_eq "$(leftovers)" 0 "temporary files or trees left"
faults_archive_same || fail "the archive differs from a full build"
test_done
