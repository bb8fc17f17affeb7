// SIP messages cut out of a TCP byte stream by Content-Length, keep-alives between them.
#include "cpm/rt/sip_framer.hpp"

#include <cstring>

namespace cpm::rt {

namespace wire = sip::wire;

SipFramer::SipFramer(FramerLimits limits) : m_limits(limits) {}

void SipFramer::feed(std::string_view bytes)
{
  if (m_broken || bytes.empty())
    return;
  // Drop what was taken before appending, so that the buffer holds at most one message not
  // yet whole plus this segment; its capacity, once grown, is reused.
  if (m_pos > 0) {
    m_buf.erase(0, m_pos);
    m_pos = 0;
  }
  m_buf.append(bytes);
}

SipFramer::Event SipFramer::fail(std::string_view why, int status)
{
  m_broken = true;
  m_why = why;
  m_status = status;
  return Event::Error;
}

void SipFramer::take(size_t n)
{
  m_pos += n;
  m_scan = 0;
  m_need = 0;
}

SipFramer::Event SipFramer::next()
{
  if (m_broken)
    return Event::Error;
  while (true) {
    std::string_view rest(m_buf.data() + m_pos, m_buf.size() - m_pos);
    if (rest.empty())
      return Event::None;
    // RFC 5626 §3.5.1: CRLFCRLF is a ping, a CRLF alone a pong. Half of either: wait.
    if (rest.substr(0, 4) == "\r\n\r\n") {
      take(4);
      return Event::Ping;
    }
    if (rest == "\r" || rest == "\r\n" || rest == "\r\n\r")
      return Event::None;
    if (rest.substr(0, 2) == "\r\n") {
      take(2);
      continue;
    }
    break;
  }
  std::string_view rest(m_buf.data() + m_pos, m_buf.size() - m_pos);
  // A head not yet whole is a message not yet whole: bounded too. (Several whole messages
  // may be buffered at once; each is measured alone.)
  auto head_pending = [&]() {
    m_scan = rest.size() > 2 ? rest.size() - 2 : 0;
    return rest.size() > m_limits.max_message ? fail("Message Too Large", 513) : Event::None;
  };
  // Parse again only when it can end differently: once the head's empty line may be there
  // (a LF followed by CRLF or LF), then once the body's last octet is. A message fed byte
  // by byte is parsed a few times, not once per byte.
  if (m_need > 0 && rest.size() < m_need)
    return Event::None;
  if (m_need == 0) {
    size_t i = m_scan;
    bool end = false;
    for (; i + 1 < rest.size(); ++i) {
      if (rest[i] != '\n')
        continue;
      if (rest[i + 1] == '\n' ||
          (rest[i + 1] == '\r' && i + 2 < rest.size() && rest[i + 2] == '\n')) {
        end = true;
        break;
      }
    }
    if (!end)
      return head_pending();
  }
  m_parsed = wire::parse(rest, m_msg, wire::Framing::Stream);
  if (m_parsed.verdict == wire::Verdict::Incomplete && m_msg.head.empty())
    return head_pending();
  // Sizes count from the first byte kept (a stray CR or LF before the start line too), so
  // that a message is refused alike however its bytes were cut into segments.
  size_t head_size =
      m_msg.head.empty() ? 0 : size_t(m_msg.head.data() + m_msg.head.size() - rest.data());
  if (head_size > m_limits.max_message)
    return fail("Message Too Large", 513);
  if (m_parsed.verdict == wire::Verdict::Incomplete) {
    // The head is whole and the body is not: Content-Length says how many bytes the
    // message takes, and one that cannot fit is refused now, not after buffering it.
    if (m_msg.content_length < 0 || size_t(m_msg.content_length) > m_limits.max_message - head_size)
      return fail("Message Too Large", 513);
    m_need = head_size + size_t(m_msg.content_length);
    return Event::None;
  }
  if (m_parsed.size == 0)
    return fail(m_parsed.why.empty() ? std::string_view("Bad Content-Length") : m_parsed.why, 400);
  if (m_parsed.size > m_limits.max_message)
    return fail("Message Too Large", 513);
  if (m_limits.require_content_length && m_msg.content_length < 0)
    return fail("Missing Content-Length", 400);
  take(m_parsed.size);
  return Event::Message;
}

} // namespace cpm::rt
