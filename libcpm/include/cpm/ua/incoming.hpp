#pragma once
// What a pager-mode MESSAGE's body says: a message (text/plain, or CPIM with its IMDN
// headers) or an IMDN notification, or why it is refused (a 4xx and a diagnostic).
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

struct sip_msg;

namespace cpm::sip::wire {
class Message;
}

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
  std::vector<std::string> headers; // header lines of the answer, without CRLF

  Refusal() = default;
  Refusal(int c, std::string r, std::string m, std::vector<std::string> h = {})
      : code(c), reason(std::move(r)), message(std::move(m)), headers(std::move(h))
  {
  }
};

// The body with its Content-Encoding (`content_encoding`, "" for none) undone: gzip and
// deflate inflate to at most encoding::k_max_decoded bytes. Refused: a coding we do not know
// (415 with Accept-Encoding, RFC 3261 §8.2.3), a body that inflates past the limit (413), or
// one that is not valid data of its coding (400).
tl::expected<std::string, Refusal> decode_body(std::string_view content_encoding,
                                               std::string_view body);
// The body of libre's `msg` (clamped to Content-Length) with its Content-Encoding undone.
tl::expected<std::string, Refusal> decoded_body(const struct ::sip_msg* msg);
// The same of a parsed message (grammar/wire.hpp): every Content-Encoding ("e") field's
// values in order.
tl::expected<std::string, Refusal> decoded_body(const sip::wire::Message& msg);

// What interpret() reads, as a header line of a 415 or of the 200 to OPTIONS (RFC 3261
// §8.2.3, §11.2); decode_body's Accept-Encoding goes with it.
inline constexpr std::string_view k_accept = "Accept: message/cpim, text/plain";

// Interpret a MESSAGE body of SIP content type `ctype` (sip_from, sip_to: the SIP header
// URIs, which stand for the CPIM ones of a text/plain body or of a bare message/imdn+xml
// notification, as liblinphone sends one without CPIM).
tl::expected<Incoming, Refusal> interpret(std::string_view ctype, std::string_view body,
                                          std::string_view sip_from, std::string_view sip_to);

// The messages a receiver has shown, by CPIM From and imdn.Message-ID, so that a copy sent
// again as a new transaction (a group server's resend after a restart, a late
// retransmission forwarded anew) is shown once. Remembers the last `capacity` of them.
class Seen {
public:
  explicit Seen(size_t capacity = 4096) : m_capacity(capacity) {}
  // True the first time `in` comes; a message without a Message-ID is always new.
  bool first(const Incoming& in);

private:
  size_t m_capacity;
  std::deque<std::string> m_order;
  std::unordered_set<std::string> m_keys;
};

} // namespace cpm::ua
