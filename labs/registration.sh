#!/bin/bash
# Registration with digest (FLOWS.md "Registration (5.1.1) and routing"), on this machine's
# loopback: coreB challenges REGISTER (auth = true in the lab's copy of the config); bob's
# first REGISTER gets 401 Unauthorized with a Digest challenge, his second answers it
# (Authorization) and gets 200 OK; coreB now keeps bob's binding and routes alice's message
# to the registered contact (Figure 5's path); when bob has his message he leaves and
# unregisters (Expires: 0), challenged again. Installs what is missing and builds if needed,
# like labs/pager.sh.
# Usage: labs/registration.sh [--netns] [--password PASSWORD] [CONFIG]
#   (bob's password, bob-secret by default: another one shows the refusal; MERMAID=1 for a
#   Mermaid diagram as well; KEEP=1 keeps $t)
# --netns runs each network (A, B, X) in a namespace of its own, routed through veth links,
# each with its own dnsmasq (labs/netns.sh: root, ip, nft and dnsmasq; exit 1 when it cannot).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$root/labs/lib.sh"
netns=""
[[ ${1:-} != --netns ]] || { netns=1; shift; }
password=bob-secret
if [[ ${1:-} == --password ]]; then
  password=${2:-}
  shift 2 || true
fi
[[ -n $password && ${1:-} != -* ]] || { echo "usage: $0 [--password PASSWORD] [CONFIG]" >&2; exit 2; }
config=${1:-$root/examples/lab-icsi.toml}
[[ $config == /* ]] || config="$PWD/$config"
cd "$root" || exit 2

lab_build registration cpm-send cpm-ladder

# shellcheck source=../tests/lib/flow.sh
. "$root/tests/lib/flow.sh"
lab_network "$config" lab.toml # --netns: in namespaces, on 10.K. (labs/netns.sh)
# coreB challenges REGISTER: auth = true after its name (cpm.toml(5) auth; passwords from
# the [[user]] tables).
sed -i '/^name = "coreB"$/a auth = true' "$lab"
grep -A1 '^name = "coreB"$' "$lab" | grep -qx 'auth = true' || { echo "registration: cannot set auth on coreB in $lab" >&2; exit 2; }
echo "Lab: $config on ${lab_prefix}x.y (copied to $lab, with auth = true on coreB)"
start_network
for n in coreA coreB; do echo "  $n (cpm-core-route) listening on ${ready[$n]}"; done
for n in csA csB; do echo "  $n (cpm-groupd) listening on ${ready[$n]}"; done

echo
echo "\$ cpm-send --config lab.toml --node bob --receive --count 1 --password $password"
rc=0
# Ready means registered; a refused registration ends bob (exit 1) before he is ready, so
# he is started here rather than by the harness's start, which would take that as a failure.
mkfifo "$t/bob.ready"
cpm-send --config "$lab" --node bob --receive --count 1 --password "$password" \
  --trace "$t/bob.trace" --ready-fd 3 3>"$t/bob.ready" >"$t/bob.out" 2>"$t/bob.err" </dev/null &
adopt bob $! "$t/bob.err"
line=""
read -r -t 10 line <"$t/bob.ready" || true
if [[ -n $line ]]; then
  echo "  bob registered on $line"
else
  rc=1
  wait_or_stop bob 5 || true
  echo "  bob did not register: $(tail -n 1 "$t/bob.err" 2>/dev/null)"
fi
echo
echo "\$ cpm-send --config lab.toml --node alice sip:bob@b.example 'Hello, registered bob'"
arc=0
cpm-send --config "$lab" --node alice --timeout 10 --trace "$t/alice.trace" \
  sip:bob@b.example 'Hello, registered bob' || arc=$?
echo "(cpm-send exit status $arc: $( ((arc == 0)) && echo delivered || echo 'not delivered'))"
((arc == 0)) || rc=1
if [[ -n $line ]]; then
  # bob stops after one message (--count 1) and unregisters on his way out.
  wait_or_stop bob 10 || rc=1
  echo "bob received: $(cat "$t/bob.out" 2>/dev/null)"
fi

lab_draw=(--all --hide 100) # REGISTER is what this lab is about: show it (100 Trying aside)
[[ -z $netns ]] || netns_routing
lab_figure alice,coreA,csA,coreB,csB,bob "$t" ", REGISTER included" registration || ((rc != 0)) || rc=1
lab_close "$rc" csA csB coreA coreB
