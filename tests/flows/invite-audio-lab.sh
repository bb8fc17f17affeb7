#!/bin/bash
# Audio added to a 1-1 session through the lab (examples/lab-icsi.toml): alice's
# re-INVITE follows the dialog's route set alice -> coreA -> csA -> coreA -> coreB -> csB ->
# coreB -> bob, every node passes it and its 200 back, the RTP goes straight between the two
# clients; bob's recording holds alice's 440 Hz tone, alice's holds bob's 1,000 Hz tone, and
# the chat goes on.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

make_tone "$t/a440.wav" 440 2
make_tone "$t/b1000.wav" 1000 2

lab_config "$examples/lab-icsi.toml"
start_network
start bob cpm-invite --config "$lab" --node bob --answer --count 1 --no-stdin --json \
  --audio-in "$t/b1000.wav" --audio-out "$t/bob.wav" --trace "$t/bob.trace"

mkfifo "$t/alice.in"
cpm-invite --config "$lab" --node alice --register --json --trace "$t/alice.trace" \
  --audio-in "$t/a440.wav" --audio-out "$t/alice.wav" --duration 5 sip:bob@b.example \
  <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" &
adopt alice $! "$t/alice.err"
exec 4>"$t/alice.in"
wait_for "$t/alice.out" '"event":"answered"'
printf '/audio\n' >&4
wait_for "$t/alice.out" '"action":"added"'
wait_for "$t/bob.out" '"action":"added"'
printf 'with audio now\n' >&4
wait_for "$t/bob.out" 'with audio now'

expect_exit alice 0 "alice's exit status"
expect_exit bob 0 "bob's exit status"
exec 4>&-

# The re-INVITE and its 200 passed every node of the route set.
for n in coreA csA coreB csB; do
  python3 - "$t/$n.trace" <<'PY' || fail "$n did not relay the re-INVITE and its 200"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
def to_tagged(m):
    return ";tag=" in next(l for l in m.split("\r\n") if l.lower().startswith(("to:", "t:")))
tx = [e for e in ev if e["dir"] == "tx"]
assert any(e["first_line"].startswith("INVITE ") and to_tagged(e["message"])
           and "m=audio " in e["message"] for e in tx), "no re-INVITE"
assert any(e["first_line"].startswith("SIP/2.0 200") and "m=audio " in e["message"]
           and "CSeq: " in e["message"] for e in tx), "no 200 with audio"
PY
done

# Each hears the other and not themselves.
expect_tone "$t/bob.wav" 440
expect_no_tone "$t/bob.wav" 1000
expect_tone "$t/alice.wav" 1000
expect_no_tone "$t/alice.wav" 440
stop_network
echo OK invite-audio-lab
