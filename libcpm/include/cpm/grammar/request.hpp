#pragma once
// The request view: what the layers above (route, proxy, registrar, policy) need of a SIP
// request, taken from the wire by rt/sip (to_request) or built by a test. Header names are
// kept in their long form (RFC 3261 §7.3.3 compact forms expanded).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/grammar/header.hpp"
#include "cpm/grammar/wire.hpp"

namespace cpm::sip {

// One header line of a request.
struct Header {
  std::string name; // as received (compact forms expanded to long names)
  std::string value;
};

// A SIP request as the routing and policy layers see it.
struct Request {
  std::string method;
  std::string ruri;     // request URI
  std::string from_uri; // From addr-spec
  std::string to_uri;   // To addr-spec
  std::string asserted; // P-Asserted-Identity addr-spec, if any
  std::vector<Header> headers;
  // Route URIs left after the core removed the top Route(s) addressed to itself.
  std::vector<std::string> routes;
  // The "odi" parameter of the removed top Route addressed to this core, if any: the
  // request came back from an application server and continues after that trigger.
  std::string odi;
  // The URI parameters of that removed top Route (";lr;cpm-served=..."), "" when none was
  // ours: what this node put on its Record-Route when the dialog began.
  std::string own_route_params;
  std::string source;     // where it came from, "udp:127.0.0.1:5070"
  bool from_peer = false; // source is a configured peer core
  size_t body_size = 0;
  // All values of a header (case-insensitive name, compact or long); the values of a list
  // header (is_list_header) one per list element, trimmed, empty elements dropped.
  std::vector<std::string> values(std::string_view name) const;
  // The value of the first header called `name` (case-insensitive, compact or long),
  // trimmed and not split; "" when there is none.
  std::string_view value(std::string_view name) const;
};

// Whether a Route's host and port (0: none written) address this node.
using IsLocal = std::function<bool(std::string_view host, uint16_t port)>;

// Fill `out` from a parsed message (grammar/wire.hpp), reusing its strings' storage (a busy
// proxy allocates nothing here once they have grown): the leading Routes that `is_local`
// says are ours are left out of `routes` (their odi and parameters kept), the first
// P-Asserted-Identity's addr-spec is `asserted`, compact header names are expanded.
void fill_request(const wire::Message& m, std::string_view source, const IsLocal& is_local,
                  Request& out);

} // namespace cpm::sip
