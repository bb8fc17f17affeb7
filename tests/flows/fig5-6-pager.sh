#!/bin/bash
# Figures 5 and 6 joined (FLOWS.md): alice's pager-mode CPM Message to bob with a delivery
# notification, through coreA, csA, coreB, csB and back; once per example lab config
# (cores that trigger on the CPM ICSI, and cores that trigger on the served user).
# Usage: fig5-6-pager.sh [CONFIG...]   (default: examples/lab-icsi.toml examples/lab-user.toml)
. "$(dirname "$0")/../lib/flow.sh"
need python3

configs=("$@")
((${#configs[@]})) || configs=("$examples/lab-icsi.toml" "$examples/lab-user.toml")

for src in "${configs[@]}"; do
  name=$(basename "$src" .toml)
  d="$t/$name"
  mkdir -p "$d"
  lab_config "$src" "$name.toml"
  start_network "$name." "$d"
  start "$name.bob" cpm-send --config "$lab" --node bob --receive --count 1 \
    --trace "$d/bob.trace"

  rc=0
  cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
    --trace "$d/alice.trace" --json sip:bob@b.example 'Hello' \
    >"$d/alice.json" 2>"$d/alice.err" || rc=$?
  if ((rc != 0)); then
    cat "$d/alice.err" >&2
    fail "$name: alice's cpm-send exited with $rc, expected 0 (delivered)"
  fi

  # bob received the message, sent the notification and stops after --count 1.
  expect_exit "$name.bob" 0 "$name: bob's exit status"
  expect_contains "$t/$name.bob.out" 'Hello'
  # A delivered message is no news: neither client says a word on stderr (a stray line
  # there is a diagnostic of ours leaking into every user's terminal).
  for err in "$d/alice.err" "$t/$name.bob.err"; do
    [[ ! -s $err ]] || fail "$name: $(basename "$err") is not empty: $(head -3 "$err")"
  done

  # alice's JSON names the delivery notification for her own message.
  mid=$(trace_message_id "$d/alice.trace")
  [[ -n $mid ]] || fail "$name: no imdn.Message-ID in alice's MESSAGE (trace $d/alice.trace)"
  expect_json_values "$d/alice.json" delivered "$mid"

  # The hops FLOWS.md draws, in causal order.
  expect_ladder "$flows/ladders/fig5-6.ladder" "$d"/*.trace

  stop_network "$name."
  echo "OK fig5-6-pager ($name)"
done
