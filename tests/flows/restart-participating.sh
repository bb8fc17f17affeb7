#!/bin/bash
# A participating function killed during a group session (issue 9): Figures 1+2 of
# examples/lab-icsi.toml, alice (behind csA) in a group session with bob and carol (behind
# csB) through the focus csX. csB is killed with SIGKILL and not restarted; then bob leaves
# (his BYE goes through the dead csB and is lost) and alice leaves (hers arrives). The
# focus sees bob's MSRP connection end without a BYE; once its timeout has passed (RFC 4975
# §5.4) it ends bob's leg, and the session, left with carol alone, ends at carol too: she
# exits 3 within her --timeout instead of staying in a session with nobody.
. "$(dirname "$0")/../lib/flow.sh"
need python3

timeout=4 # each client's --timeout
grace=3000 # csX's --timeout: how long it waits for a BYE after an MSRP connection ends
lab_config "$examples/lab-icsi.toml" lab.toml
start_network "" "$t"
start coreX cpm-core-route --config "$lab" --node coreX --trace "$t/coreX.trace"
start csX cpm-groupd --config "$lab" --node csX -v --timeout "$grace" --trace "$t/csX.trace"

start_friends "" "$t" --timeout "$timeout"
friends_joined "" "$t"
printf 'hello friends\n' >&7
wait_for "$t/bob.out" 'hello friends'
wait_for "$t/carol.out" 'hello friends'

crash csB
exec 5>&- # bob leaves: his BYE dies with csB, his MSRP connection to csX closes
wait_for "$t/csX.err" 'MSRP connection of sip:bob@b.example closed'
exec 7>&- # alice leaves: her BYE reaches csX through csA
rc=0
wait_exit alice $((timeout + 10)) || rc=$?
expect_eq "$rc" 0 "alice's exit status (she left with a BYE that arrived)"

# The focus gives up on bob's BYE after its timeout, and the session ends at carol.
wait_for "$t/csX.err" "sip:bob@b.example failed: its MSRP connection was lost and no BYE came within $((grace / 1000)) s"
rc=0
wait_exit carol $((grace / 1000 + timeout + 10)) || rc=$?
expect_eq "$rc" 3 "carol's exit status once the session ended without a BYE reaching her"
expect_contains "$t/carol.err" 'failed: its MSRP connection was lost'
expect_json "$t/carol.out" .event ended .reason 'MSRP connection lost'
wait_exit bob $((timeout + 10)) || true # bob's own end (his BYE is lost): not the point here

stop csX || fail "csX did not stop cleanly"
stop coreX || fail "coreX did not stop cleanly"
for n in csA coreA coreB; do
  stop "$n" || fail "$n did not stop cleanly"
done
echo "OK restart-participating"
