#pragma once
// UTF-8 and UTF-16BE (the SMS "UCS2" data coding), both ways, checked.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"

namespace cpm::sms {

// U+FFFD, put where received UTF-16 is broken (a lone surrogate, an odd last octet).
inline constexpr char32_t k_replacement = 0xFFFD;

// The code points of `utf8`; an error names the offset of the first byte that is not
// well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
Result<std::u32string> code_points(std::string_view utf8);

// Append `c` (a scalar value) to `out` as UTF-8.
void append_utf8(std::string& out, char32_t c);

// How many UTF-16 code units `c` takes: 2 above U+FFFF (a surrogate pair), else 1.
inline size_t utf16_units(char32_t c)
{
  return c > 0xFFFF ? 2 : 1;
}

// Append `c` to `out` as UTF-16BE (a surrogate pair above U+FFFF).
void append_utf16be(std::vector<uint8_t>& out, char32_t c);

// `utf8` as UTF-16BE octets, the SMPP data_coding 8 (UCS2) of every sender that carries
// characters beyond the BMP (3GPP TS 23.038 §5 names UCS2; phones send UTF-16).
Result<std::vector<uint8_t>> to_utf16be(std::string_view utf8);

// UTF-16BE octets as UTF-8; a lone surrogate or an odd last octet becomes U+FFFD, so that
// what a phone sent is shown, never refused.
std::string from_utf16be(std::span<const uint8_t> octets);

} // namespace cpm::sms
