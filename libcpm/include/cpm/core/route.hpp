#pragma once
// The core's routing decision as a pure function of (request, registrations, triggers,
// domains) -> action. No sockets, no libre: unit tests and --explain call it directly.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/config/config.hpp"
#include "cpm/core/location.hpp"
#include "cpm/grammar/request.hpp"

namespace cpm::route {

enum class Action {
  Forward, // send to `next_hop`, with `ruri` as request URI and `push_routes` prepended
  Reject,  // answer `status` `reason`
};

// The decision and, for --explain, why.
struct Decision {
  Action action = Action::Reject;
  int status = 0;       // Reject
  std::string reason;   // Reject
  std::string ruri;     // the request URI to send (retargeted to a contact, or unchanged)
  std::string next_hop; // where to send it: "sip:127.0.1.2:5060;transport=udp"
  // Tried once when `next_hop` refuses the connection: a registered Contact behind a TCP
  // flow that is gone (the client closed it, or the core restarted). Empty: none.
  std::string alternate_hop;
  std::vector<std::string> push_routes; // Route values to put on top ("<sip:...;lr>")
  std::string served_user;              // for P-Served-User, when a trigger fired
  std::string session_case;             // "orig" | "term"
  // One-word kind: "trigger", "peer", "psi", "contact" (a registered Contact), "flow" (the
  // flow a REGISTER came on: location::Reach), "route", "dns" (a domain by its DNS records,
  // `dns_peers`), "reject".
  std::string what;
  std::vector<std::string> explain; // human lines: each trigger matched or not and why

  // Back to a fresh Decision, the strings and lists keeping their storage.
  void clear();
};

// Everything the decision needs besides the request.
struct Context {
  const config::File* file = nullptr; // users, groups, triggers (may hold other nodes)
  const config::Node* node = nullptr; // this core
  const location::Store* location = nullptr;
  std::string self_uri; // this core's URI for the Route back from a server, "sip:127.0.1.1:5060"
  int64_t now = 0;      // unix seconds, for binding expiry
  // Secret that signs odi tokens (bound to the Call-ID), so that a client cannot skip its
  // triggers with a forged ";odi=" Route. Empty: tokens are unsigned and signatures unchecked
  // (--explain).
  std::string odi_key;
  // Fill Decision::explain (--explain, -v); a busy core leaves it off.
  bool explain = true;
};

// Decide where a request goes next.
//
// Order: a request with Route headers left (not ours) follows them. Otherwise:
//  1. originating triggers, when the served user (P-Asserted-Identity, else From) is in one
//     of the node's domains and the request did not come from a peer; each trigger after
//     the position recorded in `odi`;
//  2. terminating triggers, when the request URI's user is in one of the node's domains;
//  3. a public service identity (node psi table, or a [[group]] whose domain is ours) goes to
//     its hosting server;
//  4. a domain of ours: the registered contacts (404 for an unknown user, 480 for a known
//     user without a binding), chosen per RFC 3841 Accept-Contact;
//  5. another domain: its peer core (404 if no peer is known).
// A trigger fires by pushing two Routes: the server, then this core with ;odi=<token>, the
// token recording session case and trigger position so the request resumes after it.
Decision decide(const sip::Request& req, const Context& ctx);
// The same into `out` (cleared first), reusing its storage: a core that keeps one Decision
// routes a request to a peer without allocating.
void decide(const sip::Request& req, const Context& ctx, Decision& out);

// Whether `ruri` addresses the core itself rather than a user: no user part, and a host that
// is one of the node's domains or the core's own address (`self_uri`, host and port). An
// OPTIONS so addressed is a keep-alive ping the core answers itself (RFC 3261 §11).
bool addresses_node(std::string_view ruri, const config::Node& node, std::string_view self_uri);

// A trigger pattern (ECMAScript regex, case-insensitive) that is a plain literal: every
// character is no regex metacharacter (^ $ \ . * + ? ( ) [ ] { } |) or is one escaped by a
// backslash (the metacharacters, '/' and '-'). Returns the literal, unescaped; nullopt when the
// pattern needs the regex engine ("a.b", "\d", "x+").
std::optional<std::string> literal_pattern(std::string_view pattern);
// Whether `text` contains a match of `pattern`, exactly as std::regex_search with
// ECMAScript | icase in the "C" locale says: literal patterns by an ASCII case-insensitive
// substring search, others by std::regex, compiled once per pattern and thread. An empty
// pattern matches every text. An invalid regex does not match and sets `error`.
bool pattern_search(std::string_view text, const std::string& pattern, std::string& error);

// Encode / decode an odi token: session case and the index of the last trigger run.
std::string make_odi(config::SessionCase c, int index);
bool parse_odi(std::string_view token, config::SessionCase& c, int& index);
// Sign a token: "o.2" -> "o.2.<10 hex>"; check and strip a signature ("" when it is wrong).
std::string sign_odi(std::string_view token, std::string_view key, std::string_view call_id);
std::string verify_odi(std::string_view signed_token, std::string_view key,
                       std::string_view call_id);

// Human-readable multi-line report of a decision (what --explain prints).
std::string format_explain(const sip::Request& req, const Decision& d);

} // namespace cpm::route
