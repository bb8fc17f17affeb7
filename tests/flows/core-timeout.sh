#!/usr/bin/env bash
# A next hop that never answers: the core answers 408 within --timeout, and keeps serving.
. "$(dirname "$0")/../lib/flow.sh"
# A silent UDP socket stands for the peer core: bound, never answers.
mkfifo "$t/silent"
python3 -c 'import socket,sys,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0))
open(sys.argv[1],"w").write("%d\n" % s.getsockname()[1]); time.sleep(600)' "$t/silent" \
  2>"$t/silent.err" &
adopt silent $! "$t/silent.err"
read -r -t 20 silent <"$t/silent" || fail "the silent socket did not report its port"
start_core --domain b.example --listen udp:127.0.0.1:0 --peer "a.example=udp:127.0.0.1:$silent" --timeout 1500
start=$(date +%s%N)
out=$(printf 'MESSAGE sip:alice@a.example SIP/2.0\nVia: SIP/2.0/UDP @LOCAL@;branch=@BRANCH@;rport\nMax-Forwards: 70\nFrom: <sip:bob@b.example>;tag=b1\nTo: <sip:alice@a.example>\nCall-ID: @CALLID@\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\nanyone?\n' |
  sip "$CORE_UDP" --timeout 10)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "$(status <<<"$out")" 408 "silent next hop"
(( ms >= 1400 && ms < 5000 )) || fail "408 after ${ms} ms, want about 1500"
stop_core
echo OK
