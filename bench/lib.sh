# shellcheck shell=bash
# What the benchmarks share (sourced after `set -u -o pipefail`): the release build
# (built when missing), the flow harness (start/stop, readiness, a free 127.K. prefix,
# cleanup at exit), cpu_ticks and cpu_ticks_tree. Sets $here, $top, $CPM_BIN and $hz.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
export CPM_BIN=${CPM_BIN:-$top/build/release/tools}
[[ -x $CPM_BIN/cpm-groupd ]] || { cmake --preset release >/dev/null &&
  cmake --build "$top/build/release" -j2 >/dev/null; }
# shellcheck source=../tests/lib/flow.sh
. "$top/tests/lib/flow.sh"
# Clock ticks per second, for the benchmarks' CPU figures:
# shellcheck disable=SC2034
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

# cpu_ticks_tree PID: utime + stime of a process and all its descendants, in ticks
# (Kamailio forks its UDP worker and timer processes; cpm-core-route is one process).
cpu_ticks_tree()
{
  python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1])
stat = {}
for d in os.listdir('/proc'):
    if d.isdigit():
        try:
            f = open(f'/proc/{d}/stat').read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        stat[int(d)] = (int(f[1]), int(f[11]) + int(f[12]))  # ppid, utime + stime
tree = {root}
changed = True
while changed:
    changed = False
    for pid, (ppid, _) in stat.items():
        if ppid in tree and pid not in tree:
            tree.add(pid); changed = True
print(sum(stat[p][1] for p in tree if p in stat))
PY
}

# message_core IP PORT UAS_PORT CAP CORE...: the lab of the MESSAGE benchmarks through one
# core (core-linger.sh, core-allocs.sh): a SIPp UAS on udp IP:UAS_PORT that answers every
# MESSAGE 200 (sipp/message-uas.xml), and the command CORE... (its program and options, an
# `env VAR=...` in front when it needs one) started as "core" with a config of its own:
# domain a.example on udp:IP:PORT, its peer b.example the UAS, max_lingering CAP. SIPp's
# message-uac.xml sent to IP:PORT goes through it. Sets $pid, the core's.
message_core()
{
  local ip=$1 port=$2 uas_port=$3 cap=$4
  shift 4
  sipp -sf "$here/sipp/message-uas.xml" -t u1 -i "$ip" -p "$uas_port" -nostdin \
    -buff_size 4194304 >/dev/null 2>&1 &
  adopt uas $!
  sipp_listening "$ip" "$uas_port"
  cat >"$t/core.toml" <<TOML
[[node]]
name = "core"
role = "core"
domain = "a.example"
listen = ["udp:$ip:$port"]
peers = { "b.example" = "udp:$ip:$uas_port" }
max_lingering = $cap
TOML
  start core "$@" --config "$t/core.toml" --node core
  pid=$(pid_of core)
}
