#pragma once
// SMPP 3.4 §3.2 stream framing: a TCP byte stream cut into PDUs by their command_length.
// Pure: the connection (rt/smpp_*.cpp) feeds it whatever arrived.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "cpm/smpp/pdu.hpp"

namespace cpm::smpp {

// Feed it any split of the stream; take whole PDUs out with next().
class Framer {
public:
  // `max_pdu`: a command_length above it (or below 16) is a lie.
  explicit Framer(size_t max_pdu = k_max_pdu) : m_max(max_pdu) {}
  // Append received octets.
  void feed(std::string_view bytes);
  // The next whole PDU's octets; nullopt while more are needed. An error when its
  // command_length lies: the stream cannot be resynchronised after it (answer generic_nack
  // with the error's sequence number and close the connection); the error repeats.
  std::optional<tl::expected<std::string, DecodeError>> next();
  // Octets received and not yet taken out.
  size_t buffered() const { return m_buf.size() - m_pos; }

private:
  std::string m_buf;
  size_t m_pos = 0;
  size_t m_max;
};

} // namespace cpm::smpp
