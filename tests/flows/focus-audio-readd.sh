#!/bin/bash
# Audio added a second time (man cpm-groupd, "Adding media"): in the group session of
# Figures 1 and 2, alice (440 Hz) adds audio; carol takes it, bob (--accept-media message)
# answers port 0. alice removes her audio, then carol hers: nobody has audio any more. alice
# adds it again: it starts afresh, so csX re-offers bob and carol once more (Figure 4) and
# carol hears alice's tone again. Then carol removes her audio while alice keeps hers, and
# bob adds audio himself: audio runs, and carol, who said no to it, is not asked again.
#
# Checked: csX's log and trace (two re-offers each to bob and carol, none after carol's second
# removal), carol's reports (audio added twice), carol's recording after the second addition
# holds alice's tone (tests/lib/tones.py, above 0.1 of full scale); chat goes on at the end.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

# count FILE TEXT: the lines of FILE that contain TEXT (a fixed string).
count()
{
  grep -cF -- "$2" "$1" 2>/dev/null || true
}

# wait_count FILE TEXT N: a bounded poll until N lines of FILE contain TEXT.
wait_count()
{
  local i
  for ((i = 0; i < 200; i++)); do
    (($(count "$1" "$2") >= $3)) && return 0
    sleep 0.1 # bounded poll of a file another process writes; checked below
  done
  fail "$1 never had $3 lines with '$2' (has $(count "$1" "$2"))"
}

lab_config "$examples/lab-icsi.toml" lab.toml
group_has_audio
make_tone "$t/a440.wav" 440 120

# Read by start_friends (friend_args, tests/lib/net.sh):
# shellcheck disable=SC2034
declare -A FRIEND_ARGS=(
  [alice]="--audio-in $t/a440.wav"
  [bob]="--accept-media message"
  [carol]="--audio-out $t/carol.wav"
)
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t"
csx=$t/csX.err

# 1. alice adds audio: carol takes it, bob only chat.
printf '/audio\n' >&7
wait_for "$t/alice.out" '"action":"added"'
wait_for "$t/carol.out" '"action":"added"'
wait_for "$csx" "sip:carol@b.example takes the audio"
wait_for "$csx" "sip:bob@b.example takes only chat"

# 2. alice removes hers, then carol: nobody has audio.
printf '/audio off\n' >&7
wait_for "$t/alice.out" '"action":"removed"'
wait_for "$csx" "sip:alice@a.example leaves the mix"
printf '/audio off\n' >&6
wait_for "$t/carol.out" '"action":"removed"'
wait_for "$csx" "nobody has audio any more"
expect_eq "$(count "$csx" "re-offering sip:carol@b.example")" 1 "csX's re-offers to carol so far"

# 3. alice adds it again: csX asks bob and carol again; carol hears her.
carol0=$(wav_seconds "$t/carol.wav")
printf '/audio\n' >&7
wait_count "$t/alice.out" '"action":"added"' 2
wait_count "$t/carol.out" '"action":"added"' 2
wait_count "$csx" "sip:carol@b.example takes the audio" 2
wait_count "$csx" "sip:bob@b.example takes only chat" 2
recorded "$t/carol.wav" +5

# 4. carol says no again while alice keeps her audio; bob adds audio himself: the audio runs,
# so carol is not asked again (bob's own addition still gets its 200).
printf '/audio off\n' >&6
wait_count "$t/carol.out" '"action":"removed"' 2
wait_count "$csx" "sip:carol@b.example leaves the mix" 2
printf '/audio\n' >&5
wait_for "$t/bob.out" '"action":"added"'
wait_for "$csx" "sip:bob@b.example's re-INVITE answered 200 (audio added)"
expect_eq "$(count "$csx" "re-offering sip:carol@b.example")" 2 "csX's re-offers to carol"
expect_eq "$(count "$csx" "re-offering sip:bob@b.example")" 2 "csX's re-offers to bob"
expect_eq "$(count "$t/carol.out" '"action":"added"')" 2 "carol's audio additions"

# Chat goes on.
printf 'still chatting\n' >&6
wait_for "$t/alice.out" 'still chatting'
wait_for "$t/bob.out" 'still chatting'

friends_leave ""

# csX's re-INVITEs with an active audio line: two in bob's dialog and two in carol's.
n=$(python3 - "$t/csX.trace" <<'PY'
import json, re, sys
calls = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["message"]
    if e["dir"] == "tx" and m.startswith("INVITE ") and re.search(r"(?im)^(To|t):.*;tag=", m) \
            and re.search(r"(?m)^m=audio [1-9]", m):
        calls[e["call_id"]] = calls.get(e["call_id"], 0) + 1
print(" ".join(str(v) for v in sorted(calls.values())))
PY
)
expect_eq "$n" "2 2" "csX's re-INVITEs with audio, per dialog"

# carol hears alice after the second addition (from 1.5 s after it on).
expect_tone --skip "$(awk -v s="$carol0" 'BEGIN { print s + 1.5 }')" \
  --until "$(awk -v s="$carol0" 'BEGIN { print s + 5 }')" "$t/carol.wav" 440

stop_group_network ""
echo "OK focus-audio-readd"
