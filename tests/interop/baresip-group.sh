#!/bin/bash
# Interop: baresip (Debian baresip-core) as bob, a member of the pre-defined group
# sip:friends@x.example of Figures 1-4 (lab-icsi.toml). alice's pager-mode message to the
# group reaches csX, which sends one MESSAGE per other member: carol's cpm-send takes the
# CPIM copy and sends its delivery notification; baresip answers its copy 415 with
# `Accept: text/plain`, and csX sends it the text again as text/plain (cpm-groupd(1)), which
# baresip prints as coming from the group. Such a copy asks for no notification, so alice
# waits for one recipient (carol).
. "$(dirname "$0")/../lib/flow.sh"
need baresip python3
# shellcheck source=tests/lib/baresip.sh
. "$(dirname "$0")/../lib/baresip.sh"

lab_config "$examples/lab-icsi.toml"
start_group_network "" "$t"
baresip_as_bob "$t/baresip"
start carol cpm-send --config "$lab" --node carol --receive --count 1 --json \
  --trace "$t/carol.trace"

text='Hello friends, baresip too'
rc=0
cpm-send --config "$lab" --node alice --register --notify delivery --wait --recipients 1 \
  --timeout 10 --trace "$t/alice.trace" --json sip:friends@x.example "$text" \
  >"$t/alice.json" 2>"$t/alice.err" || rc=$?
((rc == 0)) || fail "alice's cpm-send exited $rc: $(cat "$t/alice.err")"
expect_json "$t/alice.json" .type response .status 202
expect_json "$t/alice.json" .type notification .from sip:carol@b.example .status delivered

# carol got the CPIM copy, baresip the text/plain one (SIP From: the group).
expect_exit carol 0 "carol's exit status"
expect_json "$t/carol.out" .type message .from sip:alice@a.example .text "$text"
baresip_got "$t/baresip" sip:friends@x.example "$text"
wait_for "$t/csX.err" 'member sip:bob@b.example answered 415' 10
expect_contains "$t/csX.err" 'sent again as text/plain'

stop_baresip baresip
stop_group_network ""
echo "OK baresip-group"
