#!/bin/sh
# make run — for now (issue 2): build, create ./var, import the sample
# conversation of a fictional council group, and print how to search it.
# The LMTP daemon and the archive arrive with the next issues.
set -e
cd "$(dirname "$0")/.."
C=./corridor
STATE=${CORRIDOR_STATE:-./var}
if [ ! -f "$STATE/corridor.db" ]; then
    $C --state "$STATE" init
fi
if ! $C --state "$STATE" group list --json | grep -q '"name":"planning"'; then
    $C --state "$STATE" group create planning --title "Planning and Development"
fi
$C --state "$STATE" import --group planning tests/data/sample/planning.mbox
cat <<EOF2

corridor's state is in $STATE (store: $STATE/corridor.db, index: $STATE/index).
The group 'planning' holds a fictional council conversation. Try:

  ./corridor --state $STATE group list
  ./corridor --state $STATE search flood
  ./corridor --state $STATE search 'from:sian subject:rota'
  ./corridor --state $STATE search --json 'date:2025-03-17..2025-03-18'
  ./corridor --state $STATE threads --group planning --json
  ./corridor --state $STATE thread <message-id from a search>
  ./corridor --state $STATE show <message-id>

EOF2
