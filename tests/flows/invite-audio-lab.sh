#!/bin/bash
# Audio added to a 1-1 session through the lab (examples/lab-icsi.toml): alice's
# re-INVITE follows the dialog's route set alice -> coreA -> csA -> coreA -> coreB -> csB ->
# coreB -> bob, every node passes it and its 200 back, the RTP goes straight between the two
# clients; bob's recording holds alice's 440 Hz tone, alice's holds bob's 1,000 Hz tone, and
# the chat goes on.
. "$(dirname "$0")/../lib/flow.sh"
need python3

python3 "$CPM_SOURCE_DIR/tests/lib/tones.py" --make "$t/a440.wav" 440 2
python3 "$CPM_SOURCE_DIR/tests/lib/tones.py" --make "$t/b1000.wav" 1000 2

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

level() { python3 "$CPM_SOURCE_DIR/tests/lib/tones.py" "$1" 440 1000 | awk -v f="$2" '$1 == f {print $2}'; }
check() # FILE PRESENT ABSENT
{
  local p a
  p=$(level "$1" "$2")
  a=$(level "$1" "$3")
  python3 -c "import sys; sys.exit(0 if float('$p') > 0.1 and float('$a') < 0.05 else 1)" ||
    fail "$1: $2 Hz at $p (want > 0.1), $3 Hz at $a (want < 0.05)"
}
check "$t/bob.wav" 440 1000
check "$t/alice.wav" 1000 440
stop_network
echo OK invite-audio-lab
