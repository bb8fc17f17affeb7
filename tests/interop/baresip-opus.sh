#!/bin/bash
# Interop: Opus with baresip's own opus module (Debian baresip-core, libopus). baresip, as
# bob in a group session of sip:friends@x.example (lab-icsi.toml), has no codec but Opus
# (tests/lib/baresip.sh's baresip_as_bob with the codec opus); it says 1000 Hz
# and records what it hears. alice invites the group with chat and audio (cpm-invite
# --audio, PCMU first, 440 Hz); carol (cpm-invite) takes both.
#  1. invited: csX offers baresip 0 8 111; baresip can only answer Opus (opus/48000/2 at 111);
#  2. joining: after hanging up it dials the group with Opus alone, at its own payload
#     type, and csX answers that number.
# Checked each time: csX connects baresip in opus (its log), the SDP of the offer and the
# answer (csX's trace); carol (PCMU) hears alice's tone and baresip's that came in Opus,
# baresip hears alice's (sent to it in Opus) and not its own.
. "$(dirname "$0")/../lib/flow.sh"
need baresip python3
[[ -f /usr/lib/baresip/modules/opus.so ]] || {
  [[ ${CI:-} == true ]] && fail "baresip's opus module is missing"
  skip "baresip's opus module is missing"
}
# shellcheck source=tests/lib/baresip.sh
. "$(dirname "$0")/../lib/baresip.sh"
# shellcheck source=tests/lib/audio.sh
. "$(dirname "$0")/../lib/audio.sh"

# listen NAME: from now on, six seconds of carol's mix and of baresip's recording of this
# call; where they start is kept under NAME for check (WAV files are measured once closed).
declare -A from
last_heard=
listen()
{
  local heard
  heard=$(baresip_heard "$t/baresip")
  [[ -n $heard && $heard != "$last_heard" ]] || fail "$1: baresip records nothing new"
  last_heard=$heard
  from[$1 - carol]=$(wav_seconds "$t/carol.wav")
  from[$1 - heard]=$heard
  recorded "$t/carol.wav" +6
  recorded "$heard" 6
}

# check NAME: carol hears alice and baresip (in Opus), baresip hears alice and not itself.
check()
{
  local c0=${from[$1 - carol]} heard=${from[$1 - heard]}
  local -a c=(--skip "$(awk -v s="$c0" 'BEGIN { print s + 1.5 }')" --until "$(awk -v s="$c0" 'BEGIN { print s + 6 }')")
  echo "$1:"
  expect_tone "${c[@]}" "$t/carol.wav" 440          # alice
  expect_tone "${c[@]}" "$t/carol.wav" 1000         # baresip, in Opus
  expect_tone --skip 1.5 --until 6 "$heard" 440     # alice, sent to it in Opus
  expect_no_tone --skip 1.5 --until 6 "$heard" 1000 # its own
}

lab_config "$examples/lab-icsi.toml" lab.toml
grep -q '^media = \["message", "audio"\]$' "$lab" || fail "the example group has no audio"
make_tone "$t/a440.wav" 440 90

start_group_network "" "$t"
baresip_as_bob "$t/baresip" 1000 opus
grep -q '^module opus\.so$' "$t/baresip/config" || fail "no opus module in baresip's config"
! grep -q '^module g711\.so$' "$t/baresip/config" || fail "baresip has G.711 beside Opus"

mkfifo "$t/alice.in" "$t/carol.in"
exec 6<>"$t/carol.in" 8<>"$t/alice.in"
START_STDIN="$t/carol.in" start carol cpm-invite --config "$lab" --node carol --register \
  --answer --count 1 --json --trace "$t/carol.trace" --audio-out "$t/carol.wav"
cpm-invite --config "$lab" --node alice --register --json --trace "$t/alice.trace" --audio \
  --audio-in "$t/a440.wav" sip:friends@x.example \
  <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" 6>&- 7>&- 8>&- &
adopt alice $! "$t/alice.err"
wait_for "$t/carol.out" '"event":"established"' 20
wait_for "$t/alice.out" '"event":"answered"' 20

# 1. Invited: csX offers 0 8 111, baresip answers Opus.
wait_for "$t/csX.err" 'sip:bob@b.example joined'
wait_for "$t/baresip/baresip.log" 'Call established: sip:friends@x.example' 10
grep -qE "audio with sip:bob@b.example at [^ ]+ in opus" "$t/csX.err" ||
  fail "csX did not connect baresip in Opus"
listen invited
baresip_command '/hangup
'
wait_for "$t/csX.err" 'sip:bob@b.example leaves the mix'

# 2. Joining: baresip offers Opus alone at its own number; csX answers it.
baresip_command '/dial sip:friends@x.example
'
wait_for "$t/csX.err" 'sip:bob@b.example joins the running session'
wait_for "$t/baresip/baresip.log" 'Call established: sip:friends@x.example' 10
wait_count "$t/csX.err" 'in opus' 2
listen joining
baresip_command '/hangup
'
wait_count "$t/csX.err" 'sip:bob@b.example leaves the mix' 2
stop_baresip baresip

exec 8>&-
expect_exit alice 0 "alice's exit status"
expect_exit carol 0 "carol's exit status"
exec 6>&-
check invited
check joining

# csX's trace: its offer to baresip and baresip's Opus answer; baresip's offer and csX's
# answer at baresip's number.
python3 - "$t/csX.trace" "${lab_prefix}2.10" <<'PY' || fail "the SDP with baresip is not Opus as expected"
import json, re, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
def audio(m):
    return next((l for l in m.split("\r\n") if l.startswith("m=audio ")), "")
def cseq(m):
    return next((l for l in m.split("\r\n") if l.lower().startswith("cseq:")), "")
def to_bob(e):
    return "bob@b.example" in e["message"]
invs = [e for e in ev if e["first_line"].startswith("INVITE ") and to_bob(e) and audio(e["message"])]
tx = [e for e in invs if e["dir"] == "tx"]
rx = [e for e in invs if e["dir"] == "rx"]
assert tx and rx, f"{len(tx)} INVITEs to baresip with audio, {len(rx)} from it"
def answer(inv, d):
    ok = [e for e in ev if e["dir"] == d and e["first_line"].startswith("SIP/2.0 200") and
          cseq(e["message"]) == cseq(inv["message"])]
    assert ok, "no 200"
    return ok[0]["message"]
offer = tx[0]["message"]
assert audio(offer).endswith(" RTP/AVP 0 8 111"), audio(offer)
ans = answer(tx[0], "rx")
assert re.search(r"RTP/AVP 111\r\n", ans), audio(ans)
assert re.search(r"a=rtpmap:111 opus/48000/2", ans, re.I), ans
offer = rx[0]["message"]
pt = re.search(r"a=rtpmap:(\d+) opus/48000/2", offer, re.I)
assert pt, offer
ans = answer(rx[0], "tx")
assert audio(ans).endswith(f" RTP/AVP {pt.group(1)}"), audio(ans)
assert f"a=rtpmap:{pt.group(1)} opus/48000/2" in ans, ans
print(f"baresip offered Opus as {pt.group(1)}", file=sys.stderr)
PY

stop_group_network ""
echo "OK baresip-opus"
