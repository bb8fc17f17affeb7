// The request view: header values by name.
#include "cpm/grammar/request.hpp"

#include "cpm/base/text.hpp"

namespace cpm::sip {

std::vector<std::string> Request::values(std::string_view name) const
{
  std::vector<std::string> out;
  auto want = long_name(name);
  bool list = is_list_header(want);
  for (const auto& h : headers) {
    if (!text::iequals(long_name(h.name), want))
      continue;
    if (!list) {
      out.emplace_back(text::trim(h.value));
      continue;
    }
    for (auto part : split_header_list(h.value))
      out.emplace_back(part);
  }
  return out;
}

std::string_view Request::value(std::string_view name) const
{
  auto want = long_name(name);
  for (const auto& h : headers)
    if (text::iequals(long_name(h.name), want))
      return text::trim(h.value);
  return {};
}

} // namespace cpm::sip
