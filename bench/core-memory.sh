#!/usr/bin/env bash
# Memory per registration of cpm-core-route: VmRSS before and after N distinct users
# register (SIPp REGISTER scenario with an injection file), after a warm-up batch, and
# after the registrar's transactions have expired (so only bindings remain).
# Not run by CI. Usage: bench/core-memory.sh [N]   (default 20000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
bin=${CPM_BIN:-$top/build/release/tools}
[[ -x $bin/cpm-core-route ]] || { cmake --preset release >/dev/null && cmake --build "$top/build/release" -j2 >/dev/null; }
n=${1:-20000}
ip=127.0.9.2 port=5070
t=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$t"; }
trap cleanup EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
users() { # users FILE PREFIX COUNT
  { echo SEQUENTIAL; for i in $(seq "$3"); do echo "$2$i"; done; } >"$1"
}
register() { # register FILE COUNT LOCALPORT
  sipp -sf "$here/sipp/register.xml" -inf "$1" -t u1 -i $ip -p "$3" -nostdin -r 2000 -m "$2" \
    -timeout 60s $ip:$port >/dev/null 2>&1
}

mkfifo "$t/ready"
"$bin/cpm-core-route" -q --domain b.example --listen udp:$ip:$port --timeout 1000 --ready-fd 4 4>"$t/ready" &
pid=$!
read -r -t 10 _ <"$t/ready"
users "$t/warm.csv" warm 2000
register "$t/warm.csv" 2000 5081
users "$t/main.csv" user "$n"
before=$(rss_kib "$pid")
register "$t/main.csv" "$n" 5082
after_now=$(rss_kib "$pid")
echo "base RSS: ${before} KiB; after $n registrations: ${after_now} KiB" >&2
echo "bytes per registration (RSS delta / N, transactions still live): $(( (after_now - before) * 1024 / n ))"
