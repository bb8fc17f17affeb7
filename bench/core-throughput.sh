#!/usr/bin/env bash
# MESSAGE throughput of cpm-core-route against Kamailio (transaction-stateful relay with
# record-route, 1 worker), both driven by the same SIPp UAC/UAS in the same run.
# Writes bench/results/core-throughput-<date>.txt and prints a summary.
# Not run by CI. Usage: bench/core-throughput.sh [RATES...]   (default: 1000 2000 5000 10000 20000 30000 40000)
# CPM_RATES / KAM_RATES (space-separated) override RATES per proxy; STEP_S the step length.
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness, cpu_ticks_tree
need sipp kamailio python3
rates=("$@")
[[ ${#rates[@]} -gt 0 ]] || rates=(1000 2000 5000 10000 20000 30000 40000)
step_s=${STEP_S:-10}
ip=127.0.9.1
uas_port=5090 proxy_port=5070

# run_step NAME PROXY_PID RATE -> prints "name rate calls failed cpu_us_per_txn"
run_step() {
  local name=$1 ppid=$2 rate=$3 n=$(( $3 * step_s ))
  local c0 c1
  c0=$(cpu_ticks_tree "$ppid")
  sipp -sf "$here/sipp/message-uac.xml" -t u1 -i $ip -p 5080 -nostdin -buff_size 4194304 \
    -r "$rate" -m "$n" -l $(( rate * 2 )) -max_non_invite_retrans 4 -timeout $(( step_s * 3 ))s \
    -trace_stat -stf "$t/$name-$rate.csv" -fd 1 $ip:$proxy_port >/dev/null 2>&1 || true
  c1=$(cpu_ticks_tree "$ppid")
  python3 - "$t/$name-$rate.csv" "$name" "$rate" "$n" "$c0" "$c1" "$hz" <<'PY'
import csv, sys
path, name, rate, n, c0, c1, hz = sys.argv[1:]
rows = list(csv.reader(open(path), delimiter=';'))
head, last = rows[0], rows[-1]
def col(k): return int(last[head.index(k)])
ok, failed = col('SuccessfulCall(C)'), col('FailedCall(C)')
failed += int(n) - ok - failed  # calls never finished count as failed
cpu_us = (int(c1) - int(c0)) * 1e6 / int(hz)
print(f"{name} {rate} {ok} {failed} {cpu_us / max(ok, 1):.1f}")
PY
}

start_uas() {
  sipp -sf "$here/sipp/message-uas.xml" -t u1 -i $ip -p $uas_port -nostdin -buff_size 4194304 \
    >/dev/null 2>&1 &
  adopt uas $!
}

results=()
bench_proxy() {
  local name=$1 ppid; shift
  "$@" &
  adopt "$name" $!
  ppid=$(pid_of "$name")
  # Wait until the proxy answers an OPTIONS-like probe: a SIPp run of 10 calls.
  for _ in $(seq 50); do
    if sipp -sf "$here/sipp/message-uac.xml" -t u1 -i $ip -p 5081 -nostdin -m 10 -r 100 \
         -timeout 2s $ip:$proxy_port >/dev/null 2>&1; then break; fi
  done
  # Warm-up at the first rate (first-touch page faults, notes/bench-peers.md pitfall 3).
  local -a my_rates
  read -r -a my_rates <<<"$step_rates"
  run_step "$name-warmup" "$ppid" "${my_rates[0]}" >/dev/null
  for r in "${my_rates[@]}"; do
    results+=("$(run_step "$name" "$ppid" "$r")")
    echo "${results[-1]}" >&2
  done
  stop "$name" 2>/dev/null || true
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
start_uas
step_rates=${CPM_RATES:-${rates[*]}}
bench_proxy cpm "$CPM_BIN/cpm-core-route" -q --domain a.example --listen udp:$ip:$proxy_port \
  --peer b.example=udp:$ip:$uas_port
step_rates=${KAM_RATES:-${rates[*]}}
kam_dir=$t/kam; mkdir -p "$kam_dir"
bench_proxy kamailio kamailio -DD -E -x fm -m 4096 -M 64 -f "$here/kamailio.cfg" -w "$kam_dir" -Y "$kam_dir" \
  -l udp:$ip:$proxy_port -A "UAS=\"sip:$ip:$uas_port\""

mkdir -p "$here/results"
out=$here/results/core-throughput-$(date +%Y%m%d-%H%M%S).txt
{
  echo "# proxy rate_per_s successful failed cpu_us_per_transaction (step ${step_s}s, $(nproc) cores, load before: $load0)"
  printf '%s\n' "${results[@]}"
} | tee "$out"
python3 - "$out" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith('#')]
best = {}
cpu = {}
for name, rate, ok, failed, us in rows:
    if int(failed) == 0:
        best[name] = max(best.get(name, 0), int(rate))
    cpu.setdefault(name, []).append((int(rate), float(us)))
print("zero-failure rate:", {k: v for k, v in best.items()})
common = sorted(set(r for r, _ in cpu.get('cpm', [])) & set(r for r, _ in cpu.get('kamailio', [])))
for r in common:
    c = dict(cpu['cpm'])[r]; k = dict(cpu['kamailio'])[r]
    print(f"at {r}/s: cpu per transaction cpm {c:.1f} us, kamailio {k:.1f} us, ratio cpm/kamailio {c/k:.2f}")
if 'cpm' in best and 'kamailio' in best:
    print(f"zero-failure rate ratio cpm/kamailio: {best['cpm']/best['kamailio']:.2f}")
PY
