#pragma once
// Small helpers that several unit tests share (one copy each, not one per test file).
#include <string>
#include <string_view>

namespace cpm::test {

// A message written with bare LFs, as a test writes it, with each LF made CRLF, as SIP
// sends it.
inline std::string crlf(std::string_view s)
{
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += '\r';
    out += c;
  }
  return out;
}

} // namespace cpm::test
