#include "cpm/sms/coding.hpp"

#include <fmt/format.h>

#include "cpm/sms/gsm7.hpp"
#include "cpm/sms/unicode.hpp"

namespace cpm::sms {

uint8_t data_coding_of(Coding c)
{
  switch (c) {
  case Coding::Gsm7:
    return 0x00;
  case Coding::Ascii:
    return 0x01;
  case Coding::Latin1:
    return 0x03;
  case Coding::Ucs2:
    return 0x08;
  case Coding::Binary:
    return 0x04;
  }
  return 0x00;
}

Result<Coding> coding_of(uint8_t dc)
{
  switch (dc) {
  case 0x00:
    return Coding::Gsm7;
  case 0x01:
    return Coding::Ascii;
  case 0x02:
  case 0x04:
    return Coding::Binary;
  case 0x03:
    return Coding::Latin1;
  case 0x08:
    return Coding::Ucs2;
  default:
    break;
  }
  // TS 23.038 §4: 1111xxxx, bit 2 chooses 8-bit data over the default alphabet.
  if ((dc & 0xF0) == 0xF0)
    return (dc & 0x04) ? Coding::Binary : Coding::Gsm7;
  // 00xxxxxx and 01xxxxxx (general data coding; SMPP keeps 0x00-0x0F for its own values),
  // bit 5 clear (uncompressed): bits 3-2 name the alphabet.
  bool general = ((dc & 0xC0) == 0x00 && (dc & 0x10)) || (dc & 0xC0) == 0x40;
  if (general && !(dc & 0x20)) {
    switch ((dc >> 2) & 0x03) {
    case 0:
      return Coding::Gsm7;
    case 1:
      return Coding::Binary;
    case 2:
      return Coding::Ucs2;
    default:
      break;
    }
  }
  return fail(fmt::format("data_coding 0x{:02x} is not supported", dc));
}

Result<std::string> decode_text(Coding c, std::span<const uint8_t> octets)
{
  std::string out;
  switch (c) {
  case Coding::Gsm7:
    return from_gsm7(octets);
  case Coding::Ucs2:
    return from_utf16be(octets);
  case Coding::Ascii:
    for (uint8_t b : octets)
      append_utf8(out, b < 0x80 ? char32_t(b) : k_replacement);
    return out;
  case Coding::Latin1:
    for (uint8_t b : octets)
      append_utf8(out, b);
    return out;
  case Coding::Binary:
    break;
  }
  return fail("8-bit data carries no text");
}

std::string_view name_of(Coding c)
{
  switch (c) {
  case Coding::Gsm7:
    return "gsm7";
  case Coding::Ascii:
    return "ascii";
  case Coding::Latin1:
    return "latin1";
  case Coding::Ucs2:
    return "ucs2";
  case Coding::Binary:
    return "binary";
  }
  return "?";
}

} // namespace cpm::sms
