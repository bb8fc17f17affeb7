#!/bin/bash
# rtp-tshark.sh [pcmu|opus]: RTP and RTCP on the wire (libre's rtp under media::RtpStream)
# decoded by Wireshark's own dissectors: a 1-1 session on this test's loopback prefix where
# alice adds audio (a 440 Hz tone) and bob answers with his RTP port, captured with tshark,
# in PCMU (the default codec) or with both peers on --codec opus (RFC 7587; ctest's
# rtp-tshark-opus). Each m=audio port of the traces is decoded as RTP, the port after it as
# RTCP, payload type 111 as Opus. Checked: RTP in both directions with the codec's payload
# type (0, or 111), consecutive sequence numbers, timestamps one 20 ms frame apart (160 at
# 8 kHz, or 960 at the 48 kHz clock of RFC 7587 §4.1) and the marker on the first packet
# only; in Opus, every payload a well-formed Opus packet (RFC 6716 §3) of one 20 ms frame;
# RTCP from both sides (a sender report after 5 s with the CNAME in an SDES); no malformed
# frame, no expert error. (libre also sends an RTCP BYE when a stream ends, but tshark
# stopped by SIGINT right after the programs exit may not have written the last frames yet:
# not checked.)
# Skipped (77) when tshark is missing or may not capture here.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
. "$(dirname "$0")/../lib/tshark.sh"
need tshark python3

codec=${1:-pcmu}
case $codec in
  pcmu) codec_args=() pt=0 ts_step=160 ;;
  opus) codec_args=(--codec opus) pt=111 ts_step=960 ;;
  *) fail "usage: rtp-tshark.sh [pcmu|opus]" ;;
esac

claim_prefix
a=${lab_prefix}0.1
b=${lab_prefix}0.2
make_tone "$t/a440.wav" 440 2

tshark_start

start bob cpm-invite --answer --json --listen "udp:$b:0" --from "sip:bob@$b" --no-stdin \
  "${codec_args[@]}" --audio-out "$t/bob.wav" --trace "$t/bob.trace"
port=${ready[bob]#udp:"$b":}
port=${port%% *}
# 7 s: libre's RTCP sends its first report 5 s after the stream is connected.
cpm-invite --json --from "sip:alice@$a" --listen "udp:$a:0" --trace "$t/alice.trace" \
  "${codec_args[@]}" --audio-in "$t/a440.wav" --add-audio-after 0.5 --duration 7 --no-stdin \
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
[[ $codec != opus ]] || tshark_decode=(-d "rtp.pt==111,opus")
for p in "${ports[@]}"; do
  tshark_decode+=(-d "udp.port==$p,rtp" -d "udp.port==$((p + 1)),rtcp")
done

tshark_read -Y rtp -T fields -E separator=' ' -e ip.src -e rtp.p_type -e rtp.seq \
  -e rtp.timestamp -e rtp.marker -e rtp.ssrc >"$t/rtp.txt" || fail "tshark cannot read the RTP"
# The Opus payloads' TOC bytes (none in PCMU: an empty file).
: >"$t/opus.txt"
if [[ $codec == opus ]]; then
  tshark_read -Y opus -T fields -E separator=' ' -e ip.src -e opus.TOC.config -e opus.TOC.c \
    >"$t/opus.txt" || fail "tshark cannot read the Opus payloads"
fi
tshark_read -Y rtcp -T fields -E separator=' ' -e ip.src -e rtcp.pt -e rtcp.sdes.text \
  >"$t/rtcp.txt" || fail "tshark cannot read the RTCP"
python3 - "$t"/{rtp,rtcp,opus}.txt "$a" "$b" "$codec" "$pt" "$ts_step" <<'PY' || fail "RTP/RTCP on the wire not as expected"
import sys
rtp = [l.split() for l in open(sys.argv[1]) if l.strip()]
rtcp = [l.split(None, 2) for l in open(sys.argv[2]) if l.strip()]
opus = [l.split() for l in open(sys.argv[3]) if l.strip()]
a, b = sys.argv[4], sys.argv[5]
codec, pt, ts_step = sys.argv[6], sys.argv[7], int(sys.argv[8])
print(f"capture: {len(rtp)} RTP, {len(rtcp)} RTCP, {len(opus)} Opus", file=sys.stderr)
for src in (a, b):
    pk = [p for p in rtp if p[0] == src]
    assert len(pk) > 100, f"{src}: only {len(pk)} RTP packets"
    assert {p[1] for p in pk} == {pt}, f"{src}: payload types {set(p[1] for p in pk)}"
    if codec == "opus":
        op = [o for o in opus if o[0] == src]
        assert len(op) == len(pk), f"{src}: {len(op)} Opus payloads of {len(pk)} RTP packets"
        # RFC 6716 §3.1: TOC code 0 (one frame); config 1 (SILK narrowband, 20 ms) or 19
        # (CELT narrowband, 20 ms): we code 8 kHz audio in 20 ms frames.
        assert {o[2] for o in op} == {"0"}, f"{src}: TOC codes {set(o[2] for o in op)}"
        assert {o[1] for o in op} <= {"1", "19"}, f"{src}: TOC configs {set(o[1] for o in op)}"
    assert len({p[5] for p in pk}) == 1, f"{src}: several SSRCs"
    for x, y in zip(pk, pk[1:]):
        assert (int(y[2]) - int(x[2])) % 65536 == 1, f"{src}: seq {x[2]} then {y[2]}"
        assert (int(y[3]) - int(x[3])) % 2**32 == ts_step, f"{src}: ts {x[3]} then {y[3]}"
    markers = [i for i, p in enumerate(pk) if p[4] in ("1", "True")]
    assert markers == [0], f"{src}: marker on packets {markers[:5]}"
    kinds = {int(t) for r in rtcp if r[0] == src for t in r[1].split(",")}
    assert 200 in kinds, f"{src}: no RTCP sender report ({kinds})"
    assert 202 in kinds, f"{src}: no RTCP source description ({kinds})"
    assert any(len(r) > 2 and r[2].startswith("cpm@") for r in rtcp if r[0] == src), \
        f"{src}: no SDES CNAME"
PY

tshark_clean
echo "OK rtp-tshark $codec"
