#pragma once
// Transport addresses: where to send (a Hop: --proxy, a next hop, the host part of a SIP
// URI) and where to listen (a ListenSpec: --listen). Hosts are IP literals.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"

namespace cpm::sip {

// A next hop: "udp:H:P", "tcp:H:P", "sip:H:P;transport=tcp", or the host part of a SIP URI.
struct Hop {
  std::string transport = "udp"; // "udp" | "tcp"
  std::string host;              // IP literal, without brackets
  uint16_t port = 5060;
  // "sip:H:P" with ";transport=tcp" for tcp (IPv6 hosts bracketed).
  std::string uri() const;
  // Same hop over tcp.
  Hop over_tcp() const;
};
// Parse a --proxy value. Hosts must be IP literals.
Result<Hop> parse_proxy(std::string_view s);
// The hop of a SIP URI's host part ("sip:bob@127.0.0.2:5062;transport=tcp").
Result<Hop> hop_of_uri(std::string_view uri);
// True for 127.0.0.0/8 and ::1.
bool is_loopback(std::string_view host);
// The default --listen values for a peer host: udp+tcp on 127.0.0.1 port 0 for loopback,
// else on 0.0.0.0.
std::vector<std::string> default_listen(std::string_view peer_host);
// RFC 3261 §18.1.1: a request bigger than this goes over TCP.
inline constexpr size_t k_udp_max = 1300;

// A --listen value: "udp:127.0.0.1:5060", "tcp:[::1]:0".
struct ListenSpec {
  std::string transport; // "udp" | "tcp"
  std::string host;
  uint16_t port = 0;
};
Result<ListenSpec> parse_listen(std::string_view s);
std::string format_listen(const ListenSpec& l);

} // namespace cpm::sip
