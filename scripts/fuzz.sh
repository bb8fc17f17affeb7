#!/bin/bash
# Build the libFuzzer targets (clang-14, ASan+UBSan) and run each for SECONDS (default 20),
# seeded from the committed corpus (tests/fuzz/corpus/TARGET, kept by bench/fuzz-long.sh)
# and the conformance examples. Fails if any target finds a crash; the crashing input is
# kept in build/fuzz/crashes/. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
secs=${1:-20}
# shellcheck source=../tests/lib/fuzz.sh
. tests/lib/fuzz.sh
cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j"${JOBS:-2}" --target "${fuzz_targets[@]}" >/dev/null
mkdir -p build/fuzz/crashes
rc=0
for target in "${fuzz_targets[@]}"; do
  corpus=build/fuzz/corpus/$target
  mkdir -p "$corpus"
  echo "fuzz: $target for ${secs}s"
  mapfile -t seed_dirs < <(fuzz_seeds "$target")
  if ! "build/fuzz/tests/$target" -max_total_time="$secs" -max_len=16384 -timeout=10 \
      -artifact_prefix="build/fuzz/crashes/$target-" -print_final_stats=0 \
      "$corpus" "${seed_dirs[@]}" >"build/fuzz/$target.log" 2>&1; then
    echo "fuzz: $target FAILED (log: build/fuzz/$target.log)"
    tail -30 "build/fuzz/$target.log"
    rc=1
  fi
done
exit $rc
