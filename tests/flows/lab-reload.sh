#!/bin/bash
# SIGHUP reloads policies: csA refuses barred mallory with 403; once the config no longer
# bars her and csA got SIGHUP, her message reaches bob. The core reloads too and keeps
# routing.
. "$(dirname "$0")/../lib/flow.sh"

lab_config "$examples/lab-icsi.toml"
start_network
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"
coreA=${ready[coreA]%% *}

mallory() {
  cpm-send --from sip:mallory@a.example --proxy "$coreA" --listen "udp:${lab_prefix}1.66:0" \
    --timeout 10 sip:bob@b.example "$1" >>"$t/mallory.out" 2>>"$t/mallory.err"
}

rc=0
mallory 'first try' || rc=$?
expect_eq "$rc" 1 "a barred sender's exit status"
expect_contains "$t/mallory.err" 403

# Lift the bar in the config, then SIGHUP both csA and coreA.
grep -q '^barred = true$' "$lab" || fail "no barred user in $lab"
sed -i '/^barred = true$/d' "$lab"
for n in csA coreA; do
  kill -HUP "$(pid_of "$n")"
done
# Wait for both to say they reloaded.
for n in csA coreA; do
  wait_for "$t/$n.err" reloaded 10
done

rc=0
mallory 'second try' || rc=$?
expect_eq "$rc" 0 "mallory's exit status after the reload"
wait_exit bob 20 || fail "bob did not exit after his message"
expect_contains "$t/bob.out" 'second try'
stop_network
echo "OK lab-reload"
