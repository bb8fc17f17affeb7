# shellcheck shell=bash
# The lab of the IWF tests (tests/flows/iwf-*.sh), sourced after flow.sh:
#
#   . "$(dirname "$0")/../lib/flow.sh"
#   . "$(dirname "$0")/../lib/iwf.sh"
#   need_net_smpp                                   # the SMSC of smpp_smsc.pl
#   iwf_config 'outbox_attempts = 2'                # $lab, on a claimed $lab_prefix
#   start coreA "$CPM_BIN/cpm-core-route" --config "$lab" --node coreA
#   start_smsc nc --inject '15550199 15550101 Hello'
#   start iwf "$CPM_BIN/cpm-iwf" --config "$lab" --node iwf
#
#   iwf_config [LINE...]
#       claims a loopback prefix 127.K. (claim_prefix, sets $lab_prefix) and writes the
#       lab to $t/iwf.toml (sets $lab): coreA (domain a.example, 127.K.1.1:5060 over UDP and
#       TCP), whose public service identities send tel:+15550100, tel:+15550199 and
#       tel:+442079460000 to the IWF; the IWF (127.K.1.3:5060, its store iwf.sqlite) behind
#       coreA, an ESME of the SMSC at 127.K.1.4:2775 (system_id "iwf", password "secret",
#       an enquire_link every second, a reconnection after 100 ms; --pipe leaves the SMSC
#       out); alice (sip:alice@a.example, 127.K.1.10:5060), a client of coreA whose number
#       is +15550101. Each LINE (TOML, e.g. 'outbox_attempts = 2') is added to the IWF's node.
#   need_net_smpp
#       skips (77) unless Perl's Net::SMPP (Debian's libnet-smpp-perl) is installed; under
#       CI=true it fails instead
#   start_smsc NAME ARG...
#       starts tests/lib/smpp_smsc.pl (the Net::SMPP SMSC) at 127.K.1.4:2775 with ARG...
#       as the recorded program NAME ($t/NAME.out, $t/NAME.err); returns once it listens
# It uses $t and the harness's claim_prefix, need, adopt, wait_for, fail and skip:
# shellcheck disable=SC2154

# Its LINEs are optional (shellcheck's SC2119/SC2120 would want them always):
# shellcheck disable=SC2120
iwf_config()
{
  local p line
  claim_prefix
  p=$lab_prefix
  lab="$t/iwf.toml"
  {
    cat <<TOML
[[node]]
name = "coreA"
role = "core"
domain = "a.example"
listen = ["udp:${p}1.1:5060", "tcp:${p}1.1:5060"]
psi = { "tel:+15550100" = "iwf", "tel:+15550199" = "iwf", "tel:+442079460000" = "iwf" }

[[node]]
name = "alice"
role = "client"
from = "sip:alice@a.example"
listen = ["udp:${p}1.10:5060", "tcp:${p}1.10:5060"]
proxy = "coreA"

[[user]]
uri = "sip:alice@a.example"
tel = "+15550101"

[[node]]
name = "iwf"
role = "iwf"
domain = "a.example"
listen = ["udp:${p}1.3:5060", "tcp:${p}1.3:5060"]
proxy = "coreA"
iwf_db = "iwf.sqlite"
smsc = "${p}1.4:2775"
system_id = "iwf"
password = "secret"
enquire_link_ms = 1000
reconnect_ms = 100
TOML
    for line in "$@"; do
      printf '%s\n' "$line"
    done
  } >"$lab" || fail "cannot write $lab"
}

need_net_smpp()
{
  need perl
  perl -MNet::SMPP -e 1 2>/dev/null && return 0
  [[ ${CI:-} == true ]] && fail "Net::SMPP missing"
  skip "Net::SMPP (libnet-smpp-perl) is not installed"
}

start_smsc()
{
  local name=$1
  shift
  perl "$CPM_SOURCE_DIR/tests/lib/smpp_smsc.pl" --host "${lab_prefix}1.4" --port 2775 "$@" \
    >"$t/$name.out" 2>"$t/$name.err" </dev/null &
  adopt "$name" $! "$t/$name.err"
  wait_for "$t/$name.out" '"listening"' 10
}
