#!/usr/bin/env bash
# A message whose transaction ends with no answer may have arrived (its 2xx lost on the way
# back): cpm-send sends it once more, as a new transaction with the same imdn.Message-ID,
# which a receiver shows once (issue 9). The peer here never answers the first transaction
# (nor any of its retransmissions) and answers the second with 200: cpm-send exits 0, says
# that it sent the message again, and both requests carry one Message-ID.
. "$(dirname "$0")/../lib/flow.sh"
need python3

claim_prefix
peer=${lab_prefix}1.3
python3 - "$peer" "$t/requests" "$t/peer.ready" <<'PY' 2>"$t/peer.err" &
import re, socket, sys
host, log, ready = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, 0))
s.settimeout(60)  # bounded: the test is over long before
open(ready, "w").write(f"ready {s.getsockname()[1]}\n")
first = None
with open(log, "w") as out:
    while True:
        data, src = s.recvfrom(65535)
        text = data.decode(errors="replace")
        if not text.startswith("MESSAGE "):
            continue
        branch = re.search(r"branch=([^;\r\n]+)", text).group(1)
        mid = re.search(r"imdn\.Message-ID:\s*(\S+)", text)
        out.write(f"{branch} {mid.group(1) if mid else '-'}\n")
        out.flush()
        if first is None:
            first = branch
        if branch == first:
            continue  # the first transaction gets no answer at all
        head = text.split("\r\n\r\n", 1)[0].split("\r\n")
        keep = [h for h in head[1:] if re.match(r"(?i)(via|from|to|call-id|cseq):", h)]
        resp = "SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n"
        s.sendto(resp.encode(), src)
        break
PY
adopt peer $! "$t/peer.err"
wait_for "$t/peer.ready" ready
port=$(cut -d" " -f2 "$t/peer.ready")

rc=0
"$CPM_BIN/cpm-send" --lines --timeout 2 --listen "udp:${lab_prefix}1.10:0" \
  "sip:bob@$peer:$port" <<<'hello again' 2>"$t/err" || rc=$?
expect_eq "$rc" 0 "cpm-send's exit status (the second transaction got 200)"
expect_contains "$t/err" 'sending it again with the same Message-ID'
expect_contains "$t/err" 'sent 1, 2xx 1, failed 0, no answer 0'
branches=$(cut -d' ' -f1 "$t/requests" | sort -u | wc -l)
ids=$(cut -d' ' -f2 "$t/requests" | sort -u)
expect_eq "$branches" 2 "transactions seen by the peer"
[[ $ids != - && $(wc -l <<<"$ids") == 1 ]] || fail "Message-IDs of the two: $ids"
wait_exit peer 5 || fail "the peer did not end after answering"
echo OK
