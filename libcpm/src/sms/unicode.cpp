#include "cpm/sms/unicode.hpp"

#include <fmt/format.h>

namespace cpm::sms {

namespace {

// The length of the UTF-8 sequence that starts with `lead`, or 0 if no sequence does.
size_t sequence_length(uint8_t lead)
{
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

} // namespace

Result<std::u32string> code_points(std::string_view utf8)
{
  std::u32string out;
  out.reserve(utf8.size());
  size_t i = 0;
  while (i < utf8.size()) {
    auto lead = static_cast<uint8_t>(utf8[i]);
    size_t n = sequence_length(lead);
    if (n == 0 || i + n > utf8.size())
      return fail(fmt::format("not UTF-8 at byte {}", i));
    char32_t c = n == 1 ? lead : lead & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      auto b = static_cast<uint8_t>(utf8[i + k]);
      if ((b & 0xC0) != 0x80)
        return fail(fmt::format("not UTF-8 at byte {}", i));
      c = (c << 6) | (b & 0x3F);
    }
    // RFC 3629 §4: the shortest form only, no surrogates, nothing past U+10FFFF.
    bool overlong = (n == 3 && c < 0x800) || (n == 4 && c < 0x10000);
    if (overlong || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
      return fail(fmt::format("not UTF-8 at byte {}", i));
    out.push_back(c);
    i += n;
  }
  return out;
}

void append_utf8(std::string& out, char32_t c)
{
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

void append_utf16be(std::vector<uint8_t>& out, char32_t c)
{
  auto unit = [&](uint32_t u) {
    out.push_back(static_cast<uint8_t>(u >> 8));
    out.push_back(static_cast<uint8_t>(u & 0xFF));
  };
  if (c < 0x10000) {
    unit(c);
    return;
  }
  uint32_t v = c - 0x10000;
  unit(0xD800 | (v >> 10));
  unit(0xDC00 | (v & 0x3FF));
}

Result<std::vector<uint8_t>> to_utf16be(std::string_view utf8)
{
  auto cps = code_points(utf8);
  if (!cps)
    return tl::unexpected(cps.error());
  std::vector<uint8_t> out;
  out.reserve(cps->size() * 2);
  for (char32_t c : *cps)
    append_utf16be(out, c);
  return out;
}

std::string from_utf16be(std::span<const uint8_t> octets)
{
  std::string out;
  out.reserve(octets.size());
  size_t i = 0;
  while (i + 1 < octets.size()) {
    uint32_t u = (uint32_t(octets[i]) << 8) | octets[i + 1];
    i += 2;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < octets.size()) {
      uint32_t low = (uint32_t(octets[i]) << 8) | octets[i + 1];
      if (low >= 0xDC00 && low <= 0xDFFF) {
        i += 2;
        append_utf8(out, 0x10000 + (((u - 0xD800) << 10) | (low - 0xDC00)));
        continue;
      }
    }
    append_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? k_replacement : char32_t(u));
  }
  if (i < octets.size())
    append_utf8(out, k_replacement);
  return out;
}

} // namespace cpm::sms
