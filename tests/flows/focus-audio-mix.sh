#!/bin/bash
# focus-audio-mix.sh [pcmu|opus]: Figures 3 and 4 with real audio (the focus's N-1 mix): in
# the group session of Figures 1 and 2, alice plays a 440 Hz tone and adds audio (/audio);
# csX holds her re-INVITE, re-offers bob and carol their chat stream plus audio, and answers
# her once both took it. bob plays 1000 Hz; carol says nothing and records.
# With opus (ctest's group-audio-opus) the focus mixes participants with different codecs:
# alice runs cpm-invite --codec opus, so her /audio offers Opus first (RTP/AVP 111 0 8) and
# csX answers Opus at her payload type; csX's re-offers to bob and carol list PCMU first
# (RTP/AVP 0 8 111), so they answer PCMU. With pcmu (the default) everybody offers and
# answers PCMU.
#
# Checked: every participant reports the audio added; csX mixed all three, connected alice
# in her codec and bob and carol in PCMU; the SDP of both offers and answers in the traces;
# each hears the N-1 mix in its own codec: carol's recording holds both tones, bob's holds
# alice's and not his own, alice's bob's and not her own (tests/lib/tones.py: a Goertzel
# measurement, present above 0.1 of full scale, absent below 0.05; a silent or unmixed
# stream fails); chat goes on after the audio was added.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

codec=${1:-pcmu}
# alice's codec: its --codec option, the name csX says it connects her in, her offer's and
# csX's answer's payload types.
case $codec in
  pcmu) alice_codec=() alice_in=PCMU alice_offer="0 8 111" alice_answer=0 ;;
  opus) alice_codec=(--codec opus) alice_in=opus alice_offer="111 0 8" alice_answer=111 ;;
  *) fail "usage: focus-audio-mix.sh [pcmu|opus]" ;;
esac

lab_config "$examples/lab-icsi.toml" lab.toml
# The group carries audio (its media; the participating functions allow any by default).
group_has_audio

make_tone "$t/a440.wav" 440 60
make_tone "$t/b1000.wav" 1000 60
# Read by start_friends (friend_args, tests/lib/net.sh):
# shellcheck disable=SC2034
declare -A FRIEND_ARGS=(
  [alice]="${alice_codec[*]} --audio-in $t/a440.wav --audio-out $t/alice.wav"
  [bob]="--audio-in $t/b1000.wav --audio-out $t/bob.wav"
  [carol]="--audio-out $t/carol.wav"
)
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t"

printf '/audio\n' >&7
wait_for "$t/alice.out" '"action":"added"'
wait_for "$t/bob.out" '"action":"added"'
wait_for "$t/carol.out" '"action":"added"'
wait_for "$t/csX.err" "sip:bob@b.example takes the audio"
wait_for "$t/csX.err" "sip:carol@b.example takes the audio"
for who in alice@a.example bob@b.example carol@b.example; do
  wait_for "$t/csX.err" "audio with sip:$who at "
done
grep -qE "audio with sip:alice@a.example at [^ ]+ in $alice_in" "$t/csX.err" ||
  fail "csX did not connect alice in $alice_in"
for who in bob carol; do
  grep -qE "audio with sip:$who@b.example at [^ ]+ in PCMU" "$t/csX.err" ||
    fail "csX did not connect $who in PCMU"
done

# Four seconds of the mix, measured after the first one and a half.
alice0=$(wav_seconds "$t/alice.wav")
bob0=$(wav_seconds "$t/bob.wav")
carol0=$(wav_seconds "$t/carol.wav")
recorded "$t/alice.wav" +5
recorded "$t/bob.wav" +5
recorded "$t/carol.wav" +5

# Chat goes on beside the audio.
printf 'can you hear me\n' >&7
wait_for "$t/bob.out" 'can you hear me'
wait_for "$t/carol.out" 'can you hear me'

# The end: alice leaves, then bob; carol's session ends; the recordings are closed.
friends_leave ""

# alice's offer and csX's answer (her trace), csX's offer to bob and his answer (his trace).
python3 - "$t/alice.trace" "$t/bob.trace" "$alice_offer" "$alice_answer" <<'PY' || fail "the offers and answers are not as expected"
import json, sys
def reinvite(path):
    ev = [json.loads(l) for l in open(path)]
    def audio(m):
        return next((l for l in m.split("\r\n") if l.startswith("m=audio ")), "")
    inv = [e for e in ev if e["first_line"].startswith("INVITE ") and audio(e["message"])
           and not audio(e["message"]).startswith("m=audio 0 ")]
    assert inv, f"{path}: no INVITE with audio"
    cseq = next(l for l in inv[0]["message"].split("\r\n") if l.lower().startswith("cseq:"))
    ok = [e for e in ev if e["first_line"].startswith("SIP/2.0 200") and
          any(l == cseq for l in e["message"].split("\r\n"))]
    assert ok, f"{path}: no 200 to the INVITE with audio"
    return inv[0]["message"], audio(inv[0]["message"]), ok[0]["message"], audio(ok[0]["message"])
body, offer, _, answer = reinvite(sys.argv[1])
assert offer.endswith(f" RTP/AVP {sys.argv[3]}"), offer
assert "a=rtpmap:111 opus/48000/2\r\n" in body, body
assert answer.endswith(f" RTP/AVP {sys.argv[4]}"), answer
_, offer, ans_body, answer = reinvite(sys.argv[2])
assert offer.endswith(" RTP/AVP 0 8 111"), offer
assert answer.endswith(" RTP/AVP 0"), answer
PY

after() { awk -v s="$1" 'BEGIN { print s + 1.5 }'; }
expect_tone --skip "$(after "$carol0")" "$t/carol.wav" 440
expect_tone --skip "$(after "$carol0")" "$t/carol.wav" 1000
expect_tone --skip "$(after "$bob0")" "$t/bob.wav" 440
expect_no_tone --skip "$(after "$bob0")" "$t/bob.wav" 1000
expect_tone --skip "$(after "$alice0")" "$t/alice.wav" 1000
expect_no_tone --skip "$(after "$alice0")" "$t/alice.wav" 440

expect_contains "$t/csX.err" "audio mixing starts"
stop_group_network ""
echo "OK focus-audio-mix $codec"
