#!/bin/bash
# The group's focus killed during a session (issue 9): Figures 1+2 of examples/lab-icsi.toml,
# alice in a group session with bob and carol through csX; csX is killed with SIGKILL and
# started again with the same config, which knows nothing of the session. Each cpm-invite
# sees its MSRP connection to the focus end without a BYE, waits its --timeout for one
# (RFC 4975 §5.4: the session has failed), and exits 3 with a diagnostic on stderr and an
# "ended" event whose reason says so: no hang.
. "$(dirname "$0")/../lib/flow.sh"
need python3

timeout=4 # each client's --timeout: how long it waits for the BYE that never comes
lab_config "$examples/lab-icsi.toml" lab.toml
start_group_network "" "$t"

start_friends "" "$t" --timeout "$timeout"
friends_joined "" "$t"
printf 'hello friends\n' >&7
wait_for "$t/bob.out" 'hello friends'
wait_for "$t/carol.out" 'hello friends'

# kill -9 of the focus, and the same command again.
crash csX
start csX cpm-groupd --config "$lab" --node csX -v --trace "$t/csX.trace"
killed=$(date +%s)

# Each ends by itself with 3, within its timeout (plus the 2 s a client gives its last
# requests to go out).
for who in alice bob carol; do
  rc=0
  wait_exit "$who" $((timeout + 10)) || rc=$?
  expect_eq "$rc" 3 "$who's exit status after the focus died"
done
elapsed=$(($(date +%s) - killed))
((elapsed <= timeout + 6)) || fail "the clients took ${elapsed}s to end, over --timeout $timeout s"

for who in alice bob carol; do
  expect_contains "$t/$who.err" 'failed: its MSRP connection was lost'
  expect_contains "$t/$who.err" "and no BYE came within $timeout s"
  expect_json "$t/$who.out" .event ended .reason 'MSRP connection lost'
done
expect_contains "$t/alice.err" 'session with sip:friends@x.example failed'

stop_group_network ""
echo "OK restart-focus"
