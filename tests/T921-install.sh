#!/bin/sh
# T921 — the install of docs/security.md ("Installing"), followed step by
# step with the values of the shipped units (contrib/corridor.service), as
# root with numeric ids instead of the named users (setpriv for runuser):
#  - the state directory corridor:corridor 2770, `corridor init` run as the
#    corridor user, the store opened to the group (init writes it 0640), the
#    configuration root:corridor 0640, the anchor file root:corridor 0660
#    and append-only (chattr +a, where the file system has it);
#  - the daemon as the unit starts it (its user and group, no supplementary
#    group, the unit's UMask=) takes mail, indexes it, renders the archive,
#    and every file it makes stays in the group and group-writable;
#  - two records officers, each with their own primary group and a member of
#    the group corridor (usermod -aG corridor), run records commands while
#    the daemon runs, retention run (which rewrites the daemon's index and
#    archive) included; someone outside the group gets nothing;
#  - a restart: what systemd 252 does to StateDirectory= before each start
#    (its mode set to StateDirectoryMode=; the whole tree given to
#    User=/Group= only when the directory's owner or group differ) changes
#    nothing, and the daemon and the officers go on; the append-only anchor
#    file cannot be given away, which is why a start fails when the
#    directory's group was changed (docs/security.md);
#  - contrib/corridor-anchor-ship as its unit runs it: root without any
#    capability, reading the anchor file through the group corridor
#    (SupplementaryGroups=); verify --anchor accepts what it shipped;
#  - the separate records group of docs/security.md: refused without
#    [daemon] trusted_groups, served with it, the daemon in that group too.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
unset CORRIDOR_ALLOW_ROOT   # the daemon never runs as root here
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    echo "ok 1 # skip T921 needs root and setpriv"
    exit 0
fi
DATA=$SRC/tests/data/records/core
UNIT=$SRC/contrib/corridor.service
SHIP=$SRC/contrib/corridor-anchor-ship.service
# unit_value FILE KEY: the last KEY= of a unit file
unit_value() { sed -n "s/^$2=//p" "$1" | tail -1; }
MODE=$(unit_value "$UNIT" StateDirectoryMode)
UMASK=$(unit_value "$UNIT" UMask)
# the corridor user and group, two officers (each in a group of their own,
# as Debian's adduser makes them) and someone else
D=61310 G=61300 A=61301 B=61302 OUTSIDER=61303
chmod 755 "$TMP"
mkdir -p "$TMP/lib" "$TMP/run" "$TMP/out" && chmod 755 "$TMP/lib" && chmod 1777 "$TMP/out"
chown "$D:$G" "$TMP/run"
S=$TMP/lib/corridor
SOCK=$TMP/run/lmtp.sock

# cor ARGS...: docs/security.md's `cor` (runuser -u corridor, umask 0007)
cor() { (umask 0007 && exec setpriv --reuid=$D --regid=$G --clear-groups "$CORRIDOR" --state "$S" "$@"); }
# officer UID ARGS...: a records officer's own command, with a login umask
officer() {
    _u=$1; shift
    (umask 022 && exec setpriv --reuid="$_u" --regid="$_u" --groups=$G "$CORRIDOR" --state "$S" "$@")
}
ok=0
run() { _w=$1; shift; if ! _out=$(officer "$_w" "$@" 2>&1); then fail "uid $_w: corridor $*: $_out"; else ok=$((ok + 1)); fi; }
# systemd_start: what systemd 252 does to StateDirectory=corridor before it
# starts the unit (src/core/execute.c setup_exec_directory): the directory's
# own mode becomes StateDirectoryMode=; then, unless the directory is owned
# by User=:Group= already, everything under it is given to them
# (src/shared/chown-recursive.c): this says so and returns 1 instead
systemd_start() {
    chmod "$MODE" "$S" || return 1
    [ "$(stat -c %u:%g "$S")" = "$D:$G" ] || { echo "systemd would chown the whole tree"; return 1; }
}
# daemon_start: the unit's ExecStart=, as User=corridor Group=corridor UMask=
daemon_start() {
    _starts=$(grep -c 'info: ready (pid' "$TMP/serve.log" 2>/dev/null || echo 0)
    (umask "$UMASK" && exec setpriv --reuid=$D --regid=$G --clear-groups --inh-caps=-all \
        "$CORRIDOR" --state "$S" serve --lmtp "unix:$SOCK" --no-outbound --no-digests) \
        >>"$TMP/serve.log" 2>&1 &
    SERVE_PID=$!
    wait_for 20 sh -c "[ \$(grep -c 'info: ready (pid' '$TMP/serve.log') -gt $_starts ]" ||
        { tail -5 "$TMP/serve.log" | sed 's/^/#   /' >&2; fail "the daemon did not start"; }
}
lmtp_send() {
    python3 - "$SOCK" "$1" <<'PY'
import smtplib, sys
l = smtplib.LMTP(sys.argv[1])
msg = ("From: Alice <alice@council.test>\r\nTo: planning@lists.test\r\nSubject: culvert %s\r\n"
       "Message-ID: <%s@t921.test>\r\nDate: Mon, 04 Mar 2024 12:00:00 +0000\r\n\r\n"
       "The culvert report, delivered to a daemon run as its unit runs it.\r\n"
       % (sys.argv[2], sys.argv[2])).encode()
assert not l.sendmail("alice@council.test", ["planning@lists.test"], msg)
l.quit()
PY
}
q() { sqlite3 "$S/corridor.db" "$1"; }
# not_shared: what the officers' commands write (the store and SQLite's
# files beside it, the index, the anchor file) that is not group read-write
# (directories: and searchable, setgid), and anything in the state directory
# not in the group, one per line
not_shared() {
    find "$S" ! -group $G
    find "$S"/corridor.db* "$S/index" -type f ! -perm -g=rw -o -type d ! -perm -g=rwxs
}
APPEND=0

test_case "the units say the install's modes: StateDirectoryMode=2770, UMask=0007, user and group corridor"
for u in corridor.service corridor-digest.service; do
    f=$SRC/contrib/$u
    check_eq "$(unit_value "$f" User):$(unit_value "$f" Group):$(unit_value "$f" StateDirectory)" \
        "corridor:corridor:corridor" "$u identity"
    check_eq "$(unit_value "$f" StateDirectoryMode):$(unit_value "$f" UMask)" "2770:0007" "$u modes"
done
check_eq "$(unit_value "$SHIP" User):$(unit_value "$SHIP" SupplementaryGroups):$(unit_value "$SHIP" CapabilityBoundingSet)" \
    "root:corridor:" "anchor-ship: root, group corridor, no capability"
grep -q '^    install -d -o corridor -g corridor -m 2770 /var/lib/corridor$' "$SRC/docs/security.md" ||
    fail "docs/security.md makes the state directory otherwise"

test_case "install: corridor:corridor 2770, init as corridor, the store opened to the group"
install -d -o $D -g $G -m 2770 "$S"
out=$( (umask 022 && exec setpriv --reuid=$D --regid=$G --clear-groups "$CORRIDOR" --state "$S" init) 2>&1) ||
    fail "init as the corridor user: $out"
check_eq "$(stat -c '%a' "$S/corridor.db")" 640 "init writes the store 0640 (umask 027): hence the chmod"
chmod -R g+rwX,o-rwx "$S"
install -o root -g $G -m 0640 /dev/null "$S/corridor.conf"
printf '[records]\nofficers = foi\n[retention]\ndefault = permanent\nplanning = 1y\n' >"$S/corridor.conf"
chown root:$G "$S/corridor.db.audit-anchor"
if chattr +a "$S/corridor.db.audit-anchor" 2>/dev/null; then
    APPEND=1
else
    echo "# this file system has no append-only attribute: chattr +a not tested" >&2
fi
check_eq "$(stat -c '%u:%g %a' "$S")" "$D:$G 2770" "the state directory"
check_eq "$(stat -c '%u:%g %a' "$S/corridor.db" "$S/corridor.conf" "$S/corridor.db.audit-anchor" | tr '\n' ' ')" \
    "$D:$G 660 0:$G 640 0:$G 660 " "the store, the configuration, the anchor file"
check_eq "$(not_shared)" "" "everything in the group, group read-write"
cor group create planning >/dev/null || fail "group create as corridor"
cor import --group planning "$DATA/planning.mbox" >/dev/null || fail "import as corridor"

test_case "the daemon as the unit starts it takes mail, indexes it, renders the archive; all it makes is in the group"
touch "$TMP/before-daemon"
systemd_start || fail "systemd's start"
daemon_start
lmtp_send one || fail "LMTP delivery"
check_eq "$(q "SELECT count(*) FROM messages")" 6 "stored"
wait_for 30 sh -c "[ \$(sqlite3 '$S/corridor.db' \"SELECT count(*) FROM work WHERE kind = 'index'\") = 0 ]" ||
    fail "the index backlog did not empty"
wait_for 30 sh -c "grep -rqs 'one@t921.test' '$S/archive'" || fail "no archive page for the new message"
check "$(find "$S" -newer "$TMP/before-daemon" -user $D | wc -l)" -gt 5
check_eq "$(not_shared)" "" "all in the group; store, index and anchor file group-writable"
check_eq "$(stat -c '%u:%g %a' "$S")" "$D:$G 2770" "the state directory as it was"

test_case "two officers in the group corridor run the records commands, retention run included, beside the daemon"
run $A case open FOI-1 --type foi --received 2024-03-25
run $B foi search --case FOI-1 --add culvert
run $B case note FOI-1 "B reads A's case"
run $A hold place --case FOI-1 --reason "litigation"
run $B hold release 1 --reason "settled"
run $A case export FOI-1 --out "$TMP/out/a.zip" --quiet
run $A retention plan
run $B retention approve 1
# docs/records.md: an officer's retention run cannot rewrite the pages the
# daemon rendered (archive-web/archive.c makes them 0644, folders 0755, so
# UMask=0007 leaves them 0640/0750); it says so, and the admin rebuilds the
# group as the corridor user
page=$(grep -rl 'rota-1@northshire.gov.uk' "$S/archive/g/planning/m" | head -1)
[ -n "$page" ] || fail "no page for a message due"
check_eq "$(officer $B search --json 'id:rota-1@northshire.gov.uk' | wc -l)" 1 "the index finds it before"
_out=$(officer $A retention run 1 --out "$TMP/out/cert.json" 2>&1)
case $_out in *"disposed of 0 "*) fail "nothing disposed of: $_out" ;;
              *"index: removed "*) ;; *) fail "retention run did not write the index: $_out" ;; esac
case $_out in
*"archive: rebuilt g/planning"*) ;;
*"corridor: archive build of planning failed (run 'corridor archive build --group planning'): cannot open '$S/archive.lock': Permission denied"*)
    echo "# report: an officer's retention run cannot rewrite the daemon's archive (0640 pages); cor archive build --group planning did" >&2
    cor archive build --group planning >/dev/null || fail "archive build as corridor" ;;
*) fail "retention run: $_out" ;;
esac
[ -e "$page" ] && fail "the disposed message's page is still there"
check_eq "$(officer $B search --json 'id:rota-1@northshire.gov.uk' | wc -l)" 0 "the index no longer finds it"
run $B audit verify
check_eq "$ok" 9 "commands that succeeded"
check_eq "$(q "SELECT group_concat(DISTINCT login_uid) FROM (SELECT login_uid FROM audit WHERE login_uid != $D ORDER BY login_uid)")" \
    "$A,$B" "each entry has its officer's login"
check_eq "$(not_shared)" "" "after the officers: the same"
out=$(setpriv --reuid=$OUTSIDER --regid=$OUTSIDER --clear-groups "$CORRIDOR" --state "$S" case list 2>&1) &&
    fail "someone outside the group listed cases"
lmtp_send two || fail "LMTP delivery after the officers' commands"
check_eq "$(q "SELECT count(*) FROM messages WHERE message_id = 'two@t921.test'")" 1 "the daemon still stores"

test_case "a restart: systemd's start changes nothing, the daemon and the officers go on"
serve_stop
systemd_start || fail "systemd's start"
daemon_start
lmtp_send three || fail "LMTP delivery after the restart"
ok=0
run $B case note FOI-1 "after the restart"
run $A audit verify
check_eq "$ok" 2 "commands that succeeded"
check_eq "$(stat -c '%u:%g %a' "$S" "$S/corridor.db.audit-anchor" | tr '\n' ' ')" "$D:$G 2770 0:$G 660 " "modes kept"
check_eq "$(not_shared)" "" "everything still the group's"
serve_stop
if [ "$APPEND" = 1 ]; then
    lsattr "$S/corridor.db.audit-anchor" | cut -c1-16 | grep -q a || fail "the anchor file is no longer append-only"
    # the directory given to another group: systemd would give the tree back
    # to corridor:corridor, and cannot give away the append-only anchor file
    chown "$D:$G" "$S/corridor.db.audit-anchor" 2>/dev/null && fail "an append-only file was given away"
    chgrp $OUTSIDER "$S"
    check_eq "$(systemd_start)" "systemd would chown the whole tree" "a start with the directory in another group"
    chgrp $G "$S"
fi

test_case "corridor-anchor-ship as its unit runs it: root without capabilities, through the group corridor"
mkdir -m 0700 "$TMP/ship"
: >"$TMP/offsite"
ship() {
    setpriv --reuid=0 --regid=0 --groups="$1" --inh-caps=-all --bounding-set=-all --no-new-privs \
        env CORRIDOR_ANCHOR_SHIP="cat >>'$TMP/offsite'" sh "$SRC/contrib/corridor-anchor-ship" \
        "$S/corridor.db.audit-anchor" "$TMP/ship/sent"
}
ship $G || fail "corridor-anchor-ship"
check_eq "$(wc -l <"$TMP/offsite")" "$(wc -l <"$S/corridor.db.audit-anchor")" "every line shipped"
chmod 0644 "$TMP/offsite"
out=$(officer $A audit verify --anchor "$TMP/offsite" 2>&1) || fail "verify --anchor: $out"
# without the group (no SupplementaryGroups=) root without capabilities
# cannot even see the file
: >"$TMP/offsite" && rm -f "$TMP/ship/sent"
ship 65534
check_eq "$(wc -l <"$TMP/offsite")" 0 "nothing readable without the group"

test_case "a separate records group: refused without [daemon] trusted_groups, served with it"
RG=$(getent group games | cut -d: -f3) RNAME=games
[ -n "$RG" ] || { RNAME=daemon; RG=$(getent group daemon | cut -d: -f3); }
[ "$APPEND" = 1 ] && chattr -a "$S/corridor.db.audit-anchor"
chgrp -R "$RG" "$S" && chmod 2770 "$S"
out=$( (umask "$UMASK" && exec setpriv --reuid=$D --regid=$G --groups="$RG" "$CORRIDOR" --state "$S" \
        serve --lmtp "unix:$SOCK" --no-outbound --no-digests) 2>&1)
case $out in *"the state directory '$S' is writable by group '$RNAME' (mode 2770), which is not corridor's group"*) ;;
             *) fail "not refused: $out" ;; esac
printf '[daemon]\ntrusted_groups = %s\n' "$RNAME" >>"$S/corridor.conf"
_starts=$(grep -c 'info: ready (pid' "$TMP/serve.log")
(umask "$UMASK" && exec setpriv --reuid=$D --regid=$G --groups="$RG" --inh-caps=-all "$CORRIDOR" --state "$S" \
    serve --lmtp "unix:$SOCK" --no-outbound --no-digests) >>"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
wait_for 20 sh -c "[ \$(grep -c 'info: ready (pid' '$TMP/serve.log') -gt $_starts ]" || fail "not served with trusted_groups"
out=$( (umask 022 && exec setpriv --reuid=$A --regid=$A --groups="$RG" "$CORRIDOR" --state "$S" \
        case note FOI-1 "a records group officer") 2>&1) || fail "officer in the records group: $out"
lmtp_send four || fail "LMTP delivery"
check_eq "$(find "$S" ! -group "$RG" | wc -l)" 0 "everything in the records group"
serve_stop
test_done
