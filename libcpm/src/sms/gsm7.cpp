#include "cpm/sms/gsm7.hpp"

#include <array>

#include "cpm/sms/unicode.hpp"

namespace cpm::sms {

namespace {

// TS 23.038 §6.2.1: the default alphabet, indexed by septet (0x1B, the escape, shows as a
// space where nothing follows it).
constexpr std::array<char32_t, 128> k_default = {
    U'@',      U'\u00A3', U'$',      U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',
    U'\u00F2', U'\u00C7', U'\n',     U'\u00D8', U'\u00F8', U'\r',     U'\u00C5', U'\u00E5',
    U'\u0394', U'_',      U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',
    U'\u03A3', U'\u0398', U'\u039E', U' ',      U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',
    U' ',      U'!',      U'"',      U'#',      U'\u00A4', U'%',      U'&',      U'\'',
    U'(',      U')',      U'*',      U'+',      U',',      U'-',      U'.',      U'/',
    U'0',      U'1',      U'2',      U'3',      U'4',      U'5',      U'6',      U'7',
    U'8',      U'9',      U':',      U';',      U'<',      U'=',      U'>',      U'?',
    U'\u00A1', U'A',      U'B',      U'C',      U'D',      U'E',      U'F',      U'G',
    U'H',      U'I',      U'J',      U'K',      U'L',      U'M',      U'N',      U'O',
    U'P',      U'Q',      U'R',      U'S',      U'T',      U'U',      U'V',      U'W',
    U'X',      U'Y',      U'Z',      U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',
    U'\u00BF', U'a',      U'b',      U'c',      U'd',      U'e',      U'f',      U'g',
    U'h',      U'i',      U'j',      U'k',      U'l',      U'm',      U'n',      U'o',
    U'p',      U'q',      U'r',      U's',      U't',      U'u',      U'v',      U'w',
    U'x',      U'y',      U'z',      U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',
};

struct Extension {
  uint8_t code;
  char32_t c;
};

// TS 23.038 §6.2.1.1: the characters of the extension table (after an escape). 0x0A is the
// page break, shown as a form feed; 0x0D (CR2) and 0x1B (a further extension) have none.
constexpr std::array<Extension, 10> k_extension = {{
    {0x0A, U'\f'},
    {0x14, U'^'},
    {0x28, U'{'},
    {0x29, U'}'},
    {0x2F, U'\\'},
    {0x3C, U'['},
    {0x3D, U'~'},
    {0x3E, U']'},
    {0x40, U'|'},
    {0x65, U'\u20AC'},
}};

// The default alphabet's septet of each ASCII character (0xFF: none, or the extension's).
constexpr std::array<uint8_t, 128> k_ascii = [] {
  std::array<uint8_t, 128> t{};
  t.fill(0xFF);
  for (uint8_t s = 0; s < k_default.size(); ++s)
    if (k_default[s] < 0x80 && s != k_escape && t[k_default[s]] == 0xFF)
      t[k_default[s]] = s;
  return t;
}();

} // namespace

std::optional<std::basic_string<uint8_t>> gsm7_of(char32_t c)
{
  if (c < 0x80 && k_ascii[c] != 0xFF)
    return std::basic_string<uint8_t>(1, k_ascii[c]);
  for (uint8_t s = 0; s < k_default.size(); ++s)
    if (k_default[s] == c && s != k_escape)
      return std::basic_string<uint8_t>(1, s);
  for (const auto& e : k_extension)
    if (e.c == c)
      return std::basic_string<uint8_t>{k_escape, e.code};
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> to_gsm7(std::string_view text)
{
  auto cps = code_points(text);
  if (!cps)
    return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(cps->size());
  for (char32_t c : *cps) {
    auto s = gsm7_of(c);
    if (!s)
      return std::nullopt;
    out.insert(out.end(), s->begin(), s->end());
  }
  return out;
}

std::string from_gsm7(std::span<const uint8_t> septets)
{
  std::string out;
  out.reserve(septets.size());
  for (size_t i = 0; i < septets.size(); ++i) {
    uint8_t s = septets[i] & 0x7F;
    if (s != k_escape) {
      append_utf8(out, k_default[s]);
      continue;
    }
    if (i + 1 == septets.size()) {
      append_utf8(out, U' ');
      break;
    }
    uint8_t code = septets[++i] & 0x7F;
    char32_t c = k_default[code];
    for (const auto& e : k_extension)
      if (e.code == code)
        c = e.c;
    append_utf8(out, c);
  }
  return out;
}

std::vector<uint8_t> pack_septets(std::span<const uint8_t> septets, unsigned fill_bits)
{
  size_t bits = fill_bits + septets.size() * 7;
  std::vector<uint8_t> out((bits + 7) / 8, 0);
  size_t at = fill_bits;
  for (uint8_t s : septets) {
    unsigned v = s & 0x7F;
    out[at / 8] |= static_cast<uint8_t>(v << (at % 8));
    if (at % 8 > 1)
      out[at / 8 + 1] |= static_cast<uint8_t>(v >> (8 - at % 8));
    at += 7;
  }
  return out;
}

std::vector<uint8_t> unpack_septets(std::span<const uint8_t> octets, size_t count,
                                    unsigned fill_bits)
{
  std::vector<uint8_t> out;
  size_t available = octets.size() * 8;
  out.reserve(count);
  for (size_t at = fill_bits; out.size() < count && at + 7 <= available; at += 7) {
    unsigned v = octets[at / 8] >> (at % 8);
    if (at % 8 > 1)
      v |= unsigned(octets[at / 8 + 1]) << (8 - at % 8);
    out.push_back(static_cast<uint8_t>(v & 0x7F));
  }
  return out;
}

} // namespace cpm::sms
