// Transport addresses: --proxy, --listen, next hops and their URI forms, one type (Hop).
#include "cpm/grammar/address.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/grammar/header.hpp"

namespace cpm::sip {

namespace {

constexpr auto npos = std::string_view::npos;

bool alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// An IP literal, or a host name to resolve (RFC 3263); the error names `whole` otherwise.
Result<void> check_host(const std::string& host, std::string_view whole)
{
  if (is_ip_literal(host) || is_host_name(host))
    return {};
  return fail(fmt::format("'{}': the host must be an IP address or a domain name", whole));
}

// Digits to a port number up to 65535 (0 included); nullopt otherwise.
std::optional<uint16_t> port_number(std::string_view p)
{
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != npos)
    return std::nullopt;
  unsigned v = 0;
  for (char c : p)
    v = v * 10 + unsigned(c - '0');
  if (v > 65535)
    return std::nullopt;
  return uint16_t(v);
}

// "H", "H:P", "[v6]", "[v6]:P" into the host and port of `h` (port kept when absent).
Result<void> host_port(std::string_view hp, std::string_view whole, Hop& h)
{
  std::string_view port;
  bool has_port = false;
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == npos)
      return fail(fmt::format("bad address '{}'", whole));
    h.host = std::string(hp.substr(1, close - 1));
    auto rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return fail(fmt::format("bad address '{}'", whole));
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    auto colon = hp.find(':');
    h.host = std::string(hp.substr(0, colon));
    if (colon != npos) {
      port = hp.substr(colon + 1);
      has_port = true;
    }
  }
  if (h.host.empty())
    return fail(fmt::format("no host in '{}'", whole));
  if (auto c = check_host(h.host, whole); !c)
    return c;
  if (has_port) {
    auto p = port_number(port);
    if (!p || *p == 0)
      return fail(fmt::format("bad port in '{}'", whole));
    h.port = *p;
    h.port_named = true;
  }
  return {};
}

// The host of a URI without IPv6 brackets.
std::string_view unbracket(std::string_view host)
{
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

} // namespace

bool is_host_name(std::string_view host)
{
  // RFC 3261 §25.1 hostname: labels of alphanumerics and '-' (not at either end) joined by
  // dots, an optional final dot, a top label starting with a letter (so "1.2.3" is no name);
  // RFC 1035 §2.3.4: labels up to 63 octets, the name up to 253.
  if (!host.empty() && host.back() == '.')
    host.remove_suffix(1);
  if (host.empty() || host.size() > 253 || host.back() == '.')
    return false;
  std::string_view top;
  while (!host.empty()) {
    auto dot = host.find('.');
    auto label = host.substr(0, dot);
    if (label.empty() || label.size() > 63 || !alnum(label.front()) || !alnum(label.back()) ||
        !std::all_of(label.begin(), label.end(), [](char c) { return alnum(c) || c == '-'; }))
      return false;
    top = label;
    host = dot == npos ? std::string_view{} : host.substr(dot + 1);
  }
  return (top.front() >= 'a' && top.front() <= 'z') || (top.front() >= 'A' && top.front() <= 'Z');
}

bool is_ip_literal(const std::string& host)
{
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool Hop::is_name() const
{
  return !is_ip_literal(host);
}

std::string Hop::uri() const
{
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (is_name()) {
    // RFC 3263 §4: a name without a port is looked up as NAPTR, then SRV (a transport
    // given: its SRV at once); with a port, as A/AAAA only. So neither is made up here.
    std::string port_part = port_named ? fmt::format(":{}", port) : "";
    std::string_view tp = transport == "tls"                   ? ";transport=tls"
                          : transport == "tcp"                 ? ";transport=tcp"
                          : transport_named || transport_given ? ";transport=udp"
                                                               : "";
    return fmt::format("sip:{}{}{}", h, port_part, tp);
  }
  std::string_view tp = transport == "tls"                      ? ";transport=tls"
                        : transport == "tcp"                    ? ";transport=tcp"
                        : transport == "udp" && transport_named ? ";transport=udp"
                                                                : "";
  return fmt::format("sip:{}:{}{}", h, port, tp);
}

Hop Hop::over_tcp() const
{
  Hop h = *this;
  if (h.transport != "tls") // TLS is TCP already
    h.transport = "tcp";
  return h;
}

Result<Hop> parse_proxy(std::string_view s)
{
  auto l = text::lower(s.substr(0, 4));
  if (l == "udp:" || l == "tcp:" || l == "tls:") {
    Hop h;
    if (auto r = host_port(s.substr(4), s, h); !r)
      return tl::unexpected(r.error());
    h.transport = l.substr(0, 3);
    h.transport_given = true;
    if (h.transport == "tls" && !h.port_named)
      h.port = 5061;
    return h;
  }
  if (l == "sip:" || text::lower(s.substr(0, 5)) == "sips:")
    return hop_of_uri(s);
  return fail(fmt::format(
      "bad proxy '{}': want udp:HOST:PORT, tcp:HOST:PORT, tls:HOST:PORT or sip:/sips:HOST:PORT",
      s));
}

Result<Hop> parse_dns_server(std::string_view s)
{
  Hop h;
  h.port = 53;
  std::string_view hp = s;
  // A bare IPv6 address ("::1") has colons but no brackets and no port.
  if (!hp.empty() && hp.front() != '[' && std::count(hp.begin(), hp.end(), ':') > 1) {
    h.host = std::string(hp);
  } else if (auto r = host_port(hp, s, h); !r) {
    return fail(fmt::format("bad DNS server '{}': want HOST or HOST:PORT (an IP address)", s));
  }
  if (!is_ip_literal(h.host))
    return fail(fmt::format("bad DNS server '{}': want HOST or HOST:PORT (an IP address)", s));
  return h;
}

Result<Hop> hop_of(const Uri& uri)
{
  if (uri.scheme != "sip" && uri.scheme != "sips")
    return fail(fmt::format("'{}' is not a sip: or sips: URI", uri.str()));
  Hop h;
  // RFC 3261 §19.1.2: a sips: URI is reached over TLS, port 5061 when none is given.
  if (uri.scheme == "sips") {
    h.transport = "tls";
    h.port = 5061;
    h.transport_given = true;
  }
  h.host = std::string(unbracket(uri.host));
  if (auto c = check_host(h.host, uri.str()); !c)
    return tl::unexpected(c.error());
  if (!uri.port.empty()) {
    auto p = port_number(uri.port);
    if (!p || *p == 0)
      return fail(fmt::format("bad port in '{}'", uri.str()));
    h.port = *p;
    h.port_named = true;
  }
  if (auto t = uri.param("transport");
      t && (text::iequals(*t, "tcp") || text::iequals(*t, "udp") || text::iequals(*t, "tls")) &&
      h.transport != "tls") {
    h.transport = text::lower(*t);
    if (h.transport == "tls" && !h.port_named)
      h.port = 5061;
    h.transport_named = true;
    h.transport_given = true;
  }
  return h;
}

Result<Hop> hop_of_uri(std::string_view uri)
{
  auto u = parse_uri(uri);
  if (!u || (u->scheme != "sip" && u->scheme != "sips"))
    return fail(fmt::format("'{}' is not a sip: or sips: URI", uri));
  return hop_of(*u);
}

Result<Hop> address_of(std::string_view addr)
{
  // Read for every request (its source, its next hop): the SIP URI form goes into a buffer
  // kept per thread and is read as views, so that a short host allocates nothing.
  thread_local std::string uri;
  to_sip_uri(addr, uri);
  UriParts u;
  if (!split_uri(uri, u) || u.host.empty())
    return fail(fmt::format("'{}' is not an address", addr));
  Hop h;
  h.host = text::lower(unbracket(u.host));
  if (!u.port.empty()) {
    auto p = port_number(u.port);
    if (!p)
      return fail(fmt::format("bad port in '{}'", addr));
    h.port = *p;
  }
  if (auto t = find_param(u.params, "transport"); t && !t->empty())
    h.transport = text::lower(*t);
  return h;
}

bool same_host_port(const Hop& a, const Hop& b)
{
  return a.port == b.port && a.host == b.host;
}

bool is_loopback(std::string_view host)
{
  return host.rfind("127.", 0) == 0 || host == "::1";
}

std::vector<std::string> default_listen(std::string_view peer_host)
{
  if (peer_host.find(':') != npos)
    return {is_loopback(peer_host) ? "udp:[::1]:0" : "udp:[::]:0",
            is_loopback(peer_host) ? "tcp:[::1]:0" : "tcp:[::]:0"};
  std::string host = is_loopback(peer_host) ? "127.0.0.1" : "0.0.0.0";
  return {"udp:" + host + ":0", "tcp:" + host + ":0"};
}

Result<Hop> parse_listen(std::string_view s)
{
  Hop l;
  auto colon = s.find(':');
  if (colon == npos)
    return fail(fmt::format(
        "bad listen address '{}': want udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT", s));
  l.transport = std::string(s.substr(0, colon));
  if (l.transport != "udp" && l.transport != "tcp" && l.transport != "tls")
    return fail(fmt::format("bad listen address '{}': transport must be udp, tcp or tls", s));
  auto rest = s.substr(colon + 1);
  std::string_view host, port;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return fail(fmt::format("bad listen address '{}'", s));
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    auto c = rest.rfind(':');
    if (c == npos)
      return fail(fmt::format("bad listen address '{}': missing port", s));
    host = rest.substr(0, c);
    port = rest.substr(c + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5)
    return fail(fmt::format("bad listen address '{}'", s));
  auto p = port_number(port);
  if (!p)
    return fail(fmt::format("bad port in listen address '{}'", s));
  l.host = std::string(host);
  l.port = *p;
  if (!is_ip_literal(l.host))
    return fail(fmt::format("listen address '{}' needs an IP literal", s));
  return l;
}

std::string format_listen(const Hop& l)
{
  if (l.host.find(':') != std::string::npos)
    return fmt::format("{}:[{}]:{}", l.transport, l.host, l.port);
  return fmt::format("{}:{}:{}", l.transport, l.host, l.port);
}

} // namespace cpm::sip
