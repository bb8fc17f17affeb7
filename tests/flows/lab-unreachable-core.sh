#!/bin/bash
# alice's outbound proxy is down: cpm-send --proxy to a lab address where nothing listens
# exits 3 (no answer) once --timeout has run out, not much later, with a diagnostic.
. "$(dirname "$0")/../lib/flow.sh"

lab_config "$examples/lab-icsi.toml"
# The lab's prefix is ours and nothing listens on it (lab_config checked): coreA is not started.
coreA="udp:${lab_prefix}1.1:5060"
timeout=2
for dst in "$coreA" "tcp:${lab_prefix}1.1:5060"; do
  rc=0
  start_s=$(date +%s.%N)
  cpm-send --config "$lab" --node alice --proxy "$dst" --timeout "$timeout" \
    sip:bob@b.example 'Is anyone there?' >"$t/out" 2>"$t/err" || rc=$?
  end_s=$(date +%s.%N)
  expect_eq "$rc" 3 "cpm-send exit status with nothing at $dst"
  [[ -s $t/err ]] || fail "no diagnostic on stderr with nothing at $dst"
  [[ ! -s $t/out ]] || fail "stdout is not empty: $(cat "$t/out")"
  # A bound, not a benchmark: the timeout plus 2 s of slack.
  python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) <= $timeout + 2 else 1)" \
    "$start_s" "$end_s" || fail "cpm-send took $(python3 -c "print(round($end_s - $start_s, 2))") s with --timeout $timeout ($dst)"
  [[ ${VERBOSE:-0} != 1 ]] || echo "$dst: $(cat "$t/err")" >&2
done
echo "OK lab-unreachable-core"
