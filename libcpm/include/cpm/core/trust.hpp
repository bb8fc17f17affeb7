#pragma once
// The RFC 3325 trust domain of a node: whose P-Asserted-Identity, P-Served-User and odi
// Routes it believes, what it does with them from anyone else, and the identities a user
// may ask to be asserted as (P-Preferred-Identity). Pure: no sockets.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/config/config.hpp"
#include "cpm/grammar/request.hpp"

namespace cpm::trust {

// The sources a node believes.
class Domain {
public:
  // The default domain of `node`, then `node.trusted`:
  //  - a core: every core, conversation server and IWF of `file` (their listen addresses)
  //    and the core's own peers: the network nodes one operator runs together;
  //  - a conversation server or an IWF: its `proxy` (its own core) alone;
  //  - a core also: the servers of its triggers (the application servers it sends to);
  //  A hop given by a domain name (a DNS peer, a proxy "sip:b.example") is the core of the
  //  file that serves that domain, if any; else the name is one of names().
  //  - a client: nobody.
  // `trusted` entries are node names of `file`, addresses ("127.0.0.9" any port,
  // "udp:10.0.0.1:5060" that port over UDP) or host/domain names (names()). An entry that
  // is none of these is an error.
  static Result<Domain> of(const config::File& file, const config::Node& node);
  // Add an address form or a name (as `trusted` takes).
  Result<void> add(std::string_view addr);
  // The host and domain names among its members ("as.b.example", "c.example"), lower-case:
  // their addresses come from DNS (add_resolved); nothing from a name is believed before.
  const std::vector<std::string>& names() const { return m_names; }
  // The addresses `name` (one of names()) resolved to: each a member on any port. Again
  // for the same name: the new addresses replace the old.
  void add_resolved(std::string_view name, const std::vector<std::string>& addresses);
  // Whether a request from `source` ("udp:127.0.1.2:5060", Request::source) with this top
  // Via sent-by host comes from inside. UDP matches address and port; TCP and TLS the
  // address alone (the peer's port is ephemeral). libre cannot bind its outgoing
  // connections to a node's address, so the nodes of one host all connect from the address
  // the kernel picks (127.0.0.1 on loopback, the first address of an interface in a
  // namespace): a TCP or TLS connection from this host (a loopback address, or one of the
  // node's own listen addresses) is believed when its top Via names a member (`via_host`).
  bool trusts(std::string_view source, std::string_view via_host = {}) const;
  // Whether a next hop (a SIP URI or address form) is inside.
  bool trusts_hop(std::string_view uri) const;
  // "udp:127.0.1.2:5060, 127.0.2.1 (any port)": for --explain and -v.
  std::string describe() const;
  bool empty() const { return m_entries.empty() && m_names.empty(); }

private:
  struct Entry {
    std::string host;  // IP literal, no brackets
    uint16_t port = 0; // 0: any
    std::string transport;
    std::string name; // the member name it was resolved from ("": given as an address)
  };
  std::vector<Entry> m_entries;
  std::vector<std::string> m_names;
  std::vector<std::string> m_local; // the node's own listen hosts
};

// What a request carries that only a trust domain may say (RFC 3325 §4, RFC 5502 §6): the
// names "P-Asserted-Identity", "P-Served-User", "odi Route", in that order, when present.
std::vector<std::string> claims(const sip::Request& req);
// Forget them in the request view (asserted, odi, the headers), so that nothing later
// decides by them. The caller also removes the headers from what it forwards.
void forget_claims(sip::Request& req);

// What a node does with a request from outside its trust domain that carries claims.
struct Screening {
  enum class Kind { Pass, Stripped, Refused };
  Kind kind = Kind::Pass;
  bool outside = false;             // the source is outside the trust domain
  std::string what;                 // the claims, "P-Asserted-Identity, odi Route"
  std::string diag;                 // the stderr line ("" for Pass)
  std::vector<std::string> headers; // Refused: the 403's Warning
};
// Screen `req` from its source: inside, or no claims: Pass; else with `refuse` (untrusted =
// "refuse") Refused, otherwise the claims forgotten (forget_claims) and Stripped; the
// caller also removes P-Asserted-Identity and P-Served-User from what it forwards.
// `with_odi`: whether an odi Route counts (a server has none to read: odi is the core's).
Screening screen(const Domain& domain, sip::Request& req, bool refuse, std::string_view node_name,
                 bool with_odi = true);
// The top Via of a request in parts: its transport ("udp", lower-case), sent-by
// ("127.0.1.2:5060", "[::1]") and parameters (";branch=...;rport"); nullopt without one.
struct TopVia {
  std::string transport, sent_by, params;
};
std::optional<TopVia> top_via(const sip::Request& req);
// The top Via's sent-by host of a request ("127.0.1.2", "[::1]"), or "": a view into the
// request's header text.
std::string_view top_via_host(const sip::Request& req);

// Privacy (RFC 3323 §4.2, RFC 3325 §9.3): the user asked that its asserted identity leave
// no trust domain ("id"), or said explicitly that it may ("none").
bool privacy_id(const sip::Request& req);
bool privacy_none(const sip::Request& req);

// Whether `uri` is one of `user`'s identities: its URI, and for a user with a `tel`,
// tel:NUMBER and sip:NUMBER@<its domain>;user=phone.
bool owns(const config::User& user, std::string_view uri);

// Whether a request sent to `next_hop` (a SIP URI) keeps its P-Asserted-Identity (RFC 3325
// §5, §7): inside the trust domain it does; to a user's registered contact (`to_user`) it
// does unless the user asked for Privacy: id; to any other node outside the domain only
// with Privacy: none.
bool keeps_asserted(const Domain& domain, std::string_view next_hop, bool to_user,
                    const sip::Request& req);

// The P-Asserted-Identity header line for an identity ("P-Asserted-Identity: <sip:...>").
std::string asserted_header(std::string_view uri);

} // namespace cpm::trust
