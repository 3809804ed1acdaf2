#!/bin/sh
# make run — build, create ./var, import the sample conversation of a
# fictional council group, then run the daemon on loopback (LMTP on a Unix
# socket and 127.0.0.1) and the archive's HTTP listener in the foreground
# until Ctrl-C.
set -e
cd "$(dirname "$0")/.."
C=./corridor
# run as root (the first `make run`), the demo daemon stays root on purpose
# (docs/security.md: [daemon] user is how a real installation drops it)
export CORRIDOR_ALLOW_ROOT=1
STATE=${CORRIDOR_STATE:-./var}
if [ ! -f "$STATE/corridor.db" ]; then
    $C --state "$STATE" init
fi
if ! $C --state "$STATE" group list --json | grep -q '"name":"planning"'; then
    $C --state "$STATE" group create planning --title "Planning and Development"
fi
for m in "alex.jones@council.example:Alex Jones" "sam.patel@council.example:Sam Patel"; do
    $C --state "$STATE" member add planning "${m%%:*}" --name "${m#*:}" >/dev/null
done
$C --state "$STATE" import --group planning tests/data/sample/planning.mbox
$C --state "$STATE" archive build
PORT=${CORRIDOR_LMTP_PORT:-2424}
HTTP=${CORRIDOR_HTTP_PORT:-8080}
SINK=${CORRIDOR_SINK_PORT:-2525}
# the members' copies go to Postfix's smtp-sink, which keeps each one as a
# file in $SENT/ (nothing leaves the machine; outside the state directory,
# which only corridor's user may enter, as smtp-sink runs as nobody)
SENT=${STATE%/}-sent
mkdir -p "$SENT"
chmod 0777 "$SENT"
SU=
[ "$(id -u)" = 0 ] && SU="-u nobody"
/usr/sbin/smtp-sink $SU -d "$SENT/%Y%m%d-%H%M%S." "127.0.0.1:$SINK" 64 &
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null' EXIT INT TERM
cat <<EOF2

corridor's state is in $STATE (store: $STATE/corridor.db, index: $STATE/index).
The group 'planning' holds a fictional council conversation.

The daemon is starting in the foreground (Ctrl-C stops it).
  LMTP socket:  $STATE/lmtp.sock
  LMTP on TCP:  127.0.0.1:$PORT
  archive:      http://127.0.0.1:$HTTP/   (files in $STATE/archive, kept current)
  search:       http://127.0.0.1:$HTTP/search?q=flood
  members' copies: $SENT/ (the group's two demo members; relay: smtp-sink on 127.0.0.1:$SINK)

In another terminal, post to the group and find it again:

  swaks --server 127.0.0.1:$PORT --protocol LMTP --from you@council.example \\
        --to planning@lists.council.example --header 'Subject: Ward boundaries' \\
        --body 'Has anyone got the 2024 ward boundary map?'
  ls $SENT/                      # one copy per member, with List-* headers
  ./corridor --state $STATE status
  ./corridor --state $STATE search 'ward boundary'
  ./corridor --state $STATE search flood
  ./corridor --state $STATE search 'from:sian subject:rota'
  ./corridor --state $STATE threads --group planning --json
  ./corridor --state $STATE thread <message-id from a search>

EOF2
$C --state "$STATE" serve --lmtp "unix:$STATE/lmtp.sock" --lmtp "127.0.0.1:$PORT" \
    --http "127.0.0.1:$HTTP" --relay "smtp://127.0.0.1:$SINK"
