#!/bin/bash
# Figures 3+4 with the ACKs of the focus's 200 to a re-INVITE lost, made deterministic with
# nftables in the loss lab's namespace (tests/lib/netns.sh, no random loss; exit 77 where no
# namespace can be made). The group session of Figures 1 and 2 is set up; once csX has
# alice's ACK of the session's 200, a rule drops the next two ACKs to csX. alice (440 Hz)
# adds audio: csX re-offers bob and carol, answers alice 200, and her ACK of it is lost twice.
# libre's INVITE server transaction does not resend a 2xx (RFC 3261 §13.3.1.4 leaves it to the
# UAS core), so csX does: T1, then 2*T1, until the ACK; alice ACKs each 200 that comes again.
#
# Checked: two ACKs to csX dropped; csX sent its 200 to the re-INVITE at least three times,
# and alice her ACK at least three times; csX never gave up on the ACK; the audio goes on:
# carol hears alice's tone (tests/lib/tones.py, above 0.1 of full scale); chat flows.
. "$(dirname "$0")/../lib/netns.sh"
netns_enter 0 "$0" "$@"
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/audio.sh"
need python3

lab_config "$examples/lab-icsi.toml"
grep -q '^media = \["message", "audio"\]$' "$lab" || fail "the example group has no audio"
csx=${lab_prefix}3.2
make_tone "$t/a440.wav" 440 60
# Read by start_friends (friend_args, tests/lib/net.sh):
# shellcheck disable=SC2034
declare -A FRIEND_ARGS=([alice]="--audio-in $t/a440.wav" [carol]="--audio-out $t/carol.wav")
start_group_network "" "$t"
start_friends "" "$t"
friends_joined "" "$t"
wait_for "$t/csX.err" "sip:alice@a.example joined" # her ACK of the session's 200 is in

# From now on the only ACKs to csX are alice's for its 200 to her re-INVITE; `numgen inc`
# counts the ones this rule sees, so exactly the first two are dropped.
netns_drop_acks "$csx" numgen inc mod 1000000 '<' 2

printf '/audio\n' >&7
wait_for "$t/alice.out" '"action":"added"'
wait_for "$t/csX.err" "sip:bob@b.example takes the audio"
wait_for "$t/csX.err" "sip:carol@b.example takes the audio"
wait_for "$t/csX.err" "sip:alice@a.example's re-INVITE answered 200 (audio added)"

# The third ACK gets through (T1 + 2*T1 after the first 200), and carol hears alice.
dropped=0
for ((i = 0; i < 100; i++)); do
  dropped=$(netns_dropped_acks)
  ((dropped >= 2)) && break
  sleep 0.1 # bounded poll of nftables' counter; checked below
done
expect_eq "$dropped" 2 "ACKs to csX dropped"
carol0=$(wav_seconds "$t/carol.wav")
recorded "$t/carol.wav" +4
printf 'still here\n' >&7
wait_for "$t/carol.out" 'still here'

friends_leave ""

# csX's 200s to alice's re-INVITE, and alice's ACKs of it (CSeq of that re-INVITE).
read -r oks acks < <(python3 - "$t/csX.trace" "$t/alice.trace" <<'PY'
import json, re, sys
def events(path):
    for line in open(path):
        yield json.loads(line)
cseq = None
for e in events(sys.argv[2]):
    m = e["message"]
    if e["dir"] == "tx" and m.startswith("INVITE ") and re.search(r"(?m)^m=audio [1-9]", m):
        cseq = re.search(r"(?im)^CSeq:\s*(\d+)", m).group(1)
oks = sum(1 for e in events(sys.argv[1]) if e["dir"] == "tx"
          and e["message"].startswith("SIP/2.0 200 ")
          and re.search(r"(?im)^CSeq:\s*%s\s+INVITE" % cseq, e["message"])
          and "sip:alice@a.example" in e["message"].split("\r\n\r\n")[0])
acks = sum(1 for e in events(sys.argv[2]) if e["dir"] == "tx"
           and e["message"].startswith("ACK ")
           and re.search(r"(?im)^CSeq:\s*%s\s+ACK" % cseq, e["message"]))
print(oks, acks)
PY
)
((oks >= 3)) || fail "csX sent its 200 to the re-INVITE $oks times (want 3 or more)"
((acks >= 3)) || fail "alice sent her ACK $acks times (want 3 or more)"
grep -qF "no ACK from" "$t/csX.err" && fail "csX gave up waiting for the ACK"

# The seconds waited for above: after them carol may record a long silence while the
# session ends under loss, which would dilute the measurement.
expect_tone --skip "$(awk -v s="$carol0" 'BEGIN { print s + 1 }')" \
  --until "$(awk -v s="$carol0" 'BEGIN { print s + 4 }')" "$t/carol.wav" 440
echo "OK fig3-4-lost-ack"
