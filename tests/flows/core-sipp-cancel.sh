#!/usr/bin/env bash
# CANCEL through the core: 10 INVITEs cancelled after their 180. The caller gets 200 for
# each CANCEL and 487 for each INVITE; the core sent a CANCEL downstream for each and
# acknowledged the callee's 487 itself (hop-by-hop ACK for a non-2xx, RFC 3261 §17.1.1).
. "$(dirname "$0")/../lib/flow.sh"
need sipp
start_core --domain b.example --listen udp:127.0.0.1:0 --trace "$t/core.trace"
sipp_through_core cancel-uas.xml cancel-uac.xml 10 10
expect_eq "$(sent "$t/core.trace" 'INVITE sip:bob@127.0.0.1')" 10 "INVITEs forwarded to the registered contact"
expect_eq "$(sent "$t/core.trace" 'CANCEL sip:bob@127.0.0.1')" 10 "CANCELs the core sent downstream"
expect_eq "$(sent "$t/core.trace" 'ACK sip:bob@127.0.0.1')" 10 "ACKs for the callee's 487s"
(($(sent "$t/core.trace" 'SIP/2.0 487') >= 10)) || fail "the core relayed fewer than 10 487s"
stop_core
echo OK
