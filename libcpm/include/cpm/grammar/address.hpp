#pragma once
// Transport addresses: where to send (a next hop: --proxy, a peer, the host part of a SIP
// URI) and where to listen (--listen), as one type, Hop, with its conversions from and to
// the URI forms (grammar/uri.hpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/grammar/uri.hpp"

namespace cpm::sip {

// A transport address: "udp:H:P", "tcp:H:P", "tls:H:P", "sip:H:P;transport=tcp",
// "sips:H:P" (TLS, port 5061 when absent; libre takes it as "sip:H:P;transport=tls"). The host of a
// next hop (parse_proxy, hop_of) is an IP literal or a domain name that libre resolves as
// RFC 3263 says (NAPTR, SRV, A/AAAA); a --listen host (parse_listen) is an IP literal;
// address_of keeps host names as written.
struct Hop {
  std::string transport = "udp"; // "udp" | "tcp" | "tls" (address_of: any transport parameter)
  std::string host;              // without brackets
  uint16_t port = 5060;          // a --listen value: 0 for any port
  // The URI named its transport (";transport=udp": a UDP-only target, never moved to TCP).
  bool transport_named = false;
  // The form chose the transport ("udp:", "tcp:" or a transport parameter): for a name, no
  // NAPTR lookup (RFC 3263 §4.1).
  bool transport_given = false;
  // The form gave a port: for a name, no NAPTR or SRV lookup, only A/AAAA (RFC 3263 §4.2).
  bool port_named = false;
  // An IP literal: "sip:H:P" with ";transport=tcp" for tcp, ";transport=udp" for a named udp
  // (IPv6 hosts bracketed). A name: "sip:NAME", its port and transport only when given, so
  // that libre runs the RFC 3263 lookups the form leaves open.
  std::string uri() const;
  // The host is a domain name (not an IP literal).
  bool is_name() const;
  // Same hop over tcp (a tls hop stays tls).
  Hop over_tcp() const;
};

// An IPv4 or IPv6 literal, without brackets ("10.0.0.1", "2001:db8::7").
bool is_ip_literal(const std::string& host);

// RFC 3261 §25.1 hostname syntax (with RFC 1035 lengths): "b.example", "core-1.a.example.";
// not an IP literal.
bool is_host_name(std::string_view host);

// Parse a --proxy value: "udp:H:P", "tcp:H:P", "tls:H:P" or a sip:/sips: URI (as hop_of_uri).
Result<Hop> parse_proxy(std::string_view s);
// The hop of a sip: URI's host part ("sip:bob@127.0.0.2:5062;transport=tcp"): port 5060
// when absent (for a name: left to DNS), tcp when its transport parameter says so.
Result<Hop> hop_of(const Uri& uri);
Result<Hop> hop_of_uri(std::string_view uri);
// Any address form of the config and of Request::source (everything to_sip_uri takes),
// hosts kept as written (lower-cased, names too): for comparing where a request came from.
Result<Hop> address_of(std::string_view addr);
// Host and port equal (the transport aside).
bool same_host_port(const Hop& a, const Hop& b);

// A --dns value: "127.0.0.1", "127.0.0.1:5353", "[::1]:53" or "::1" (an IP literal; port
// 53 when absent).
Result<Hop> parse_dns_server(std::string_view s);

// A --listen value: "udp:127.0.0.1:5060", "tcp:[::1]:0", "tls:127.0.0.1:5061" (the port is
// required, 0 allowed).
Result<Hop> parse_listen(std::string_view s);
// Back to the --listen form, "tcp:[::1]:0".
std::string format_listen(const Hop& l);

// True for 127.0.0.0/8 and ::1.
bool is_loopback(std::string_view host);
// The default --listen values for a peer host: udp+tcp on 127.0.0.1 port 0 for loopback,
// else on 0.0.0.0.
std::vector<std::string> default_listen(std::string_view peer_host);
// RFC 3261 §18.1.1: a request bigger than this goes over TCP.
inline constexpr size_t k_udp_max = 1300;
// The largest request that goes over UDP on a path whose MTU is `path_mtu` (RFC 3261
// §18.1.1: 200 bytes below it), k_udp_max when the MTU is not known (0).
constexpr size_t udp_max_for(uint32_t path_mtu)
{
  return path_mtu > 200 ? path_mtu - 200 : k_udp_max;
}

} // namespace cpm::sip
