#!/bin/bash
# A MESSAGE to a user the far core does not know: alice's cpm-send to sip:nobody@b.example
# through the lab gets 404 from coreB, exits 1 and names the 404 in its diagnostic; the
# cores keep serving, so alice's next message reaches bob.
. "$(dirname "$0")/../lib/flow.sh"

lab_config "$examples/lab-icsi.toml"
start_network
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"

rc=0
cpm-send --config "$lab" --node alice --timeout 10 --trace "$t/alice1.trace" \
  sip:nobody@b.example 'Anyone there?' >"$t/alice1.out" 2>"$t/alice1.err" || rc=$?
expect_eq "$rc" 1 "cpm-send exit status for an unknown user"
expect_contains "$t/alice1.err" 404
# The 404 is coreB's answer (the location service of b.example), relayed back to alice.
first=$(cpm-ladder "$t"/*.trace | grep ' 404 ' | sed -n 1p)
[[ -n $first ]] || fail "no 404 in the ladder"
[[ $first =~ ^\ *[0-9]+\ +coreB\ +-\> ]] || fail "the first 404 does not come from coreB: $first"

rc=0
cpm-send --config "$lab" --node alice --timeout 10 --trace "$t/alice2.trace" \
  sip:bob@b.example 'Hello after the 404' >"$t/alice2.out" 2>"$t/alice2.err" || rc=$?
((rc == 0)) || { cat "$t/alice2.err" >&2; fail "message to bob after the 404: exit $rc"; }
expect_exit bob 0 "bob's exit status"
expect_contains "$t/bob.out" 'Hello after the 404'

stop_network
echo "OK lab-unknown-user"
