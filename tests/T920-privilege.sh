#!/bin/sh
# T920 — privilege and exposure (issue 9 item 5; docs/security.md,
# core/privilege.h).  Run as root, as the suite is:
#  - `corridor init` with [daemon] user makes a state directory that user owns;
#  - `corridor serve` started as root binds its Unix and TCP LMTP listeners
#    and its HTTP listener, then runs as [daemon] user (nobody): every id of
#    every thread, the group list, no capabilities, no_new_privs, read from
#    /proc/PID; it still takes mail on both listeners and serves the archive,
#    reloads on SIGHUP and stops cleanly, and every file it made is nobody's;
#  - socket activation (systemd-socket-activate) with the same drop;
#  - started as root without [daemon] user it refuses, naming the override;
#    CORRIDOR_ALLOW_ROOT=1 runs it as root;
#  - a world-writable state directory, store, configuration file or
#    configuration directory (without the sticky bit), a group-writable one
#    of a group not trusted, a store its user cannot write: refused with the
#    path and its mode, before anything is bound;
#  - LMTP and HTTP listen addresses beyond loopback are refused unless
#    [lmtp] / [http] allow_remote = true.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/lib-daemon.sh"
unset CORRIDOR_ALLOW_ROOT   # the rules themselves, not the suite's permission (lib.sh)
if [ "$(id -u)" != 0 ]; then
    echo "ok 1 # skip T920 needs root"
    exit 0
fi
chmod 0711 "$TMP"           # nobody passes through to the state directory
S=$TMP/state
PORT=$((20000 + $$ % 20000))
HPORT=$((PORT + 1))
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
NOGROUP_NAME=$(id -gn nobody)

perms() { stat -c '%U:%G %a' "$1"; }
# proc PID FIELD: the values of a /proc/PID/status line, space separated
proc() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
# as nobody, as an admin runs the other commands (docs/security.md)
asnobody() { setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$CORRIDOR" --state "$S" "$@"; }
# conf LINES... : the state directory's configuration, root's, mode 0644
conf() {
    printf '%s\n' "$@" >"$S/corridor.conf"
    chmod 0644 "$S/corridor.conf"
}
BASE="[daemon]
user = nobody"
LISTEN="[lmtp]
listen = unix:$S/lmtp.sock, 127.0.0.1:$PORT
[http]
listen = 127.0.0.1:$HPORT"
# try ARGS... : corridor --state $S ARGS... that must refuse: sets OUT (its
# stderr) and RC; a daemon that starts by mistake is stopped after 10 s
try() {
    rm -f "$S/lmtp.sock"
    OUT=$(timeout 10 "$CORRIDOR" --state "$S" "$@" 2>&1 >/dev/null)
    RC=$?
}
# starts ARGS... : corridor --state $S ARGS... gets ready, then stops with
# SIGTERM and exit status 0
starts() {
    : >"$TMP/try.log"
    "$CORRIDOR" --state "$S" "$@" >"$TMP/try.log" 2>&1 &
    _p=$!
    if wait_for 20 grep -q 'info: ready' "$TMP/try.log"; then
        kill -TERM "$_p"
        wait "$_p"
        return $?
    fi
    kill -KILL "$_p" 2>/dev/null
    wait "$_p" 2>/dev/null
    tail -3 "$TMP/try.log" | sed 's/^/#   /' >&2
    return 1
}
# lmtp_send TARGET ID : one message to planning@ over unix:PATH or HOST:PORT
lmtp_send() {
    python3 - "$1" "$2" <<'PY'
import smtplib, sys
target, mid = sys.argv[1], sys.argv[2]
if target.startswith("unix:"):
    l = smtplib.LMTP(target[5:])
else:
    host, port = target.rsplit(":", 1)
    l = smtplib.LMTP(host, int(port))
l.ehlo("t920.test")
msg = ("From: Alice <alice@council.test>\r\nTo: planning@lists.test\r\nSubject: T920 %s\r\n"
       "Message-ID: <%s@t920.test>\r\n\r\nDelivered to a daemon that dropped root.\r\n"
       % (mid, mid)).encode()
refused = l.sendmail("alice@council.test", ["planning@lists.test"], msg)
assert not refused, refused
l.quit()
print("sent")
PY
}
stored() { sqlite3 "$S/corridor.db" "SELECT count(*) FROM messages WHERE message_id LIKE '$1@t920.test'"; }

test_case "init as root with [daemon] user makes a state directory that user owns (0750, files 0640)"
printf '%s\n' "$BASE" >"$TMP/init.conf"
cor --config "$TMP/init.conf" init >/dev/null || fail "init"
check_eq "$(perms "$S")" "nobody:$NOGROUP_NAME 750" "state directory"
check_eq "$(perms "$S/corridor.db")" "nobody:$NOGROUP_NAME 640" "store"
check_eq "$(find "$S" ! -user nobody | wc -l)" 0 "everything nobody's"
asnobody group create planning >/dev/null || fail "group create as nobody"
test_done

test_case "started as root with [daemon] user = nobody, serve binds, then runs as nobody"
conf "$BASE" "$LISTEN"
serve_start --no-outbound --no-digests || fail "did not start"
P=$SERVE_PID
check_eq "$(proc "$P" Uid)" "$NOBODY $NOBODY $NOBODY $NOBODY" "Uid"
check_eq "$(proc "$P" Gid)" "$NOGROUP $NOGROUP $NOGROUP $NOGROUP" "Gid"
check_eq "$(proc "$P" Groups)" "$NOGROUP" "Groups"
check_eq "$(proc "$P" CapEff) $(proc "$P" CapPrm) $(proc "$P" CapInh)" \
    "0000000000000000 0000000000000000 0000000000000000" "capabilities"
check_eq "$(proc "$P" NoNewPrivs)" 1 "no_new_privs"
threads=0
for t in /proc/"$P"/task/*; do
    threads=$((threads + 1))
    check_eq "$(awk '$1 == "Uid:" { print $2 $3 $4 $5 }' "$t/status")" "$NOBODY$NOBODY$NOBODY$NOBODY" "thread $t"
done
check "$threads" -gt 3
grep -q "info: bound as root, now running as user 'nobody' (uid $NOBODY) and group '$NOGROUP_NAME' (gid $NOGROUP)" \
    "$TMP/serve.log" || fail "no log line for the drop"
test_done

test_case "it takes mail on its Unix socket and on TCP, as nobody"
check_eq "$(lmtp_send "unix:$S/lmtp.sock" unix 2>&1)" sent "unix"
check_eq "$(lmtp_send "127.0.0.1:$PORT" tcp 2>&1)" sent "tcp"
check_eq "$(stored unix) $(stored tcp)" "1 1" "stored"
check_eq "$(perms "$S/lmtp.sock")" "nobody:$NOGROUP_NAME 660" "the socket is nobody's"
test_done

test_case "it serves the archive over HTTP, kept current by its renderer"
wait_for 20 sh -c "curl -sf http://127.0.0.1:$HPORT/g/planning/ | grep -q 'T920 tcp'" ||
    fail "the new message is not on the group page"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/")" 200 "/"
test_done

test_case "everything it made belongs to nobody; SIGHUP reloads; SIGTERM stops cleanly"
left=$(find "$S" ! -user nobody ! -path "$S/corridor.conf")
check_eq "$left" "" "files not nobody's"
check -d "$S/archive/g/planning"
kill -HUP "$SERVE_PID"
wait_for 10 grep -q 'configuration reloaded' "$TMP/serve.log" || fail "no reload"
serve_stop
check ! -e "$S/lmtp.sock"
check ! -e "$S/serve.pid"
test_done

test_case "a file left in the state directory by root is named in a warning at start"
touch "$S/archive/left-by-root.html"
starts serve --no-outbound --no-digests || fail "did not start"
grep -q "warning: '$S/archive/left-by-root.html' does not belong to user 'nobody', which may fail to change it: chown -R nobody:$NOGROUP_NAME '$S'" \
    "$TMP/try.log" || fail "no warning: $(grep warning "$TMP/try.log")"
rm "$S/archive/left-by-root.html"
test_done

test_case "socket activation (systemd-socket-activate) with the same drop"
conf "$BASE"
python3 - "$TMP/act.sock" "$CORRIDOR" "$S" <<'PY' >"$TMP/act.out" 2>&1 || fail "activation: $(cat "$TMP/act.out")"
import os, signal, socket, subprocess, sys, time
sock_path, corridor, state = sys.argv[1:4]
notify = os.path.dirname(sock_path) + "/notify.sock"
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
n.bind(notify)
os.chmod(notify, 0o777)            # as systemd's: the daemon is nobody by then
n.settimeout(10)
p = subprocess.Popen(["systemd-socket-activate", "-l", sock_path, "--fdname=lmtp",
                      "-E", "NOTIFY_SOCKET=" + notify, corridor, "--state", state, "serve",
                      "--no-outbound", "--no-digests"], stderr=open(state + "/../act.log", "w"))
for _ in range(100):
    if os.path.exists(sock_path):
        break
    time.sleep(0.1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.settimeout(10)
c.connect(sock_path)
while b"READY=1" not in n.recv(4096):
    pass
status = open("/proc/%d/status" % p.pid).read()
uid = [l.split()[1:] for l in status.splitlines() if l.startswith("Uid:")][0]
assert uid == [str(os.stat(state).st_uid)] * 4, uid
f = c.makefile("rwb")
def reply():
    while True:
        l = f.readline().decode().rstrip()
        if len(l) < 4 or l[3] != "-":
            return l
assert reply().startswith("220")
for cmd in ("LHLO sd.test", "MAIL FROM:<sd@council.test>", "RCPT TO:<planning@lists.test>", "DATA"):
    f.write(cmd.encode() + b"\r\n"); f.flush(); reply()
f.write(b"Subject: activated\r\nMessage-ID: <act@t920.test>\r\n\r\nhi\r\n.\r\n"); f.flush()
r = reply()
assert r.startswith("250"), r
f.write(b"QUIT\r\n"); f.flush(); reply()
p.send_signal(signal.SIGTERM)
assert p.wait(timeout=20) == 0
print("ok")
PY
check_eq "$(stored act)" 1 "stored"
test_done

test_case "started as root without [daemon] user it refuses, naming the way out"
conf "$LISTEN"
try serve --no-outbound --no-digests
check_eq "$RC" 1 "exit status"
check_eq "$OUT" "corridor: cannot start: refusing to run as root: set [daemon] user (e.g. 'corridor') to the user to switch to once the listeners are bound, or start corridor as that user (systemd: User=); [daemon] user = root or CORRIDOR_ALLOW_ROOT=1 runs it as root anyway"
check ! -e "$S/lmtp.sock"
conf "[daemon]" "user = no-such-corridor-user"
try serve
check_eq "$OUT" "corridor: cannot start: [daemon] user: there is no user 'no-such-corridor-user' (create it: adduser --system --group no-such-corridor-user)"
test_done

test_case "CORRIDOR_ALLOW_ROOT=1 (or [daemon] user = root) runs it as root, with a warning"
R=$TMP/rootstate
"$CORRIDOR" --state "$R" init >/dev/null || fail "init"
"$CORRIDOR" --state "$R" group create planning >/dev/null
CORRIDOR_ALLOW_ROOT=1 "$CORRIDOR" --state "$R" serve --no-outbound --no-digests >"$TMP/root.log" 2>&1 &
rp=$!
wait_for 20 grep -q 'info: ready' "$TMP/root.log" || fail "did not start"
check_eq "$(proc "$rp" Uid)" "0 0 0 0" "Uid"
grep -q 'warning: running as root (\[daemon\] user is empty, CORRIDOR_ALLOW_ROOT=1)' "$TMP/root.log" ||
    fail "no warning"
kill -TERM "$rp"; wait "$rp" || fail "exit"
printf '[daemon]\nuser = root\n' >"$R/corridor.conf"
S0=$S; S=$R
starts serve --no-outbound --no-digests || fail "user = root did not start"
grep -q 'warning: running as root (\[daemon\] user is root)' "$TMP/try.log" || fail "no warning"
S=$S0
test_done

test_case "a world-writable state directory, store or configuration refuses the start (path and mode)"
conf "$BASE" "$LISTEN"
chmod 0777 "$S"
try serve
check_eq "$OUT" "corridor: cannot start: the state directory '$S' is writable by everyone (mode 0777): chmod o-w '$S'"
check_eq "$RC" 1 "exit status"
check ! -e "$S/lmtp.sock"
chmod 0750 "$S"
chmod 0666 "$S/corridor.db"
try serve
check_eq "$OUT" "corridor: cannot start: the store '$S/corridor.db' is writable by everyone (mode 0666): chmod o-w '$S/corridor.db'"
chmod 0640 "$S/corridor.db"
chmod 0646 "$S/corridor.conf"
try serve
check_eq "$OUT" "corridor: cannot start: the configuration file '$S/corridor.conf' is writable by everyone (mode 0646): chmod o-w '$S/corridor.conf'"
chmod 0644 "$S/corridor.conf"
mkdir "$TMP/etc"
cp "$S/corridor.conf" "$TMP/etc/corridor.conf"
chmod 0777 "$TMP/etc"
try --config "$TMP/etc/corridor.conf" serve
check_eq "$OUT" "corridor: cannot start: the configuration file's directory '$TMP/etc' is writable by everyone (mode 0777): chmod o-w '$TMP/etc'"
# with the sticky bit (as /tmp) nobody can replace a file they do not own
chmod 1777 "$TMP/etc"
starts --config "$TMP/etc/corridor.conf" serve --no-outbound --no-digests || fail "sticky config directory"
test_done

test_case "group-writable by a group not trusted refuses; [daemon] trusted_groups allows it"
chgrp daemon "$S"
chmod 0770 "$S"
try serve
check_eq "$OUT" "corridor: cannot start: the state directory '$S' is writable by group 'daemon' (mode 0770), which is not corridor's group '$NOGROUP_NAME' nor in [daemon] trusted_groups: chmod g-w '$S', or add the group to trusted_groups"
conf "$BASE" "trusted_groups = daemon" "$LISTEN"
starts serve --no-outbound --no-digests || fail "trusted group"
chgrp "$NOGROUP" "$S"
chmod 0750 "$S"
test_done

test_case "a store the user cannot write, or one that belongs to someone else, refuses the start"
conf "$BASE" "$LISTEN"
chown root:root "$S/corridor.db"
chmod 0644 "$S/corridor.db"
try serve
check_eq "$OUT" "corridor: cannot start: the store '$S/corridor.db' belongs to root:root (mode 0644) and corridor's user 'nobody' cannot write it: chown -R nobody:$NOGROUP_NAME '$S/corridor.db'"
chown daemon:"$NOGROUP" "$S/corridor.db"
chmod 0660 "$S/corridor.db"
try serve
check_eq "$OUT" "corridor: cannot start: the store '$S/corridor.db' belongs to user 'daemon' (mode 0660), not to root or corridor's user 'nobody'"
chown nobody:"$NOGROUP" "$S/corridor.db"
chmod 0640 "$S/corridor.db"
test_done

test_case "init refuses an existing world-writable state directory"
mkdir "$TMP/open"
chmod 0777 "$TMP/open"
out=$("$CORRIDOR" --state "$TMP/open" init 2>&1) && fail "init accepted it"
check_eq "$out" "corridor: the state directory '$TMP/open' is writable by everyone (mode 0777): chmod o-w '$TMP/open'"
check ! -e "$TMP/open/corridor.db"
test_done

test_case "LMTP beyond loopback is refused unless [lmtp] allow_remote = true"
conf "$BASE"
try serve --lmtp "0.0.0.0:$PORT"
check_eq "$OUT" "corridor: cannot start: listener '0.0.0.0:$PORT' is not on loopback: LMTP has no authentication (set [lmtp] allow_remote = true to allow it)"
try serve --lmtp "[::]:$PORT"
check_eq "$OUT" "corridor: cannot start: listener '[::]:$PORT' is not on loopback: LMTP has no authentication (set [lmtp] allow_remote = true to allow it)"
starts serve --lmtp "127.0.0.2:$PORT" --no-outbound --no-digests || fail "127.0.0.2 is loopback"
conf "$BASE" "[lmtp]" "allow_remote = true"
"$CORRIDOR" --state "$S" serve --lmtp "0.0.0.0:$PORT" --no-outbound --no-digests >"$TMP/remote.log" 2>&1 &
rp=$!
wait_for 20 grep -q 'info: ready' "$TMP/remote.log" || fail "allow_remote: did not start"
grep -q "listening for LMTP on 0.0.0.0:$PORT" "$TMP/remote.log" || fail "not on 0.0.0.0"
# reachable on this machine's own (non-loopback) address when it has one
ip=$(hostname -I 2>/dev/null | awk '{ print $1 }')
check_eq "$(lmtp_send "${ip:-127.0.0.1}:$PORT" remote 2>&1)" sent "delivery to ${ip:-127.0.0.1}"
kill -TERM "$rp"; wait "$rp" || fail "exit"
test_done

test_case "HTTP beyond loopback is refused unless [http] allow_remote = true"
conf "$BASE"
try serve --http "0.0.0.0:$HPORT"
check_eq "$OUT" "corridor: cannot start: HTTP listen address '0.0.0.0:$HPORT' is not loopback (127.0.0.0/8, [::1]): put nginx or Apache in front, or set [http] allow_remote = true"
try serve --http "[::]:$HPORT"
check_eq "$OUT" "corridor: cannot start: HTTP listen address '[::]:$HPORT' is not loopback (127.0.0.0/8, [::1]): put nginx or Apache in front, or set [http] allow_remote = true"
check ! -e "$S/lmtp.sock"
conf "$BASE" "[http]" "allow_remote = true"
"$CORRIDOR" --state "$S" serve --http "0.0.0.0:$HPORT" --no-outbound --no-digests >"$TMP/remote.log" 2>&1 &
rp=$!
wait_for 20 grep -q 'info: ready' "$TMP/remote.log" || fail "allow_remote: did not start"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://${ip:-127.0.0.1}:$HPORT/")" 200 "GET / on ${ip:-127.0.0.1}"
kill -TERM "$rp"; wait "$rp" || fail "exit"
test_done
