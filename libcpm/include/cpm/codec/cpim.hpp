#pragma once
// RFC 3862 Common Presence and Instant Messaging (CPIM) message format: message/cpim.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"

namespace cpm::cpim {

// The IMDN namespace URN (RFC 5438 §4).
inline constexpr std::string_view k_imdn_ns = "urn:ietf:params:imdn";

// One header line "Name: value" (Name may carry a namespace prefix: "imdn.Message-ID").
struct Header {
  std::string name;
  std::string value;
};

// A CPIM message: message headers, then the encapsulated MIME entity (headers + body).
struct Message {
  std::vector<Header> headers;         // From, To, DateTime, NS, imdn.* ... in order
  std::vector<Header> content_headers; // Content-Type, Content-Length, ... of the inner entity
  std::string body;

  // The first message header named `name` (case-insensitive), if any.
  std::optional<std::string> get(std::string_view name) const;
  // The first inner MIME header named `name` (case-insensitive), if any.
  std::optional<std::string> content_header(std::string_view name) const;
  // The prefix an NS header declares for `urn` ("imdn"), if any.
  std::optional<std::string> ns_prefix(std::string_view urn) const;
  // A header of namespace `urn`: get("<prefix>.<name>") with the declared prefix.
  std::optional<std::string> get_ns(std::string_view urn, std::string_view name) const;
  // The inner Content-Type without parameters, lower case ("text/plain" when absent).
  std::string content_type() const;
};

// Parse message/cpim text (CRLF or LF line ends). An outer MIME header block that only
// declares "Content-Type: message/cpim" is skipped. Errors name what is wrong.
Result<Message> decode(std::string_view text);
// Serialize with CRLF line ends; Content-Length of the inner entity is not added.
std::string encode(const Message& m);

// The address inside a From/To value: "Name <sip:a@b>" -> "sip:a@b".
std::string address(std::string_view value);

// What a sender puts in a CPM pager-mode message.
struct Outgoing {
  std::string from;         // URI
  std::string to;           // URI
  std::string message_id;   // imdn.Message-ID
  std::string datetime;     // RFC 3339; empty: now
  std::string notification; // imdn.Disposition-Notification value; empty: none
  std::string content_type = "text/plain;charset=utf-8";
  std::string body;
};
// Build a CPIM message with NS imdn, imdn.Message-ID and, if asked, Disposition-Notification.
Message make(const Outgoing& o);

} // namespace cpm::cpim
