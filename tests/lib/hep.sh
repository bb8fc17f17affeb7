# shellcheck shell=bash
# HEP (--hep, the node keys hep...) received by a real collector: sngrep 1.6 as a HEP server
# writing what it receives to a pcap file, read back by tshark. Sourced after flow.sh and
# tshark.sh:
#
#   hep_in_config ADDR        every [[node]] of $lab gets hep = "udp:ADDR"
#   sngrep_start ADDR PCAP    sngrep -N -q -L udp:ADDR -O PCAP, as the recorded program
#                             "sngrep"; returns once it listens (it creates PCAP right after
#                             binding its socket), bounded by START_TIMEOUT
#   sngrep_wait PCAP N        a bounded poll until PCAP holds N packets (sngrep flushes each)
#   sngrep_stop               SIGTERM (sngrep checks for it twice a second, closes the file
#                             and exits 0); fails unless it exits 0 within 10 s
#   sip_events TRACE...       one line per SIP tx/rx event of the traces: "SRC>DST CALL-ID
#                             FIRST-LINE", sorted, SRC and DST as the wire had them
#   sip_frames PCAP           the same lines for the SIP frames tshark reads in PCAP
# sngrep 1.6 writes each HEP packet it receives as one frame of its own (Ethernet, IPv4, UDP,
# the real ports), every packet, duplicates included: nothing is merged, so a run's capture
# holds each message once per node that traced it (its sender's tx and its receiver's rx).
# It uses $t, $lab, START_TIMEOUT and flow.sh's adopt, pid_of, wait_exit, fail and skip.
# shellcheck disable=SC2154

hep_in_config()
{
  awk -v to="udp:$1" '
    /^\[\[/ { in_node = ($0 == "[[node]]") }
    { print }
    in_node && /^name = "/ { printf "hep = \"%s\"\n", to }
  ' "$lab" >"$lab.hep" || fail "hep_in_config: cannot rewrite $lab"
  mv "$lab.hep" "$lab" || fail "hep_in_config: cannot rewrite $lab"
}

sngrep_start()
{
  local i
  rm -f "$2"
  sngrep -N -q -L "udp:$1" -O "$2" </dev/null >"$t/sngrep.out" 2>"$t/sngrep.err" 5>&- 6>&- 7>&- &
  adopt sngrep $! "$t/sngrep.err"
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    [[ -e $2 ]] && return 0
    alive sngrep || break
    sleep 0.1 # bounded poll: sngrep says nothing when it is ready, it creates the file
  done
  cat "$t/sngrep.err" >&2
  fail "sngrep did not start listening on udp:$1"
}

# The number of records of a pcap file (microsecond, little-endian, as sngrep writes it).
_pcap_records()
{
  python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
n, at = 0, 24
while at + 16 <= len(data):
    incl = struct.unpack_from("<I", data, at + 8)[0]
    if at + 16 + incl > len(data):
        break
    n, at = n + 1, at + 16 + incl
print(n)
PY
}

sngrep_wait()
{
  local i n=0
  for ((i = 0; i < 200; i++)); do
    n=$(_pcap_records "$1")
    ((n >= $2)) && return 0
    sleep 0.1 # bounded poll of the file sngrep writes; fails below
  done
  fail "$(basename "$1"): $n packets after 20 s, expected $2"
}

sngrep_stop()
{
  local rc=0
  kill -TERM "$(pid_of sngrep)"
  wait_exit sngrep 10 || rc=$?
  ((rc == 0)) || {
    cat "$t/sngrep.err" >&2
    fail "sngrep exited with status $rc"
  }
}

sip_events()
{
  python3 - "$@" <<'PY'
import json, sys
out = []
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        e = json.loads(line)
        if e["dir"] not in ("tx", "rx") or e["transport"] == "smpp":
            continue
        if e["first_line"].startswith("MSRP "):
            continue
        src, dst = (e["local"], e["peer"]) if e["dir"] == "tx" else (e["peer"], e["local"])
        out.append(f'{src}>{dst} {e["call_id"]} {e["first_line"]}')
print("\n".join(sorted(out)))
PY
}

sip_frames()
{
  tshark -r "$1" -Y sip -T fields -E separator=/t -e ip.src -e udp.srcport -e ip.dst \
    -e udp.dstport -e sip.Call-ID -e sip.Request-Line -e sip.Status-Line 2>>"$t/tshark-read.err" |
    awk -F'\t' '{ printf "%s:%s>%s:%s %s %s%s\n", $1, $2, $3, $4, $5, $6, $7 }' |
    LC_ALL=C sort
}
