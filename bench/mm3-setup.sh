#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bench/mm3-setup.sh — a private Mailman 3 instance for bench/lmtp.sh.
#
#   sh bench/mm3-setup.sh [start] DIR [PORT]   install (if needed), set up, start
#   sh bench/mm3-setup.sh stop DIR             stop it (and its smtp-sink)
#   sh bench/mm3-setup.sh status DIR           exit 0 if its LMTP port answers
#
# Everything lives under DIR: its own mailman.cfg (passed with -C to every
# mailman command, so /etc/mailman3/mailman.cfg is never read), the SQLite
# database, queues, logs, locks, archives and the pid file.  The system's
# /var/lib/mailman3 and its ports (LMTP 8024, REST 8001) are not touched.
#
# Ports (all on 127.0.0.1): LMTP runner PORT (default 18024), REST runner
# PORT+1, and Postfix's smtp-sink on PORT+2 as the outgoing "MTA", so Mailman
# never needs a real MTA.  The script fails if one of them is taken.
#
# The instance has one list, bench@lists.example.test, set up like an open
# archive of a public list: posts from non-members are accepted (a real list
# archive like linux-mips gets mail from anyone), and the stock "prototype"
# archiver is on, so every accepted post ends up in a maildir under
# DIR/var/archives/prototype/bench@lists.example.test (the count of stored
# messages).  There are no members, so the outgoing runner delivers nothing.
#
# Installing: the Debian package mailman3 (SQLite, no recommends).  Debian's
# maintainer script would start the system's own Mailman; if no
# /usr/sbin/policy-rc.d forbids that already, one is put in place for the
# length of the apt-get call and removed afterwards, so the system instance
# stays stopped.  Run as root, the script runs Mailman as Debian's "list"
# user (who then owns DIR), as the system service does; Mailman refuses to run
# as root unless told to.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
LIST=bench@lists.example.test
MAILMAN=/usr/bin/mailman
SINK=/usr/sbin/smtp-sink

say() { printf 'mm3-setup: [%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'mm3-setup: error: %s\n' "$*" >&2; exit 2; }
usage() { die "usage: $0 [start] DIR [PORT] | stop DIR | status DIR"; }

cmd=start
case ${1:-} in
start|stop|status) cmd=$1; shift ;;
'') usage ;;
esac
[ $# -ge 1 ] || usage
mkdir -p "$1"
D=$(cd "$1" && pwd)
CFG=$D/mailman.cfg
PY=/usr/bin/python3    # Debian's python, whatever python3 is first on PATH

# As root, Mailman runs as Debian's "list" user (as the system service does),
# which then owns DIR; without that user it runs as root with --run-as-root
# (then its nntp runner logs that "mailman gatenews" refused to run as root).
RUNAS=
if [ "$(id -u)" = 0 ] && id list >/dev/null 2>&1; then
	RUNAS=list
fi
mm() {
	if [ -n "$RUNAS" ]; then
		runuser -u "$RUNAS" -- env ${PYTHONPATH:+PYTHONPATH="$PYTHONPATH"} \
			"$MAILMAN" -C "$CFG" "$@"
	elif [ "$(id -u)" = 0 ]; then
		"$MAILMAN" -C "$CFG" --run-as-root "$@"
	else
		"$MAILMAN" -C "$CFG" "$@"
	fi
}

# lmtp_answers PORT: true if something on 127.0.0.1:PORT says "220"
lmtp_answers() {
	"$PY" - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)
ok = s.recv(512).startswith(b'220')
try:
    s.sendall(b'QUIT\r\n'); s.recv(512)
except OSError:
    pass
sys.exit(0 if ok else 1)
EOF
}

port_free() {
	"$PY" - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
try:
    s.connect(('127.0.0.1', int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}

cfg_port() { sed -n 's/^lmtp_port: *//p' "$CFG" 2>/dev/null; }

master_pid() {
	[ -r "$D/var/master.pid" ] || return 1
	_p=$(cat "$D/var/master.pid")
	[ -n "$_p" ] && kill -0 "$_p" 2>/dev/null && echo "$_p"
}

# -- stop / status ------------------------------------------------------------

if [ "$cmd" = stop ]; then
	if [ -r "$CFG" ] && pid=$(master_pid); then
		say "stopping Mailman (master pid $pid)"
		mm stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
		if kill -0 "$pid" 2>/dev/null; then
			say "master $pid still running after 30 s; sending SIGKILL to it"
			kill -9 "$pid" 2>/dev/null || true
		fi
	else
		say "no Mailman running from $D"
	fi
	if [ -r "$D/smtp-sink.pid" ]; then
		kill "$(cat "$D/smtp-sink.pid")" 2>/dev/null || true
		rm -f "$D/smtp-sink.pid"
	fi
	exit 0
fi
if [ "$cmd" = status ]; then
	p=$(cfg_port)
	[ -n "$p" ] && lmtp_answers "$p"
	exit $?
fi

PORT=${2:-18024}
case $PORT in ''|*[!0-9]*) die "PORT must be a number, not '$PORT'";; esac
REST_PORT=$((PORT + 1))
SMTP_PORT=$((PORT + 2))

# -- install ------------------------------------------------------------------

if [ ! -x "$MAILMAN" ] || [ ! -x "$SINK" ]; then
	[ "$(id -u)" = 0 ] || die "mailman3 or postfix is missing: apt-get install mailman3 postfix"
	added_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# mm3-setup.sh: keep apt from starting services\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		added_policy=1
	fi
	debconf-set-selections <<'EOF'
mailman3 mailman3/dbconfig-install boolean false
mailman3 mailman3/database-type select sqlite3
mailman3 mailman3/config_hyperkitty boolean false
EOF
	pkgs=
	[ -x "$MAILMAN" ] || pkgs=mailman3
	[ -x "$SINK" ] || pkgs="$pkgs postfix"
	say "installing Debian packages:$pkgs (takes a minute or two)"
	rc=0
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs \
		> "$D/apt-get.log" 2>&1 || rc=$?
	[ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
	[ $rc = 0 ] || { tail -n 20 "$D/apt-get.log" >&2; die "apt-get install$pkgs failed"; }
fi
version=$(dpkg-query -W -f '${Version}' mailman3 2>/dev/null || echo '?')

# -- already running? ---------------------------------------------------------

if [ -r "$CFG" ] && pid=$(master_pid); then
	if [ "$(cfg_port)" = "$PORT" ] && lmtp_answers "$PORT"; then
		say "Mailman $version already running from $D (master $pid), LMTP 127.0.0.1:$PORT"
		exit 0
	fi
	die "a Mailman is running from $D with another port; run: $0 stop $D"
fi

for p in $PORT $REST_PORT $SMTP_PORT; do
	port_free "$p" || die "port 127.0.0.1:$p is in use (LMTP PORT, PORT+1 for REST and PORT+2 for smtp-sink must be free)"
done

# -- configuration --------------------------------------------------------------

mkdir -p "$D/var"
pass=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
cat > "$CFG" <<EOF
# Written by bench/mm3-setup.sh: a private Mailman instance for benchmarks.
[mailman]
site_owner: bench-owner@lists.example.test
layout: bench

[paths.bench]
# everything below var_dir, nothing in /var/lib/mailman3 or /etc/mailman3
var_dir: $D/var
bin_dir: /usr/lib/mailman3/bin
pid_file: $D/var/master.pid

[database]
class: mailman.database.sqlite.SQLiteDatabase
url: sqlite:///\$DATA_DIR/mailman.db

[webservice]
hostname: 127.0.0.1
port: $REST_PORT
admin_user: restadmin
admin_pass: $pass

[mta]
# no MTA: nothing to regenerate on list creation, outgoing to smtp-sink
incoming: mailman.mta.null.NullMTA
outgoing: mailman.mta.deliver.deliver
smtp_host: 127.0.0.1
smtp_port: $SMTP_PORT
lmtp_host: 127.0.0.1
lmtp_port: $PORT

[archiver.prototype]
# the stock archiver that writes every accepted post into a maildir
enable: yes
EOF

# the list settings, applied with "mailman withlist -r mm3_bench.configure"
cat > "$D/mm3_bench.py" <<'EOF'
from mailman.config import config
from mailman.interfaces.action import Action


def configure(mlist):
    # an open archive of a public list: accept posts from anyone
    mlist.default_nonmember_action = Action.accept
    mlist.default_member_action = Action.accept
    mlist.max_message_size = 0          # default 40 KB would hold big posts
    config.db.commit()
    print('configured', mlist.fqdn_listname)
EOF

# Re-check: the "list" user exists only once mailman3 is installed.
if [ "$(id -u)" = 0 ] && id list >/dev/null 2>&1; then
	RUNAS=list
	chown -R list:list "$D"
fi

# -- smtp-sink as the outgoing MTA ----------------------------------------------

if [ -x "$SINK" ]; then
	sink_user=
	[ "$(id -u)" = 0 ] && sink_user="-u nobody"
	# shellcheck disable=SC2086
	"$SINK" $sink_user -c "127.0.0.1:$SMTP_PORT" 64 > "$D/smtp-sink.log" 2>&1 &
	echo $! > "$D/smtp-sink.pid"
fi

# -- list and start -------------------------------------------------------------

if ! mm lists -q 2>/dev/null | grep -qx "$LIST"; then
	say "creating $LIST"
	mm create "$LIST" > "$D/create.log" 2>&1 || { cat "$D/create.log" >&2; die "mailman create failed"; }
fi
PYTHONPATH=$D mm withlist -l "$LIST" -r mm3_bench.configure > "$D/withlist.log" 2>&1 ||
	{ cat "$D/withlist.log" >&2; die "mailman withlist (list settings) failed"; }

say "starting Mailman $version from $D (LMTP 127.0.0.1:$PORT, REST $REST_PORT, smtp-sink $SMTP_PORT)"
mm start --force > "$D/start.log" 2>&1 || { cat "$D/start.log" >&2; die "mailman start failed"; }
i=0
until lmtp_answers "$PORT"; do
	i=$((i + 1))
	if [ $i -gt 600 ]; then
		tail -n 20 "$D/var/logs/mailman.log" >&2 2>/dev/null || true
		die "Mailman's LMTP runner did not answer on 127.0.0.1:$PORT within 60 s"
	fi
	sleep 0.1
done
say "Mailman answers on 127.0.0.1:$PORT after $((i / 10)).$((i % 10)) s; stop it with: sh $here/mm3-setup.sh stop $D"
