#!/bin/bash
# labs/registration.sh (registration with digest, for teaching) exits 0: bob registers
# after a 401 challenge, alice's message reaches him by his binding, the ladder shows the
# REGISTER hops and matches tests/flows/ladders/registration.ladder. With a wrong password
# (the lesson's "break it") the lab exits 1: coreB answers the second REGISTER 403, alice's
# message finds no binding (480), and the ladder does not match.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
need tshark python3
# A hop of the ladder: its number, the step of FLOWS.md it is (none for MSRP), the drawing.
hop='^ *[0-9]+ +(\[[0-9a-z.]+\] +)?\|'

rc=0
(cd "$CPM_SOURCE_DIR" && LAB_OUT="$t/lab" bash labs/registration.sh) >"$t/out" 2>"$t/err" || rc=$?
((rc == 0)) || { cat "$t/out" "$t/err" >&2; fail "labs/registration.sh exited $rc, expected 0"; }
expect_contains "$t/out" 'with auth = true on coreB'
expect_contains "$t/out" 'bob registered on'
expect_contains "$t/out" '(cpm-send exit status 0: delivered)'
expect_contains "$t/out" 'bob received: Hello, registered bob'
grep -Eq '^ +alice +coreA +csA +coreB +csB +bob *$' "$t/out" ||
  fail "no ladder header with the six nodes: $(cat "$t/out")"
# The drawing shows REGISTER: the challenge first, then the second REGISTER and its 200.
grep -Eq '^ +1 +\[[0-9a-z.]+\] +\|.*<-+ REGISTER -+\|' "$t/out" || fail "hop 1 is not bob's REGISTER: $(cat "$t/out")"
grep -Eq '^ +2 +\[[0-9a-z.]+\] +\|.*-+ 401 Unauthorized -+>\|' "$t/out" || fail "hop 2 is not the 401: $(cat "$t/out")"
grep -Eq '^ +3 +\[[0-9a-z.]+\] +\|.*<-+ REGISTER -+\|' "$t/out" || fail "hop 3 is not the second REGISTER"
grep -Eq '^ +4 +\[[0-9a-z.]+\] +\|.*-+ 200 OK -+>\|' "$t/out" || fail "hop 4 is not the 200 OK"
# 4 + 14 + 4 hops: registration, the message, the challenged unregistration.
expect_eq "$(grep -Ec "$hop" "$t/out")" 22 "hops in the ladder"
expect_contains "$t/out" 'ladder matches'

rc=0
(cd "$CPM_SOURCE_DIR" && bash labs/registration.sh --password wrong) >"$t/bad" 2>"$t/bad.err" || rc=$?
expect_eq "$rc" 1 "labs/registration.sh --password wrong exit status"
expect_contains "$t/bad" 'bob did not register: cpm-send: REGISTER: SIP/2.0 403 Forbidden'
expect_contains "$t/bad" '(cpm-send exit status 1: not delivered)'
grep -Eq '^ +4 +\+ +\|.*-+ 403 Forbidden.*>\|' "$t/bad" || fail "hop 4 is not the 403: $(cat "$t/bad")"
grep -Eq '^ *11 +\+ +\|.*- 480 Temporarily' "$t/bad" || fail "coreB does not answer 480 at hop 11: $(cat "$t/bad")"
expect_contains "$t/bad" 'ladder does not match'
pcap_lab_out "$t/lab"
echo "OK lab-registration"
