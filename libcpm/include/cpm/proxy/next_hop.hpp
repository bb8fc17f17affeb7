#pragma once
// Where a forwarded request goes: the hook's next hop, else the top Route, else the request
// URI; over TCP instead of UDP when it is too big for a datagram.
#include <cstddef>
#include <string>
#include <string_view>

#include "cpm/grammar/request.hpp"
#include "cpm/proxy/action.hpp"

namespace cpm::proxy {

// The next hop's SIP URI: `a.next_hop`, else the first pushed Route, else the first Route
// left in the request, else `ruri` (the request URI it is sent with).
std::string next_hop(const Action& a, const sip::Request& req, const std::string& ruri);
// The same as a view into `a`, `req` or `ruri` (the proxy copies it into a buffer it reuses).
std::string_view next_hop_view(const Action& a, const sip::Request& req, std::string_view ruri);
// RFC 3261 §18.1.1: whether a request of `size` bytes over `udp_max` to `hop` goes over TCP
// to the same host:port instead: only when we listen on TCP and the hop's URI names no
// transport (an explicit ";transport=udp" is the target saying it takes UDP only).
bool moves_to_tcp(std::string_view hop, size_t size, size_t udp_max, bool have_tcp);
// Add ";transport=tcp" to a SIP URI (replacing any transport parameter).
std::string with_transport(std::string_view uri, std::string_view transport);

} // namespace cpm::proxy
