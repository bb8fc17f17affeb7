#!/bin/bash
# Figures 1+2 at 10 % UDP loss (issue 9): alice invites the pre-defined group
# sip:friends@x.example (csX) through coreA, csA and coreX; csX invites bob and carol
# through coreX, coreB and csB; inside a network namespace whose loopback drops 10 % of the
# UDP datagrams (tests/lib/netns.sh; exit 77 where no namespace can be made).
#
# Checked: the session is set up (each member's session established, alice's answered);
# every chat line (three from each) reaches each other member exactly once, with its writer
# as sender; everybody leaves cleanly (exit 0).
# Usage: fig1-2-loss.sh   (LOSS=PCT changes the loss)
. "$(dirname "$0")/../lib/netns.sh"
netns_enter "${LOSS:-10}" "$0" "$@"
. "$(dirname "$0")/../lib/flow.sh"
need python3

w=60 # seconds a step may take: an INVITE hop retransmits for up to 32 s under loss
lab_config "$examples/lab-icsi.toml"
start_group_network "" "$t"

start_friends "" "$t"
friends_joined "" "$t" $w

# Three lines from each, one writer after the other.
for i in 1 2 3; do printf 'alice says %s\n' $i >&7; done
for who in bob carol; do wait_for "$t/$who.out" 'alice says 3' $w; done
for i in 1 2 3; do printf 'bob says %s\n' $i >&5; done
for who in alice carol; do wait_for "$t/$who.out" 'bob says 3' $w; done
for i in 1 2 3; do printf 'carol says %s\n' $i >&6; done
for who in alice bob; do wait_for "$t/$who.out" 'carol says 3' $w; done

# Everybody leaves: alice and bob end their input, the focus ends carol's session.
friends_leave "" $w
netns_report

lines()
{
  local who i
  for who in "$@"; do
    for i in 1 2 3; do printf 'sip:%s@%s.example: %s says %s\n' "$who" \
      "$([[ $who == alice ]] && echo a || echo b)" "$who" "$i"; done
  done
}
expect_eq "$(chat_messages "$t/alice.out")" "$(lines bob carol)" "alice received"
expect_eq "$(chat_messages "$t/bob.out")" "$(lines alice carol)" "bob received"
expect_eq "$(chat_messages "$t/carol.out")" "$(lines alice bob)" "carol received"
echo "OK fig1-2-loss"
