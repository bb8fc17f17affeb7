#!/bin/bash
# Networks in namespaces (labs/netns.sh): labs/pager.sh --netns and labs/group-session.sh
# --netns end with "ladder matches"; their traffic really crossed the namespaces (the nodes
# listened on the namespaces' 10.K. addresses, coreB received alice's MESSAGE from coreA's
# 10.K.1.1, the router forwarded packets on the links the figure uses and none on the one
# it does not); each zone's dnsmasq answered; nothing of either lab is left afterwards.
# Then the clear errors: a namespace name in use, and an unprivileged run (setpriv), each
# a message on stderr and exit 1 within a bounded time, leaving nothing behind; and the
# sweep of a lab whose owner was killed.
# Needs root (exit 77 otherwise, as the loss lab: CI may not grant it), ip and dnsmasq.
. "$(dirname "$0")/../lib/flow.sh"
((EUID == 0)) || {
  echo "SKIP: network namespaces need root" >&2
  exit 77
}
need ip dnsmasq setpriv timeout
labs="$CPM_SOURCE_DIR/labs"

# left_of K: what lab K left behind (namespaces, dnsmasqs, state), empty when nothing.
left_of()
{
  ip netns list | awk -v k="$1" 'index($1, "cpm-net" k "-") == 1 { print "namespace " $1 }'
  pgrep -a dnsmasq | grep -F -- "--conf-file=${TMPDIR:-/tmp}/cpm-netns-$1/" || true
  [[ ! -e ${TMPDIR:-/tmp}/cpm-netns-$1 ]] || echo "state ${TMPDIR:-/tmp}/cpm-netns-$1"
}

# run_lab NAME: labs/NAME.sh --netns with KEEP=1 (its traces stay for the checks); its
# output in $t/NAME.out, its kept directory in $dir, its lab number in $k.
run_lab()
{
  local rc=0
  KEEP=1 timeout 120 bash "$labs/$1.sh" --netns >"$t/$1.out" 2>"$t/$1.err" || rc=$?
  ((rc == 0)) || { cat "$t/$1.out" "$t/$1.err" >&2; fail "labs/$1.sh --netns exited $rc"; }
  dir=$(sed -n 's/^flow: files kept in //p' "$t/$1.err")
  [[ -d $dir ]] || fail "labs/$1.sh kept no directory: $(cat "$t/$1.err")"
  k=$(sed -n 's/^lab \([0-9]*\): router .*/\1/p' "$t/$1.out")
  [[ -n $k ]] || fail "labs/$1.sh printed no lab plan: $(cat "$t/$1.out")"
  expect_contains "$t/$1.out" 'ladder matches'
  expect_contains "$t/$1.out" "on 10.$k.x.y"
  expect_eq "$(left_of "$k")" "" "what labs/$1.sh --netns left behind"
}

# routed LINK: the packets the router forwarded into LINK during the lab.
routed()
{
  sed -n "s/^routed by cpm-net$k-r (IP packets from\/to each network):.* $1 [0-9]*\/\([0-9]*\).*/\1/p" "$t/$name.out"
}

name=pager
run_lab pager
expect_contains "$t/pager.out" 'bob received: Hello'
expect_contains "$t/pager.out" "coreA (cpm-core-route) listening on udp:10.$k.1.1:5060"
expect_contains "$t/pager.out" "bob (cpm-send --receive) registered on udp:10.$k.2.10:5060"
expect_contains "$t/pager.out" "cpm-net$k-b: 10.$k.2.0/24 via 10.$k.2.254, b.example served by dnsmasq 10.$k.2.53"
# coreB got alice's MESSAGE from coreA's address in network A, through the router. (From
# libre's UDP port when the peer is a DNS name: a core's listen socket sends what the core
# sends itself, libre what it resolves by RFC 3263, issue 13.)
python3 - "$dir/coreB.trace" "10.$k.1.1" <<'PY' || fail "coreB received nothing from coreA's 10.$k.1.1"
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if (e["dir"] == "rx" and e["first_line"].startswith("MESSAGE sip:bob@")
            and e["peer"].rsplit(":", 1)[0] == sys.argv[2]):
        sys.exit(0)
sys.exit(1)
PY
grep -q '127\.' "$dir/coreB.trace" && fail "coreB's trace has a loopback address"
# With DNS in the programs, the peers went by name: coreA asked its network's dnsmasq for
# b.example's NAPTR, which forwarded it to network B's (the lab keeps their logs).
if grep -q '^dns_peers = true' "$dir/lab.toml"; then
  expect_contains "$dir/dns-a.log" "query[NAPTR] b.example from 10.$k.1.1"
  expect_contains "$dir/dns-a.log" "forwarded b.example to 10.$k.2.53"
  expect_contains "$dir/dns-b.log" "query[NAPTR] b.example from 10.$k.1.53"
  expect_contains "$t/pager.out" "dns b.example (10.$k.2.53): "
fi
(($(routed net-a) > 0 && $(routed net-b) > 0)) || fail "nothing routed between A and B: $(grep '^routed' "$t/pager.out")"
expect_eq "$(routed net-x)" 0 "packets routed to network X in Figures 5-6"
rm -rf "$dir"

name=group-session
run_lab group-session
expect_contains "$t/group-session.out" 'carol sees: sip:bob@b.example: hi from bob'
expect_contains "$t/group-session.out" "csX (cpm-groupd) listening on udp:10.$k.3.2:5060"
for link in net-a net-b net-x; do
  (($(routed $link) > 0)) || fail "nothing routed to $link: $(grep '^routed' "$t/group-session.out")"
done
rm -rf "$dir"

# A namespace name in use: up says so and touches nothing of it.
claim_prefix
k=${lab_prefix#127.}
k=${k%.}
ip netns add "cpm-net$k-b" || fail "cannot add cpm-net$k-b"
rc=0
timeout 60 "$labs/netns.sh" up "$k" >"$t/used.out" 2>"$t/used.err" || rc=$?
ip netns list | quiet_grep "^cpm-net$k-b" || fail "up deleted the namespace it found in use"
ip netns delete "cpm-net$k-b"
expect_eq "$rc" 1 "exit status of up on a namespace in use"
expect_contains "$t/used.err" "labs/netns.sh: namespace cpm-net$k-b in use; labs/netns.sh down $k removes lab $k"
expect_eq "$(left_of "$k")" "" "what the refused up left behind"

# Unprivileged: up and a lab with --netns say that root is needed, exit 1. The user
# (nobody) runs a copy of what the lab reads, and of the two programs it checks for: the
# checkout may sit where only root can go (a fresh clone in a mktemp -d).
chmod 1777 "$t"
copy="$t/nobody"
mkdir -p "$copy/tests" "$copy/bin" || fail "cannot make $copy"
{
  cp -r "$CPM_SOURCE_DIR/labs" "$CPM_SOURCE_DIR/scripts" "$CPM_SOURCE_DIR/examples" "$copy/" &&
    cp -r "$CPM_SOURCE_DIR/tests/lib" "$copy/tests/" &&
    cp "$CPM_BIN/cpm-send" "$CPM_BIN/cpm-ladder" "$copy/bin/" &&
    chmod -R a+rX "$copy"
} || fail "cannot copy the lab to $copy"
rc=0
timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$copy/labs/netns.sh" up "$k" \
  >"$t/user.out" 2>"$t/user.err" || rc=$?
expect_eq "$rc" 1 "exit status of an unprivileged up"
expect_contains "$t/user.err" "labs/netns.sh: network namespaces need root"
rc=0
TMPDIR=$t CPM_BIN="$copy/bin" timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
  bash "$copy/labs/pager.sh" --netns >"$t/user-lab.out" 2>"$t/user-lab.err" || rc=$?
expect_eq "$rc" 1 "exit status of an unprivileged labs/pager.sh --netns"
expect_contains "$t/user-lab.err" "labs/netns.sh: network namespaces need root"
expect_eq "$(left_of "$k")" "" "what the unprivileged runs left behind"
# A lab whose owner was killed (SIGKILL: no trap ran) is swept by the next lab: its
# dnsmasqs, what runs in its namespaces and the namespaces go.
# shellcheck source=../../labs/netns.sh
. "$labs/netns.sh"
bash -c 'exit 0' &
dead=$!
wait "$dead"
netns_up "$k" "" "$dead" >"$t/stale.out" || fail "up of lab $k failed: $(cat "$t/stale.out")"
ip netns exec "cpm-net$k-b" sleep 600 &
adopt stale-sleeper $!
netns_sweep 2>"$t/sweep.err"
expect_contains "$t/sweep.err" "lab $k down: removed dnsmasq"
expect_exit stale-sleeper 143 "exit status of what ran in the swept lab"
expect_eq "$(left_of "$k")" "" "what the swept lab left behind"
echo "OK lab-netns"
