#pragma once
// SIP and tel URIs: their parts, the canonical address of record, and the SIP URI of a
// transport address.
#include <string>
#include <string_view>

namespace cpm::sip {

// The parts of a sip:, sips: or tel: URI, taken from an addr-spec or a name-addr
// ("Bob" <sip:bob@b.example:5060;transport=tcp>). tel: has the number as `user` and no host.
struct UriParts {
  std::string scheme; // lower-case "sip", "sips", "tel"
  std::string user;   // as written (tel: the number)
  std::string host;   // lower-case; IPv6 keeps its brackets "[::1]"
  std::string port;   // digits, or ""
  std::string params; // URI params with their leading ';', or ""
};
// Split a URI; false when it has no scheme or (sip/sips) no host.
bool split_uri(std::string_view uri, UriParts& out);

// The canonical form of an AOR: scheme, user and host (lower-cased), no port or params.
// "sip:Bob@B.Example:5060;transport=udp" -> "sip:Bob@b.example". "" for a malformed URI.
std::string canonical_aor(std::string_view uri);

// Domain ("b.example") and user ("bob") of a SIP URI; "" when absent.
std::string uri_host(std::string_view uri);
std::string uri_user(std::string_view uri);

// "udp:127.0.0.1:5060" / "sip:127.0.0.1:5060;transport=tcp" / "127.0.0.1:5060" -> SIP URI
// "sip:127.0.0.1:5060;transport=tcp" (udp gets no transport param).
std::string to_sip_uri(std::string_view addr);

// The addr-spec of a name-addr: what is inside the first '<' outside quotes, up to '>'
// (trimmed); an addr-spec is returned trimmed as it is.
std::string_view addr_spec(std::string_view s);

} // namespace cpm::sip
