#!/usr/bin/env bash
# Long libFuzzer runs: each target of tests/fuzz/ in turn (one at a time) for -runs=RUNS
# (default 10^8) executions or until its share of the time budget is spent, whichever comes
# first. Each target works on build/fuzz/long/TARGET, seeded from its committed corpus
# tests/fuzz/corpus/TARGET and the conformance examples (tests/lib/fuzz.sh); at the end the
# work corpus is minimized with -merge=1 into tests/fuzz/corpus/TARGET (commit it: it seeds
# scripts/fuzz.sh and the next long run). Crashing inputs are kept in build/fuzz/crashes/.
# Writes bench/results/fuzz-long-DATE.txt: executions reached, seconds, coverage, crashes.
# Not run by CI.
#
# Usage: bench/fuzz-long.sh [--runs N] [--until HH:MM] [--max-time S] [--nice N] [TARGET...]
#   --runs N      executions per target (default 100000000)
#   --until HH:MM end the last target by this UTC time today; the time left is shared out
#                 among the targets still to run, recomputed before each one
#   --max-time S  at most S seconds per target (default: no limit but --until)
#   --nice N      run the fuzzers at this niceness (default 19: the machine is shared)
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 2
# shellcheck source=../tests/lib/fuzz.sh
. tests/lib/fuzz.sh

runs=100000000 until="" max_time=0 niceness=19
while (($#)); do
  case $1 in
  --runs) runs=$2; shift 2 ;;
  --until) until=$2; shift 2 ;;
  --max-time) max_time=$2; shift 2 ;;
  --nice) niceness=$2; shift 2 ;;
  -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
  -*) echo "fuzz-long: unknown option $1" >&2; exit 2 ;;
  *) break ;;
  esac
done
targets=("$@")
((${#targets[@]})) || targets=("${fuzz_targets[@]}")
deadline=0
if [[ -n $until ]]; then
  deadline=$(date -u -d "$until" +%s) || { echo "fuzz-long: bad --until $until" >&2; exit 2; }
  (($(date +%s) < deadline)) || { echo "fuzz-long: --until $until is past" >&2; exit 2; }
fi

cmake --preset fuzz >/dev/null || exit 2
nice -n "$niceness" cmake --build build/fuzz -j"${JOBS:-2}" --target "${targets[@]}" >/dev/null || exit 2
mkdir -p build/fuzz/crashes build/fuzz/long "$here/results"
out=$here/results/fuzz-long-$(date -u +%Y%m%d-%H%M%S).txt
{
  echo "# bench/fuzz-long.sh: libFuzzer (clang-14, ASan+UBSan), nice $niceness, one target at a time,"
  echo "# -runs=$runs, -max_len=16384; started $(date -u '+%F %T') UTC on $(nproc) shared cores"
  echo "# target executions seconds exec_per_s cov features corpus_files corpus_bytes crashes exit"
} >"$out"

rc=0 left=${#targets[@]}
for target in "${targets[@]}"; do
  budget=0 # seconds; 0: no time limit (libFuzzer's -max_total_time=0)
  if ((deadline)); then
    budget=$(((deadline - $(date +%s) - 30 * left) / left)) # 30 s a target for the merge
    ((budget > 0)) || { echo "fuzz-long: no time left for $target" | tee -a "$out" >&2; break; }
  fi
  ((max_time == 0 || (budget != 0 && budget <= max_time))) || budget=$max_time
  work=build/fuzz/long/$target log=build/fuzz/long/$target.log
  mkdir -p "$work"
  mapfile -t seed_dirs < <(fuzz_seeds "$target")
  echo "fuzz-long: $target: -runs=$runs -max_total_time=$budget ($(date -u +%T) UTC)" >&2
  t0=$(date +%s) frc=0
  nice -n "$niceness" "build/fuzz/tests/$target" -runs="$runs" -max_total_time="$budget" \
    -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/crashes/$target-" "$work" "${seed_dirs[@]}" >"$log" 2>&1 || frc=$?
  secs=$(($(date +%s) - t0))
  # The executions from libFuzzer's final statistics; coverage from its last status line.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  read -r cov ft < <(grep -E '^#[0-9]+' "$log" | tail -n1 |
    sed -E 's/.* cov: ([0-9]+) ft: ([0-9]+).*/\1 \2/; t; s/.*/- -/')
  crashes=$(find build/fuzz/crashes -name "$target-*" -newermt "@$t0" | wc -l)
  # Minimize: what the run found and what was committed, into a fresh directory.
  fresh=build/fuzz/long/$target.merged
  rm -rf "$fresh" && mkdir -p "$fresh"
  if nice -n "$niceness" "build/fuzz/tests/$target" -merge=1 -max_len=16384 -timeout=10 \
      "$fresh" "$work" "${seed_dirs[@]}" >"$log.merge" 2>&1 && [[ -n $(ls -A "$fresh") ]]; then
    rm -rf "tests/fuzz/corpus/$target"
    mv "$fresh" "tests/fuzz/corpus/$target"
  else
    echo "fuzz-long: $target: the merge failed (log: $log.merge); corpus left as it was" >&2
  fi
  files=$(find "tests/fuzz/corpus/$target" -type f | wc -l)
  bytes=$(du -sb "tests/fuzz/corpus/$target" | cut -f1)
  line="$target ${execs:-0} $secs $((${execs:-0} / (secs > 0 ? secs : 1))) ${cov:--} ${ft:--} $files $bytes $crashes $frc"
  echo "$line" >>"$out"
  echo "fuzz-long: $line" >&2
  ((frc == 0 && crashes == 0)) || { rc=1; tail -n 30 "$log" >&2; }
  left=$((left - 1))
done
echo "# ended $(date -u '+%F %T') UTC" >>"$out"
cat "$out"
exit $rc
