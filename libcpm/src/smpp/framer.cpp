#include "cpm/smpp/framer.hpp"

#include <fmt/format.h>

namespace cpm::smpp {

void Framer::feed(std::string_view bytes)
{
  // Drop what was taken out before growing, so the buffer stays one PDU or so.
  if (m_pos > 0 && (m_pos == m_buf.size() || m_pos > 4096)) {
    m_buf.erase(0, m_pos);
    m_pos = 0;
  }
  m_buf.append(bytes);
}

std::optional<tl::expected<std::string, DecodeError>> Framer::next()
{
  std::string_view rest(m_buf);
  rest.remove_prefix(m_pos);
  // The length is the first four octets; the rest of the header names the PDU in an error.
  if (rest.size() < 4)
    return std::nullopt;
  uint32_t length = uint32_t(uint8_t(rest[0])) << 24 | uint32_t(uint8_t(rest[1])) << 16 |
                    uint32_t(uint8_t(rest[2])) << 8 | uint32_t(uint8_t(rest[3]));
  if (length < k_header_size || length > m_max) {
    if (rest.size() < k_header_size && length >= k_header_size)
      return std::nullopt; // wait for the header so the generic_nack can name the sequence
    DecodeError e;
    if (auto h = peek_header(rest)) {
      e.command = h->command;
      e.sequence = h->sequence;
    }
    e.status = k_esme_rinvcmdlen;
    e.message = fmt::format("command_length {} is outside {}..{}", length, k_header_size, m_max);
    return tl::unexpected(std::move(e));
  }
  if (rest.size() < length)
    return std::nullopt;
  std::string pdu(rest.substr(0, length));
  m_pos += length;
  return pdu;
}

} // namespace cpm::smpp
