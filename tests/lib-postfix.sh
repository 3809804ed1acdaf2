# tests/lib-postfix.sh — a private, real Postfix instance for integration
# tests: smtpd on 127.0.0.1:PORT relays the domains corridor lists in its
# texthash maps to corridor over LMTP.  Sourced after tests/lib.sh:
#
#   . "$(dirname "$0")/lib-postfix.sh"
#   port=$(postfix_free_port)
#   postfix_setup "$TMP/pf" "$port" "$TMP/maps"  # maps: transport, relay_recipient_maps, relay_domains
#   trap 'postfix_stop "$TMP/pf"; rm -rf "$TMP"' EXIT
#   ... corridor writes the maps, listens on $TMP/pf/queue/private/corridor-lmtp (0666) ...
#   postfix_start "$TMP/pf" || fail "postfix start"
#   python3 "$SRC/tests/tools/smtp_submit.py" --port "$port" --from s@x.test --to planning@lists.example.test msg.eml
#   postfix_wait_empty "$TMP/pf" 30; postfix_log_status "$TMP/pf"
#
# Functions: postfix_setup DIR PORT MAPS_DIR, postfix_start DIR, postfix_stop DIR,
# postfix_reload DIR, postfix_flush DIR, postfix_wait_empty DIR SECS,
# postfix_queue_count DIR, postfix_log_status DIR, postfix_log_reply DIR RCPT,
# postfix_wait_status DIR RCPT STATUS SECS, postfix_free_port.
#
# Needs root (postfix's master must start as root).  Everything lives under
# DIR (etc/ queue/ data/ maillog; no spaces in DIR or MAPS_DIR); /etc/postfix
# and /var/spool/postfix are not touched, so several instances (different
# DIRs and ports) can run at once.  texthash maps are read when a Postfix
# process starts: after corridor changes them, call postfix_reload DIR.

# postfix_setup DIR SMTP_PORT MAPS_DIR : writes DIR/etc/{main,master}.cf and
# creates the queue (so DIR/queue/private exists before corridor starts).
postfix_setup() {
    _pf_dir=$1 _pf_port=$2 _pf_maps=$3
    mkdir -p "$_pf_dir/etc" "$_pf_dir/queue" "$_pf_dir/data" "$_pf_maps" || return 1
    _pf_dir=$(cd "$_pf_dir" && pwd) _pf_maps=$(cd "$_pf_maps" && pwd)
    # Postfix wants root-owned, non-group/other-writable config and queue
    # directories; the postfix user (lmtp client) must traverse DIR/queue.
    chown root:root "$_pf_dir" "$_pf_dir/etc" "$_pf_dir/queue" &&
        chmod 0755 "$_pf_dir" "$_pf_dir/etc" "$_pf_dir/queue" || return 1
    # master opens DIR/data/master.lock by absolute path after dropping
    # privileges, so data/ is postfix's and every directory above DIR must be
    # searchable by others (mktemp -d makes 0700 ones: those under $TMPDIR or
    # /tmp get o+x; anything else is left alone and reported).
    chown postfix:postfix "$_pf_dir/data" && chmod 0700 "$_pf_dir/data" || return 1
    _pf_d=$_pf_dir
    while _pf_d=$(dirname "$_pf_d") && [ "$_pf_d" != / ]; do
        [ -n "$(find "$_pf_d" -maxdepth 0 -perm -0001)" ] && continue
        case $_pf_d/ in
        "${TMPDIR:-/tmp}"/* | /tmp/*) chmod o+x "$_pf_d" || return 1 ;;
        *) echo "postfix_setup: $_pf_d is not searchable by the postfix user" >&2; return 1 ;;
        esac
    done
    for _pf_m in transport relay_recipient_maps relay_domains; do
        [ -e "$_pf_maps/$_pf_m" ] || : >"$_pf_maps/$_pf_m"
    done
    cat >"$_pf_dir/etc/main.cf" <<EOF
# private test instance written by tests/lib-postfix.sh
compatibility_level = 3.6
queue_directory = $_pf_dir/queue
data_directory = $_pf_dir/data
maillog_file = $_pf_dir/maillog
maillog_file_prefixes = $_pf_dir
myhostname = pf$_pf_port.corridor-test.invalid
mydomain = corridor-test.invalid
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
readme_directory = no
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no

# corridor's tables, read only from MAPS_DIR
transport_maps = texthash:$_pf_maps/transport
relay_domains = texthash:$_pf_maps/relay_domains
relay_recipient_maps = texthash:$_pf_maps/relay_recipient_maps
recipient_delimiter = +
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_non_fqdn_recipient, reject_unlisted_recipient
smtpd_reject_unlisted_recipient = yes
unknown_relay_recipient_reject_code = 550
# Nothing leaves the box: an address outside relay_domains is refused at
# RCPT (5.7.1); a relay recipient without a transport entry is accepted and
# deferred ("connect to private/no-transport-maps-entry"), not sent by DNS.
# (relay_transport must not be error: or retry:, smtpd would refuse with
# that text before the relay_recipient_maps 550 5.1.1.)  A transport entry
# "*  smtp:[127.0.0.1]:PORT" reroutes everything.
default_transport = error:5.7.1 no outside delivery from the corridor test instance
relay_transport = lmtp:unix:private/no-transport-maps-entry

# deliver bytes as received (plus smtpd's Received: header): no header
# rewriting or dropping (default drops Return-Path, Bcc, Content-Length),
# no added headers, no line folding, no 8bit->QP, no stray CR -> space
message_drop_headers =
local_header_rewrite_clients =
remote_header_rewrite_domain =
always_add_missing_headers = no
disable_mime_output_conversion = yes
cleanup_replace_stray_cr_lf = no
lmtp_line_length_limit = 0
smtp_line_length_limit = 0
smtputf8_enable = no
message_size_limit = 52428800
mailbox_size_limit = 0
virtual_mailbox_limit = 0

# fast retries and short timeouts for tests
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
transport_retry_time = 1s
delay_warning_time = 0
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 1000
lmtp_connect_timeout = 2s
lmtp_lhlo_timeout = 10s
lmtp_mail_timeout = 10s
lmtp_rcpt_timeout = 10s
lmtp_data_init_timeout = 10s
lmtp_data_xfer_timeout = 60s
lmtp_data_done_timeout = 60s
lmtp_quit_timeout = 5s
lmtp_destination_concurrency_limit = 4
lmtp_destination_recipient_limit = 50
EOF
    # Every service chroot = n; the only inet service is smtpd on the port.
    cat >"$_pf_dir/etc/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$_pf_port inet n     -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    # "postfix check" creates the queue directories with their owners/modes.
    postfix -c "$_pf_dir/etc" check >"$_pf_dir/check.log" 2>&1 || {
        cat "$_pf_dir/check.log" >&2
        return 1
    }
}

# postfix_start DIR : starts the instance (returns once master is listening;
# a failure, e.g. the port in use, takes a few seconds and prints the reason).
postfix_start() {
    postfix -c "$1/etc" start >"$1/start.log" 2>&1 || {
        cat "$1/start.log" >&2
        grep -E 'fatal|panic' "$1/maillog" 2>/dev/null | tail -3 >&2
        return 1
    }
}

# postfix_free_port : prints a TCP port free on 127.0.0.1 right now.
postfix_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# postfix_stop DIR : stops it; safe after a failed or partial start, or twice.
postfix_stop() {
    _pf_pid=$(sed -n '1s/[^0-9]//gp' "$1/queue/pid/master.pid" 2>/dev/null)
    # only a live master whose working directory is this queue is ours
    [ -n "$_pf_pid" ] && [ "$(readlink "/proc/$_pf_pid/cwd" 2>/dev/null)" = \
        "$(cd "$1/queue" 2>/dev/null && pwd -P)" ] || return 0
    postfix -c "$1/etc" stop >/dev/null 2>&1
    # master leads a process group: wait until no live (non-zombie) member
    # is left; children reparented to PID 1 may linger as zombies for a while.
    _pf_i=0
    while ps -eo pgid=,stat= | awk -v g="$_pf_pid" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; do
        _pf_i=$((_pf_i + 1))
        if [ "$_pf_i" = 20 ]; then
            kill -TERM "$_pf_pid" 2>/dev/null
        elif [ "$_pf_i" -ge 50 ]; then
            kill -KILL -- "-$_pf_pid" 2>/dev/null
            break
        fi
        sleep 0.1
    done
    return 0
}

# postfix_reload DIR : restarts the daemons so they re-read the maps.
postfix_reload() {
    postfix -c "$1/etc" reload >/dev/null 2>&1
}

# postfix_flush DIR : asks for immediate delivery of the deferred queue.
postfix_flush() {
    postqueue -c "$1/etc" -f
}

# postfix_queue_count DIR : number of messages in the queue.
postfix_queue_count() {
    # postqueue -j prints one JSON object per queued message
    postqueue -c "$1/etc" -j 2>/dev/null | grep -c .
}

# postfix_wait_empty DIR TIMEOUT_SECONDS : 0 once the queue is empty, 1 on timeout.
postfix_wait_empty() {
    _pf_end=$(($(date +%s) + $2))
    while :; do
        _pf_q=$(postqueue -c "$1/etc" -j 2>/dev/null) && [ -z "$_pf_q" ] && {
            sleep 0.2   # let postlogd write the last delivery lines
            return 0
        }
        [ "$(date +%s)" -ge "$_pf_end" ] && return 1
        sleep 0.2
    done
}

# postfix_log_status DIR : one line per delivery attempt in DIR/maillog:
#   QUEUEID MESSAGE-ID RECIPIENT STATUS   (MESSAGE-ID without <>, "-" if none;
#   STATUS as logged: sent, deferred, bounced, expired...)
postfix_log_status() {
    awk '
    / message-id=/ && match($0, /\]: [0-9A-Za-z]+: message-id=/) {
        qid = substr($0, RSTART + 3); sub(/:.*/, "", qid)
        id = substr($0, RSTART + RLENGTH); gsub(/^<|>$/, "", id)
        if (id == "") id = "-"
        mid[qid] = id; next
    }
    / to=</ && / status=/ && match($0, /\]: [0-9A-Za-z]+: to=</) {
        qid = substr($0, RSTART + 3); sub(/:.*/, "", qid)
        rcpt = substr($0, RSTART + RLENGTH); sub(/>.*/, "", rcpt)
        match($0, / status=[A-Za-z]+/)
        st = substr($0, RSTART + 8, RLENGTH - 8)
        print qid, ((qid in mid) ? mid[qid] : "-"), rcpt, st
    }' "$1/maillog" 2>/dev/null
}

# postfix_log_reply DIR RECIPIENT : the reply text logged for each delivery
# attempt to RECIPIENT (the part in parentheses after status=...), one a line.
postfix_log_reply() {
    awk -v want="$2" '
    / to=</ && / status=/ && match($0, /\]: [0-9A-Za-z]+: to=</) {
        rcpt = substr($0, RSTART + RLENGTH); sub(/>.*/, "", rcpt)
        if (tolower(rcpt) != tolower(want)) next
        match($0, / status=[A-Za-z]+ \(/)
        if (RSTART == 0) next
        r = substr($0, RSTART + RLENGTH); sub(/\)$/, "", r)
        print r
    }' "$1/maillog" 2>/dev/null
}

# postfix_wait_status DIR RECIPIENT STATUS TIMEOUT_SECONDS : waits until the
# log shows a delivery attempt to RECIPIENT with STATUS; 1 on timeout.
postfix_wait_status() {
    _pf_end=$(($(date +%s) + $4))
    while :; do
        postfix_log_status "$1" | awk -v r="$2" -v s="$3" \
            'tolower($3) == tolower(r) && $4 == s { f = 1 } END { exit !f }' && return 0
        [ "$(date +%s)" -ge "$_pf_end" ] && return 1
        sleep 0.2
    done
}
