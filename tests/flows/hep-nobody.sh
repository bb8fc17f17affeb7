#!/bin/bash
# --hep to a collector that is not there never disturbs a program: the pager-mode message of
# Figures 5+6 on lab-icsi.toml, every node sending HEP (the `hep` key; alice by --hep and
# --hep-id on her command line) to a port nobody listens on. The message and its delivery
# notification go through as always; each program that sent HEP says so once on stderr
# (the ICMP port unreachable that comes back is seen by its next send), never more.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/hep.sh"
need python3

lab_config "$examples/lab-icsi.toml"
nobody="${lab_prefix}0.9:9061"
hep_in_config "$nobody"
start_network "" "$t"
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"
rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --hep "udp:$nobody" --hep-id 7 --trace "$t/alice.trace" --json sip:bob@b.example 'Hello' \
  >"$t/alice.json" 2>"$t/alice.err" || rc=$?
((rc == 0)) || fail "alice's cpm-send exited with $rc: $(cat "$t/alice.err")"
expect_exit bob 0 "bob's exit status"
expect_contains "$t/bob.out" 'Hello'
mid=$(trace_message_id "$t/alice.trace")
[[ -n $mid ]] || fail "no imdn.Message-ID in alice's MESSAGE"
expect_json_values "$t/alice.json" delivered "$mid"
stop_network ""

# Each node that sent HEP said it once: alice, bob and the four servers of the pager's path.
for n in alice bob coreA coreB csA csB; do
  said=$(grep -c "HEP to $nobody" "$t/$n.err") || true
  ((said == 1)) || fail "$n said its HEP failure $said times (want once): $(cat "$t/$n.err")"
done
# The traces have every message: HEP's failure took nothing away from them.
expect_ladder "$flows/ladders/fig5-6.ladder" "$t"/*.trace
echo "OK hep-nobody"
