#!/bin/bash
# Figures 1 and 2 (FLOWS.md, lab-icsi.toml) with the chat over TLS (RFC 4975 §14): alice's
# node says msrp_tls = true, so her INVITE offers TCP/TLS/MSRP with an msrps: path; csX
# answers in kind and offers bob and carol their chat over TLS too, because the inviter's
# was. Every node of the chat has a certificate of the test's own CA (tests/lib/tls.sh);
# the SIP hops stay as the lab has them.
#
# Checked: the ladder of Figures 1-2; each line reaches the two others; every MSRP m= line
# of the run is TCP/TLS/MSRP with msrps: paths; every MSRP frame in the traces went over
# "tls"; and on the wire (tshark on lo): TLS handshakes to each MSRP port, TLS application
# data, no frame Wireshark reads as MSRP, and none of the chat's text or MSRP's start line
# anywhere in the captured bytes.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/tshark.sh"
. "$(dirname "$0")/../lib/pcap.sh"
. "$(dirname "$0")/../lib/tls.sh"
need tshark python3 openssl

lab_config "$examples/lab-icsi.toml"

# node_keys NODE LINE...: add the TOML lines to node NODE of $lab (after its name).
node_keys()
{
  local node=$1
  shift
  python3 - "$lab" "$node" "$@" <<'PY' || fail "node_keys: cannot edit $lab"
import sys
path, node, lines = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(path).read().split("\n")
at = text.index(f'name = "{node}"')
text[at + 1:at + 1] = lines
open(path, "w").write("\n".join(text))
PY
}

tls_ca ca
for n in csX:3.2 alice:1.10 bob:2.10 carol:2.11; do
  node=${n%%:*}
  tls_cert ca "$node" "$lab_prefix${n#*:}"
  node_keys "$node" "tls_cert = \"$tls/$node.pem\"" "tls_ca = \"$tls/ca.pem\""
done
node_keys alice "msrp_tls = true"

tshark_start
friends_hello
printf 'hi from bob\n' >&5
wait_for "$t/alice.out" 'hi from bob'
wait_for "$t/carol.out" 'hi from bob'
friends_leave ""
stop_group_network ""
tshark_stop

expect_eq "$(chat_messages "$t/alice.out")" "sip:bob@b.example: hi from bob" "alice received"
expect_eq "$(chat_messages "$t/carol.out")" \
  $'sip:alice@a.example: hello friends\nsip:bob@b.example: hi from bob' "carol received"
expect_ladder "$flows/ladders/fig1-2.ladder" --hide BYE "$t"/*.trace

# The SDP of the run: three sessions (alice-csX, csX-bob, csX-carol), each offered and
# answered over TLS; the MSRP frames of every trace went over TLS.
python3 - "$t"/*.trace <<'PY' || fail "the SDP or the MSRP frames of the traces are not over TLS"
import json, re, sys
protos, paths, msrp = set(), set(), []
for path in sys.argv[1:]:
    for e in map(json.loads, open(path)):
        m = e.get("message", "")
        protos.update(re.findall(r"m=message \d+ (\S+)", m))
        paths.update(re.findall(r"a=path:(\S+)", m))
        if e["first_line"].startswith("MSRP "):
            msrp.append(e["transport"])
assert protos == {"TCP/TLS/MSRP"}, protos
assert len(paths) >= 6 and all(p.startswith("msrps://") for p in paths), paths
assert len(msrp) >= 12 and set(msrp) == {"tls"}, msrp
PY

# The wire: each MSRP port is TLS.
mapfile -t ports < <(msrp_ports "$t"/*.trace)
((${#ports[@]} >= 4)) || fail "expected the MSRP ports of 3 sessions, found: ${ports[*]:-none}"
for p in "${ports[@]}"; do
  tshark_decode+=(-d "tcp.port==$p,tls")
done
hellos=$(tshark_count 'tls.handshake.type == 1')
data=$(tshark_count 'tls.app_data')
msrp=$(tshark_count msrp)
echo "capture: $hellos TLS ClientHello, $data frames of TLS application data, $msrp MSRP" \
  "frames; MSRP ports ${ports[*]}" >&2
((hellos >= 3)) || fail "expected a TLS handshake per MSRP connection (3), got $hellos"
((data >= 6)) || fail "expected TLS application data, got $data frames"
((msrp == 0)) || fail "$msrp frames of clear MSRP on the wire"
for clear in 'hello friends' 'hi from bob'; do
  if grep -qaF "$clear" "$tshark_pcap"; then
    fail "the capture holds '$clear' in clear"
  fi
done
# An MSRP start line, "MSRP <tid> SEND" (the SDP's "TCP/TLS/MSRP *" is SIP's, and clear).
if grep -qaE 'MSRP [[:alnum:]]+ (SEND|REPORT|200 OK)' "$tshark_pcap"; then
  fail "the capture holds an MSRP start line in clear"
fi
# The check can fail: the traces (ours, decrypted) hold those start lines.
grep -qaE 'MSRP [[:alnum:]]+ SEND' "$t/alice.trace" || fail "no MSRP SEND in alice's trace"
tshark_clean
echo "OK msrps-group-session"
