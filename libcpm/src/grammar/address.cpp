// Transport addresses: a --proxy / next hop (Hop) and a --listen value (ListenSpec).
#include "cpm/grammar/address.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <fmt/format.h>

#include "cpm/base/text.hpp"

namespace cpm::sip {

namespace {

using text::lower;

bool ip_literal(const std::string& host)
{
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Result<uint16_t> parse_port(std::string_view p, std::string_view whole)
{
  if (p.empty() || p.size() > 5 ||
      !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return fail(fmt::format("bad port in '{}'", whole));
  unsigned v = std::stoul(std::string(p));
  if (v == 0 || v > 65535)
    return fail(fmt::format("bad port in '{}'", whole));
  return static_cast<uint16_t>(v);
}

// "H", "H:P", "[v6]", "[v6]:P" into host and port.
Result<Hop> host_port(std::string_view hp, std::string_view whole)
{
  Hop h;
  std::string_view port;
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos)
      return fail(fmt::format("bad address '{}'", whole));
    h.host = std::string(hp.substr(1, close - 1));
    auto rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return fail(fmt::format("bad address '{}'", whole));
      port = rest.substr(1);
      if (port.empty())
        return fail(fmt::format("bad port in '{}'", whole));
    }
  } else {
    auto colon = hp.find(':');
    h.host = std::string(hp.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = hp.substr(colon + 1);
      if (port.empty())
        return fail(fmt::format("bad port in '{}'", whole));
    }
  }
  if (h.host.empty())
    return fail(fmt::format("no host in '{}'", whole));
  if (!ip_literal(h.host))
    return fail(fmt::format("'{}': the host must be an IP address (no DNS here)", whole));
  if (!port.empty()) {
    auto p = parse_port(port, whole);
    if (!p)
      return tl::unexpected(p.error());
    h.port = *p;
  }
  return h;
}

} // namespace

std::string Hop::uri() const
{
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("sip:{}:{}{}", h, port, transport == "tcp" ? ";transport=tcp" : "");
}

Hop Hop::over_tcp() const
{
  Hop h = *this;
  h.transport = "tcp";
  return h;
}

Result<Hop> parse_proxy(std::string_view s)
{
  auto l = lower(s.substr(0, 4));
  if (l == "udp:" || l == "tcp:") {
    auto h = host_port(s.substr(4), s);
    if (!h)
      return h;
    h->transport = l.substr(0, 3);
    return h;
  }
  if (l == "sip:")
    return hop_of_uri(s);
  return fail(fmt::format("bad proxy '{}': want udp:HOST:PORT, tcp:HOST:PORT or sip:HOST:PORT", s));
}

Result<Hop> hop_of_uri(std::string_view uri)
{
  if (lower(uri.substr(0, 4)) != "sip:")
    return fail(fmt::format("'{}' is not a sip: URI", uri));
  auto rest = uri.substr(4);
  auto at = rest.find('@');
  auto params_at = rest.find(';');
  if (at != std::string_view::npos && (params_at == std::string_view::npos || at < params_at))
    rest = rest.substr(at + 1);
  auto end = rest.find_first_of(";?>");
  auto hp = rest.substr(0, end);
  auto h = host_port(hp, uri);
  if (!h)
    return h;
  if (end != std::string_view::npos) {
    auto params = lower(rest.substr(end));
    if (params.find(";transport=tcp") != std::string::npos)
      h->transport = "tcp";
  }
  return h;
}

bool is_loopback(std::string_view host)
{
  return host.rfind("127.", 0) == 0 || host == "::1";
}

std::vector<std::string> default_listen(std::string_view peer_host)
{
  if (peer_host.find(':') != std::string_view::npos)
    return {is_loopback(peer_host) ? "udp:[::1]:0" : "udp:[::]:0",
            is_loopback(peer_host) ? "tcp:[::1]:0" : "tcp:[::]:0"};
  std::string host = is_loopback(peer_host) ? "127.0.0.1" : "0.0.0.0";
  return {"udp:" + host + ":0", "tcp:" + host + ":0"};
}

Result<ListenSpec> parse_listen(std::string_view s)
{
  ListenSpec l;
  auto colon = s.find(':');
  if (colon == std::string_view::npos)
    return fail(fmt::format("bad listen address '{}': want udp:HOST:PORT or tcp:HOST:PORT", s));
  l.transport = std::string(s.substr(0, colon));
  if (l.transport != "udp" && l.transport != "tcp")
    return fail(fmt::format("bad listen address '{}': transport must be udp or tcp", s));
  auto rest = s.substr(colon + 1);
  std::string_view host, port;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return fail(fmt::format("bad listen address '{}'", s));
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    auto c = rest.rfind(':');
    if (c == std::string_view::npos)
      return fail(fmt::format("bad listen address '{}': missing port", s));
    host = rest.substr(0, c);
    port = rest.substr(c + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5)
    return fail(fmt::format("bad listen address '{}'", s));
  unsigned p = 0;
  for (char ch : port) {
    if (ch < '0' || ch > '9')
      return fail(fmt::format("bad port in listen address '{}'", s));
    p = p * 10 + unsigned(ch - '0');
  }
  if (p > 65535)
    return fail(fmt::format("bad port in listen address '{}'", s));
  l.host = std::string(host);
  l.port = uint16_t(p);
  if (!ip_literal(l.host))
    return fail(fmt::format("listen address '{}' needs an IP literal", s));
  return l;
}

std::string format_listen(const ListenSpec& l)
{
  if (l.host.find(':') != std::string::npos)
    return fmt::format("{}:[{}]:{}", l.transport, l.host, l.port);
  return fmt::format("{}:{}:{}", l.transport, l.host, l.port);
}

} // namespace cpm::sip
