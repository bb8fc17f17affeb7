// Network byte order (big-endian) integers in a byte string: what HEP, pcap's packet
// headers and SMPP all write and read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cpm::bytes {

// Append `v`, most significant byte first.
inline void put16(std::string& out, uint16_t v)
{
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

inline void put32(std::string& out, uint32_t v)
{
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v & 0xffff));
}

// Read at `at`; the caller has checked that the bytes are there.
inline uint16_t get16(std::string_view b, size_t at)
{
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) << 8 | static_cast<uint8_t>(b[at + 1]));
}

inline uint32_t get32(std::string_view b, size_t at)
{
  return static_cast<uint32_t>(get16(b, at)) << 16 | get16(b, at + 2);
}

} // namespace cpm::bytes
