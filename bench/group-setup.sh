#!/usr/bin/env bash
# Group session setup time (issue 3): alice invites a pre-defined group of N members hosted by
# csX; the focus invites every member in parallel through coreX and coreM; the members are one
# SIPp UAS (bench/sipp/member-uas.xml: 180, then 200 with an MSRP SDP answer). A SIPp
# REGISTER run (bench/sipp/member-register.xml) registers the N users m0001..mN@m.example at
# coreM from the UAS's address just before the UAS takes that address over.
#
# Measured per run: the focus's own line "all N members joined in X ms" (from the inviter's
# INVITE reaching csX to the last member's 200 acknowledged), and alice's INVITE -> 200 from
# her trace (the focus answers on the first member's 200). Floor, same run, same UAS: a SIPp
# UAC (bench/sipp/member-uac.xml) sending the N INVITEs at once, straight to the UAS and
# through coreX -> coreM (first INVITE sent -> last 200 received, SIPp [clock_tick], ms).
# CPU (utime+stime, /proc/PID/stat, 10 ms ticks) from before alice starts to the focus's line:
# the focus, the four other servers together (coreA, csA, coreX, coreM), the SIPp UAS.
# Every program is started fresh for every run (cold: a new focus has no session running).
#
# Writes bench/results/group-setup-<date>.txt and prints medians. Not run by CI.
# Usage: bench/group-setup.sh [N...]   (default 10 100 500); REPS (default 3).
set -u -o pipefail
. "$(dirname "$0")/lib.sh" # release build, flow harness, cpu_ticks
need sipp python3

sizes=("$@")
((${#sizes[@]})) || sizes=(10 100 500)
reps=${REPS:-3}
START_TIMEOUT=30

# gen_config N FILE: the lab (addresses 127.0.10.x, rewritten by lab_config) with a group
# sip:big@x.example of alice plus N members in m.example.
gen_config()
{
  python3 - "$1" >"$2" <<'PY'
import sys
n = int(sys.argv[1])
def node(name, role, ip, **kv):
    s = f'[[node]]\nname = "{name}"\nrole = "{role}"\nlisten = ["udp:127.0.10.{ip}:5060", "tcp:127.0.10.{ip}:5060"]\n'
    for k, v in kv.items():
        s += f'{k} = {v}\n'
    return s + '\n'
print(node("coreA", "core", 1, domain='"a.example"', peers='{ "x.example" = "coreX" }'), end="")
print(node("csA", "conversation-server", 2, domain='"a.example"', proxy='"coreA"'), end="")
print(node("alice", "client", 10, **{"from": '"sip:alice@a.example"', "proxy": '"coreA"'}), end="")
print(node("coreX", "core", 3, domain='"x.example"',
           peers='{ "a.example" = "coreA", "m.example" = "coreM" }'), end="")
print(node("csX", "conversation-server", 4, domain='"x.example"', proxy='"coreX"'), end="")
print(node("coreM", "core", 5, domain='"m.example"', peers='{ "x.example" = "coreX" }'), end="")
print('''[[trigger]]
node = "coreA"
priority = 10
session_case = "originating"
methods = ["MESSAGE", "INVITE"]
headers = { "Accept-Contact" = '3gpp-service\\.ims\\.icsi\\.oma\\.cpm' }
server = "csA"
''')
members = ['"sip:alice@a.example"'] + [f'"sip:m{i:04d}@m.example"' for i in range(1, n + 1)]
print('[[group]]\nuri = "sip:big@x.example"\nhost = "csX"')
print('invite_timeout_ms = 30000')
print('members = [\n  ' + ',\n  '.join(members) + '\n]')
PY
}

# sipp_start NAME ARGS...: a SIPp in the background, known to flow.sh's cleanup; waits
# (bounded) until its UDP port ($sipp_ip:$sipp_port) is bound.
sipp_start()
{
  local name=$1 i
  shift
  sipp "$@" -nostdin >"$t/$name.out" 2>"$t/$name.err" 5>&- 6>&- 7>&- &
  adopt "$name" $! "$t/$name.err"
  for ((i = 0; i < 100; i++)); do
    ss -Hlun "src $sipp_ip:$sipp_port" 2>/dev/null | grep -q . && return 0
    alive "$name" || break
    sleep 0.05 # bounded poll for SIPp's socket
  done
  fail "$name did not bind $sipp_ip:$sipp_port"
}

# sipp_stop NAME: SIGUSR1 (SIPp's clean end), then SIGTERM after a bounded wait.
sipp_stop()
{
  kill -USR1 "$(pid_of "$1")" 2>/dev/null || true
  wait_or_stop "$1" 5 2>/dev/null || true
}

# floor_span LOG: last "ok" tick - first "sent" tick (ms) of a member-uac.xml run.
floor_span()
{
  python3 - "$1" "$2" <<'PY'
import sys
sent, ok = [], []
for line in open(sys.argv[1]):
    w = line.split()
    if len(w) >= 2 and w[-1].isdigit():
        (sent if w[-2] == "sent" else ok if w[-2] == "ok" else []).append(int(w[-1]))
n = int(sys.argv[2])
print(f"{max(ok) - min(sent)}" if len(ok) == n and sent else f"FAILED({len(ok)}/{n})")
PY
}

# floor RUN N TARGET_HOST: a SIPp UAC sends N INVITEs at once (first one to the last 200).
floor()
{
  local run=$1 n=$2 target=$3
  rm -f "$t/$run"_*_logs.log
  sipp -sf "$here/sipp/member-uac.xml" -inf "$t/users-$n.csv" -t u1 -i "${p}22" -p 5060 \
    -nostdin -buff_size 4194304 -r 100000 -rp 1000 -m "$n" -l "$n" -timeout 20s \
    -trace_logs -log_file "$t/$run.log" "$target" >/dev/null 2>&1 5>&- 6>&- 7>&- || true
  floor_span "$t/$run.log" "$n"
}

gen_users()
{
  {
    echo SEQUENTIAL
    for ((i = 1; i <= $1; i++)); do printf 'm%04d;m.example\n' "$i"; done
  } >"$t/users-$1.csv"
}


results=()
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for n in "${sizes[@]}"; do
  gen_users "$n"
  gen_config "$n" "$t/group-$n.src.toml"
  for ((rep = 1; rep <= reps; rep++)); do
    run="n$n-r$rep"
    lab_config "$t/group-$n.src.toml" "$run.toml"
    p=$lab_prefix"10." # 127.K.10.
    for node in coreA csA coreX coreM; do
      role=cpm-core-route
      [[ $node == cs* ]] && role=cpm-groupd
      start "$run.$node" "$role" --config "$lab" --node "$node" -q
    done
    start "$run.csX" cpm-groupd --config "$lab" --node csX -v
    # Register the N members at coreM from the UAS's own address: coreM sends a member's
    # requests to the source of its REGISTER (the flow), not to the Contact. So the SIPp
    # REGISTER run binds the address the UAS takes over once it is done.
    sipp -sf "$here/sipp/member-register.xml" -inf "$t/users-$n.csv" -key uas "${p}20:5060" \
      -t u1 -i "${p}20" -p 5060 -nostdin -r 2000 -m "$n" -timeout 20s "${p}5:5060" \
      >"$t/$run.reg.out" 2>&1 5>&- 6>&- 7>&- || fail "$run: REGISTER of $n members failed"
    sipp_ip=${p}20 sipp_port=5060
    sipp_start "$run.uas" -sf "$here/sipp/member-uas.xml" -t u1 -i "${p}20" -p 5060 \
      -buff_size 4194304

    csx=$(pid_of "$run.csX") uas=$(pid_of "$run.uas")
    cores=("$(pid_of "$run.coreA")" "$(pid_of "$run.csA")" "$(pid_of "$run.coreX")" "$(pid_of "$run.coreM")")
    c0=("$(cpu_ticks "$csx")" "$(cpu_ticks "${cores[@]}")" "$(cpu_ticks "$uas")")
    # alice invites the group; her stdin is a fifo we hold open until everybody is in.
    mkfifo "$t/$run.alice.in"
    exec 7<>"$t/$run.alice.in"
    cpm-invite --config "$lab" --node alice --register --json --trace "$t/$run.alice.trace" \
      -q sip:big@x.example <"$t/$run.alice.in" >"$t/$run.alice.out" 2>"$t/$run.alice.err" \
      5>&- 6>&- 7>&- &
    adopt "$run.alice" $! "$t/$run.alice.err"
    wait_for "$t/$run.csX.err" "all $n members joined in" 60
    c1=("$(cpu_ticks "$csx")" "$(cpu_ticks "${cores[@]}")" "$(cpu_ticks "$uas")")
    cpu_ms=$(for i in 0 1 2; do printf '%s ' $(((c1[i] - c0[i]) * 1000 / hz)); done)
    joined_ms=$(sed -n "s/.*: all $n members joined in \([0-9]*\) ms.*/\1/p" "$t/$run.csX.err")
    wait_for "$t/$run.alice.out" '"event":"answered"' 10
    alice_ms=$(python3 - "$t/$run.alice.trace" <<'PY'
import json, sys
inv = ok = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    fl = e.get("first_line", "")
    if inv is None and e["dir"] == "tx" and fl.startswith("INVITE "):
        inv = e["time"]
    if inv is not None and ok is None and e["dir"] == "rx" and fl.startswith("SIP/2.0 200") \
            and "INVITE" in e["message"].split("CSeq:", 1)[-1].split("\r\n", 1)[0]:
        ok = e["time"]
print(f"{(ok - inv) / 1000:.1f}" if inv and ok else "NA")
PY
)
    exec 7>&- # alice leaves (BYE); the N members stay
    wait_exit "$run.alice" || fail "$run: alice exited with status $?"
    # The focus ends the members' sessions (BYE) when it stops.
    stop "$run.csX" || fail "$run: csX did not stop cleanly"
    msrp_fail=$(grep -c "closed: Connection refused" "$t/$run.csX.err" || true)
    # Floors with the same UAS: straight, and through coreX -> coreM (a fresh UAC each).
    direct_ms=$(floor "$run.direct" "$n" "${p}20:5060")
    cores_ms=$(floor "$run.cores" "$n" "${p}3:5060")
    sipp_stop "$run.uas"
    for node in coreA csA coreX coreM; do stop "$run.$node" || true; done
    results+=("$n $rep $joined_ms $alice_ms $direct_ms $cores_ms ${cpu_ms% }")
    echo "N=$n run $rep: focus all joined ${joined_ms} ms, alice INVITE->200 ${alice_ms} ms," \
      "floor SIPp direct ${direct_ms} ms, SIPp via coreX+coreM ${cores_ms} ms," \
      "CPU ms during the setup: focus, cores, UAS: $cpu_ms" \
      "(focus's MSRP connections refused: $msrp_fail)" >&2
    rm -f "$lab"
    release_prefixes
  done
done

mkdir -p "$here/results"
out=$here/results/group-setup-$(date +%Y%m%d-%H%M%S).txt
{
  echo "# N run focus_all_joined_ms alice_invite_to_200_ms floor_sipp_direct_ms floor_sipp_via_cores_ms cpu_ms_focus cpu_ms_cores cpu_ms_uas ($(nproc) cores, CLK_TCK $hz, load before: $load0)"
  printf '%s\n' "${results[@]}"
} | tee "$out"
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith('#')]
by = {}
for r in rows:
    by.setdefault(int(r[0]), []).append(r[2:])
def med(col):
    v = [float(x) for x in col if x.replace('.', '', 1).isdigit()]
    return f"{statistics.median(v):.1f}" if len(v) == len(col) else "n/a(" + ",".join(col) + ")"
print("# medians: N focus_all_joined_ms alice_invite_to_200_ms floor_direct_ms floor_via_cores_ms cpu_ms_focus cpu_ms_cores cpu_ms_uas")
for n in sorted(by):
    cols = list(zip(*by[n]))
    print(n, *(med(c) for c in cols))
PY
