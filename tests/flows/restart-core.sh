#!/bin/bash
# A core killed with SIGKILL and started again with the same config keeps every
# registration (issue 9): the Figure 5+6 lab of examples/lab-icsi.toml, whose cores keep
# their SQLite file beside the config (registrar_db). bob registers with coreB over UDP,
# carol over TCP; alice sends each a message; coreB is killed (kill -9) and started again
# with the same command; alice sends each a second message, which arrives although neither
# registered again. carol's TCP connection died with coreB: the core reaches her at her
# registered Contact instead (route's alternate_hop).
. "$(dirname "$0")/../lib/flow.sh"
need python3

lab_config "$examples/lab-icsi.toml" lab.toml
start_network
b="${lab_prefix}2.1"
start bob cpm-send --config "$lab" --node bob --receive --count 2 --trace "$t/bob.trace"
start carol cpm-send --config "$lab" --node carol --proxy "tcp:$b:5060" --receive --count 2 \
  --trace "$t/carol.trace"
[[ -s $t/lab-icsi-coreB.registrar.sqlite ]] || fail "coreB has no registrar file beside the config in $t"

# send N WHO TEXT: alice's message with a delivery notification; must be delivered.
send()
{
  local rc=0
  cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
    --json "sip:$2@b.example" "$3" >"$t/alice.$1.json" 2>"$t/alice.$1.err" || rc=$?
  ((rc == 0)) || { cat "$t/alice.$1.err" >&2; fail "alice's message $1 to $2 exited $rc, expected 0"; }
}

send 1 bob 'before the crash'
send 2 carol 'before the crash, over TCP'
wait_for "$t/bob.out" 'before the crash'
wait_for "$t/carol.out" 'before the crash, over TCP'

# kill -9 of coreB, then the same command again; it must come back with both bindings.
crash coreB
start coreB cpm-core-route --config "$lab" --node coreB --trace "$t/coreB.trace"
expect_contains "$t/coreB.err" "registrations: 2 kept in $t/lab-icsi-coreB.registrar.sqlite"

send 3 bob 'after the restart'
send 4 carol 'after the restart, over TCP'
expect_exit bob 0 "bob's exit status (two messages)"
expect_exit carol 0 "carol's exit status (two messages)"
expect_eq "$(cat "$t/bob.out")" $'before the crash\nafter the restart' "bob received"
expect_eq "$(cat "$t/carol.out")" $'before the crash, over TCP\nafter the restart, over TCP' \
  "carol received"
# Neither registered again: one REGISTER each before the crash, and the unregistration
# (expires=0) at exit.
registrations()
{
  python3 - "$1" <<'PY'
import json, re, sys
print(sum(1 for line in open(sys.argv[1])
          if (e := json.loads(line))["dir"] == "tx" and e["first_line"].startswith("REGISTER ")
          and not re.search(r"(?im)^(contact:.*;expires=0\b|expires:\s*0\s*$)", e["message"])))
PY
}
expect_eq "$(registrations "$t/bob.trace")" 1 "REGISTERs bob sent"
expect_eq "$(registrations "$t/carol.trace")" 1 "REGISTERs carol sent"
# carol's TCP flow died with the first coreB: the second said so and used her Contact.
expect_contains "$t/coreB.err" "MESSAGE sip:carol@${lab_prefix}2.11:5060;transport=tcp: flow"
expect_contains "$t/coreB.err" "sent to the registered Contact sip:carol@${lab_prefix}2.11:5060"

stop_network
echo "OK restart-core"
