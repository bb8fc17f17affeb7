#pragma once
// The character set of a short message: SMPP 3.4's data_coding (§5.2.19), which reuses
// the GSM data coding scheme (3GPP TS 23.038 §4) in its upper values.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"

namespace cpm::sms {

// How the octets of a short message carry its text.
enum class Coding {
  Gsm7,   // the GSM 7-bit default alphabet, one septet per octet (SMPP's unpacked form)
  Ascii,  // IA5 (data_coding 1)
  Latin1, // ISO-8859-1 (data_coding 3)
  Ucs2,   // UTF-16BE (data_coding 8)
  Binary, // 8-bit data (data_coding 2 or 4, or the GSM class groups' 8-bit): no text
};

// The SMPP data_coding for text we send in `c` (0 for Gsm7, 8 for Ucs2, ...).
uint8_t data_coding_of(Coding c);

// The coding a received data_coding names: 0 (SMSC default, which we take as GSM 7-bit),
// 1, 3, 8, 2 and 4, and the GSM groups 00xx/01xx (uncompressed general data coding) and 1111
// (message class). Others (JIS, Cyrillic, compressed...) are an error.
Result<Coding> coding_of(uint8_t data_coding);

// The text of `octets` in coding `c`, as UTF-8; Binary is an error (no text to show).
Result<std::string> decode_text(Coding c, std::span<const uint8_t> octets);

// A coding's name for diagnostics and JSON ("gsm7", "ucs2", ...).
std::string_view name_of(Coding c);

} // namespace cpm::sms
