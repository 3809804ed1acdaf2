#!/bin/sh
# T150 — threads, thread trees and show on the sample conversation, with
# answers read off the sample by hand; and the Thread-Index rule on
# hand-made Outlook mail.
. "$(dirname "$0")/lib.sh"
SAMPLE=$SRC/tests/data/sample/planning.mbox
cor init >/dev/null
cor group create planning >/dev/null
cor import --group planning "$SAMPLE" >/dev/null || fail "import"

test_case "the sample has five threads of 4, 5, 5, 4 and 2 messages"
sizes=$(cor threads --group planning --json | python3 -c '
import json,sys
print(" ".join(str(len(json.loads(l)["message_ids"])) for l in sys.stdin))')
check_eq "$sizes" "4 5 5 4 2"

test_case "threads lists message ids oldest first within a thread"
first=$(cor threads --group planning --json | head -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["message_ids"][0])')
check_eq "$first" "b7d2e9c4-31a8-4f6e-9c0b-8e5a7d13f6a2@northshire.gov.uk"

test_case "thread --json nests replies under their parents"
out=$(cor thread --json '<6c0f8b2e-4d7a-4b13-8e9c-5a1d3f7b9c28@northshire.gov.uk>' | python3 -c '
import json,sys
t=json.load(sys.stdin)
def show(n): return n["message_id"][:4] + ("(" + " ".join(show(c) for c in n["children"]) + ")" if n["children"] else "")
print(t["group"], " ".join(show(r) for r in t["roots"]))')
check_eq "$out" "planning 9d3f(A1E4(3e7a(6c0f(F3E8))))"

test_case "a Message-ID works with and without angle brackets"
a=$(cor show '<9d3f5b1a-7e8c-4a2d-b6f0-3c1e9a8d7b52@northshire.gov.uk>' | md5sum)
b=$(cor show '9d3f5b1a-7e8c-4a2d-b6f0-3c1e9a8d7b52@northshire.gov.uk' | md5sum)
check_eq "$a" "$b"

test_case "show decodes RFC 2047 names and prints the text"
out=$(cor show c2a6d8f1-3b9e-47c0-8d15-9e4b7a2c6f38@northshire.gov.uk)
echo "$out" | grep -q '^From: Siân Llewelyn <sian.llewelyn@northshire.gov.uk>' || fail "From not decoded: $(echo "$out" | grep ^From)"
echo "$out" | grep -q '^Subject: Re: Local Plan consultation timetable' || fail "subject"
echo "$out" | grep -q '^Groups: planning' || fail "groups"

test_case "show --raw is byte for byte the original (SHA-256 as stored)"
for id in 9d3f5b1a-7e8c-4a2d-b6f0-3c1e9a8d7b52@northshire.gov.uk A1E4C2B7D9F04A3C8E6B5D2F1C0A9E87@NSDC-EXCH02.northshire.local; do
    got=$(cor show --raw "$id" | sha256sum | cut -d' ' -f1)
    want=$(sqlite3 "$TMP/state/corridor.db" "SELECT sha256 FROM messages WHERE message_id = '$id'")
    check_eq "$got" "$want" "$id"
done

test_case "Thread-Index joins Outlook replies without References, never on the id alone"
cor group create finance >/dev/null
cor import --group finance "$SRC/tests/data/outlook" >/dev/null || fail "import outlook"
out=$(cor threads --group finance --json | python3 -c '
import json,sys
print(" | ".join(" ".join(sorted(m.split("@")[0][9:] for m in json.loads(l)["message_ids"])) for l in sys.stdin))')
check_eq "$out" "budget-1 budget-2 | carpark-1"

test_case "a private group's threads need a member"
cor group create hr --visibility private >/dev/null
cor import --group hr "$SRC/tests/data/outlook/carpark-1.eml" >/dev/null
cor threads --group hr --json >/dev/null 2>&1 && fail "private threads shown to staff"
cor member add hr pat@northshire.gov.uk >/dev/null
check_eq "$(cor threads --group hr --json --as pat@northshire.gov.uk | wc -l)" 1 "member sees it"

test_done
