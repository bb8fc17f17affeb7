// SIP and tel URIs: parse, canonical AOR, the SIP URI of a transport address.
#include "cpm/grammar/uri.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/grammar/header.hpp"

namespace cpm::sip {

namespace {

using Parts = UriParts;

// Characters a user part never holds unescaped (whitespace, controls, delimiters).
bool bad_user_char(char c)
{
  return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"';
}

bool scheme_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

// Split a URI or name-addr into its parts; false when malformed (see parse_uri).
bool split(std::string_view uri, Parts& out)
{
  out = Parts{};
  auto s = addr_spec(uri);
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return false;
  out.scheme = s.substr(0, colon);
  if (!std::all_of(out.scheme.begin(), out.scheme.end(), scheme_char))
    return false;
  out.tel = text::iequals(out.scheme, "tel");
  auto rest = s.substr(colon + 1);
  // RFC 3261 §25.1: the user part may hold ';' and '?' (user-unreserved), so the userinfo
  // ends at the '@'; URI headers ("?Subject=x") after the host are not part of the address.
  std::string_view userinfo;
  if (!out.tel)
    if (auto at = rest.find('@'); at != std::string_view::npos) {
      userinfo = rest.substr(0, at);
      rest = rest.substr(at + 1);
    }
  if (auto q = rest.find('?'); q != std::string_view::npos)
    rest = rest.substr(0, q);
  if (out.tel) {
    auto semi = rest.find(';');
    out.user = rest.substr(0, semi);
    if (semi != std::string_view::npos)
      out.params = rest.substr(semi);
    return !out.user.empty() && std::none_of(out.user.begin(), out.user.end(), bad_user_char);
  }
  out.user = userinfo.substr(0, userinfo.find(':')); // drop a password
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      return false;
    out.host = rest.substr(0, close + 1);
    rest = rest.substr(close + 1);
  } else {
    auto end = rest.find_first_of(":;");
    out.host = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  // RFC 3261 §25.1: hostname or IPv4 characters, or an IPv6 reference.
  const bool v6 = !out.host.empty() && out.host.front() == '[';
  auto host_char = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || (v6 && (c == ':' || c == '[' || c == ']'));
  };
  if (out.host.empty() || !std::all_of(out.host.begin(), out.host.end(), host_char))
    return false;
  // No whitespace or control characters in the user part (they would be escaped).
  if (std::any_of(out.user.begin(), out.user.end(), bad_user_char))
    return false;
  if (!rest.empty() && rest.front() == ':') {
    auto end = rest.find(';');
    out.port = rest.substr(1, end == std::string_view::npos ? end : end - 1);
    if (out.port.empty() || out.port.size() > 5 ||
        out.port.find_first_not_of("0123456789") != std::string_view::npos)
      return false;
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  if (!rest.empty() && rest.front() != ';')
    return false;
  out.params = rest;
  return true;
}

// Copy `s` lower-cased to `w`; the end of the copy.
char* copy_lower(std::string_view s, char* w)
{
  for (char c : s)
    *w++ = text::lower(c);
  return w;
}

// The canonical AOR of split parts into `out`, in at most one allocation.
void aor_of(const Parts& p, std::string& out)
{
  const bool at = !p.tel && !p.user.empty();
  out.resize(p.scheme.size() + 1 + p.user.size() + (at ? 1 : 0) + (p.tel ? 0 : p.host.size()));
  char* w = copy_lower(p.scheme, out.data());
  *w++ = ':';
  w = std::copy(p.user.begin(), p.user.end(), w);
  if (at)
    *w++ = '@';
  if (!p.tel)
    copy_lower(p.host, w);
}

} // namespace

bool split_uri(std::string_view uri, UriParts& out)
{
  return split(uri, out);
}

std::string Uri::str() const
{
  std::string out = scheme + ":";
  if (!user.empty())
    out += user + (scheme == "tel" ? "" : "@");
  out += host;
  if (!port.empty())
    out += ":" + port;
  return out + params;
}

std::string Uri::aor() const
{
  if (scheme == "tel")
    return "tel:" + user;
  std::string out = scheme + ":";
  if (!user.empty())
    out += user + "@";
  return out + host;
}

std::optional<std::string_view> Uri::param(std::string_view name) const
{
  return find_param(params, name);
}

Result<Uri> parse_uri(std::string_view text)
{
  Parts p;
  if (!split(text, p))
    return fail(fmt::format("'{}' is not a sip:, sips: or tel: URI", text));
  Uri u;
  u.scheme = text::lower(p.scheme);
  u.user = std::string(p.user);
  u.host = text::lower(p.host);
  u.port = std::string(p.port);
  u.params = std::string(p.params);
  return u;
}

std::string canonical_aor(std::string_view uri)
{
  std::string out;
  canonical_aor(uri, out);
  return out;
}

void canonical_aor(std::string_view uri, std::string& out)
{
  Parts p;
  if (split(uri, p))
    aor_of(p, out);
  else
    out.clear();
}

bool same_aor(std::string_view a, std::string_view b)
{
  // Equal canonical AORs: scheme and host case-insensitively, the user as written.
  Parts x, y;
  return split(a, x) && split(b, y) && x.tel == y.tel && text::iequals(x.scheme, y.scheme) &&
         x.user == y.user && (x.tel || text::iequals(x.host, y.host));
}

std::string uri_host(std::string_view uri)
{
  Parts p;
  return split(uri, p) ? text::lower(p.host) : std::string();
}

std::string uri_user(std::string_view uri)
{
  Parts p;
  return split(uri, p) ? std::string(p.user) : std::string();
}

std::string to_sip_uri(std::string_view addr)
{
  std::string out;
  to_sip_uri(addr, out);
  return out;
}

void to_sip_uri(std::string_view addr, std::string& out)
{
  addr = addr_spec(addr);
  auto starts = [&](std::string_view p) {
    return addr.size() >= p.size() && text::iequals(addr.substr(0, p.size()), p);
  };
  if (starts("sip:") || starts("sips:") || starts("tel:")) {
    out.assign(addr);
    return;
  }
  std::string_view suffix;
  if (starts("udp:")) {
    addr.remove_prefix(4);
  } else if (starts("tcp:")) {
    addr.remove_prefix(4);
    suffix = ";transport=tcp";
  } else if (starts("tls:")) {
    addr.remove_prefix(4);
    suffix = ";transport=tls";
  }
  out.assign("sip:").append(addr).append(suffix);
}

} // namespace cpm::sip
