# shellcheck shell=bash
# A capture of the test's own traffic with tshark, decoded by Wireshark's dissectors: an
# independent check of what goes on the wire. Sourced after flow.sh, once the test has its
# prefix (claim_prefix or lab_config):
#
#   . "$(dirname "$0")/../lib/flow.sh"
#   . "$(dirname "$0")/../lib/tshark.sh"
#   need tshark
#   claim_prefix
#   tshark_start                                     # capturing $lab_prefix's traffic
#   ...                                              # the programs run and end
#   tshark_stop                                      # the capture file is complete
#   tshark_decode=(-d "tcp.port==$port,msrp")        # ports the dissectors cannot guess
#   (($(tshark_count 'msrp.method == "SEND"') >= 6)) || fail ...
#   tshark_clean                                     # no malformed frame, no expert error
#
#   tshark_start      capture on lo (filter: net 127.K.0.0/16, this test's prefix) into
#                     $tshark_pcap ($t/capture.pcapng), as the recorded program "tshark";
#                     returns once tshark says it is capturing (bounded by START_TIMEOUT);
#                     skips (77) when tshark may not capture here. -a duration:120 bounds
#                     the capture should the test be killed.
#   tshark_stop       end it (SIGINT) and wait (bounded) until the file is written; fails
#                     unless tshark exited 0 and the file holds something
#   tshark_read ARG...  tshark -r on the capture with $tshark_decode (an array of -d
#                     options, empty by default) and ARG...; its stderr in $t/tshark-read.err
#   tshark_count FILTER  how many frames match the display filter FILTER (fails when tshark
#                     cannot read the capture or the filter)
#   tshark_clean      fails if a frame is malformed or Wireshark reports an expert error
# It uses $t, $lab_prefix, START_TIMEOUT and the harness's adopt, stop, wait_exit, pid_of,
# poll_for, fail and skip:
# shellcheck disable=SC2154

tshark_pcap=""
tshark_decode=()

tshark_start()
{
  tshark_pcap="$t/capture.pcapng"
  [[ -n ${lab_prefix:-} ]] || fail "tshark_start: no prefix (claim_prefix or lab_config first)"
  tshark -i lo -f "net ${lab_prefix}0.0/16" -w "$tshark_pcap" -a duration:120 -q \
    >"$t/tshark.out" 2>"$t/tshark.err" </dev/null 5>&- 6>&- 7>&- &
  adopt tshark $! "$t/tshark.err"
  poll_for "$t/tshark.err" "Capturing on" "$START_TIMEOUT" tshark && return 0
  stop tshark 2>/dev/null || true
  cat "$t/tshark.err" >&2
  if grep -qiE "permission|not permitted|privileges|no such device|no interfaces" "$t/tshark.err"; then
    skip "tshark cannot capture on lo here"
  fi
  fail "tshark did not start capturing"
}

tshark_stop()
{
  local rc=0
  kill -INT "$(pid_of tshark)"
  wait_exit tshark 10 || rc=$?
  ((rc == 0)) || {
    cat "$t/tshark.err" >&2
    fail "tshark exited with status $rc"
  }
  [[ -s $tshark_pcap ]] || fail "no capture file"
}

tshark_read()
{
  tshark -r "$tshark_pcap" "${tshark_decode[@]}" "$@" 2>>"$t/tshark-read.err"
}

tshark_count()
{
  local found
  found=$(tshark_read -Y "$1") || fail "tshark cannot read $tshark_pcap (filter $1)"
  if [[ -z $found ]]; then
    echo 0
  else
    wc -l <<<"$found"
  fi
}

tshark_clean()
{
  local found
  found=$(tshark_read -Y _ws.malformed) || fail "tshark cannot read $tshark_pcap"
  [[ -z $found ]] || {
    printf '%s\n' "$found" >&2
    fail "malformed frames in the capture"
  }
  found=$(tshark_read -Y '_ws.expert.severity == error') || fail "tshark cannot read $tshark_pcap"
  [[ -z $found ]] || {
    printf '%s\n' "$found" >&2
    tshark_read -q -z expert,error >&2
    fail "Wireshark expert errors in the capture"
  }
}
