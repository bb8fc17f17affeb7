# shellcheck shell=bash
# Checks of the capture files --pcap and cpm-ladder --pcap write, read back by tshark with
# Wireshark's own dissectors. Sourced after flow.sh and tshark.sh:
#
#   pcap_in_config            every [[node]] of $lab gets pcap = "$t/NODE.pcap"
#   msrp_ports TRACE...       the MSRP ports of the a=path lines in the traces' SDP, one a line
#   pcap_decode_msrp TRACE... tshark_decode gets "-d tcp.port==P,msrp" for each of them
#   trace_count KIND TRACE... how many tx and rx events of the traces are KIND (sip, msrp,
#                             smpp); with PCAP_TX_ONLY=1 tx events only (a merged capture)
#   pcap_expect PCAP KIND TRACE...  PCAP is clean under tshark (checksums validated, no
#                             malformed frame, no expert error) and holds as many KIND frames
#                             as the traces have KIND events
#   pcap_lab_out DIR          each capture DIR/NAME.pcap a lab wrote under LAB_OUT=DIR is
#                             pcap_expect'ed, tx events only, against DIR/NAME/*.trace for
#                             SIP, MSRP and SMPP; fails when DIR holds no capture
# It uses $t, $lab and flow.sh's fail.
# shellcheck disable=SC2154

# Wireshark leaves checksums unchecked unless asked; a wrong one is then an expert error.
pcap_checksums=(-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE)

pcap_in_config()
{
  awk -v dir="$t" '
    /^\[\[/ { in_node = ($0 == "[[node]]") }
    { print }
    in_node && /^name = "/ { n = $0; sub(/^name = "/, "", n); sub(/".*/, "", n)
                            printf "pcap = \"%s/%s.pcap\"\n", dir, n }
  ' "$lab" >"$lab.pcap" || fail "pcap_in_config: cannot rewrite $lab"
  mv "$lab.pcap" "$lab" || fail "pcap_in_config: cannot rewrite $lab"
}

msrp_ports()
{
  python3 - "$@" <<'PY'
import json, re, sys
ports = set()
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        msg = json.loads(line).get("message", "")
        for m in re.finditer(r"a=path:([^\r\n]*)", msg):
            ports.update(re.findall(r"msrps?://[^/\s]*:(\d+)/", m.group(1)))
print("\n".join(sorted(ports)))
PY
}

pcap_decode_msrp()
{
  local p
  while read -r p; do
    [[ -z $p ]] || tshark_decode+=(-d "tcp.port==$p,msrp")
  done < <(msrp_ports "$@")
}

trace_count()
{
  python3 - "$1" "${PCAP_TX_ONLY:-0}" "${@:2}" <<'PY'
import json, sys
kind, tx_only, paths = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
n = 0
for path in paths:
    for line in open(path, encoding="utf-8", errors="replace"):
        e = json.loads(line)
        if e["dir"] not in (("tx",) if tx_only else ("tx", "rx")):
            continue
        if e["transport"] == "smpp":
            k = "smpp"
        elif e["first_line"].startswith("MSRP "):
            k = "msrp"
        else:
            k = "sip"
        n += k == kind
print(n)
PY
}

pcap_expect()
{
  local pcap=$1 kind=$2 want got
  shift 2
  [[ -s $pcap ]] || fail "no capture file $pcap"
  # shellcheck disable=SC2034 # read by tshark.sh's tshark_read
  tshark_pcap=$pcap
  local -a saved=("${tshark_decode[@]}")
  tshark_decode+=("${pcap_checksums[@]}")
  tshark_clean
  want=$(trace_count "$kind" "$@")
  got=$(tshark_count "$kind")
  tshark_decode=("${saved[@]}")
  ((got == want)) ||
    fail "$(basename "$pcap"): $got $kind frames, the traces ($*) have $want $kind events"
  echo "$(basename "$pcap"): $got $kind frames, as the traces" >&2
}

pcap_lab_out()
{
  local dir=$1 pcap name kind n=0
  local -a saved=("${tshark_decode[@]}")
  for pcap in "$dir"/*.pcap; do
    [[ -e $pcap ]] || break
    name=${pcap%.pcap}
    pcap_decode_msrp "$name"/*.trace
    for kind in sip msrp smpp; do
      PCAP_TX_ONLY=1 pcap_expect "$pcap" "$kind" "$name"/*.trace
    done
    tshark_decode=("${saved[@]}")
    n=$((n + 1))
  done
  ((n > 0)) || fail "no capture in $dir (LAB_OUT)"
}
