#!/bin/bash
# A 1-1 CPM Session through the lab (examples/lab-icsi.toml): alice invites bob through
# coreA, csA, coreB and csB (the participating functions proxy the INVITE with
# Record-Route); they chat both ways over MSRP; each line arrives with its sender's URI;
# alice's end of input ends the session with BYE and both exit 0.
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml"
start_network
start bob cpm-invite --config "$lab" --node bob --answer --count 1 --no-stdin \
  --send 'hello alice, bob here' --trace "$t/bob.trace"

mkfifo "$t/alice.in"
cpm-invite --config "$lab" --node alice --register --trace "$t/alice.trace" sip:bob@b.example \
  <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" &
adopt alice $! "$t/alice.err"
exec 4>"$t/alice.in"
printf 'hi bob, alice here\n' >&4

wait_for "$t/alice.out" 'sip:bob@b.example: hello alice, bob here'
wait_for "$t/bob.out" 'sip:alice@a.example: hi bob, alice here'
exec 4>&-

expect_exit alice 0 "alice's exit status"
expect_exit bob 0 "bob's exit status"
expect_eq "$(cat "$t/alice.out")" 'sip:bob@b.example: hello alice, bob here' "alice's stdout"
expect_eq "$(cat "$t/bob.out")" 'sip:alice@a.example: hi bob, alice here' "bob's stdout"

# The INVITE passed both participating functions (and both cores), and the BYE followed
# the Record-Route set through them.
for n in coreA csA coreB csB; do
  python3 - "$t/$n.trace" <<'PY' || fail "$n did not relay the INVITE and the BYE"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
tx = [e["first_line"] for e in ev if e["dir"] == "tx"]
assert any(l.startswith("INVITE sip:bob@") for l in tx), tx
assert any(l.startswith("BYE ") for l in tx), tx
PY
done
stop_network
echo OK lab-session-1to1
