# shellcheck shell=bash
# The libFuzzer targets of tests/fuzz/ and their seeds, for scripts/fuzz.sh and
# bench/fuzz-long.sh (sourced; $top is the source directory).
#   fuzz_targets            the target names, in the order they are run
#   fuzz_seeds TARGET       its seed directories, one a line: the committed corpus
#                           tests/fuzz/corpus/TARGET (kept by bench/fuzz-long.sh) when it
#                           exists, then the conformance examples it starts from

# shellcheck disable=SC2034 # used by the scripts that source this
fuzz_targets=(fuzz_cpim fuzz_imdn fuzz_route_uri fuzz_sip fuzz_auth fuzz_config fuzz_ladder
  fuzz_msrp fuzz_sdp fuzz_plain_retry fuzz_encoding fuzz_sms fuzz_smpp fuzz_wav fuzz_mixer fuzz_hep
  fuzz_wire fuzz_tcp_framing)

fuzz_seeds()
{
  # shellcheck disable=SC2154 # $top is the sourcing script's
  local data=$top/tests/data
  [[ ! -d $top/tests/fuzz/corpus/$1 ]] || echo "$top/tests/fuzz/corpus/$1"
  case $1 in
  fuzz_cpim | fuzz_plain_retry) echo "$data/examples/cpim" ;;
  fuzz_imdn) echo "$data/examples/imdn" ;;
  fuzz_msrp) echo "$data/examples/msrp" ;;
  fuzz_sip | fuzz_route_uri | fuzz_wire | fuzz_tcp_framing) echo "$data/rfc4475" ;;
  fuzz_config) echo "$top/examples" ;;
  fuzz_ladder) echo "$top/tests/flows/ladders" ;;
  fuzz_sdp) echo "$top/tests/fuzz/seeds/sdp" ;;
  fuzz_encoding) echo "$data/encoding" ;;
  fuzz_sms) echo "$top/tests/fuzz/seeds/sms" ;;
  fuzz_smpp) echo "$data/smpp" ;;
  fuzz_wav) echo "$top/tests/fuzz/seeds/wav" ;;
  fuzz_hep) echo "$top/tests/fuzz/seeds/hep" ;;
  *) ;;
  esac
}
