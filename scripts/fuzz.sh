#!/bin/bash
# Build the libFuzzer targets (clang-14, ASan+UBSan) and run each for SECONDS (default 20),
# seeded from the conformance examples. Fails if any target finds a crash; the crashing
# input is kept in build/fuzz/crashes/. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
data=$PWD/tests/data
cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j"${JOBS:-2}" --target fuzz_cpim fuzz_imdn fuzz_route_uri fuzz_sip \
  fuzz_auth fuzz_config fuzz_ladder fuzz_msrp fuzz_sdp fuzz_plain_retry fuzz_encoding >/dev/null
seeds() { # seeds TARGET -> seed directories
  case $1 in
  fuzz_cpim | fuzz_plain_retry) echo "$data/examples/cpim" ;;
  fuzz_imdn) echo "$data/examples/imdn" ;;
  fuzz_msrp) echo "$data/examples/msrp" ;;
  fuzz_sip | fuzz_route_uri) echo "$data/rfc4475" ;;
  fuzz_config) echo "$PWD/examples" ;;
  fuzz_ladder) echo "$PWD/tests/flows/ladders" ;;
  fuzz_sdp) echo "$PWD/tests/fuzz/seeds/sdp" ;;
  fuzz_encoding) echo "$data/encoding" ;;
  *) ;;
  esac
}
mkdir -p build/fuzz/crashes
rc=0
for target in fuzz_cpim fuzz_imdn fuzz_route_uri fuzz_sip fuzz_auth fuzz_config fuzz_ladder fuzz_msrp fuzz_sdp \
  fuzz_plain_retry fuzz_encoding; do
  corpus=build/fuzz/corpus/$target
  mkdir -p "$corpus"
  echo "fuzz: $target for ${secs}s"
  mapfile -t seed_dirs < <(seeds "$target")
  if ! "build/fuzz/tests/$target" -max_total_time="$secs" -max_len=16384 -timeout=10 \
      -artifact_prefix="build/fuzz/crashes/$target-" -print_final_stats=0 \
      "$corpus" "${seed_dirs[@]}" >"build/fuzz/$target.log" 2>&1; then
    echo "fuzz: $target FAILED (log: build/fuzz/$target.log)"
    tail -30 build/fuzz/$target.log
    rc=1
  fi
done
exit $rc
