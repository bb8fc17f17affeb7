// Who an initial request is from (core/identity.hpp).
#include "cpm/core/identity.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/uri.hpp"

namespace cpm::identity {

namespace {

using text::iequals;
using text::trim;

bool in_domains(const config::Node& node, std::string_view host)
{
  return std::any_of(node.domains.begin(), node.domains.end(),
                     [&](const std::string& d) { return iequals(d, host); });
}

// The user of `file` in our domains that `uri` names (its URI, or its tel), or nullptr.
const config::User* user_owning(const config::File& file, const config::Node& node,
                                std::string_view uri)
{
  for (const auto& u : file.users)
    if (in_domains(node, sip::uri_host(u.uri)) && trust::owns(u, uri))
      return &u;
  return nullptr;
}

// The user of `file` in our domains that a digest username names (username_names), or
// nullptr; the last one when several do, as the file lists them.
const config::User* user_named(const config::File& file, const config::Node& node,
                               std::string_view username)
{
  const config::User* found = nullptr;
  for (const auto& u : file.users)
    if (in_domains(node, sip::uri_host(u.uri)) &&
        username_names(username, sip::canonical_aor(u.uri)))
      found = &u;
  return found;
}

// A binding of `aor` made from `source` ("udp:127.0.1.10:5060"): over that flow (the
// REGISTER's source), or a Contact at that address and port.
std::string associated_binding(const location::Store& loc, const std::string& aor,
                               std::string_view source, int64_t now)
{
  auto src = sip::address_of(source);
  for (const auto& b : loc.lookup(aor, now)) {
    if (b.received == source)
      return fmt::format("the flow {} registered from ({})", sip::uri_user(aor), b.received);
    auto c = sip::address_of(b.contact);
    if (src && c && src->host == c->host && src->port == c->port)
      return fmt::format("the contact address {} registered ({})", sip::uri_user(aor), b.contact);
  }
  return {};
}

// The Proxy-Authorization values addressed to our realm, parsed.
std::vector<auth::Credentials> credentials_for(const sip::Request& req, std::string_view realm,
                                               std::string& bad)
{
  std::vector<auth::Credentials> out;
  for (const auto& h : req.headers) {
    if (!iequals(h.name, "Proxy-Authorization"))
      continue;
    auto c = auth::parse_authorization(h.value);
    if (!c) {
      bad = c.error().message;
      continue;
    }
    if (c->realm == realm)
      out.push_back(std::move(*c));
  }
  return out;
}

} // namespace

bool username_names(std::string_view username, std::string_view aor)
{
  std::string u(username);
  auto host = sip::uri_host(aor);
  return sip::canonical_aor("sip:" + u + "@" + host) == aor ||
         sip::canonical_aor("sip:" + u) == aor || u == aor || u == sip::uri_user(aor);
}

std::string source_by_via(const sip::Request& req)
{
  auto via = trust::top_via(req);
  if (!via)
    return {};
  const auto& transport = via->transport;
  auto hop =
      sip::address_of(fmt::format("{}:{}", transport == "udp" ? "udp" : "tcp", via->sent_by));
  if (!hop)
    return {};
  std::string host = hop->host;
  uint16_t port = hop->port;
  if (auto r = sip::find_param(via->params, "received"); r && !r->empty())
    host = std::string(*r);
  if (auto rp = sip::find_param(via->params, "rport"); rp && !rp->empty())
    port = static_cast<uint16_t>(std::atoi(std::string(*rp).c_str()));
  bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}:{}{}{}:{}", transport, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

Outcome decide(sip::Request& req, const Settings& s, int64_t now)
{
  const auto& node = *s.node;
  Outcome o;
  // An --explain line, formatted only when asked for: a busy core formats none.
  auto note = [&]<class... A>(fmt::format_string<A...> format, A&&... args) {
    if (s.explain)
      o.explain.push_back(fmt::format(format, std::forward<A>(args)...));
  };
  static const trust::Domain nobody;
  const auto& domain = s.domain ? *s.domain : nobody;
  auto sc = trust::screen(domain, req, node.untrusted_refuse, node.name);
  o.trusted = !sc.outside;
  if (o.trusted) { // screen() left the request as it was
    o.how = "trusted";
    if (req.asserted.empty())
      note("identity: {} is inside the trust domain: no P-Asserted-Identity, From is taken",
           req.source);
    else
      note("identity: {} is inside the trust domain: its P-Asserted-Identity {} is believed",
           req.source, req.asserted);
    return o;
  }
  if (s.explain)
    note("identity: {} is outside the trust domain ({})", req.source, domain.describe());
  o.diag = sc.diag;
  if (sc.kind == trust::Screening::Kind::Refused) {
    o.forward = false;
    o.status = 403;
    o.reason = "Forbidden";
    o.headers = sc.headers;
    o.how = "refused";
    note("identity: {} from outside: refused with 403 (untrusted = \"refuse\")", sc.what);
    return o;
  }
  if (sc.kind == trust::Screening::Kind::Stripped) {
    o.remove_headers = {"P-Asserted-Identity", "P-Served-User"};
    note("identity: removed {} (from outside the trust domain)", sc.what);
  }
  // Who the request says it is from: P-Preferred-Identity (RFC 3325 §9.2), else From.
  std::string preferred(sip::addr_spec(req.value("P-Preferred-Identity")));
  const std::string& claimed = preferred.empty() ? req.from_uri : preferred;
  o.remove_headers.push_back("P-Preferred-Identity");
  bool ours = in_domains(node, sip::uri_host(req.from_uri)) ||
              (!preferred.empty() && user_owning(*s.file, node, preferred));
  if (!node.auth) {
    o.how = "unauthenticated";
    note("identity: auth is off: nothing is asserted, From {} is taken as it is", req.from_uri);
    return o;
  }
  if (!ours) {
    // Not one of our users: a request from another network (or a client) to ours, or a
    // relay through us that nobody here vouches for.
    bool to_us = in_domains(node, sip::uri_host(req.ruri)) ||
                 (s.file->find_group(sip::canonical_aor(req.ruri)) != nullptr) ||
                 node.psi.count(sip::canonical_aor(req.ruri)) != 0;
    if (!to_us) {
      o.forward = false;
      o.status = 403;
      o.reason = "Forbidden";
      o.headers.push_back(fmt::format("Warning: 399 {} \"relaying denied: {} is no user of "
                                      "ours and {} is no domain of ours\"",
                                      node.name, req.from_uri, sip::uri_host(req.ruri)));
      o.how = "refused";
      o.diag = fmt::format("{} {} from {} ({}): 403 relaying denied", req.method, req.ruri,
                           req.source, req.from_uri);
      note("identity: neither the sender nor the target is ours: 403, relaying denied");
      return o;
    }
    o.how = "unauthenticated";
    note("identity: From {} is no user of ours: nothing to authenticate, nothing "
         "asserted",
         req.from_uri);
    return o;
  }
  // One of our users, from outside: the association first, then digest.
  const config::User* user = nullptr;
  std::string how;
  if (const auto* claimed_user = user_owning(*s.file, node, claimed);
      claimed_user && node.auth_association && s.location) {
    auto why =
        associated_binding(*s.location, sip::canonical_aor(claimed_user->uri), req.source, now);
    if (!why.empty()) {
      user = claimed_user;
      how = "association";
      note("identity: association: {} comes over {}", req.source, why);
    }
  }
  if (!user) {
    std::string realm =
        node.realm.empty() && !node.domains.empty() ? node.domains.front() : node.realm;
    std::string bad;
    auto creds = credentials_for(req, realm, bad);
    auto challenge = [&](bool stale, const std::string& why) {
      o.forward = false;
      o.status = 407;
      o.reason = "Proxy Authentication Required";
      if (s.nonces)
        o.headers.push_back("Proxy-Authenticate: " +
                            auth::challenge(realm, s.nonces->make(now), stale));
      o.how = "challenge";
      note("identity: {}: challenge with 407 (realm \"{}\")", why, realm);
      return o;
    };
    if (!bad.empty() && creds.empty()) {
      o.forward = false;
      o.status = 400;
      o.reason = "Bad Proxy-Authorization";
      o.how = "refused";
      o.diag = fmt::format("{} {} from {}: 400 ({})", req.method, req.ruri, req.source, bad);
      note("identity: Proxy-Authorization: {}: 400", bad);
      return o;
    }
    if (creds.empty())
      return challenge(false, fmt::format("{} claims to be {}, with no credentials for this realm",
                                          req.source, claimed));
    const auto& c = creds.front();
    if (!s.nonces) {
      note("identity: credentials of '{}' are checked by the running core (its "
           "nonces and counts): asserted when they pass",
           c.username);
      const config::User* u = user_named(*s.file, node, c.username);
      if (!u)
        return o;
      user = u;
      how = "digest";
    } else {
      if (!s.nonces->valid(c.nonce, now, node.nonce_lifetime))
        return challenge(true, "the nonce is stale or not ours");
      if (c.qop.empty()) {
        o.diag = fmt::format("{} {} from {}: credentials without qop=auth: challenged again",
                             req.method, req.ruri, req.source);
        return challenge(false, "credentials without qop=auth (no nonce count)");
      }
      const config::User* u = user_named(*s.file, node, c.username);
      if (!u || !auth::verify(c, req.method, u->password)) {
        o.forward = false;
        o.status = 403;
        o.reason = "Forbidden";
        o.how = "refused";
        o.diag = fmt::format("{} {} from {}: 403 (digest of '{}' does not verify)", req.method,
                             req.ruri, req.source, c.username);
        note("identity: digest of '{}' does not verify: 403", c.username);
        return o;
      }
      if (s.uses) {
        auto v = s.uses->use(c.nonce, c.nc, now, node.nonce_lifetime);
        if (v == auth::NonceUse::Verdict::Replay) {
          o.diag = fmt::format("{} {} from {}: nonce {} with nc {} used before: a replay, "
                               "challenged again",
                               req.method, req.ruri, req.source, c.nonce, c.nc);
          return challenge(false, fmt::format("nonce count {} was used before (a replay)", c.nc));
        }
        if (v == auth::NonceUse::Verdict::WornOut)
          return challenge(true, "the nonce has been used too often");
      }
      user = u;
      how = "digest";
      note("identity: digest of '{}' verifies (nc {})", c.username, c.nc);
    }
    o.remove_headers.push_back("Proxy-Authorization");
  }
  // RFC 3325 §9.2: the preferred identity when the user owns it, else the user's own.
  std::string asserted = sip::canonical_aor(user->uri);
  if (!preferred.empty()) {
    if (trust::owns(*user, preferred)) {
      asserted = preferred;
      note("identity: P-Preferred-Identity {} is {}'s: asserted", preferred,
           sip::uri_user(user->uri));
    } else {
      note("identity: P-Preferred-Identity {} is not {}'s: ignored", preferred,
           sip::uri_user(user->uri));
    }
  }
  o.how = how;
  o.asserted = asserted;
  req.asserted = asserted;
  o.remove_headers.push_back("P-Asserted-Identity");
  o.add_headers.push_back(trust::asserted_header(asserted));
  note("identity: asserts {} ({})", asserted, how);
  return o;
}

} // namespace cpm::identity
