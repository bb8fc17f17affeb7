#!/bin/bash
# A group message that csX has accepted (202) survives a kill -9 of csX (issue 9, item 4;
# cpm-groupd(1) GROUP MESSAGES): bob's cpm-send --receive is stopped (SIGSTOP), so the copy
# csX sends him stays unanswered; csX is killed with SIGKILL and started again with the same
# config, resumes from its outbox (outbox_db of the example lab, beside the config) and sends
# bob's copy again; bob, continued, prints the message exactly once (the second copy has the
# same imdn.Message-ID and is dropped). carol never registers: after outbox_attempts
# attempts alice, who asked for delivery notifications, gets 'failed' for carol; a sender
# who asked for none gets a line on csX's standard error instead. A second csX on the same
# outbox refuses to start. At the end the outbox is empty.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
outbox="$t/lab-icsi-csX.outbox.sqlite"
# Quick retries for carol: two attempts, 300 ms apart.
sed -i '/^outbox_db = /a outbox_attempts = 2\noutbox_backoff_ms = 300' "$lab"
grep -q '^outbox_attempts = 2' "$lab" || fail "the lab config has no outbox_db for csX"

# count_messages FILE: how many JSON lines of FILE are received messages.
count_messages()
{
  python3 - "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        n += json.loads(line).get("type") == "message"
    except ValueError:
        pass
print(n)
PY
}

start_group_network "" "$t"
start bob cpm-send --config "$lab" --node bob --receive --json --trace "$t/bob.trace"
kill -STOP "$(pid_of bob)"

# alice waits for both members' delivery notifications.
cpm-send --config "$lab" --node alice --register --notify delivery --wait --recipients 2 \
  --timeout 40 --json sip:friends@x.example 'Survives a restart' \
  >"$t/alice.json" 2>"$t/alice.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
adopt alice $! "$t/alice.err"
wait_for "$t/alice.json" '"status":202'
# csX has sent bob's copy (bob cannot answer it): kill -9 now.
wait_for "$t/csX.trace" 'MESSAGE sip:bob@b.example SIP/2.0'
[[ -s $outbox ]] || fail "no outbox file $outbox beside the config"
kill -KILL "$(pid_of csX)"
rc=0
wait_exit csX 10 || rc=$?
expect_eq "$rc" 137 "csX's exit status after kill -9"

start csX2 cpm-groupd --config "$lab" --node csX -v --trace "$t/csX2.trace"
wait_for "$t/csX2.err" 'group pager: outbox '
expect_contains "$t/csX2.err" "group pager: outbox $outbox: resuming"
# A second server on the same outbox would deliver everything twice: it refuses to start.
rc=0
cpm-groupd --config "$lab" --node csX --listen "udp:${lab_prefix}3.9:5060" \
  2>"$t/csX-second.err" || rc=$?
expect_eq "$rc" 2 "exit status of a second csX on the same outbox"
expect_contains "$t/csX-second.err" 'another server uses this outbox'
# The restarted csX sends bob's copy again; then bob goes on and gets both copies.
wait_for "$t/csX2.trace" 'MESSAGE sip:bob@b.example SIP/2.0'
kill -CONT "$(pid_of bob)"

rc=0
wait_exit alice 40 || rc=$?
if ((rc != 1)); then
  cat "$t/alice.err" >&2
  fail "alice's cpm-send exited with $rc, expected 1 (delivered to bob, failed for carol)"
fi
mid=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("type") == "response":
        print(d["message_id"]); break' "$t/alice.json")
[[ -n $mid ]] || fail "no message_id in alice's response line"
expect_json "$t/alice.json" .type notification .from sip:bob@b.example .message_id "$mid" \
  .status delivered
expect_json "$t/alice.json" .type notification .from sip:carol@b.example .message_id "$mid" \
  .status failed
cat "$t/csX.err" "$t/csX2.err" >"$t/csX-both.err"
expect_contains "$t/csX-both.err" 'member sip:carol@b.example not reached: 480'
expect_contains "$t/csX-both.err" "the sender gets a delivery notification 'failed'"

# bob answered the first copy and the resent one, and printed the message once.
wait_for "$t/bob.err" "dropped a copy of message $mid from sip:alice@a.example"
wait_for "$t/csX2.err" 'sip:bob@b.example answered 200'
expect_eq "$(count_messages "$t/bob.out")" 1 "messages bob printed"
expect_json "$t/bob.out" .type message .from sip:alice@a.example .text 'Survives a restart'

# A sender who asked for no notification: carol's failure is a line on csX's stderr.
rc=0
cpm-send --config "$lab" --node alice --json sip:friends@x.example 'No notification' \
  >"$t/alice2.json" 2>"$t/alice2.err" || rc=$?
expect_eq "$rc" 0 "alice's exit status without notifications"
expect_json "$t/alice2.json" .type response .status 202
wait_for "$t/csX2.err" 'the sender asked for no negative delivery notification'
wait_for "$t/bob.out" 'No notification'
# Each final failure is also a note in csX's trace.
notes=$(cat "$t/csX.trace" "$t/csX2.trace" | grep -F '"dir":"note"' | grep -cF 'sip:carol@b.example not reached')
expect_eq "$notes" 2 "trace notes of carol's two final failures"

stop bob || fail "bob did not stop cleanly"
stop csX2 || fail "the restarted csX did not stop cleanly"
# Nothing was left open in the outbox.
if grep -q 'still open at shutdown' "$t/csX2.err"; then
  fail "csX left deliveries open: $(grep 'still open' "$t/csX2.err")"
fi
stop coreX || fail "coreX did not stop cleanly"
stop_network
echo "OK restart-group-pager"
