#!/bin/bash
# THE test command (README, CI): install what is missing, then build and test the default
# preset, then the asan preset (ASan+UBSan), then fuzz every parser briefly (clang-14
# libFuzzer), then check the formatting (clang-format) and the shell scripts (shellcheck,
# with the repository's .shellcheckrc). Every step runs;
# the exit status is 1 if any failed. Uses at most 2 build jobs (JOBS=N to change).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
jobs=${JOBS:-2}
results=()
failed=0

step()
{
  local title=$1 start rc=0
  shift
  echo "=== $title"
  start=$SECONDS
  "$@" || rc=$?
  if ((rc == 0)); then
    results+=("ok     $title ($((SECONDS - start))s)")
  else
    results+=("FAILED $title (exit $rc, $((SECONDS - start))s)")
    failed=1
  fi
  return "$rc"
}

preset()
{
  local p=$1
  step "configure $p" cmake --preset "$p" &&
    step "build $p" cmake --build --preset "$p" -j"$jobs" &&
    step "ctest $p" ctest --preset "$p" -j"$jobs"
}

format_check()
{
  local files
  mapfile -t files < <(find libcpm tools tests bench -name '*.cpp' -o -name '*.hpp' 2>/dev/null | sort)
  ((${#files[@]})) || return 0
  clang-format --dry-run -Werror "${files[@]}"
}

# Every shell script: the scripts, the flow harness and tests, labs, benchmarks, CI entry
# point, and the bash completions (sourced by bash, so checked as bash).
shellcheck_check()
{
  shellcheck scripts/*.sh tests/lib/*.sh tests/flows/*.sh tests/interop/*.sh tests/docs/*.sh \
    tests/loss/*.sh labs/*.sh bench/*.sh .ci/run && shellcheck -s bash completions/bash/*
}

step "deps" scripts/deps.sh
preset default
preset asan
step "fuzz (libFuzzer, ${FUZZ_SECONDS:-20}s per parser)" scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
step "clang-format" format_check
step "shellcheck" shellcheck_check

echo "=== summary"
printf '  %s\n' "${results[@]}"
if ((failed)); then
  echo "test.sh: FAILED"
  exit 1
fi
echo "test.sh: every step ok"
