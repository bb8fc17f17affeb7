#pragma once
// Pieces that the MSRP files (codec/msrp_*.cpp, rt/msrp_*.cpp) share (not a public interface).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cpm/codec/msrp.hpp"

namespace cpm::msrp::detail {

inline bool is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
inline bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}
// RFC 4975 §9: ident = ALPHANUM 3*31ident-char, ident-char = alphanum / "." / "-" / "+" /
// "%" / "="
inline bool is_ident(std::string_view s)
{
  if (s.size() < 4 || s.size() > 32 || !is_alnum(s[0]))
    return false;
  for (char c : s)
    if (!is_alnum(c) && c != '.' && c != '-' && c != '+' && c != '%' && c != '=')
      return false;
  return true;
}
// A decimal number of at most 19 digits ("bad number '...'" otherwise).
Result<uint64_t> number(std::string_view s);

// The SEND frame of bytes [offset, offset + n) of `m` (Byte-Range with the total, flag '$'
// when it is the last piece), with a fresh tid that does not occur in its body.
Frame chunk_frame(const Message& m, std::string_view to_path, std::string_view from_path,
                  size_t offset, size_t n);

// The usual reason phrase of an MSRP status code ("OK", "Session Does Not Exist"...).
std::string_view reason(int status);

} // namespace cpm::msrp::detail
