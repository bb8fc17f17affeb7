#pragma once
// RFC 5438 Instant Message Disposition Notification: message/imdn+xml and the
// Disposition-Notification header.
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"

namespace cpm::imdn {

inline constexpr std::string_view k_xml_ns = "urn:ietf:params:xml:ns:imdn";
inline constexpr std::string_view k_content_type = "message/imdn+xml";

enum class Kind { Delivery, Display, Processing };
enum class Status { Delivered, Failed, Forbidden, Error, Displayed, Processed, Stored };

// One notification document.
struct Notification {
  std::string message_id;             // the imdn.Message-ID of the message it is about
  std::string datetime;               // the DateTime of that message
  std::string recipient_uri;          // optional
  std::string original_recipient_uri; // optional
  Kind kind = Kind::Delivery;
  Status status = Status::Delivered;
};

// Parse and validate against imdn.xsd: root <imdn> in the IMDN namespace, one
// <message-id>, one <datetime>, exactly one notification element whose <status> holds
// exactly one status allowed for that kind.
Result<Notification> decode(std::string_view xml);
// Serialize as UTF-8 XML.
std::string encode(const Notification& n);

std::string_view to_string(Kind k);
std::string_view to_string(Status s);
// True for delivered, displayed, processed, stored.
bool positive(Status s);

// The notifications a Disposition-Notification header requests (RFC 5438 §7.2.1.1).
struct Requested {
  bool positive_delivery = false;
  bool negative_delivery = false;
  bool display = false;
  bool processing = false;
  bool any() const { return positive_delivery || negative_delivery || display || processing; }
};
// Parse "positive-delivery, display"; unknown tokens are an error.
Result<Requested> parse_requested(std::string_view value);
std::string format_requested(const Requested& r);
// Parse the --notify option: "delivery", "display", "delivery,display".
Result<Requested> parse_notify_option(std::string_view value);

// A fresh random Message-ID: 16 letters and digits.
std::string make_message_id();

} // namespace cpm::imdn
