#!/bin/bash
# Figures 1+2 with lost ACKs, made deterministic with nftables in the loss lab's namespace
# (tests/lib/netns.sh, no random loss; exit 77 where no namespace can be made):
#  - every ACK to csX is dropped, so alice's leg is answered but never confirmed: chat
#    still flows to her (the focus relays to an answered inviter before its ACK);
#  - the first ACK to bob is dropped: bob retransmits his 200 and csX, behind its own proxy,
#    sends the ACK again (RFC 3261 §13.2.2.4), so bob's session is established.
# Before the fixes, alice never saw bob's line and bob left after 32 s of 200s.
. "$(dirname "$0")/../lib/netns.sh"
netns_enter 0 "$0" "$@"
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml"
csx=${lab_prefix}3.2 bob=${lab_prefix}2.10
# Every ACK to csX dropped; the quota lets one ACK to bob through only after the first
# (bob's ACKs are the same size, about 650 bytes: one fits in 1000, two do not).
netns_drop_acks "$csx"
nft add quota inet lossy first_ack '{ until 1000 bytes }' || fail "nft: cannot add the quota"
netns_drop_acks "$bob" quota name first_ack

start_group_network "" "$t"
start_friends "" "$t"
# bob's session is established once an ACK reaches him: the second one, after his 200
# went again (T1 = 0.5 s).
friends_joined "" "$t" 10

# alice's ACK never reaches csX, yet bob's line reaches her, and hers reach bob and carol.
printf 'hi from bob\n' >&5
wait_for "$t/alice.out" 'hi from bob' 10
wait_for "$t/carol.out" 'hi from bob'
printf 'hello friends\n' >&7
wait_for "$t/bob.out" 'hello friends'
wait_for "$t/carol.out" 'hello friends'

# What the rules did: ACKs to csX dropped, exactly one ACK to bob dropped.
acks=$(netns_dropped_acks)
read -r to_csx to_bob <<<"$acks"
((to_csx >= 1)) || fail "no ACK to csX was dropped ($acks): the test tested nothing"
expect_eq "$to_bob" 1 "ACKs to bob dropped"
expect_contains "$t/bob.trace" '"dir":"rx","first_line":"ACK '


# Everybody leaves cleanly.
friends_leave ""
echo "OK fig1-2-lost-ack"
