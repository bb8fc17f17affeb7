#!/bin/bash
# Audio refused by policy on the path of a 1-1 session through the lab: bob's [[user]]
# entry allows him the chat only (media = ["message"]), so csB, his participating function,
# answers alice's re-INVITE adding audio with 488 and a Warning naming csB. alice reports
# the refusal with its status and Warning (--json media "refused"), bob never sees the
# re-INVITE, nobody reports audio added, and the chat goes on both ways.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml"
sed -i '/^uri = "sip:bob@b.example"$/a media = ["message"]' "$lab"
grep -q '^media = \["message"\]$' "$lab" || fail "could not restrict bob's media in $lab"
start_network
start bob cpm-invite --config "$lab" --node bob --answer --count 1 --no-stdin --json \
  --trace "$t/bob.trace"

mkfifo "$t/alice.in"
cpm-invite --config "$lab" --node alice --register --json --trace "$t/alice.trace" \
  sip:bob@b.example <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" &
adopt alice $! "$t/alice.err"
exec 4>"$t/alice.in"
wait_for "$t/alice.out" '"event":"answered"'
printf '/audio\n' >&4
wait_for "$t/alice.out" '"action":"refused"'
printf 'chat goes on\n' >&4
wait_for "$t/bob.out" 'chat goes on'
exec 4>&-
expect_exit alice 0 "alice's exit status"
expect_exit bob 0 "bob's exit status"

expect_json "$t/alice.out" .event media .action refused .media audio .status 488
python3 - "$t/alice.out" <<'PY' || fail "alice's refusal event does not name csB in its warning"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
r = [e for e in ev if e.get("event") == "media" and e.get("action") == "refused"]
assert r and "csB" in r[0].get("warning", ""), r
PY
if grep -F '"action":"added"' "$t/alice.out" "$t/bob.out" >&2; then
  fail "a refused stream was reported added"
fi
# bob's side never saw the re-INVITE.
python3 - "$t/bob.trace" <<'PY' || fail "the refused re-INVITE reached bob"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert not [e for e in ev if e["dir"] == "rx" and e["first_line"].startswith("INVITE ")
            and "m=audio" in e["message"]]
PY
stop_network
echo OK invite-audio-policy
