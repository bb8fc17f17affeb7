#pragma once
// SIP and tel URIs (RFC 3261 §19.1, RFC 3966): their parts, the canonical address of
// record, and the SIP URI of a transport address written in any of the toolkit's forms.
#include <optional>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"

namespace cpm::sip {

// A sip:, sips: or tel: URI in parts. tel: has the number as `user` and no host.
struct Uri {
  std::string scheme; // lower-case "sip", "sips", "tel"
  std::string user;   // as written, without a password (tel: the number)
  std::string host;   // lower-case; IPv6 keeps its brackets "[::1]"
  std::string port;   // digits as written, or ""
  std::string params; // URI parameters with their leading ';', or ""

  // The URI as text, without the URI headers ("?Subject=x") the parse dropped.
  std::string str() const;
  // The canonical address of record: scheme, user and host, no port or parameters.
  std::string aor() const;
  // The value of URI parameter `name` (case-insensitive), "" for a flag; nullopt when absent.
  std::optional<std::string_view> param(std::string_view name) const;
};

// The parts of a URI as views into its text, scheme and host as written (not lower-cased):
// what the hot path reads without allocating. tel: has the number as `user` and no host.
struct UriParts {
  std::string_view scheme, user, host, port, params;
  bool tel = false;
};
// Split a URI or name-addr into its parts; false when it is malformed (as parse_uri).
bool split_uri(std::string_view uri, UriParts& out);

// Parse a URI, given as an addr-spec or as a name-addr ("Bob" <sip:bob@b.example>).
// Malformed: no scheme, a sip/sips URI without a valid host, a bad port, controls or
// delimiters in the user part.
Result<Uri> parse_uri(std::string_view text);

// Uri::aor() of a URI or name-addr, "" when it is malformed:
// "sip:Bob@B.Example:5060;transport=udp" -> "sip:Bob@b.example".
std::string canonical_aor(std::string_view uri);
// The same into `out`, reusing its storage.
void canonical_aor(std::string_view uri, std::string& out);
// Whether two URIs have the same canonical AOR, compared in place; false when either is
// malformed.
bool same_aor(std::string_view a, std::string_view b);
// Domain ("b.example") and user ("bob") of a URI or name-addr; "" when absent or malformed.
std::string uri_host(std::string_view uri);
std::string uri_user(std::string_view uri);

// A transport address in any of the toolkit's forms as a SIP URI:
// "udp:127.0.0.1:5060" / "127.0.0.1:5060" -> "sip:127.0.0.1:5060", "tcp:H:P" ->
// "sip:H:P;transport=tcp", a sip:, sips: or tel: URI (brackets removed) unchanged.
std::string to_sip_uri(std::string_view addr);
// The same into `out`, reusing its storage (a request's source is read on every request).
void to_sip_uri(std::string_view addr, std::string& out);

} // namespace cpm::sip
