#!/bin/bash
# cpm-invite to `cpm-invite --answer` directly on loopback (no core): the session comes up,
# both chat (stdin lines and --send), each line arrives with the sender's URI (plain and
# --json), EOF on the inviter's stdin ends the session with BYE once its messages are
# confirmed, and both exit 0. The INVITE carries the CPM session enabler usage indication
# and an MSRP offer.
. "$(dirname "$0")/../lib/flow.sh"
need python3

start bob cpm-invite --answer --json --listen udp:127.0.0.1:0 --from sip:bob@127.0.0.1 \
  --no-stdin --send 'hi alice' --send 'second line' --trace "$t/bob.trace"
port=${ready[bob]#udp:127.0.0.1:}
port=${port%% *}
[[ $port =~ ^[0-9]+$ && $port != 0 ]] || fail "bad ready line '${ready[bob]}'"

# alice reads her stdin from a fifo this script holds open: her session lasts until we
# close it, after she has seen bob's lines.
mkfifo "$t/alice.in"
cpm-invite --from sip:alice@127.0.0.1 --listen udp:127.0.0.1:0 --trace "$t/alice.trace" \
  "sip:bob@127.0.0.1:$port" <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" &
adopt alice $! "$t/alice.err"
exec 4>"$t/alice.in"
printf 'hello bob\nhow are you?\n' >&4

wait_for "$t/alice.out" 'sip:bob@127.0.0.1: second line'
wait_for "$t/bob.out" 'how are you?'
exec 4>&- # EOF: alice waits for her REPORTs, then sends BYE

expect_exit alice 0 "alice's exit status"
expect_exit bob 0 "bob's exit status"
# Everything was freed before libre closed (a leaked session keeps sockets registered).
if grep -E 'fd [0-9]+ in use' "$t/bob.err" "$t/alice.err" >&2; then
  fail "a program left libre file descriptors in use at exit"
fi

# alice's stdout: bob's lines, in order, with bob's URI.
expect_eq "$(cat "$t/alice.out")" $'sip:bob@127.0.0.1: hi alice\nsip:bob@127.0.0.1: second line' \
  "alice's stdout"
# bob's JSON: alice's lines with sender, recipient and a message id; ended by her BYE.
expect_json "$t/bob.out" .event message .from sip:alice@127.0.0.1 .to "sip:bob@127.0.0.1:$port" \
  .text 'hello bob'
expect_json "$t/bob.out" .event message .from sip:alice@127.0.0.1 .text 'how are you?'
python3 - "$t/bob.out" <<'PY' || fail "bob's message events lack message_id or time"
import json, sys
msgs = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "message"]
assert len(msgs) == 2, msgs
assert all(len(e["message_id"]) >= 8 and e["time"] for e in msgs), msgs
PY
expect_json "$t/bob.out" .event invited .from sip:alice@127.0.0.1 .group false
expect_json "$t/bob.out" .event established
expect_json "$t/bob.out" .event ended .reason 'peer ended the session'
# alice's diagnostics: ringing, answered, the end of her input.
expect_contains "$t/alice.err" 'is ringing'
expect_contains "$t/alice.err" 'answered'
expect_contains "$t/alice.err" 'session ended: end of input'

# The SIP side: an INVITE with the MSRP offer and the service indication, BYE from alice.
expect_contains "$t/bob.trace" 'm=message '
expect_contains "$t/bob.trace" 'TCP/MSRP *'
expect_contains "$t/bob.trace" 'a=accept-types:message/cpim'
expect_contains "$t/bob.trace" 'P-Preferred-Service: urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session'
expect_contains "$t/bob.trace" 'Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session\"'
python3 - "$t/bob.trace" "$t/alice.trace" <<'PY' || fail "traces do not show INVITE, BYE and MSRP SENDs"
import json, sys
bob = [json.loads(l) for l in open(sys.argv[1])]
alice = [json.loads(l) for l in open(sys.argv[2])]
rx = [e["first_line"] for e in bob if e["dir"] == "rx"]
assert any(l.startswith("INVITE sip:bob@") for l in rx), rx
assert any(l.startswith("BYE ") for l in rx), rx
assert any(e["first_line"].startswith("SIP/2.0 180") for e in bob if e["dir"] == "tx")
# MSRP frames are traced too: alice sent SENDs.
assert sum(1 for e in alice if e["dir"] == "tx" and e["first_line"].startswith("MSRP ")
           and " SEND" in e["first_line"]) >= 2, [e["first_line"] for e in alice]
PY
echo OK invite-direct
