// The RFC 3325 trust domain of a node (core/trust.hpp).
#include "cpm/core/trust.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cpm/base/text.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/uri.hpp"

namespace cpm::trust {

namespace {

using text::iequals;

bool is_network_node(config::Role r)
{
  return r == config::Role::Core || r == config::Role::ConversationServer || r == config::Role::Iwf;
}

bool is_loopback(std::string_view host)
{
  return host.rfind("127.", 0) == 0 || host == "::1";
}

bool connection_oriented(std::string_view transport)
{
  return transport == "tcp" || transport == "tls";
}

} // namespace

Result<void> Domain::add(std::string_view addr)
{
  auto hop = sip::address_of(addr);
  if (hop && hop->is_name() && sip::is_host_name(hop->host)) {
    if (std::find(m_names.begin(), m_names.end(), hop->host) == m_names.end())
      m_names.push_back(hop->host);
    return {};
  }
  if (!hop || hop->is_name())
    return fail(fmt::format("trusted '{}' is no node, no IP address and no host name", addr));
  Entry e;
  e.host = hop->host;
  // A bare address trusts it on any port; a form with a port trusts that port over UDP
  // (and the address over TCP and TLS, whose source ports are ephemeral).
  e.port = sip::is_ip_literal(std::string(addr)) ? 0 : hop->port;
  e.transport = hop->transport;
  for (const auto& have : m_entries)
    if (have.host == e.host && have.port == e.port)
      return {};
  m_entries.push_back(std::move(e));
  return {};
}

Result<Domain> Domain::of(const config::File& file, const config::Node& node)
{
  Domain d;
  auto add_node = [&](const config::Node& n) -> Result<void> {
    for (const auto& l : n.listen)
      if (auto r = d.add(l); !r)
        return r;
    return {};
  };
  // A hop given by a domain name ("sip:b.example", found by DNS) is the core of the file
  // that serves that domain, when there is one.
  auto add_hop = [&](const std::string& hop_text) {
    if (const auto* n = file.find_node(hop_text)) {
      (void)add_node(*n);
      return;
    }
    auto hop = sip::address_of(hop_text);
    if (!hop)
      return;
    if (!hop->is_name()) {
      (void)d.add(hop->host);
      return;
    }
    bool served = false;
    for (const auto& n : file.nodes)
      if (n.role == config::Role::Core)
        for (const auto& dom : n.domains)
          if (iequals(dom, hop->host)) {
            (void)add_node(n);
            served = true;
          }
    if (!served)
      (void)d.add(hop->host);
  };
  for (const auto& l : node.listen)
    if (auto hop = sip::address_of(l); hop && !hop->is_name())
      d.m_local.push_back(hop->host);
  if (node.role == config::Role::Core) {
    for (const auto& n : file.nodes)
      if (is_network_node(n.role) && n.name != node.name)
        if (auto r = add_node(n); !r)
          return tl::unexpected(r.error());
    for (const auto& [dom, uri] : node.peers)
      add_hop(uri);
    for (const auto* t : file.triggers_of(node.name))
      add_hop(t->server);
  } else if (node.role == config::Role::ConversationServer || node.role == config::Role::Iwf) {
    if (!node.proxy.empty())
      add_hop(node.proxy);
  }
  for (const auto& t : node.trusted) {
    if (const auto* n = file.find_node(t)) {
      if (auto r = add_node(*n); !r)
        return tl::unexpected(r.error());
      continue;
    }
    if (auto r = d.add(t); !r)
      return tl::unexpected(r.error());
  }
  return d;
}

void Domain::add_resolved(std::string_view name, const std::vector<std::string>& addresses)
{
  m_entries.erase(std::remove_if(m_entries.begin(), m_entries.end(),
                                 [&](const Entry& e) { return e.name == name; }),
                  m_entries.end());
  for (const auto& a : addresses) {
    if (!sip::is_ip_literal(a))
      continue;
    Entry e;
    e.host = text::lower(a);
    e.name = std::string(name);
    m_entries.push_back(std::move(e));
  }
}

bool Domain::trusts(std::string_view source, std::string_view via_host) const
{
  auto s = sip::address_of(source);
  if (!s)
    return false;
  auto transport = source.substr(0, source.find(':'));
  bool connection = connection_oriented(transport);
  auto matches = [&](const Entry& e, std::string_view host) {
    return e.host == host && (e.port == 0 || connection || e.port == s->port);
  };
  for (const auto& e : m_entries)
    if (matches(e, s->host))
      return true;
  // A connection from this host (a loopback address, or one of the node's own): a local
  // process whose connection libre did not bind. It is the member its top Via names.
  bool local =
      is_loopback(s->host) || std::find(m_local.begin(), m_local.end(), s->host) != m_local.end();
  if (connection && local && !via_host.empty()) {
    std::string vh(via_host);
    if (vh.size() > 2 && vh.front() == '[' && vh.back() == ']')
      vh = vh.substr(1, vh.size() - 2);
    for (const auto& e : m_entries)
      if (e.host == vh)
        return true;
  }
  return false;
}

bool Domain::trusts_hop(std::string_view uri) const
{
  auto hop = sip::address_of(uri);
  if (!hop)
    return false;
  for (const auto& e : m_entries)
    if (e.host == hop->host && (e.port == 0 || e.port == hop->port))
      return true;
  return false;
}

std::string Domain::describe() const
{
  if (m_entries.empty() && m_names.empty())
    return "nobody";
  std::string out;
  for (const auto& e : m_entries) {
    if (!out.empty())
      out += ", ";
    bool v6 = e.host.find(':') != std::string::npos;
    auto host = v6 ? "[" + e.host + "]" : e.host;
    out += e.port == 0 ? host + " (any port" + (e.name.empty() ? "" : ", " + e.name) + ")"
                       : fmt::format("{}:{}", host, e.port);
  }
  for (const auto& n : m_names)
    if (std::none_of(m_entries.begin(), m_entries.end(),
                     [&](const Entry& e) { return e.name == n; }))
      out += (out.empty() ? "" : ", ") + n + " (by DNS, no address yet)";
  return out;
}

std::vector<std::string> claims(const sip::Request& req)
{
  std::vector<std::string> out;
  if (!req.asserted.empty() || !req.value("P-Asserted-Identity").empty())
    out.emplace_back("P-Asserted-Identity");
  if (!req.value("P-Served-User").empty())
    out.emplace_back("P-Served-User");
  if (!req.odi.empty())
    out.emplace_back("odi Route");
  return out;
}

void forget_claims(sip::Request& req)
{
  req.asserted.clear();
  req.odi.clear();
  req.headers.erase(std::remove_if(req.headers.begin(), req.headers.end(),
                                   [](const sip::Header& h) {
                                     return iequals(h.name, "P-Asserted-Identity") ||
                                            iequals(h.name, "P-Served-User");
                                   }),
                    req.headers.end());
}

namespace {

// The top Via's parts as views into the request's header text, the transport as written.
bool top_via_parts(const sip::Request& req, std::string_view& transport, std::string_view& sent_by,
                   std::string_view& params)
{
  std::string_view v = req.value("Via");
  auto sp = v.find_first_of(" \t");
  if (sp == std::string_view::npos)
    return false;
  auto proto = v.substr(0, sp);
  auto slash = proto.rfind('/');
  transport = slash == std::string_view::npos ? proto : proto.substr(slash + 1);
  auto rest = text::trim(v.substr(sp + 1));
  auto semi = rest.find(';');
  sent_by = text::trim(rest.substr(0, semi));
  params = semi == std::string_view::npos ? std::string_view() : rest.substr(semi);
  return true;
}

} // namespace

std::optional<TopVia> top_via(const sip::Request& req)
{
  std::string_view transport, sent_by, params;
  if (!top_via_parts(req, transport, sent_by, params))
    return std::nullopt;
  TopVia out;
  out.transport = text::lower(transport);
  out.sent_by = std::string(sent_by);
  out.params = std::string(params);
  return out;
}

std::string_view top_via_host(const sip::Request& req)
{
  std::string_view transport, sent, params;
  if (!top_via_parts(req, transport, sent, params))
    return {};
  if (!sent.empty() && sent.front() == '[')
    return sent.substr(0, sent.find(']') + 1);
  return sent.substr(0, sent.find(':'));
}

Screening screen(const Domain& domain, sip::Request& req, bool refuse, std::string_view node_name,
                 bool with_odi)
{
  Screening s;
  if (domain.trusts(req.source, top_via_host(req)))
    return s;
  s.outside = true;
  auto c = claims(req);
  if (!with_odi)
    std::erase(c, "odi Route");
  if (c.empty())
    return s;
  s.what = fmt::format("{}", fmt::join(c, ", "));
  if (refuse) {
    s.kind = Screening::Kind::Refused;
    s.diag = fmt::format("{} {} from {}: 403 ({} from outside the trust domain, untrusted = "
                         "\"refuse\")",
                         req.method, req.ruri, req.source, s.what);
    s.headers.push_back(
        fmt::format("Warning: 399 {} \"{} from outside the trust domain\"", node_name, s.what));
    return s;
  }
  s.kind = Screening::Kind::Stripped;
  s.diag = fmt::format("{} {} from {}: removed {} (from outside the trust domain)", req.method,
                       req.ruri, req.source, s.what);
  forget_claims(req);
  return s;
}

namespace {

bool privacy_has(const sip::Request& req, std::string_view want)
{
  for (const auto& v : req.values("Privacy"))
    for (auto p : text::split_list(v, ';'))
      if (iequals(text::trim(p), want))
        return true;
  return false;
}

} // namespace

bool privacy_id(const sip::Request& req)
{
  return privacy_has(req, "id");
}

bool privacy_none(const sip::Request& req)
{
  return privacy_has(req, "none");
}

bool owns(const config::User& user, std::string_view uri)
{
  auto want = sip::canonical_aor(sip::addr_spec(uri));
  if (want.empty())
    return false;
  if (iequals(want, sip::canonical_aor(user.uri)))
    return true;
  if (user.tel.empty())
    return false;
  if (iequals(want, "tel:" + user.tel))
    return true;
  return iequals(want, fmt::format("sip:{}@{}", user.tel, sip::uri_host(user.uri)));
}

bool keeps_asserted(const Domain& domain, std::string_view next_hop, bool to_user,
                    const sip::Request& req)
{
  if (privacy_id(req))
    return domain.trusts_hop(next_hop) && !to_user;
  if (to_user || domain.trusts_hop(next_hop))
    return true;
  return privacy_none(req);
}

std::string asserted_header(std::string_view uri)
{
  return fmt::format("P-Asserted-Identity: <{}>", uri);
}

} // namespace cpm::trust
