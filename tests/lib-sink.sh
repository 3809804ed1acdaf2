# tests/lib-sink.sh — Postfix's smtp-sink as the outbound relay: it accepts
# every message and writes each one to a file (with X-Mail-Args and
# X-Rcpt-Args headers naming the envelope).  Sourced after tests/lib.sh:
#
#   . "$SRC/tests/lib-sink.sh"
#   SINK_PORT=$(postfix_free_port)      # (lib-postfix.sh) or any free port
#   sink_start "$TMP/sink" "$SINK_PORT"
#   ... corridor serve --relay smtp://127.0.0.1:$SINK_PORT ...
#   sink_wait "$TMP/sink" 5 20          # until 5 messages arrived (20 s at most)
#   sink_stop
#
# Functions: sink_start DIR PORT [ARGS...], sink_stop, sink_count DIR,
# sink_wait DIR COUNT SECS, sink_rcpts DIR, sink_file DIR RCPT [N].

sink_start() {
    _sk_dir=$1; _sk_port=$2; shift 2
    mkdir -p "$_sk_dir" && chmod 0777 "$_sk_dir"
    # -u: smtp-sink refuses to run as root; -d: one file per message
    /usr/sbin/smtp-sink -u nobody -h sink.test "$@" -d "$_sk_dir/%H%M%S." \
        "127.0.0.1:$_sk_port" 512 >>"$_sk_dir.log" 2>&1 &
    SINK_PID=$!
    _sk_i=0
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $_sk_port), 1)" 2>/dev/null; do
        _sk_i=$((_sk_i + 1))
        [ "$_sk_i" -ge 50 ] && { echo "# smtp-sink did not start" >&2; return 1; }
        sleep 0.1
    done
}

sink_stop() {
    [ -n "$SINK_PID" ] || return 0
    kill -TERM "$SINK_PID" 2>/dev/null
    wait "$SINK_PID" 2>/dev/null
    SINK_PID=
}

# sink_count DIR : messages received so far
sink_count() {
    find "$1" -maxdepth 1 -type f | wc -l
}

# sink_wait DIR COUNT SECS : 0 once at least COUNT messages are there
sink_wait() {
    _sk_end=$(($(date +%s) + $3))
    while [ "$(sink_count "$1")" -lt "$2" ]; do
        [ "$(date +%s)" -ge "$_sk_end" ] && return 1
        sleep 0.1
    done
    # let the last file be written completely
    sleep 0.2
}

# sink_rcpts DIR : the envelope recipient of every message, one a line
sink_rcpts() {
    find "$1" -maxdepth 1 -type f -exec sed -n 's/^X-Rcpt-Args: <\(.*\)>.*/\1/p' {} + 2>/dev/null
}

# sink_file DIR RCPT [PATTERN] : the first message to RCPT (whose text has
# PATTERN, when given)
sink_file() {
    for _sk_f in $(grep -l -i -x "X-Rcpt-Args: <$2>" "$1"/* 2>/dev/null); do
        if [ -z "${3:-}" ] || grep -q -- "$3" "$_sk_f"; then
            echo "$_sk_f"
            return 0
        fi
    done
    return 1
}
