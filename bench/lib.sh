# shellcheck shell=bash
# What the group benchmarks share (sourced after `set -u -o pipefail`): the release build
# (built when missing), the flow harness (start/stop, readiness, a free 127.K. prefix,
# cleanup at exit) and cpu_ticks. Sets $here, $top, $CPM_BIN and $hz.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
export CPM_BIN=${CPM_BIN:-$top/build/release/tools}
[[ -x $CPM_BIN/cpm-groupd ]] || { cmake --preset release >/dev/null &&
  cmake --build "$top/build/release" -j2 >/dev/null; }
. "$top/tests/lib/flow.sh"
hz=$(getconf CLK_TCK)

# cpu_ticks PID...: utime + stime of these processes (their threads included), in ticks.
cpu_ticks()
{
  local s=0 p f
  for p in "$@"; do
    f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    f=${f##*) }
    read -r -a a <<<"$f"
    s=$((s + a[11] + a[12]))
  done
  echo "$s"
}
