#pragma once
// SMSC delivery receipts (SMPP 3.4 §2.11, Appendix B): the message_state and
// receipted_message_id optional parameters, and the receipt text
// "id:... sub:... dlvrd:... submit date:... done date:... stat:DELIVRD err:... text:...".
// Pure: no I/O.
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"
#include "cpm/smpp/pdu.hpp"

namespace cpm::smpp {

// message_state (§5.3.2.35).
enum class MessageState : uint8_t {
  enroute = 1,
  delivered = 2,
  expired = 3,
  deleted = 4,
  undeliverable = 5,
  accepted = 6,
  unknown = 7,
  rejected = 8,
};

// The receipt text's stat value: "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD",
// "UNKNOWN", "REJECTD", "ENROUTE" (Appendix B).
std::string_view stat_text(MessageState s);
// The state of a stat value (case-insensitive; the long words "DELIVERED", "UNDELIVERABLE",
// "ACCEPTED", "REJECTED" too); nullopt for anything else.
std::optional<MessageState> parse_stat(std::string_view s);
// Whether the state is final and the message got through (delivered) or did not (expired,
// deleted, undeliverable, rejected, unknown). enroute and accepted are not final.
bool is_final(MessageState s);
bool is_success(MessageState s);

// The fields of a receipt text. Dates are "YYMMDDhhmm"; `err` is a three-digit code.
struct ReceiptText {
  std::string id;
  std::string sub = "001";
  std::string dlvrd = "001";
  std::string submit_date;
  std::string done_date;
  std::string stat = "DELIVRD";
  std::string err = "000";
  std::string text; // the first 20 characters of the original message
};

// "id:ID sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000
// text:..." (Appendix B).
std::string format_receipt_text(const ReceiptText& r);
// The fields of a receipt text, keys case-insensitive, in any order, unknown ones skipped;
// `text:` takes the rest of the line. id and stat are required.
Result<ReceiptText> parse_receipt_text(std::string_view s);
// A time as a receipt date, "YYMMDDhhmm" in UTC.
std::string receipt_date(std::time_t t);

// Whether a deliver_sm is an SMSC delivery receipt (esm_class message type 0x04), or an
// intermediate notification (0x20) which carries one too.
bool is_receipt(const Pdu& deliver_sm);

// What a receipt says, from its optional parameters when present (§2.11: receipted_message_id
// and message_state), else from its text.
struct Receipt {
  std::string message_id;
  MessageState state = MessageState::unknown;
  std::string err;                 // the text's err, or the network_error_code in hex; "" if none
  std::optional<ReceiptText> text; // when the short_message held one
};
Result<Receipt> read_receipt(const Pdu& deliver_sm);

// A delivery receipt deliver_sm for a submitted message, with both the parameters and the
// text: from the message's destination to its source. `text` fills its id, stat and dates.
Pdu make_receipt(const Pdu& submitted, const std::string& message_id, MessageState state,
                 ReceiptText text);

} // namespace cpm::smpp
