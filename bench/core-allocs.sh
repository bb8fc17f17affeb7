#!/usr/bin/env bash
# Heap allocations per relayed MESSAGE transaction in cpm-core-route's steady state (issue
# 13: none per message once grown). SIPp UAC -> core -> SIPp UAS as in core-throughput.sh,
# the core under an LD_PRELOAD counter of malloc/calloc/realloc/memalign calls
# (bench/alloc-count.c; operator new goes through malloc). A warm-up batch of N lets every
# table, pool and buffer grow; then the counters are read before and after a second batch
# of N, and the difference is divided by N. max_lingering is capped (CAP, default 500) so
# that completed transactions leave at the rate new ones come: the steady state of a core
# that has run longer than Timer J, within a short run.
# Writes bench/results/core-allocs-<date>.txt and prints it. Not run by CI.
# Usage: [CAP=K] bench/core-allocs.sh [N] [RATE]   (default 2000 500)
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness
need sipp cc
n=${1:-2000} rate=${2:-500} cap=${CAP:-500}
ip=127.0.9.4 port=5070 uas_port=5090
sig=$(kill -l SIGRTMIN+5)

cc -O2 -Wall -Wextra -shared -fPIC -o "$t/alloc-count.so" "$here/alloc-count.c" ||
  fail "cannot build the allocation counter"

# batch LOCALPORT: N MESSAGEs through the core at $rate/s; fails unless all got their 200.
batch() {
  sipp -sf "$here/sipp/message-uac.xml" -t u1 -i $ip -p "$1" -nostdin -buff_size 4194304 \
    -r "$rate" -m "$n" -l $((rate * 2)) -timeout 60s $ip:$port >/dev/null 2>&1 ||
    fail "SIPp sent $n MESSAGEs with failures"
}
# counts: the core's counters now, "mallocs callocs reallocs aligned frees" (the counter
# appends one line per signal; a bounded wait for it).
counts() {
  local before
  before=$(wc -l <"$t/counts" 2>/dev/null || echo 0)
  kill -s "$sig" "$pid"
  wait_count "$t/counts" " " $((before + 1)) 5
  tail -n 1 "$t/counts"
}

message_core $ip $port $uas_port "$cap" env LD_PRELOAD="$t/alloc-count.so" \
  ALLOC_COUNT_FILE="$t/counts" ALLOC_COUNT_SIGNAL="$sig" "$CPM_BIN/cpm-core-route" -q
batch 5081 # warm-up
read -r m0 c0 r0 a0 f0 <<<"$(counts)"
batch 5082
read -r m1 c1 r1 a1 f1 <<<"$(counts)"
stop core || fail "the core did not stop cleanly"

mkdir -p "$here/results"
out=$here/results/core-allocs-$(date +%Y%m%d-%H%M%S).txt
{
  echo "# cpm-core-route, $n MESSAGE transactions at $rate/s after a warm-up of $n, max_lingering $cap"
  echo "# $CPM_BIN/cpm-core-route, tree at commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# calls during the measured batch, and per transaction"
  python3 - "$n" "$((m1 - m0))" "$((c1 - c0))" "$((r1 - r0))" "$((a1 - a0))" "$((f1 - f0))" <<'PY'
import sys
n = int(sys.argv[1])
names = ["malloc", "calloc", "realloc", "memalign", "free"]
for name, v in zip(names, map(int, sys.argv[2:])):
    print(f"{name} {v} {v / n:.2f}")
allocs = sum(map(int, sys.argv[2:6]))
print(f"allocations {allocs} {allocs / n:.2f}")
PY
} | tee "$out"
