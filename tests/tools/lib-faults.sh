# tests/tools/lib-faults.sh — helpers for the fault-injection tests
# (tests/T930–T949; docs/faults.md).  Sourced after tests/lib.sh and
# tests/lib-daemon.sh:
#
#   . "$SRC/tests/tools/lib-faults.sh"
#   faults_need_root                     Bail out unless we may mount
#   faults_mount_tmpfs DIR SIZE          a tmpfs of SIZE (e.g. 512k) at DIR,
#                                        keeping what DIR held; unmounted at exit
#   faults_resize DIR SIZE               grow (or shrink) that tmpfs
#   faults_fill DIR                      fill the file system of DIR (a file
#                                        DIR/.filler); faults_unfill DIR frees it
#   faults_ro_bind DIR                   DIR read-only (a read-only bind mount
#                                        on itself: root ignores chmod);
#                                        faults_unbind DIR makes it writable again
#   faults_message FILE MESSAGE-ID KB [SUBJECT] [REFERENCES]
#                                        a message of about KB kilobytes
#   faults_messages DIR PREFIX N KB      N of them at once: DIR/PREFIXi.eml,
#                                        Message-ID PREFIXi@council.test
#   faults_lmtp TARGET RCPT FILE...      deliver over LMTP; prints one reply a file
#   q SQL                                the store's answer to SQL
#   faults_sql N SQL / faults_sql_ge N SQL   for wait_for: the query's value = N / >= N
#   faults_relay_start PORT DIR MODEFILE [MODE]
#                                        tests/tools/smtp_fault.py as the relay
#                                        on PORT, keeping mail in DIR, switched
#                                        by MODEFILE (MODE written first; default
#                                        ok); returns once it listens (1 if it
#                                        does not); faults_cleanup stops it
#   faults_config RELAYPORT [LINE...]    $TMP/state/corridor.conf: LMTP on
#                                        unix:$TMP/lmtp.sock for lists.test,
#                                        staff_domains council.test, the relay
#                                        on RELAYPORT (retry 1s, timeout 5s, 4
#                                        connections); each LINE ("[section]" or
#                                        "key = value") adds a setting or
#                                        replaces one of these
#   faults_group GROUP NAME...           GROUP with the members NAME@council.test;
#                                        prints what faults_copies prints once
#                                        each of them has one copy
#   faults_copies MESSAGE-ID             the relay's copies of a message, per
#                                        recipient: "a@council.test=1 b@...=2 "
#   faults_queued                        the copies in the outbox
#   faults_outbox_empty                  for wait_for: 0 once the outbox is empty
#   faults_archive_same                  0 when the daemon's archive equals a
#                                        full build of a copy of the store made
#                                        now in another directory (diff on stderr)
#   faults_cleanup                       unmounts everything, stops the relay
#                                        (the EXIT trap's job)
#
# The trap of a test using these: trap 'serve_kill; faults_cleanup; rm -rf "$TMP"' EXIT

FAULT_MOUNTS=
FAULT_RELAY_PID=
FAULT_RELAY_DIR=

faults_need_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "Bail out! the fault tests mount file systems: run them as root"
        exit 1
    fi
}

faults_cleanup() {
    # the last mounted first
    for _fm in $FAULT_MOUNTS; do
        umount -l "$_fm" 2>/dev/null
    done
    FAULT_MOUNTS=
    [ -n "$FAULT_RELAY_PID" ] && kill "$FAULT_RELAY_PID" 2>/dev/null
    FAULT_RELAY_PID=
}

faults_mount_tmpfs() {
    _fm_dir=$1; _fm_size=$2
    mkdir -p "$_fm_dir"
    _fm_mode=$(stat -c %a "$_fm_dir")
    _fm_keep=$(mktemp -d "$TMP/keep.XXXXXX")
    cp -a "$_fm_dir/." "$_fm_keep/"
    mount -t tmpfs -o "size=$_fm_size,mode=$_fm_mode" tmpfs "$_fm_dir" || return 1
    FAULT_MOUNTS="$_fm_dir $FAULT_MOUNTS"
    cp -a "$_fm_keep/." "$_fm_dir/" 2>/dev/null
    rm -rf "$_fm_keep"
}

faults_resize() {
    mount -o "remount,size=$2" "$1"
}

faults_fill() {
    dd if=/dev/zero of="$1/.filler" bs=64k 2>/dev/null
    # and the last few blocks
    dd if=/dev/zero of="$1/.filler2" bs=1k 2>/dev/null
    return 0
}

faults_unfill() {
    rm -f "$1/.filler" "$1/.filler2"
}

faults_ro_bind() {
    mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || return 1
    FAULT_MOUNTS="$1 $FAULT_MOUNTS"
}

faults_unbind() {
    umount "$1"
}

faults_message() {
    python3 - "$@" <<'PY'
import random, sys
path, mid, kb = sys.argv[1], sys.argv[2], int(sys.argv[3])
subject = sys.argv[4] if len(sys.argv) > 4 else "Fault test " + mid
refs = sys.argv[5] if len(sys.argv) > 5 else ""
rnd = random.Random(mid)
words = ["planning", "road", "closure", "budget", "meeting", "consultation", "housing",
         "school", "library", "parking", "notice", "report", "minutes", "agenda"]
lines, size = [], 0
while size < kb * 1024:
    l = " ".join(rnd.choice(words) for _ in range(11))
    lines.append(l)
    size += len(l) + 1
head = ["From: Ann Example <ann@council.test>", "To: planning@lists.test",
        "Subject: " + subject, "Message-ID: <%s>" % mid,
        "Date: Mon, 23 Nov 2026 10:00:00 +0000"]
if refs:
    head += ["In-Reply-To: <%s>" % refs.split()[-1],
             "References: " + " ".join("<%s>" % r for r in refs.split())]
open(path, "w").write("\n".join(head) + "\n\n" + "\n".join(lines) + "\n")
PY
}

# faults_messages DIR PREFIX N KB : DIR/PREFIX1.eml ... DIR/PREFIXN.eml, Message-IDs
# PREFIXi@council.test (one python start for all of them)
faults_messages() {
    python3 - "$@" <<'PY'
import random, sys
d, prefix, n, kb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
words = ["planning", "road", "closure", "budget", "meeting", "consultation", "housing",
         "school", "library", "parking", "notice", "report", "minutes", "agenda"]
for i in range(1, n + 1):
    mid = "%s%d@council.test" % (prefix, i)
    rnd = random.Random(mid)
    lines, size = [], 0
    while size < kb * 1024:
        l = " ".join(rnd.choice(words) for _ in range(11))
        lines.append(l)
        size += len(l) + 1
    head = ["From: Ann Example <ann@council.test>", "To: planning@lists.test",
            "Subject: Fault test " + mid, "Message-ID: <%s>" % mid,
            "Date: Mon, 23 Nov 2026 10:00:00 +0000"]
    open("%s/%s%d.eml" % (d, prefix, i), "w").write("\n".join(head) + "\n\n" + "\n".join(lines) + "\n")
PY
}

faults_lmtp() {
    _fl_target=$1; _fl_rcpt=$2; shift 2
    python3 "$SRC/tests/tools/lmtp_files.py" "$_fl_target" "$_fl_rcpt" "$@" | cut -f3
}

q() {
    sqlite3 "$TMP/state/corridor.db" "$1"
}

faults_sql() {
    [ "$(sqlite3 "$TMP/state/corridor.db" "$2" 2>/dev/null || echo x)" = "$1" ]
}

faults_sql_ge() {
    _fs_v=$(sqlite3 "$TMP/state/corridor.db" "$2" 2>/dev/null || echo -1)
    [ "$_fs_v" -ge "$1" ] 2>/dev/null
}

faults_relay_start() {
    echo "${4:-ok}" >"$3"
    python3 "$SRC/tests/tools/smtp_fault.py" "$1" "$2" "$3" >"$TMP/relay.out" 2>&1 &
    FAULT_RELAY_PID=$!
    FAULT_RELAY_DIR=$2
    wait_for 10 grep -q ready "$TMP/relay.out"
}

faults_config() {
    python3 - "$TMP/state/corridor.conf" "$TMP/lmtp.sock" "$@" <<'PY'
import sys
path, sock, port, lines = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
conf = {"lmtp": {"listen": "unix:" + sock, "domains": "lists.test"},
        "filters": {"staff_domains": "council.test"},
        "outbound": {"relay": "smtp://127.0.0.1:" + port, "retry": "1s",
                     "timeout": "5s", "connections": "4"}}
section = None
for l in lines:
    if l.startswith("["):
        section = conf.setdefault(l.strip("[] "), {})
    else:
        k, v = l.split("=", 1)
        section[k.strip()] = v.strip()
with open(path, "w") as f:
    for name, keys in conf.items():
        f.write("[%s]\n" % name + "".join("%s = %s\n" % kv for kv in keys.items()))
PY
}

faults_group() {
    _fg_group=$1; shift
    cor group create "$_fg_group" >/dev/null
    for _fg_name in "$@"; do
        cor member add "$_fg_group" "$_fg_name@council.test" >/dev/null
        printf '%s@council.test=1 ' "$_fg_name"
    done
}

faults_copies() {
    grep -l "^Message-ID: <$1>" "$FAULT_RELAY_DIR"/*.msg 2>/dev/null |
        xargs -r sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' | sort | uniq -c |
        awk '{ print $2 "=" $1 }' | tr '\n' ' '
}

faults_queued() {
    q "SELECT count(*) FROM outbox_rcpt"
}

faults_outbox_empty() {
    faults_sql 0 "SELECT count(*) FROM outbox_rcpt"
}

faults_archive_same() {
    _fa=$TMP/rebuild.$$
    rm -rf "$_fa"
    mkdir -p "$_fa"
    sqlite3 "$TMP/state/corridor.db" ".backup '$_fa/corridor.db'" || return 1
    [ -f "$TMP/state/corridor.conf" ] && cp "$TMP/state/corridor.conf" "$_fa/"
    "$CORRIDOR" --state "$_fa" archive build >/dev/null 2>"$_fa.err" || {
        sed 's/^/# rebuild: /' "$_fa.err" >&2
        return 1
    }
    # an archive-restricted the daemon never needed is the same as an empty one
    mkdir -p "$TMP/state/archive-restricted" "$_fa/archive-restricted"
    _fa_rc=0
    for _fa_tree in archive archive-restricted; do
        if ! diff -r "$TMP/state/$_fa_tree" "$_fa/$_fa_tree" >"$_fa.diff" 2>&1; then
            head -5 "$_fa.diff" | sed "s/^/# $_fa_tree: /" >&2
            _fa_rc=1
        fi
    done
    rm -rf "$_fa" "$_fa.err" "$_fa.diff"
    return $_fa_rc
}
