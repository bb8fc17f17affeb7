#pragma once
// SIP messages cut out of a TCP byte stream, with no socket: bytes go in as they arrive
// (any segmentation), whole messages come out, framed by our own parser
// (wire::parse with Framing::Stream: the head up to its empty line, then Content-Length
// octets of body). rt::SipTcp feeds one per connection; the unit tests and fuzz_tcp_framing
// feed it directly.
//
// Between messages, RFC 5626 §3.5.1 keep-alives: a double CRLF is a ping, which the owner
// answers with a single CRLF (a pong); a single CRLF before a message is a pong and skipped.
// What cannot be framed (a Content-Length that is no number, none at all, a message over
// the size limit) is an error after which the stream has lost its framing: the owner closes
// the connection. A message that is framed but invalid (a missing Call-ID, a bad CSeq) is
// handed over with its verdict, as a datagram would be: the stream is still in step.
#include <cstddef>
#include <string>
#include <string_view>

#include "cpm/grammar/wire.hpp"

namespace cpm::rt {

struct FramerLimits {
  // The most bytes one message may take, head and body (libre's SIP over TCP allows 64 KiB);
  // also the bound on the bytes kept for a message not yet whole.
  size_t max_message = 65536;
  // RFC 3261 §18.3: a message on a stream must carry Content-Length. Our parser frames a
  // message without it as having no body; refusing it is the safe reading, since a body
  // sent without Content-Length would be read as the next message.
  bool require_content_length = true;
};

class SipFramer {
public:
  enum class Event {
    None,    // nothing whole yet: feed more
    Message, // message() and parsed() hold the next message; bytes() is its text
    Ping,    // a double CRLF keep-alive: answer "\r\n"
    Error,   // the stream cannot be framed any more: why(), then close the connection
  };

  explicit SipFramer(FramerLimits limits = {});

  // Append bytes received. The views of the last event stay valid until the next call to
  // feed() or next().
  void feed(std::string_view bytes);
  // The next event in the buffered bytes. After Error every call returns Error.
  Event next();

  // The last Message (its verdict may be Bad, Version or Drop: a framed message the owner
  // answers or drops as it would a datagram). After an Error, what could be read of the
  // message that caused it (a usable top Via when `message().via.sent_by` is not empty).
  sip::wire::Message& message() { return m_msg; }
  const sip::wire::Parsed& parsed() const { return m_parsed; }
  // The last message's bytes, from its start line to the end of its body.
  std::string_view bytes() const { return m_msg.raw; }
  // Why the stream broke (static text), and the status a request that broke it gets: 400
  // for what cannot be framed, 513 for what is too large.
  std::string_view why() const { return m_why; }
  int status() const { return m_status; }

  // Bytes kept for what is not whole yet.
  size_t buffered() const { return m_buf.size() - m_pos; }
  const FramerLimits& limits() const { return m_limits; }

private:
  Event fail(std::string_view why, int status);
  void take(size_t n);

  FramerLimits m_limits;
  std::string m_buf; // [m_pos, size) not yet taken; compacted by feed()
  size_t m_pos = 0;
  size_t m_scan = 0; // where to look for the head's end next, from m_pos
  size_t m_need = 0; // bytes from m_pos the message takes, once its head is read
  sip::wire::Message m_msg;
  sip::wire::Parsed m_parsed;
  std::string_view m_why;
  int m_status = 0;
  bool m_broken = false;
};

} // namespace cpm::rt
