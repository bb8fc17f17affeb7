#!/usr/bin/env bash
# Memory per registration of cpm-core-route: VmRSS before and after N distinct users
# register (SIPp REGISTER scenario with an injection file), after a warm-up batch, and
# after the registrar's transactions have expired (so only bindings remain).
# Not run by CI. Usage: bench/core-memory.sh [N]   (default 20000)
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness
need sipp
n=${1:-20000}
ip=127.0.9.2 port=5070

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
users() { # users FILE PREFIX COUNT
  { echo SEQUENTIAL; for i in $(seq "$3"); do echo "$2$i"; done; } >"$1"
}
register() { # register FILE COUNT LOCALPORT
  sipp -sf "$here/sipp/register.xml" -inf "$1" -t u1 -i $ip -p "$3" -nostdin -r 2000 -m "$2" \
    -buff_size 4194304 -timeout 60s $ip:$port >/dev/null 2>&1 || fail "SIPp REGISTER of $2 users failed"
}
# The proxy keeps a completed UDP transaction for Timer J (32 s, issue 9): a 34 s wait
# leaves only the bindings.
settle() { sleep 34; } # time for the timers to run out: a measurement, not synchronization

start core cpm-core-route -q --domain b.example --listen udp:$ip:$port --timeout 1000
pid=$(pid_of core)
# Warm-up: a first batch of other users, so allocator arenas and hash tables have grown once
# and their transactions have come and gone (notes/bench-peers.md pitfall 3).
users "$t/warm.csv" warm 2000
register "$t/warm.csv" 2000 5081
settle
base=$(rss_kib "$pid")
users "$t/main.csv" user "$n"
register "$t/main.csv" "$n" 5082
live=$(rss_kib "$pid")
settle
after=$(rss_kib "$pid")
# A second batch of the same size, measured the same way (steadier: no first-touch pages).
users "$t/more.csv" more "$n"
register "$t/more.csv" "$n" 5083
settle
after2=$(rss_kib "$pid")
mkdir -p "$here/results"
{
echo "N=$n; VmRSS KiB: base $base, right after the first batch $live (transactions live)," \
  "after they expired $after, after a second batch $after2 (expired)"
echo "bytes per registration, first batch: $(( (after - base) * 1024 / n ))"
echo "bytes per registration, second batch: $(( (after2 - after) * 1024 / n ))"
} | tee "$here/results/core-memory-$(date +%Y%m%d-%H%M%S).txt"
