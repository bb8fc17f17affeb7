// SIP and tel URIs: split, canonical AOR, the SIP URI of a transport address.
#include "cpm/grammar/uri.hpp"

#include <algorithm>

#include "cpm/base/text.hpp"

namespace cpm::sip {

namespace {

// Characters a user part never holds unescaped (whitespace, controls, delimiters).
bool bad_user_char(char c)
{
  return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"';
}

} // namespace

std::string_view addr_spec(std::string_view s)
{
  s = text::trim(s);
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      auto rest = s.substr(i + 1);
      auto end = rest.find('>');
      return text::trim(end == std::string_view::npos ? rest : rest.substr(0, end));
    }
  }
  return s;
}

bool split_uri(std::string_view uri, UriParts& out)
{
  out = UriParts{};
  auto s = addr_spec(uri);
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return false;
  auto scheme = s.substr(0, colon);
  for (char c : scheme)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '-' || c == '.'))
      return false;
  out.scheme = text::lower(scheme);
  auto rest = s.substr(colon + 1);
  // RFC 3261 §25.1: the user part may hold ';' and '?' (user-unreserved), so the userinfo
  // ends at the '@'; URI headers ("?Subject=x") after the host are not part of the address.
  std::string_view userinfo;
  bool has_user = false;
  if (out.scheme != "tel")
    if (auto at = rest.find('@'); at != std::string_view::npos) {
      userinfo = rest.substr(0, at);
      rest = rest.substr(at + 1);
      has_user = true;
    }
  if (auto q = rest.find('?'); q != std::string_view::npos)
    rest = rest.substr(0, q);
  if (out.scheme == "tel") {
    auto semi = rest.find(';');
    out.user = std::string(rest.substr(0, semi));
    if (semi != std::string_view::npos)
      out.params = std::string(rest.substr(semi));
    return !out.user.empty() && std::none_of(out.user.begin(), out.user.end(), bad_user_char);
  }
  if (has_user)
    out.user = std::string(userinfo.substr(0, userinfo.find(':'))); // drop a password
  std::string_view host;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      return false;
    host = rest.substr(0, close + 1);
    rest = rest.substr(close + 1);
  } else {
    auto end = rest.find_first_of(":;");
    host = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  // RFC 3261 §25.1: hostname or IPv4 characters, or an IPv6 reference.
  auto host_char = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || (host.front() == '[' && (c == ':' || c == '[' || c == ']'));
  };
  if (host.empty() || !std::all_of(host.begin(), host.end(), host_char))
    return false;
  // No whitespace or control characters in the user part (they would be escaped).
  if (std::any_of(out.user.begin(), out.user.end(), bad_user_char))
    return false;
  out.host = text::lower(host);
  if (!rest.empty() && rest.front() == ':') {
    auto end = rest.find(';');
    auto port = rest.substr(1, end == std::string_view::npos ? end : end - 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos)
      return false;
    out.port = std::string(port);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  if (!rest.empty() && rest.front() != ';')
    return false;
  out.params = std::string(rest);
  return true;
}

std::string canonical_aor(std::string_view uri)
{
  UriParts p;
  if (!split_uri(uri, p))
    return "";
  if (p.scheme == "tel")
    return "tel:" + p.user;
  std::string out = p.scheme + ":";
  if (!p.user.empty())
    out += p.user + "@";
  out += p.host;
  return out;
}

std::string uri_host(std::string_view uri)
{
  UriParts p;
  return split_uri(uri, p) ? p.host : "";
}

std::string uri_user(std::string_view uri)
{
  UriParts p;
  return split_uri(uri, p) ? p.user : "";
}

std::string to_sip_uri(std::string_view addr)
{
  addr = text::trim(addr);
  if (!addr.empty() && addr.front() == '<') {
    auto close = addr.find('>');
    addr = addr.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  }
  auto starts = [&](std::string_view p) {
    return addr.size() >= p.size() && text::iequals(addr.substr(0, p.size()), p);
  };
  if (starts("sip:") || starts("sips:") || starts("tel:"))
    return std::string(addr);
  if (starts("udp:"))
    return "sip:" + std::string(addr.substr(4));
  if (starts("tcp:"))
    return "sip:" + std::string(addr.substr(4)) + ";transport=tcp";
  if (starts("tls:"))
    return "sip:" + std::string(addr.substr(4)) + ";transport=tls";
  return "sip:" + std::string(addr);
}

} // namespace cpm::sip
