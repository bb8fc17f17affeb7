#!/bin/bash
# RTP and RTCP on the wire (libre's rtp under media::RtpStream) decoded by Wireshark's own
# dissectors: a 1-1 session on this test's loopback prefix where alice adds audio (a 440 Hz
# tone in PCMU) and bob answers with his RTP port, captured with tshark. Each m=audio port
# of the traces is decoded as RTP, the port after it as RTCP. Checked: RTP in both
# directions with payload type 0, consecutive sequence numbers, timestamps 160 apart and the
# marker on the first packet only; RTCP from both sides (a sender report after 5 s with the
# CNAME in an SDES); no malformed frame, no expert error. (libre also sends an RTCP BYE when
# a stream ends, but tshark stopped by SIGINT right after the programs exit may not have
# written the last frames yet: not checked.)
# Skipped (77) when tshark is missing or may not capture here.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
. "$(dirname "$0")/../lib/tshark.sh"
need tshark python3

claim_prefix
a=${lab_prefix}0.1
b=${lab_prefix}0.2
make_tone "$t/a440.wav" 440 2

tshark_start

start bob cpm-invite --answer --json --listen "udp:$b:0" --from "sip:bob@$b" --no-stdin \
  --audio-out "$t/bob.wav" --trace "$t/bob.trace"
port=${ready[bob]#udp:"$b":}
port=${port%% *}
# 7 s: libre's RTCP sends its first report 5 s after the stream is connected.
cpm-invite --json --from "sip:alice@$a" --listen "udp:$a:0" --trace "$t/alice.trace" \
  --audio-in "$t/a440.wav" --add-audio-after 0.5 --duration 7 --no-stdin \
  "sip:bob@$b:$port" >"$t/alice.out" 2>"$t/alice.err" &
adopt alice $! "$t/alice.err"
wait_for "$t/alice.out" '"action":"added"'
expect_exit alice 0 "alice's exit status"
expect_exit bob 0 "bob's exit status"

tshark_stop

# The RTP ports: every m=audio line with a port in the traces' SDP.
mapfile -t ports < <(python3 - "$t"/*.trace <<'PY'
import json, re, sys
ports = set()
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        ports.update(p for p in re.findall(r"m=audio (\d+) ", json.loads(line).get("message", ""))
                     if p != "0")
print("\n".join(sorted(ports)))
PY
)
((${#ports[@]} == 2)) || fail "expected two RTP ports in the SDP, found: ${ports[*]:-none}"
for p in "${ports[@]}"; do
  tshark_decode+=(-d "udp.port==$p,rtp" -d "udp.port==$((p + 1)),rtcp")
done

tshark_read -Y rtp -T fields -E separator=' ' -e ip.src -e rtp.p_type -e rtp.seq \
  -e rtp.timestamp -e rtp.marker -e rtp.ssrc >"$t/rtp.txt" || fail "tshark cannot read the RTP"
tshark_read -Y rtcp -T fields -E separator=' ' -e ip.src -e rtcp.pt -e rtcp.sdes.text \
  >"$t/rtcp.txt" || fail "tshark cannot read the RTCP"
python3 - "$t/rtp.txt" "$t/rtcp.txt" "$a" "$b" <<'PY' || fail "RTP/RTCP on the wire not as expected"
import sys
rtp = [l.split() for l in open(sys.argv[1]) if l.strip()]
rtcp = [l.split(None, 2) for l in open(sys.argv[2]) if l.strip()]
a, b = sys.argv[3], sys.argv[4]
print(f"capture: {len(rtp)} RTP, {len(rtcp)} RTCP", file=sys.stderr)
for src in (a, b):
    pk = [p for p in rtp if p[0] == src]
    assert len(pk) > 100, f"{src}: only {len(pk)} RTP packets"
    assert {p[1] for p in pk} == {"0"}, f"{src}: payload types {set(p[1] for p in pk)}"
    assert len({p[5] for p in pk}) == 1, f"{src}: several SSRCs"
    for x, y in zip(pk, pk[1:]):
        assert (int(y[2]) - int(x[2])) % 65536 == 1, f"{src}: seq {x[2]} then {y[2]}"
        assert (int(y[3]) - int(x[3])) % 2**32 == 160, f"{src}: ts {x[3]} then {y[3]}"
    markers = [i for i, p in enumerate(pk) if p[4] in ("1", "True")]
    assert markers == [0], f"{src}: marker on packets {markers[:5]}"
    kinds = {int(t) for r in rtcp if r[0] == src for t in r[1].split(",")}
    assert 200 in kinds, f"{src}: no RTCP sender report ({kinds})"
    assert 202 in kinds, f"{src}: no RTCP source description ({kinds})"
    assert any(len(r) > 2 and r[2].startswith("cpm@") for r in rtcp if r[0] == src), \
        f"{src}: no SDES CNAME"
PY

tshark_clean
echo "OK rtp-tshark"
