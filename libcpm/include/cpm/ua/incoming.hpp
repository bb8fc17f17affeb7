#pragma once
// What a pager-mode MESSAGE's body says: a message (text/plain, or CPIM with its IMDN
// headers) or an IMDN notification, or why it is refused (a 4xx and a diagnostic).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace cpm::ua {

// A MESSAGE body the receiver accepted.
struct Incoming {
  bool notification = false;
  std::string from, to;     // CPIM From/To addresses (SIP From/To for text/plain)
  std::string message_id;   // imdn.Message-ID; for a notification the IMDN <message-id>
  std::string datetime;     // CPIM DateTime
  std::string content_type; // inner content type
  std::string text;         // content
  std::string requested;    // imdn.Disposition-Notification
  std::string kind, status; // notification: "delivery"/"display", "delivered"/...
  std::vector<std::pair<std::string, std::string>> headers; // CPIM headers
};

// Why a body was refused: the SIP response to send and a diagnostic.
struct Refusal {
  int code = 400;
  std::string reason;
  std::string message;
};

// Interpret a MESSAGE body of SIP content type `ctype` (sip_from, sip_to: the SIP header
// URIs, which stand for the CPIM ones of a text/plain body or of a bare message/imdn+xml
// notification, as liblinphone sends one without CPIM).
tl::expected<Incoming, Refusal> interpret(std::string_view ctype, std::string_view body,
                                          std::string_view sip_from, std::string_view sip_to);

} // namespace cpm::ua
