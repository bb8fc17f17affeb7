# shellcheck shell=bash
# The audio checks of the media flows (issue 11), sourced after flow.sh:
#
#   . "$(dirname "$0")/../lib/flow.sh"
#   . "$(dirname "$0")/../lib/audio.sh"
#   make_tone "$t/a440.wav" 440 60                  # alice says it (--audio-in)
#   ...                                             # bob records (--audio-out "$t/bob.wav")
#   recorded "$t/bob.wav" +5                        # five more seconds of what bob hears
#   expect_tone --skip 1.5 "$t/bob.wav" 440         # he hears alice
#   expect_no_tone --skip 1.5 "$t/bob.wav" 1000     # and not himself
#
# A recording is cpm-invite's --audio-out file: 16-bit 8 kHz mono WAV (a 44-byte header, then
# 16,000 bytes a second) that grows while the audio flows. Levels are measured by
# tests/lib/tones.py, a Goertzel filter per 20 ms frame giving a tone's amplitude as a
# fraction of full scale; its docstring says why, for tones of 0.3 to 0.5, "present" means
# above 0.1 and "absent" below 0.05 (the defaults here). OPT is tones.py's window: --skip S
# (from S seconds on; default 1, leaving out a jitter buffer's start-up) and --until S.
#
#   make_tone FILE FREQ [SECONDS]       write a tone to play: 8 kHz, amplitude 0.3, 5 s
#   wav_seconds FILE                    seconds of audio FILE holds so far (0 when none)
#   recorded FILE [SECONDS] [TIMEOUT]   a bounded wait until FILE exists and holds more than
#                                       SECONDS of audio (default 0: some audio; +N: N
#                                       seconds more than it holds now); fails after TIMEOUT
#                                       seconds (default 30)
#   tone_level [OPT...] FILE FREQ       the amplitude of FREQ in FILE
#   expect_tone [OPT...] FILE FREQ [MIN]      FREQ is heard in FILE: above MIN (0.1)
#   expect_no_tone [OPT...] FILE FREQ [MAX]   FREQ is not heard in FILE: below MAX (0.05)
#   expect_silence [OPT...] FILE [MAX]        FILE's rms level is below MAX (0.01)
#   expect_no_audio FILE                      FILE holds no frame (a header at most: 64 bytes)
#   expect_above VALUE MIN WHAT, expect_below VALUE MAX WHAT
#                                       VALUE (a number, as tones.py prints) is above MIN or
#                                       below MAX; fails with WHAT otherwise
# Each expect_* says what it measured on stdout and fails the test (flow.sh's fail) with it.

_audio_tones=$(dirname "${BASH_SOURCE[0]}")/tones.py
tone_present=0.1 # a tone heard: its amplitude above this (fraction of full scale)
tone_absent=0.05 # a tone not heard: below this
silence_rms=0.01 # silence: an rms level below this

make_tone()
{
  python3 "$_audio_tones" --make "$1" "$2" "${3:-5}" || fail "cannot make the $2 Hz tone $1"
}

wav_seconds()
{
  local n
  n=$(stat -c %s "$1" 2>/dev/null) || n=44
  awk -v n="$n" 'BEGIN { printf "%.3f\n", (n > 44 ? n - 44 : 0) / 16000 }'
}

recorded()
{
  local file=$1 want=${2:-0} timeout=${3:-30} i
  [[ $want != +* ]] || want=$(awk -v now="$(wav_seconds "$file")" -v more="${want#+}" \
    'BEGIN { print now + more }')
  for ((i = 0; i < timeout * 10; i++)); do
    awk -v have="$(wav_seconds "$file")" -v want="$want" 'BEGIN { exit !(have > want) }' &&
      return 0
    sleep 0.1 # bounded poll of a recording another process writes; fails below
  done
  fail "$file never held more than $want s of audio within $timeout s (it has $(wav_seconds "$file") s)"
}

# _audio_number VALUE WHAT: VALUE is a number as tones.py prints them (else the test fails).
_audio_number()
{
  [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "$2: '$1' is not a level"
}

expect_above()
{
  _audio_number "$1" "$3"
  awk -v v="$1" -v m="$2" 'BEGIN { exit !(v + 0 > m + 0) }' || fail "$3: $1, not above $2"
  echo "$3: $1 (above $2)"
}

expect_below()
{
  _audio_number "$1" "$3"
  awk -v v="$1" -v m="$2" 'BEGIN { exit !(v + 0 < m + 0) }' || fail "$3: $1, not below $2"
  echo "$3: $1 (below $2)"
}

# _audio_measure KEY OPT... FILE FREQ...: tones.py's value for KEY (a frequency or "rms").
_audio_measure()
{
  local key=$1 out
  shift
  out=$(python3 "$_audio_tones" "$@") || fail "tones.py cannot measure $*"
  awk -v k="$key" '$1 == k { print $2 }' <<<"$out"
}

tone_level()
{
  local n=$#
  _audio_measure "${!n}" "$@"
}

# _audio_split ARG...: sets _audio_opt (the leading --skip/--until pairs) and _audio_rest.
_audio_split()
{
  _audio_opt=() _audio_rest=()
  while [[ ${1:-} == --* ]]; do
    _audio_opt+=("$1" "${2:-}")
    shift 2 || fail "audio.sh: $1 without its value"
  done
  _audio_rest=("$@")
}

expect_tone()
{
  _audio_split "$@"
  set -- "${_audio_rest[@]}"
  expect_above "$(tone_level "${_audio_opt[@]}" "$1" "$2")" "${3:-$tone_present}" \
    "$(basename "$1"): $2 Hz${_audio_opt[*]:+ (${_audio_opt[*]})}"
}

expect_no_tone()
{
  _audio_split "$@"
  set -- "${_audio_rest[@]}"
  expect_below "$(tone_level "${_audio_opt[@]}" "$1" "$2")" "${3:-$tone_absent}" \
    "$(basename "$1"): $2 Hz${_audio_opt[*]:+ (${_audio_opt[*]})}"
}

expect_silence()
{
  _audio_split "$@"
  set -- "${_audio_rest[@]}"
  # tones.py needs a frequency to measure; its rms line is what counts here.
  expect_below "$(_audio_measure rms "${_audio_opt[@]}" "$1" 1000)" "${2:-$silence_rms}" \
    "$(basename "$1"): rms level${_audio_opt[*]:+ (${_audio_opt[*]})}"
}

expect_no_audio()
{
  local size
  size=$(stat -c %s "$1") || fail "no recording $1"
  ((size <= 64)) || fail "$1 holds $size bytes: audio was recorded"
  echo "$(basename "$1"): $size bytes, no audio"
}
