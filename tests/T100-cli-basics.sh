#!/bin/sh
# T100 — the command's basics: init, groups, config show, usage errors.
. "$(dirname "$0")/lib.sh"

test_case "init creates the state directory, store and index"
out=$(cor init) || fail "init failed"
check -f "$TMP/state/corridor.db"
check -d "$TMP/state/index"
case $out in "initialised $TMP/state"*) ;; *) fail "unexpected: $out" ;; esac

test_case "init twice is harmless"
cor init >/dev/null || fail "second init failed"

test_case "group create with defaults is public"
cor group create planning --title "Planning and Development" >/dev/null || fail "create failed"
out=$(cor group list --json)
check_eq "$out" '{"name":"planning","title":"Planning and Development","visibility":"public","messages":0,"threads":0,"last_activity":null}'

test_case "group create --visibility private/staff"
cor group create hr --visibility private >/dev/null || fail "create hr"
cor group create intranet --visibility staff >/dev/null || fail "create intranet"
check_eq "$(cor group list --json | wc -l)" 3 "group count"
check_eq "$(cor group list --json | head -1 | cut -c1-13)" '{"name":"hr",' "sorted by name"

test_case "an existing group is refused with a clear error"
err=$(cor group create planning 2>&1); rc=$?
check "$rc" -ne 0
check_eq "$err" "corridor: cannot create group: group 'planning' already exists"

test_case "an invalid group name or visibility is refused"
err=$(cor group create "Bad Name" 2>&1) && fail "accepted a bad name"
case $err in *"invalid group name 'Bad Name'"*) ;; *) fail "message: $err" ;; esac
err=$(cor group create ok --visibility secret 2>&1) && fail "accepted a bad visibility"
case $err in *"invalid visibility 'secret'"*) ;; *) fail "message: $err" ;; esac

test_case "config show prints every tunable with its effective value"
printf '[import]\nbatch = 123\n' >"$TMP/state/corridor.conf"
out=$(cor config show)
echo "$out" | grep -qx 'batch = 123' || fail "batch not shown as 123"
echo "$out" | grep -qx 'default_visibility = public' || fail "default not shown"
echo "$out" | grep -q "^# file: $TMP/state/corridor.conf" || fail "file not named"

test_case "a bad config file is a one-line error naming file and line"
printf '[import]\nbatch = 5\nnonsense\n' >"$TMP/state/corridor.conf"
err=$(cor group list 2>&1); rc=$?
check "$rc" -ne 0
check_eq "$(echo "$err" | wc -l)" 1 "lines"
case $err in "corridor: $TMP/state/corridor.conf: line 3:"*) ;; *) fail "message: $err" ;; esac
rm -f "$TMP/state/corridor.conf"

test_case "--config names a file that must exist"
err=$(cor --config "$TMP/none.conf" group list 2>&1) && fail "accepted a missing config"
case $err in *"$TMP/none.conf"*) ;; *) fail "message: $err" ;; esac

test_case "CORRIDOR_STATE selects the state directory"
out=$(CORRIDOR_STATE="$TMP/state" "$CORRIDOR" group list --json | wc -l)
check_eq "$out" 3

test_case "unknown command and missing store are clear errors"
err=$("$CORRIDOR" --state "$TMP/state" frobnicate 2>&1); rc=$?
check "$rc" -eq 2
check_eq "$err" "corridor: unknown command 'frobnicate' (see 'corridor --help')"
err=$("$CORRIDOR" --state "$TMP/nowhere" group list 2>&1) && fail "no store accepted"
case $err in *"no store in '$TMP/nowhere'"*) ;; *) fail "message: $err" ;; esac

test_done
