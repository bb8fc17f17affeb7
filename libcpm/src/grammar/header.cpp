// Header grammar: names, list values, name-addrs and parameters.
#include "cpm/grammar/header.hpp"

#include <fmt/format.h>

#include "cpm/base/quoted.hpp"
#include "cpm/base/text.hpp"

namespace cpm::sip {

namespace {

constexpr auto npos = std::string_view::npos;

using text::find_outside_quotes;

// Cut the next parameter off `rest` (which starts after a ';'); false when it was the last.
bool next_param(std::string_view& rest, Param& out)
{
  auto end = find_outside_quotes(rest, ";");
  auto p = rest.substr(0, end);
  auto eq = p.find('=');
  out.name = text::trim(p.substr(0, eq));
  out.value = eq == npos ? std::string_view{} : text::trim(p.substr(eq + 1));
  out.has_value = eq != npos;
  if (end == npos) {
    rest = {};
    return false;
  }
  rest.remove_prefix(end + 1);
  return true;
}

} // namespace

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
  case 'y':
    return "Identity";
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

std::vector<std::string_view> split_header_list(std::string_view value)
{
  std::vector<std::string_view> out;
  while (true) {
    auto comma = find_outside_quotes(value, ",");
    if (auto t = text::trim(value.substr(0, comma)); !t.empty())
      out.push_back(t);
    if (comma == npos)
      return out;
    value.remove_prefix(comma + 1);
  }
}

Result<NameAddr> parse_name_addr(std::string_view value, std::string_view what)
{
  NameAddr out;
  value = text::trim(value);
  bool quoted = false;
  auto lt = find_outside_quotes(value, "<", 0, &quoted);
  if (lt == npos && quoted)
    return fail(fmt::format("Bad {} display name", what));
  if (lt == npos) {
    auto semi = value.find(';');
    out.uri = text::trim(value.substr(0, semi));
    out.params = semi == npos ? std::string_view{} : value.substr(semi);
    return out;
  }
  auto gt = value.find('>', lt);
  if (gt == npos)
    return fail(fmt::format("Unterminated {} URI", what));
  out.display = text::trim(value.substr(0, lt));
  out.uri = text::trim(value.substr(lt + 1, gt - lt - 1));
  out.params = text::trim(value.substr(gt + 1));
  return out;
}

std::string_view addr_spec(std::string_view value)
{
  value = text::trim(value);
  // The hot path (every request URI, From, To): no '<', or no quote before it.
  auto lt = value.find('<');
  if (lt == npos)
    return value;
  if (auto quote = value.find('"'); quote != npos && quote < lt)
    lt = find_outside_quotes(value, "<");
  if (lt == npos)
    return value;
  auto rest = value.substr(lt + 1);
  return text::trim(rest.substr(0, rest.find('>')));
}

std::vector<Param> split_params(std::string_view params)
{
  std::vector<Param> out;
  auto first = find_outside_quotes(params, ";");
  if (first == npos)
    return out;
  auto rest = params.substr(first + 1);
  Param p;
  bool more = true;
  while (more) {
    more = next_param(rest, p);
    out.push_back(p);
  }
  return out;
}

std::optional<std::string_view> find_param(std::string_view params, std::string_view name)
{
  auto first = find_outside_quotes(params, ";");
  if (first == npos)
    return std::nullopt;
  auto rest = params.substr(first + 1);
  Param p;
  bool more = true;
  while (more) {
    more = next_param(rest, p);
    if (text::iequals(p.name, name))
      return p.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> unquote(std::string_view s)
{
  if (s.empty() || s.front() != '"')
    return s;
  if (s.size() < 2 || s.back() != '"')
    return std::nullopt;
  return s.substr(1, s.size() - 2);
}

} // namespace cpm::sip
