#!/usr/bin/env bash
# linphonec (Debian linphone-cli) as bob in the lab network of Figures 5+6 (coreA, csA,
# coreB, csB), once per example lab config: alice's `cpm-send --register --notify delivery
# --wait` exits 0 on linphonec's delivery notification, and linphonec's reply reaches
# alice's `cpm-send --receive` through both networks and their Conversation Servers.
# Usage: linphonec-lab.sh [CONFIG...] (default: examples/lab-icsi.toml examples/lab-user.toml)
. "$(dirname "$0")/../lib/flow.sh"
# shellcheck source=tests/lib/linphonec.sh
. "$(dirname "$0")/../lib/linphonec.sh"
need linphonec python3

configs=("$@")
((${#configs[@]})) || configs=("$examples/lab-icsi.toml" "$examples/lab-user.toml")

for src in "${configs[@]}"; do
  name=$(basename "$src" .toml)
  d="$t/$name"
  mkdir -p "$d"
  lab_config "$src" "$name.toml"
  start_network "$name." "$d"
  # linphonec takes bob's place (bob's address, registered at coreB).
  start_linphonec "$name.bob" sip:bob@b.example "${lab_prefix}2.10" "${lab_prefix}2.1:5060"

  # 1. alice -> bob: through coreA, csA, coreB, csB; the notification comes back.
  rc=0
  cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
    --trace "$d/alice.trace" --json sip:bob@b.example "Hello linphonec ($name)" \
    >"$d/alice.json" 2>"$d/alice.err" || rc=$?
  ((rc == 0)) || fail "$name: alice's cpm-send --wait exited $rc, expected 0: $(cat "$d/alice.err")"
  mid=$(trace_message_id "$d/alice.trace")
  [[ -n $mid ]] || fail "$name: no imdn.Message-ID in alice's MESSAGE"
  expect_json "$d/alice.json" .type notification .message_id "$mid" .status delivered
  wait_for "$t/$name.bob.out" \
    "Message received from sip:alice@a.example: Hello linphonec ($name)"
  # alice's MESSAGE passed both Conversation Servers on its way.
  for n in csA csB; do
    grep '"dir":"rx"' "$d/$n.trace" | grep -F "$mid" >/dev/null ||
      fail "$name: alice's MESSAGE did not pass $n"
  done

  # 2. bob (linphonec) -> alice's cpm-send --receive, back through both networks.
  start "$name.alice" cpm-send --config "$lab" --node alice --receive --count 1 --json \
    --trace "$d/alice-rx.trace"
  linphonec_cmd "$name.bob" "chat sip:alice@a.example Hi alice, linphonec here ($name)"
  expect_exit "$name.alice" 0 "$name: alice's cpm-send --receive"
  expect_json "$t/$name.alice.out" .type message .from sip:bob@b.example \
    .text "Hi alice, linphonec here ($name)"
  wait_for "$t/$name.bob.log" 'to DeliveredToUser'

  stop_linphonec "$name.bob"
  stop_network "$name."
  echo "OK linphonec-lab ($name)"
done
