#!/usr/bin/env bash
# Memory of cpm-core-route's lingering transactions (issue 9): completed UDP MESSAGE
# transactions stay Timer J (32 s) to absorb late retransmissions, up to max_lingering.
# SIPp UAC -> core -> SIPp UAS; VmRSS after a warm-up whose transactions have left (base),
# right after a batch of N MESSAGEs at RATE/s (all N lingering: N/RATE < 32 s), after they
# have left, and after a second batch. Reported: (RSS with N lingering - base) / N, and
# what that makes at the knee rate (20,000/s) x 32 s and at the default cap.
# With CAP=K the core's max_lingering is K (< N): the oldest leave early and RSS stays
# near K transactions. Not run by CI.
# Usage: [CAP=K] bench/core-linger.sh [N] [RATE]   (default 100000 10000)
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness
need sipp
n=${1:-100000} rate=${2:-10000}
cap=${CAP:-$((n > 131072 ? n : 131072))}
ip=127.0.9.3 port=5070 uas_port=5090

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# batch COUNT LOCALPORT: COUNT MESSAGEs through the core at $rate/s; fails unless all got 200.
batch() {
  sipp -sf "$here/sipp/message-uac.xml" -t u1 -i $ip -p "$2" -nostdin -buff_size 4194304 \
    -r "$rate" -m "$1" -l $((rate * 2)) -timeout 60s $ip:$port >/dev/null 2>&1 ||
    fail "SIPp sent $1 MESSAGEs with failures"
}
# Timer J plus a margin: a measurement of what is left after the linger, not synchronization.
settle() { sleep 34; }

message_core $ip $port $uas_port "$cap" cpm-core-route
batch 2000 5081 # warm-up: arenas and tables grow once, then its transactions leave
settle
base=$(rss_kib "$pid")
batch "$n" 5082
live=$(rss_kib "$pid")
settle
after=$(rss_kib "$pid")
batch "$n" 5083
live2=$(rss_kib "$pid")
settle
after2=$(rss_kib "$pid")
if ((cap >= n)); then
  grep -q "transactions leave before Timer J" "$t/core.err" && fail "the cap was reached: $(cat "$t/core.err")"
  per=$(( (live - base) * 1024 / n ))
else
  grep -q "transactions leave before Timer J" "$t/core.err" || fail "the cap of $cap was not reached"
  per=$(( (live - base) * 1024 / cap ))
fi
mkdir -p "$here/results"
{
echo "N=$n at $rate/s, max_lingering $cap; VmRSS KiB: base $base, right after the batch $live, after Timer J $after," \
  "right after a second batch $live2, after Timer J again $after2"
echo "bytes per lingering transaction (of min(N, cap)): $per"
echo "at 20000/s x 32 s (640000 lingering): $(( per * 640000 / 1048576 )) MiB;" \
  "at the default cap (131072): $(( per * 131072 / 1048576 )) MiB"
} | tee "$here/results/core-linger-$(date +%Y%m%d-%H%M%S).txt"
stop core
