// Small text helpers every parser shares.
#include "cpm/base/text.hpp"
#include "cpm/base/quoted.hpp"

#include <cstring>

namespace cpm::text {

namespace {
bool space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}
} // namespace

bool iequals(std::string_view a, std::string_view b)
{
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

std::string_view trim(std::string_view s)
{
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s)
{
  std::string out(s);
  for (auto& c : out)
    c = lower(c);
  return out;
}

std::string media_type(std::string_view content_type)
{
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

std::vector<std::string_view> split_list(std::string_view s, char sep)
{
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    auto end = find_outside_quotes(s, std::string_view(&sep, 1), start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

std::string percent_decode(std::string_view s)
{
  auto hex = [](char c) -> int {
    c = lower(c);
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> split_ws(std::string_view s)
{
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
      ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t')
      ++j;
    if (j > i)
      out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_token(std::string_view s)
{
  if (s.empty())
    return false;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && !std::strchr("-.!%*_+`'~", c))
      return false;
  }
  return true;
}

} // namespace cpm::text
