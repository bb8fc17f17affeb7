// MSRP URIs and paths (RFC 4975 §6), and the random ids of sessions, transactions and messages.
#include "cpm/codec/msrp.hpp"

#include <charconv>
#include <random>

#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/codec/msrp_detail.hpp"

namespace cpm::msrp {

using detail::is_alnum;
using detail::number;
using text::is_token;

Result<uint64_t> detail::number(std::string_view s)
{
  uint64_t v = 0;
  if (s.empty() || s.size() > 19)
    return fail(fmt::format("bad number '{}'", s));
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return fail(fmt::format("bad number '{}'", s));
  return v;
}

namespace {

// RFC 3986 unreserved
bool is_unreserved(char c)
{
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

} // namespace

Result<Uri> parse_uri(std::string_view s)
{
  Uri u;
  std::string_view rest;
  if (s.size() > 7 && text::iequals(s.substr(0, 7), "msrp://")) {
    rest = s.substr(7);
  } else if (s.size() > 8 && text::iequals(s.substr(0, 8), "msrps://")) {
    u.secure = true;
    rest = s.substr(8);
  } else {
    return fail(fmt::format("not an msrp URI: '{}'", s));
  }
  // authority ends at '/' (session-id) or ';' (transport)
  size_t end = rest.find_first_of("/;");
  if (end == std::string_view::npos)
    return fail(fmt::format("msrp URI without transport: '{}'", s));
  std::string_view auth = rest.substr(0, end);
  rest = rest.substr(end);
  if (auto at = auth.rfind('@'); at != std::string_view::npos) {
    u.userinfo = std::string(auth.substr(0, at));
    auth = auth.substr(at + 1);
  }
  std::string_view port;
  if (!auth.empty() && auth[0] == '[') {
    auto close = auth.find(']');
    if (close == std::string_view::npos)
      return fail(fmt::format("msrp URI with a bad IPv6 host: '{}'", s));
    u.host = std::string(auth.substr(1, close - 1));
    auto after = auth.substr(close + 1);
    if (after.empty() || after[0] != ':')
      return fail(fmt::format("msrp URI without port: '{}'", s));
    port = after.substr(1);
    for (char c : u.host)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return fail(fmt::format("msrp URI with a bad IPv6 host: '{}'", s));
  } else {
    auto colon = auth.rfind(':');
    if (colon == std::string_view::npos)
      return fail(fmt::format("msrp URI without port: '{}'", s));
    u.host = std::string(auth.substr(0, colon));
    port = auth.substr(colon + 1);
    for (char c : u.host)
      if (!is_alnum(c) && c != '-' && c != '.')
        return fail(fmt::format("msrp URI with a bad host: '{}'", s));
  }
  if (u.host.empty())
    return fail(fmt::format("msrp URI without host: '{}'", s));
  auto p = number(port);
  if (!p || *p == 0 || *p > 65535)
    return fail(fmt::format("msrp URI with a bad port: '{}'", s));
  u.port = static_cast<uint16_t>(*p);
  if (rest[0] == '/') {
    auto semi = rest.find(';');
    if (semi == std::string_view::npos)
      return fail(fmt::format("msrp URI without transport: '{}'", s));
    auto sid = rest.substr(1, semi - 1);
    if (sid.empty())
      return fail(fmt::format("msrp URI with an empty session-id: '{}'", s));
    for (char c : sid)
      if (!is_unreserved(c) && c != '+' && c != '=' && c != '/')
        return fail(fmt::format("msrp URI with a bad session-id: '{}'", s));
    u.session_id = std::string(sid);
    rest = rest.substr(semi);
  }
  // ;transport *(;param): parameters after the transport are ignored
  rest = rest.substr(1);
  auto tp = rest.substr(0, rest.find(';'));
  if (!is_token(tp))
    return fail(fmt::format("msrp URI with a bad transport: '{}'", s));
  u.transport = std::string(tp);
  return u;
}

std::string format_uri(const Uri& u)
{
  std::string s = u.secure ? "msrps://" : "msrp://";
  if (!u.userinfo.empty())
    s += u.userinfo + "@";
  if (u.host.find(':') != std::string::npos)
    s += "[" + u.host + "]";
  else
    s += u.host;
  s += fmt::format(":{}", u.port);
  if (!u.session_id.empty())
    s += "/" + u.session_id;
  s += ";" + u.transport;
  return s;
}

bool same_uri(const Uri& a, const Uri& b)
{
  return a.secure == b.secure && text::iequals(a.host, b.host) && a.port == b.port &&
         a.session_id == b.session_id && text::iequals(a.transport, b.transport);
}

Result<std::vector<Uri>> parse_path(std::string_view s)
{
  std::vector<Uri> out;
  for (auto field : text::split_ws(s)) {
    auto u = parse_uri(field);
    if (!u)
      return tl::unexpected(u.error());
    out.push_back(std::move(*u));
  }
  if (out.empty())
    return fail("empty MSRP path");
  return out;
}

std::string format_path(const std::vector<Uri>& p)
{
  std::string s;
  for (auto& u : p) {
    if (!s.empty())
      s += ' ';
    s += format_uri(u);
  }
  return s;
}

std::string random_id(size_t len)
{
  static const char k_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof(k_chars) - 2);
  std::string s(len, 'a');
  for (auto& c : s)
    c = k_chars[pick(rng)];
  return s;
}

} // namespace cpm::msrp
