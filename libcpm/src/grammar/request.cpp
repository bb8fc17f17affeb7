// The request view: header values by name, compact header names.
#include "cpm/grammar/request.hpp"

#include "cpm/base/text.hpp"

namespace cpm::sip {

std::string_view long_name(std::string_view name)
{
  if (name.size() != 1)
    return name;
  switch (name[0] | 0x20) {
  case 'a':
    return "Accept-Contact";
  case 'b':
    return "Referred-By";
  case 'c':
    return "Content-Type";
  case 'd':
    return "Request-Disposition";
  case 'e':
    return "Content-Encoding";
  case 'f':
    return "From";
  case 'i':
    return "Call-ID";
  case 'j':
    return "Reject-Contact";
  case 'k':
    return "Supported";
  case 'l':
    return "Content-Length";
  case 'm':
    return "Contact";
  case 'o':
    return "Event";
  case 'r':
    return "Refer-To";
  case 's':
    return "Subject";
  case 't':
    return "To";
  case 'u':
    return "Allow-Events";
  case 'v':
    return "Via";
  case 'x':
    return "Session-Expires";
  default:
    return name;
  }
}

bool is_list_header(std::string_view name)
{
  return text::iequals(name, "Accept-Contact") || text::iequals(name, "Reject-Contact") ||
         text::iequals(name, "P-Preferred-Service") || text::iequals(name, "P-Asserted-Service") ||
         text::iequals(name, "Route") || text::iequals(name, "Supported") ||
         text::iequals(name, "Require");
}

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
    for (auto part : text::split_list(h.value))
      if (auto t = text::trim(part); !t.empty())
        out.emplace_back(t);
  }
  return out;
}

} // namespace cpm::sip
