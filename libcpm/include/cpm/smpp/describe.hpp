#pragma once
// A PDU as one line of text, for traces and diagnostics:
//   submit_sm seq=7 src=+15550100 dst=+15550101 esm_class=0x40 dcs=8 registered_delivery=1
//   sm_len=140 submit_sm_resp seq=7 message_id=1f deliver_sm seq=3 src=+15550101 dst=+15550100
//   receipt id=1f stat=DELIVRD generic_nack seq=5 status=ESME_RINVCMDID
// The first word is always the command's name (cpm-ladder draws it); status appears when it
// is not ESME_ROK. Pure.
#include <string>
#include <string_view>

#include "cpm/smpp/pdu.hpp"

namespace cpm::smpp {

std::string describe(const Pdu& p);
// A PDU that could not be read, from its header when it had one:
//   "submit_sm seq=9 unreadable: command_length 12 is outside 16..65536"
std::string describe(std::string_view bytes, const DecodeError& e);

} // namespace cpm::smpp
