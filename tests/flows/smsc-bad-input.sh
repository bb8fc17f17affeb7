#!/usr/bin/env bash
# cpm-smsc answers bad SMPP input as SMPP 3.4 asks and keeps serving: a bind with a wrong
# password gets ESME_RINVPASWD and the good bind after it is served; an unknown command_id
# gets generic_nack ESME_RINVCMDID, a truncated PDU and a PDU whose command_length frames
# more than its fields generic_nack ESME_RINVCMDLEN, each followed by a served
# enquire_link; a command_length under 16 gets generic_nack and the connection is closed,
# and a new connection is served. One stderr line per bad PDU.
. "$(dirname "$0")/../lib/flow.sh"
need python3
raw() { python3 "$CPM_SOURCE_DIR/tests/lib/smpp_raw.py" 127.0.0.1 "$port" "$@"; }
start smsc cpm-smsc --listen tcp:127.0.0.1:0 --system-id esme --password secret
port=${ready[smsc]##*:}
[[ $port =~ ^[0-9]+$ ]] || fail "ready line '${ready[smsc]}' has no port"

# bind_transceiver esme/wrong, then esme/secret: header, system_id, password, system_type,
# interface_version 0x34, addr_ton, addr_npi, address_range.
wrong=00000020000000090000000000000001'65736d6500 77726f6e6700 00 34 00 00 00'
good=00000021000000090000000000000002'65736d6500 73656372657400 00 34 00 00 00'
out=$(raw "$wrong" . "$good")
expect_eq "$out" $'80000009 0000000e 00000001\n80000009 00000000 00000002' "bind with a wrong password, then a good one"

enq() { printf '000000100000001500000000000000%02x' "$1"; }
# An unknown command_id, then an enquire_link: generic_nack ESME_RINVCMDID, then served.
out=$(raw 00000010000000990000000000000007 . "$(enq 8)")
expect_eq "$out" $'80000000 00000003 00000007\n80000015 00000000 00000008' "unknown command_id"
# A submit_sm cut after its source_addr (its command_length says so): ESME_RINVCMDLEN.
out=$(raw 00000016000000040000000000000009000101313500 . "$(enq 10)")
expect_eq "$out" $'80000000 00000002 00000009\n80000015 00000000 0000000a' "truncated submit_sm"
# An enquire_link whose command_length frames 8 octets more than it has.
out=$(raw 0000001800000015000000000000000b0000000000000000 . "$(enq 12)")
expect_eq "$out" $'80000000 00000002 0000000b\n80000015 00000000 0000000c' "enquire_link with a body"
# A command_length of 8: no way to find the next PDU, so generic_nack and close.
out=$(raw 000000080000001500000000000000d0)
expect_eq "$out" $'80000000 00000002 000000d0\nclosed' "command_length 8"
# The SMSC still serves.
out=$(raw "$(enq 13)")
expect_eq "$out" "80000015 00000000 0000000d" "a new connection after the bad ones"
alive smsc || fail "cpm-smsc died"
n=$(grep -c 'bad PDU\|refused' "$t/smsc.err")
((n >= 5)) || fail "expected a stderr line per bad PDU and refused bind, got $n: $(cat "$t/smsc.err")"
stop smsc || fail "cpm-smsc did not stop cleanly"
echo OK
