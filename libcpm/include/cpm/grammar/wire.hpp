#pragma once
// The SIP parser of our own (issue 13): a lazy, zero-copy reading of one received message.
// parse() finds the start line, the header fields (names, values, the whole lines) and the
// body, and reads the few fields every message needs (CSeq, Call-ID, Max-Forwards,
// Content-Length, the top Via); everything else is a view into the received bytes, read
// only when asked (Route, Record-Route, From/To tags, P-Asserted-Identity, Accept-Contact,
// ...). No allocation per message once a Message's field vector has grown to its size.
//
// RFC 3261 §25 and the RFC 4475 torture messages decide what is valid: compact forms,
// header folding, odd LWS and case, unknown methods, schemes, transports and parameters,
// escaped URIs, leading zeros, a UDP datagram with octets after its Content-Length
// (ignored) are all accepted; what a proxy must refuse is a Verdict with the reason for
// the 400 (or the 505, or "drop" for a response that cannot be relayed).
// HACKING.md ("RFC 4475") says why each invalid torture message gets what it gets.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace cpm::sip {
struct Request; // cpm/grammar/request.hpp
} // namespace cpm::sip

namespace cpm::sip::wire {

// The header fields routing needs by name (compact forms map to the same id).
enum class Hdr : uint8_t {
  Other,
  Via,
  Route,
  RecordRoute,
  MaxForwards,
  CSeq,
  CallId,
  From,
  To,
  ContentLength,
  ContentType,
  Contact,
  PAssertedIdentity,
  PPreferredIdentity,
  PServedUser,
  AcceptContact,
  PPreferredService,
  ProxyRequire,
  Require,
  Supported,
  Expires,
  Privacy,
  Authorization,
  ProxyAuthorization,
};

// One header field as received.
struct Field {
  Hdr id = Hdr::Other;
  std::string_view name;  // as received ("v", "VIA", "Via")
  std::string_view value; // trimmed of surrounding LWS; may hold folded lines ("a\r\n b")
  std::string_view line;  // the whole field from its name to its last CRLF, inclusive
};

// What a proxy does with a message it cannot accept.
enum class Verdict : uint8_t {
  Ok,
  Bad,        // a request: answer 400 with `why` as the reason phrase; a response: drop
  Version,    // a request in another SIP version: 505
  Drop,       // nothing to answer to (no usable Via, not SIP at all): drop, say why on stderr
  Incomplete, // a stream (TCP) holds only the start of a message: read more
};

// The top Via's parts (RFC 3261 §20.42), views into the message.
struct Via {
  std::string_view transport; // "UDP", "TCP", "TLS", or whatever was written
  std::string_view host;      // without the brackets of an IPv6 reference
  uint16_t port = 0;          // 0 when absent
  std::string_view sent_by;   // host[:port] as written
  std::string_view branch;    // "" when absent
  std::string_view received;  // "" when absent
  bool rport = false;         // ";rport" present (with or without a value)
  uint16_t rport_value = 0;   // its value, 0 when none
  std::string_view params;    // from the first ';' of this Via value
  std::string_view value;     // this Via value alone (the first of a comma list)
};

class Message {
public:
  // The whole message as framed: start line to the end of the body (a UDP datagram's
  // octets after Content-Length are not part of it).
  std::string_view raw;
  bool request = false;
  // Request line.
  std::string_view method;
  std::string_view ruri;
  // Status line.
  int status = 0;
  std::string_view reason;
  // Every header field in order.
  std::vector<Field> fields;
  // The part of `raw` after the start line up to and including the empty line.
  std::string_view head;
  std::string_view body;
  // Read by parse(): CSeq, Call-ID, Max-Forwards (-1 when absent), Content-Length (-1
  // when absent), the top Via.
  uint32_t cseq = 0;
  std::string_view cseq_method;
  std::string_view call_id;
  int max_forwards = -1;
  long content_length = -1;
  Via via;

  // The first field with `id`, nullptr when none.
  const Field* find(Hdr id) const;
  // The first field called `name` (case-insensitive, compact or long form).
  const Field* find(std::string_view name) const;
  // The tag parameter of From / To ("" when none).
  std::string_view from_tag() const;
  std::string_view to_tag() const;
  // The addr-spec of From / To / the first P-Asserted-Identity ("" when none).
  std::string_view from_uri() const;
  std::string_view to_uri() const;
  std::string_view pai_uri() const;
};

// How the bytes came.
enum class Framing : uint8_t {
  Datagram, // UDP: one message; trailing octets after Content-Length are ignored
  Stream,   // TCP/TLS: the first message of a byte stream; Content-Length is required
};

struct Parsed {
  Verdict verdict = Verdict::Ok;
  std::string_view why; // for Bad / Version / Drop: a reason phrase, static text
  // Bytes this message took, leading CRLFs included: on a stream, drop this many and parse
  // again. Ok, Version and Bad when framed; 0 when a Bad message cannot be framed (a
  // Content-Length that is not a number: the stream has lost its framing, close it). For
  // Incomplete, the leading CRLFs (keepalives) that may be dropped already.
  size_t size = 0;
};

// Parse `data` into `out` (its field vector is reused). Views in `out` point into `data`.
Parsed parse(std::string_view data, Message& out, Framing framing = Framing::Datagram);

// The long form of a header name's id ("v" and "Via" -> Hdr::Via).
Hdr header_id(std::string_view name);
// A field's long name: sip::long_name (grammar/header.hpp). The routing layers' view of a
// parsed request: sip::fill_request (grammar/request.hpp).

// Parse one Via value (the first of a comma list in `value`); false when its sent-protocol
// or sent-by cannot be read. Empty parameters (";;") are skipped here; parse() refuses them
// in the top Via.
bool parse_via(std::string_view value, Via& out);

// The value of header parameter `name` (case-insensitive) of a name-addr or addr-spec value
// (From, To, Contact, Route ...): after the '>' of a name-addr, after the first ';' of an
// addr-spec (RFC 3261 §20.10). Quotes kept; "" for a flag or when absent (`found` tells).
std::string_view header_param(std::string_view value, std::string_view name, bool* found = nullptr);
// The URI of a name-addr (inside <>, LWS trimmed) or of an addr-spec (up to its first ';').
std::string_view addr_spec_of(std::string_view value);

// The elements of a comma list value (Route, Record-Route, Via, Contact ...), split outside
// quotes and <>, in order; calls `f(element)` for each until it returns false.
template <class F> void for_each_element(std::string_view value, F&& f);

// Iterate the Route (or Record-Route) URIs of a message in order, across fields.
// `f(field, element)` returns false to stop.
template <class F> void for_each_value(const Message& m, Hdr id, F&& f);

} // namespace cpm::sip::wire

#include "cpm/grammar/wire_detail.hpp" // the templates
