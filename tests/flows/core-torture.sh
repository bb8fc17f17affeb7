#!/usr/bin/env bash
# RFC 4475 torture messages against the running core: each gets the answer recorded below
# (valid ones served: 404/416/420 or forwarded; invalid ones 400 or dropped; never a 2xx for
# an invalid one), the core never crashes, and a good request after them is served.
. "$(dirname "$0")/../lib/flow.sh"
dir=$CPM_DATA/rfc4475
[[ -f $dir/manifest.tsv ]] || fail "no $dir/manifest.tsv"
# Responses to Vias without rport go to the Via port (5060) of the source address: bind a
# loopback address of our own there (in a prefix no other test uses).
claim_prefix
me=${lab_prefix}0.1
start_core --domain b.example --listen "udp:127.0.0.1:0"
# file -> expected first answer ("none": dropped or forwarded, no answer within the window)
declare -A want=(
  [wsinv.dat]=503 [intmeth.dat]=404 [esc01.dat]=404 [escnull.dat]=404 [esc02.dat]=404
  [lwsdisp.dat]=404 [longreq.dat]=none [dblreq.dat]=404 [semiuri.dat]=404 [transports.dat]=404
  [mpart01.dat]=none [unreason.dat]=none [noreason.dat]=none
  [badinv01.dat]=none [clerr.dat]=400 [ncl.dat]=400 [scalar02.dat]=400 [scalarlg.dat]=none
  [quotbal.dat]=none [ltgtruri.dat]=none [lwsruri.dat]=none [lwsstart.dat]=none [trws.dat]=none
  [escruri.dat]=400 [baddate.dat]=404 [regbadct.dat]=404 [badaspec.dat]=404 [baddn.dat]=none
  [badvers.dat]=none [mismatch01.dat]=400 [mismatch02.dat]=400 [bigcode.dat]=none
  [badbranch.dat]=404 [insuf.dat]=400 [unkscm.dat]=416 [novelsc.dat]=416 [unksm2.dat]=none
  [bext01.dat]=420 [invut.dat]=404 [regaut01.dat]=404 [multi01.dat]=400 [mcl01.dat]=400
  [bcast.dat]=none [zeromf.dat]=404 [cparam01.dat]=404 [cparam02.dat]=404 [regescrt.dat]=404
  [sdp01.dat]=404 [inv2543.dat]=none [test.dat]=none
)
n=0
while IFS=$'\t' read -r file _ class title _; do
  [[ $file == file ]] && continue
  [[ -n ${want[$file]:-} ]] || fail "no expectation for $file"
  # An answer is awaited as long as it takes (the client returns on it); only the
  # messages that must get none are given a short window, which can only fail open.
  window=10
  [[ ${want[$file]} == none ]] && window=0.3
  got=$(sip "$CORE_UDP" --raw --timeout "$window" --bind "$me" --port 5060 <"$dir/$file" | awk "NR == 1 {print \$2}") || true
  got=${got:-none}
  [[ $got == "${want[$file]}" ]] || fail "$file ($class, $title): expected ${want[$file]}, got $got"
  [[ $class == invalid && $got == 2* ]] && fail "$file: invalid message accepted with $got"
  alive core || fail "core died on $file"
  n=$((n + 1))
done <"$dir/manifest.tsv"
(( n == 50 )) || fail "ran $n messages, want 50"
out=$(printf 'MESSAGE sip:nobody@b.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:alice@a.example>;tag=a1\nTo: <sip:nobody@b.example>\nCall-ID: @CALLID@\nCSeq: 1 MESSAGE\n\n' | sip "$CORE_UDP")
expect_eq "$(status <<<"$out")" 404 "good request after the torture run"
stop_core
echo OK
