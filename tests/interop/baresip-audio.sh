#!/bin/bash
# Interop: baresip (Debian baresip-core, no MSRP) takes part in the audio of a group session
# through the cores, as bob, a member of sip:friends@x.example (lab-icsi.toml). alice
# invites the group with chat and audio (cpm-invite --audio, 440 Hz); carol (cpm-invite)
# takes both. baresip says 1000 Hz (ausine) and records what it hears (sndfile), twice:
#  1. invited: it answers csX's offer with the audio and the chat refused (port 0), and
#     csX keeps it as a participant with audio only;
#  2. joining: after hanging up it dials the group; its INVITE offers audio alone, and csX
#     takes it into the running session.
# Checked each time: csX's log; carol's recording holds both tones (baresip's sound reaches
# the others through the mix), alice's holds baresip's, baresip's holds alice's and not its
# own (tests/lib/tones.py: present above 0.1 of full scale, absent below 0.05). Chat between
# alice and carol goes on, also after baresip hung up and left the mix.
. "$(dirname "$0")/../lib/flow.sh"
need baresip python3
# shellcheck source=tests/lib/baresip.sh
. "$(dirname "$0")/../lib/baresip.sh"
# shellcheck source=tests/lib/audio.sh
. "$(dirname "$0")/../lib/audio.sh"

# mix_with_baresip NAME: from now on, six seconds of the mix at carol and alice, and six
# seconds of baresip's recording of this call; where they start is kept under NAME for
# check_mix.
declare -A from
mix_with_baresip()
{
  local heard
  heard=$(baresip_heard "$t/baresip")
  [[ -n $heard && $heard != "${from[$1 - heard]:-}" ]] || fail "$1: baresip records nothing new"
  from[$1 - carol]=$(wav_seconds "$t/carol.wav")
  from[$1 - alice]=$(wav_seconds "$t/alice.wav")
  from[$1 - heard]=$heard
  recorded "$t/carol.wav" +6
  recorded "$t/alice.wav" +6
  recorded "$heard" 6
}

# check_mix NAME: in the six seconds mix_with_baresip NAME waited for (from a second and a
# half on), carol hears both tones, alice baresip's, baresip alice's and not its own.
check_mix()
{
  local c0=${from[$1 - carol]} a0=${from[$1 - alice]} heard=${from[$1 - heard]}
  local -a c=(--skip "$(awk -v s="$c0" 'BEGIN { print s + 1.5 }')" --until "$(awk -v s="$c0" 'BEGIN { print s + 6 }')")
  local -a a=(--skip "$(awk -v s="$a0" 'BEGIN { print s + 1.5 }')" --until "$(awk -v s="$a0" 'BEGIN { print s + 6 }')")
  echo "$1:"
  expect_tone "${c[@]}" "$t/carol.wav" 440       # alice
  expect_tone "${c[@]}" "$t/carol.wav" 1000      # baresip
  expect_tone "${a[@]}" "$t/alice.wav" 1000      # baresip
  expect_tone --skip 1.5 --until 6 "$heard" 440  # alice
  expect_no_tone --skip 1.5 --until 6 "$heard" 1000 # its own
}

lab_config "$examples/lab-icsi.toml" lab.toml
grep -q '^media = \["message", "audio"\]$' "$lab" || fail "the example group has no audio"
make_tone "$t/a440.wav" 440 90

start_group_network "" "$t"
baresip_as_bob "$t/baresip" 1000

# carol answers; alice invites the group with chat and audio (--audio). fd 7 is baresip's
# (tests/lib/baresip.sh).
mkfifo "$t/alice.in" "$t/carol.in"
exec 6<>"$t/carol.in" 8<>"$t/alice.in"
START_STDIN="$t/carol.in" start carol cpm-invite --config "$lab" --node carol --register \
  --answer --count 1 --json --trace "$t/carol.trace" --audio-out "$t/carol.wav"
cpm-invite --config "$lab" --node alice --register --json --trace "$t/alice.trace" --audio \
  --audio-in "$t/a440.wav" --audio-out "$t/alice.wav" sip:friends@x.example \
  <"$t/alice.in" >"$t/alice.out" 2>"$t/alice.err" 6>&- 7>&- 8>&- &
adopt alice $! "$t/alice.err"
wait_for "$t/carol.out" '"event":"established"' 20
wait_for "$t/alice.out" '"event":"answered"' 20
expect_json "$t/alice.out" .event media .action added .media audio

# 1. Invited: baresip answers csX's offer with audio and the chat refused (port 0).
wait_for "$t/csX.err" 'sip:bob@b.example takes part with audio only (chat refused, port 0)'
wait_for "$t/csX.err" 'sip:bob@b.example joined'
wait_for "$t/baresip/baresip.log" 'Call established: sip:friends@x.example' 10
mix_with_baresip "invited"

# Chat goes on between the two with MSRP.
printf 'baresip is here\n' >&8
wait_for "$t/carol.out" 'baresip is here'

# baresip hangs up: it leaves the mix, the session goes on for alice and carol.
baresip_command '/hangup
'
wait_for "$t/csX.err" 'sip:bob@b.example leaves the mix'
wait_for "$t/csX.err" 'sip:bob@b.example left'
printf 'still here\n' >&8
wait_for "$t/carol.out" 'still here'

# 2. Joining: baresip dials the group; its INVITE offers audio alone, and csX takes it into
# the running session.
baresip_command '/dial sip:friends@x.example
'
wait_for "$t/csX.err" 'sip:bob@b.example takes part with audio only (no MSRP in its offer)'
wait_for "$t/csX.err" 'sip:bob@b.example joins the running session'
wait_for "$t/baresip/baresip.log" 'Call established: sip:friends@x.example' 10
mix_with_baresip "joining"
baresip_command '/hangup
'
wait_count "$t/csX.err" 'sip:bob@b.example leaves the mix' 2
stop_baresip baresip

exec 8>&-
expect_exit alice 0 "alice's exit status"
expect_exit carol 0 "carol's exit status"
exec 6>&-
check_mix invited
check_mix joining

stop_group_network ""
echo "OK baresip-audio"
