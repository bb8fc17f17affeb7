#!/usr/bin/env bash
# N-1 mixing at the focus (issue 11): one group session of N talking participants.
# `cpm-mixbench focus` is the focus's media side as cpm-groupd drives it: N RtpStreams (half
# of them PCMU, half PCMA), one media::Mixer, one media::Ticker every 20 ms that mixes and
# sends each participant the sum of the others. `cpm-mixbench load` is our own load
# generator: N participants each sending a G.711 tone every 20 ms and receiving their mix.
# Each side runs in its own process on its own loopback address (stream i on port
# 20000 + 2i of each), so the focus's CPU (getrusage, after a warm-up) is its own.
# Measured per N: the focus's CPU share of one core and CPU per mixed participant, the
# mean work of a tick (mix, encode, send), the share of ticks whose last frame left after
# its 20 ms slot ended (late), the worst slot, frames lost on the way; and (`cpm-mixbench
# cpu`) the mixer alone without sockets: sum, N-1 and G.711 encoding per participant frame.
# Not run by CI. Usage: bench/mix.sh [N...]   (default 50 100 250 500 750 1000);
# SECONDS_RUN (10) measured seconds per run, WARMUP (2); FOCUS_RT: the focus side's SCHED_FIFO
# priority, e.g. 10, as cpm-groupd's realtime_priority (media servers run so: on a shared
# machine the others' builds otherwise take the focus's slots); 0 (the default) is normal
# scheduling. Writes bench/results/mix-<date>.txt.
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness
need python3
# Beside the programs of $CPM_BIN (build/release/tools unless set).
bench_bin=$CPM_BIN/../bench/cpm-mixbench
[[ -x $bench_bin ]] || cmake --build "$CPM_BIN/.." -j2 --target cpm-mixbench >/dev/null ||
  fail "cannot build cpm-mixbench"

ns=("$@")
((${#ns[@]})) || ns=(50 100 250 500 750 1000)
secs=${SECONDS_RUN:-10}
warm=${WARMUP:-2}
load0=$(cut -d' ' -f1-3 /proc/loadavg)
ulimit -n 8192 2>/dev/null || true

results=()
for n in "${ns[@]}"; do
  ((n >= 1 && n <= 5000)) || fail "N in 1..5000"
  claim_prefix
  focus_ip=${lab_prefix}0.1
  load_ip=${lab_prefix}0.2
  "$bench_bin" focus --local "$focus_ip" --remote "$load_ip" -n "$n" --seconds "$secs" \
    --warmup "$warm" --realtime-priority "${FOCUS_RT:-0}" >"$t/focus$n.out" 2>"$t/focus$n.err" &
  adopt "focus$n" $! "$t/focus$n.err"
  wait_for "$t/focus$n.err" ready 30
  "$bench_bin" load --local "$load_ip" --remote "$focus_ip" -n "$n" --seconds "$secs" \
    --warmup "$warm" >"$t/load$n.out" 2>"$t/load$n.err" &
  adopt "load$n" $! "$t/load$n.err"
  wait_exit "focus$n" $((secs + warm + 60)) || fail "focus (N=$n) failed"
  wait_exit "load$n" 30 || fail "load (N=$n) failed"
  "$bench_bin" cpu -n "$n" --seconds 20 >"$t/cpu$n.out" || fail "cpu (N=$n) failed"
  row=$(python3 - "$t/focus$n.out" "$t/load$n.out" "$t/cpu$n.out" <<'PY'
import json, sys
f = json.loads(open(sys.argv[1]).read())
l = json.loads(open(sys.argv[2]).read())
c = json.loads(open(sys.argv[3]).read())
print(f"{f['n']} {f['core_share']*100:.1f} {f['cpu_us_per_participant_s']:.1f} "
      f"{f['tick_work_us']:.0f} {f['late_share']*100:.2f} {f['worst_slot_us']/1000:.1f} "
      f"{f['frames_in']} {f['missing']} {f['late_frames']} {f['rtp_out']} {l['heard']} "
      f"{c['us_per_participant_frame']:.2f}")
PY
  )
  results+=("$row")
  echo "N=$n: $row" >&2
  release_prefixes
done

mkdir -p "$here/results"
out=$here/results/mix-$(date +%Y%m%d-%H%M%S).txt
{
  echo "# N focus_%core cpu_us_per_participant_per_s tick_work_us late_ticks_% worst_slot_ms frames_in missing late_dropped rtp_out load_heard mixer_alone_us_per_participant_frame ($(nproc) cores, load before: $load0, ${secs} s after ${warm} s)"
  printf '%s\n' "${results[@]}"
} | tee "$out"
