# tests/lib-daemon.sh — start and stop `corridor serve` in a test (sourced
# after tests/lib.sh).  The daemon runs on "$TMP/state" with its log in
# "$TMP/serve.log" (appended to across restarts).
#
#   serve_start [SERVE ARGS...]   start, wait until it is ready; sets SERVE_PID
#   serve_stop                    SIGTERM, wait; sets SERVE_RC (exit status) and
#                                 fails the open case unless it is 0 (under ASan,
#                                 a leak or an error makes it non-zero)
#   serve_kill                    SIGKILL, wait
#   wait_for SECONDS CMD...       poll CMD every 0.1 s until it succeeds

SERVE_PID=
SERVE_RC=

wait_for() {
    _limit=$1; shift
    _i=0
    while ! "$@" >/dev/null 2>&1; do
        _i=$((_i + 1))
        [ "$_i" -ge $((_limit * 10)) ] && return 1
        sleep 0.1
    done
    return 0
}

_serve_ready() {
    # the "ready" line of this start (the log is shared across restarts)
    [ "$(grep -c 'info: ready (pid' "$TMP/serve.log")" -gt "$_serve_starts" ]
}

serve_start() {
    _serve_starts=$(grep -c 'info: ready (pid' "$TMP/serve.log" 2>/dev/null || echo 0)
    "$CORRIDOR" --state "$TMP/state" serve "$@" >>"$TMP/serve.log" 2>&1 &
    SERVE_PID=$!
    if ! wait_for 20 _serve_ready; then
        echo "# corridor serve did not start:" >&2
        tail -5 "$TMP/serve.log" | sed 's/^/#   /' >&2
        return 1
    fi
}

serve_stop() {
    [ -n "$SERVE_PID" ] || return 0
    kill -TERM "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID"
    SERVE_RC=$?
    SERVE_PID=
    if [ "$SERVE_RC" != 0 ]; then
        fail "corridor serve exited $SERVE_RC"
        grep -A20 'Sanitizer' "$TMP/serve.log" | head -30 | sed 's/^/#   /' >&2
    fi
}

serve_kill() {
    [ -n "$SERVE_PID" ] || return 0
    kill -KILL "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
    SERVE_PID=
}

# on exit, never leave a daemon behind
trap 'serve_kill; rm -rf "$TMP"' EXIT
