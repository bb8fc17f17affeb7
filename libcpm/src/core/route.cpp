// The core's routing decision: triggers, public service identities, location, peers.
#include "cpm/core/route.hpp"

#include "cpm/base/text.hpp"
#include "cpm/codec/auth.hpp"
#include "cpm/grammar/uri.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <regex>
#include <unordered_map>

namespace cpm::route {

namespace {

// A compiled regex per pattern, kept across calls (patterns come from the config).
const std::regex* compiled(const std::string& pattern, std::string& error)
{
  thread_local std::unordered_map<std::string, std::regex> cache;
  if (auto it = cache.find(pattern); it != cache.end())
    return &it->second;
  try {
    if (cache.size() > 256)
      cache.clear(); // a config reload left old patterns behind
    auto [it, ok] =
        cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript | std::regex::icase));
    (void)ok;
    return &it->second;
  } catch (const std::regex_error& e) {
    error = fmt::format("invalid regex '{}': {}", pattern, e.what());
    return nullptr;
  }
}

bool search(const std::string& text, const std::string& pattern, std::string& error)
{
  const std::regex* re = compiled(pattern, error);
  if (!re)
    return false;
  try {
    return std::regex_search(text, *re);
  } catch (const std::regex_error& e) {
    error = fmt::format("regex '{}' failed: {}", pattern, e.what());
    return false;
  }
}

bool in_domains(const config::Node& node, std::string_view host)
{
  if (host.empty())
    return false;
  for (const auto& d : node.domains)
    if (text::iequals(d, host))
      return true;
  return false;
}

// The URI inside a Route value: "<sip:x;lr>;p" -> "sip:x;lr".
std::string route_uri(std::string_view v)
{
  v = text::trim(v);
  auto open = v.find('<');
  if (open != std::string_view::npos) {
    auto close = v.find('>', open);
    return std::string(v.substr(open + 1, close == std::string_view::npos ? std::string_view::npos
                                                                          : close - open - 1));
  }
  return std::string(v);
}

// "sip:h:p;transport=tcp" + ";lr" unless it is there already.
std::string with_lr(std::string uri)
{
  sip::UriParts p;
  if (sip::split_uri(uri, p)) {
    std::string params = p.params + ";";
    for (char& c : params)
      c = text::lower(c);
    if (params.find(";lr;") != std::string::npos || params.find(";lr=") != std::string::npos)
      return uri;
  }
  return uri + ";lr";
}

// host:port of a URI or listen address, for comparing where a request came from.
std::string host_port(std::string_view addr)
{
  sip::UriParts p;
  if (!sip::split_uri(sip::to_sip_uri(addr), p))
    return "";
  return p.host + ":" + (p.port.empty() ? std::string("5060") : p.port);
}

const char* case_word(config::SessionCase c)
{
  return c == config::SessionCase::Originating ? "originating" : "terminating";
}

std::string trigger_label(const config::Trigger& t)
{
  std::string name = t.name.empty() ? fmt::format("trigger@{}", t.line) : t.name;
  return fmt::format("trigger '{}' (priority {}, {})", name, t.priority, case_word(t.session_case));
}

// Why trigger `t` does not apply to `req` for `served_aor`; "" when it does.
std::string mismatch(const config::Trigger& t, const sip::Request& req,
                     const std::string& served_aor)
{
  if (!t.methods.empty()) {
    bool found = false;
    for (const auto& m : t.methods)
      found = found || text::iequals(m, req.method);
    if (!found)
      return fmt::format("no match: method {} not in [{}]", req.method, fmt::join(t.methods, ", "));
  }
  std::string error;
  if (!t.request_uri.empty() && !search(req.ruri, t.request_uri, error))
    return error.empty() ? fmt::format("no match: request URI {} does not match '{}'", req.ruri,
                                       t.request_uri)
                         : "no match: " + error;
  for (const auto& h : t.headers) {
    bool found = false;
    for (const auto& v : req.values(h.name)) {
      if (search(v, h.pattern, error)) {
        found = true;
        break;
      }
    }
    if (!found)
      return error.empty()
                 ? fmt::format("no match: header {} has no value matching '{}'", h.name, h.pattern)
                 : "no match: " + error;
  }
  if (!t.users.empty()) {
    bool found = false;
    for (const auto& u : t.users)
      found = found || (!served_aor.empty() && sip::canonical_aor(u) == served_aor);
    if (!found)
      return fmt::format("no match: served user {} not in its users",
                         served_aor.empty() ? "(none)" : served_aor);
  }
  return "";
}

Decision reject(Decision d, int status, std::string reason)
{
  d.action = Action::Reject;
  d.status = status;
  d.reason = std::move(reason);
  d.what = "reject";
  return d;
}

} // namespace

std::string make_odi(config::SessionCase c, int index)
{
  return fmt::format("{}.{}", c == config::SessionCase::Originating ? 'o' : 't', index);
}

std::string sign_odi(std::string_view token, std::string_view key, std::string_view call_id)
{
  auto mac = auth::md5_hex(fmt::format("{}:{}:{}", key, token, call_id));
  return fmt::format("{}.{}", token, mac.substr(0, 10));
}

std::string verify_odi(std::string_view signed_token, std::string_view key,
                       std::string_view call_id)
{
  auto dot = signed_token.rfind('.');
  if (dot == std::string_view::npos || dot < 3)
    return {};
  auto token = signed_token.substr(0, dot);
  if (sign_odi(token, key, call_id) != signed_token)
    return {};
  return std::string(token);
}

bool parse_odi(std::string_view token, config::SessionCase& c, int& index)
{
  if (token.size() < 3 || token.size() > 11 || token[1] != '.')
    return false;
  config::SessionCase sc;
  if (token[0] == 'o')
    sc = config::SessionCase::Originating;
  else if (token[0] == 't')
    sc = config::SessionCase::Terminating;
  else
    return false;
  auto digits = token.substr(2);
  // Only what make_odi writes: digits, no sign, no leading zero.
  if (digits.find_first_not_of("0123456789") != std::string_view::npos ||
      (digits.size() > 1 && digits[0] == '0'))
    return false;
  int n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size())
    return false;
  c = sc;
  index = n;
  return true;
}

Decision decide(const sip::Request& req, const Context& ctx)
{
  Decision d;
  d.ruri = req.ruri;
  // The --explain lines cost formatting on every request: only when asked for.
  auto note = [&](auto&& format, auto&&... args) {
    if (ctx.explain)
      d.explain.push_back(fmt::format(fmt::runtime(format), std::forward<decltype(args)>(args)...));
  };

  // RFC 3261 §16.12: loose routing; the Route set left after ours decides the next hop.
  if (!req.routes.empty()) {
    d.action = Action::Forward;
    d.next_hop = route_uri(req.routes.front());
    d.what = "route";
    note("route: the request carries Route {}: following it, no triggers", req.routes.front());
    if (d.next_hop.empty() || sip::uri_host(d.next_hop).empty()) {
      note("{}", "route: the top Route is not a SIP URI");
      return reject(std::move(d), 400, "Bad Route");
    }
    return d;
  }
  if (!ctx.file || !ctx.node) {
    note("{}", "no node configuration: cannot route");
    return reject(std::move(d), 500, "Server Internal Error");
  }
  const config::File& file = *ctx.file;
  const config::Node& node = *ctx.node;

  const std::string& served = req.asserted.empty() ? req.from_uri : req.asserted;
  const std::string orig_user = sip::canonical_aor(served);
  const std::string term_user = sip::canonical_aor(req.ruri);
  // A public service identity (a group, a psi) is served by its host, which originates on
  // its behalf (the controlling function inviting members): no originating triggers for it.
  const bool served_psi =
      !orig_user.empty() && (file.find_group(orig_user) != nullptr ||
                             std::any_of(node.psi.begin(), node.psi.end(), [&](const auto& p) {
                               return sip::canonical_aor(p.first) == orig_user;
                             }));
  const bool originating = !req.from_peer && !served_psi && in_domains(node, sip::uri_host(served));
  const bool terminating = in_domains(node, sip::uri_host(req.ruri));

  if (originating)
    note("session case: originating for {} (domain {})", orig_user, sip::uri_host(served));
  else if (served_psi)
    note("session case: not originating ({} is a public service identity, served by its host)",
         orig_user);
  else if (req.from_peer)
    note("session case: not originating (request from peer {})", req.source);
  else
    note("session case: not originating ({} is not in our domains)",
         served.empty() ? std::string("no served user") : served);
  if (terminating)
    note("session case: terminating for {}", term_user);
  else
    note("session case: not terminating (request URI {} is not in our "
         "domains)",
         req.ruri);

  // Where evaluation resumes: after trigger `done` of case `done_case`.
  bool have_odi = false;
  config::SessionCase done_case = config::SessionCase::Originating;
  int done = -1;
  const auto call_ids = req.values("Call-ID");
  const std::string call_id = call_ids.empty() ? std::string() : call_ids.front();
  std::string odi = req.odi;
  if (!odi.empty() && !ctx.odi_key.empty()) {
    odi = verify_odi(req.odi, ctx.odi_key, call_id);
    if (odi.empty())
      note("odi '{}' is not signed by this core: ignored, evaluating every "
           "trigger",
           req.odi);
  } else if (!odi.empty()) {
    // No key (--explain): read a signed token without checking its signature.
    if (auto dot = odi.find('.', 2);
        dot != std::string::npos && odi.size() - dot - 1 == 10 &&
        odi.find_first_not_of("0123456789abcdef", dot + 1) == std::string::npos)
      odi.resize(dot);
  }
  if (!odi.empty()) {
    if (parse_odi(odi, done_case, done)) {
      have_odi = true;
      note("odi {}: {} triggers up to #{} already ran{}", req.odi, case_word(done_case), done,
           done_case == config::SessionCase::Terminating ? " (originating triggers finished)" : "");
    } else {
      note("odi '{}' is malformed: ignored, evaluating every trigger", req.odi);
    }
  }

  auto triggers = file.triggers_of(node.name);
  const std::string source = req.source.empty() ? "" : host_port(req.source);
  for (auto phase : {config::SessionCase::Originating, config::SessionCase::Terminating}) {
    const bool active = phase == config::SessionCase::Originating ? originating : terminating;
    const std::string& served_aor =
        phase == config::SessionCase::Originating ? orig_user : term_user;
    for (size_t i = 0; i < triggers.size(); ++i) {
      const auto& t = *triggers[i];
      if (t.session_case != phase)
        continue;
      auto label = trigger_label(t);
      if (!active) {
        note("{}: skipped: session case is not {}", label, case_word(phase));
        continue;
      }
      if (have_odi) {
        if (done_case == config::SessionCase::Terminating &&
            phase == config::SessionCase::Originating) {
          note("{}: skipped: originating case finished (odi {})", label, req.odi);
          continue;
        }
        if (done_case == phase && static_cast<int>(i) <= done) {
          note("{}: skipped: already ran (odi {})", label, req.odi);
          continue;
        }
      }
      auto why = mismatch(t, req, served_aor);
      if (!why.empty()) {
        note("{}: {}", label, why);
        continue;
      }
      const std::string server = sip::to_sip_uri(t.server);
      // Never send a request back to the server it just came from without an odi: a loop.
      if (!source.empty() && !have_odi && host_port(server) == source) {
        note("{}: skipped: the request came from its server {}", label, req.source);
        continue;
      }
      std::string self = ctx.self_uri.empty() ? file.node_uri(node.name) : ctx.self_uri;
      d.action = Action::Forward;
      d.next_hop = server;
      std::string token = make_odi(phase, static_cast<int>(i));
      if (!ctx.odi_key.empty())
        token = sign_odi(token, ctx.odi_key, call_id);
      d.push_routes = {"<" + with_lr(server) + ">", "<" + self + ";lr;odi=" + token + ">"};
      d.served_user = served_aor;
      d.session_case = phase == config::SessionCase::Originating ? "orig" : "term";
      d.what = "trigger";
      note("{}: matched -> {} (returns with odi {})", label, server, token);
      return d;
    }
  }

  // Public service identities: the node's table, then groups of our domains.
  for (const auto& [uri, server] : node.psi) {
    if (!term_user.empty() && sip::canonical_aor(uri) == term_user) {
      d.action = Action::Forward;
      d.next_hop = sip::to_sip_uri(server);
      d.what = "psi";
      note("psi: {} is a public service identity -> {}", uri, d.next_hop);
      return d;
    }
  }
  if (const config::Group* g = file.find_group(req.ruri); g && terminating) {
    auto host = file.node_uri(g->host);
    if (!host.empty()) {
      d.action = Action::Forward;
      d.next_hop = host;
      d.what = "psi";
      note("psi: group {} is hosted by {} -> {}", g->uri, g->host, host);
      return d;
    }
    note("psi: group {} names host node '{}', which the config does not "
         "know (or it listens nowhere)",
         g->uri, g->host);
  }

  if (terminating) {
    std::vector<location::Binding> bindings;
    if (ctx.location && !term_user.empty())
      bindings = ctx.location->lookup(term_user, ctx.now);
    auto chosen = location::select(bindings, req.values("Accept-Contact"));
    if (chosen.empty()) {
      bool known = !bindings.empty() || file.find_user(req.ruri) != nullptr;
      if (!known) {
        note("location: {} is not a user of ours and has no binding",
             term_user.empty() ? req.ruri : term_user);
        return reject(std::move(d), 404, "Not Found");
      }
      if (bindings.empty())
        note("location: {} has no binding", term_user);
      else
        note("location: {} has {} binding(s), none acceptable to "
             "Accept-Contact (RFC 3841 require)",
             term_user, bindings.size());
      return reject(std::move(d), 480, "Temporarily Unavailable");
    }
    const auto& b = chosen.front();
    d.action = Action::Forward;
    d.ruri = b.contact;
    d.next_hop = b.received.empty() ? b.contact : sip::to_sip_uri(b.received);
    d.what = "contact";
    std::string why = chosen.size() == 1 ? "the only one"
                      : req.values("Accept-Contact").empty()
                          ? "most recent"
                          : "best Accept-Contact match, then most recent";
    note("location: {} has {} binding{}, chose {} ({}){}", term_user, bindings.size(),
         bindings.size() == 1 ? "" : "s", b.contact, why,
         b.received.empty() ? "" : ", via flow " + b.received);
    return d;
  }

  // Another domain: its peer core. tel: URIs have no domain and use a peer named "tel".
  sip::UriParts p;
  const bool parsed = sip::split_uri(req.ruri, p);
  if (!parsed) {
    note("request URI '{}' is not a SIP or tel URI", req.ruri);
    return reject(std::move(d), 416, "Unsupported URI Scheme");
  }
  std::string domain = p.scheme == "tel" ? "tel" : p.host;
  const std::string* peer = nullptr;
  for (const auto& [dom, uri] : node.peers)
    if (text::iequals(dom, domain))
      peer = &uri;
  if (!peer)
    if (auto it = node.peers.find("*"); it != node.peers.end()) {
      peer = &it->second;
      note("peer: no peer for domain {}, using the default peer \"*\"", domain);
    }
  if (!peer) {
    note("peer: no peer for domain {}", domain);
    return reject(std::move(d), 404, "Not Found");
  }
  d.action = Action::Forward;
  d.next_hop = sip::to_sip_uri(*peer);
  d.what = "peer";
  note("peer: domain {} -> {}", domain, d.next_hop);
  return d;
}

std::string format_explain(const sip::Request& req, const Decision& d)
{
  std::string out = fmt::format("request: {} {}\n", req.method, req.ruri);
  out += fmt::format("  from: {}\n", req.from_uri.empty() ? "(none)" : req.from_uri);
  if (!req.asserted.empty())
    out += fmt::format("  asserted: {}\n", req.asserted);
  if (!req.source.empty())
    out += fmt::format("  source: {}{}\n", req.source, req.from_peer ? " (peer)" : "");
  if (!req.odi.empty())
    out += fmt::format("  odi: {}\n", req.odi);
  for (const auto& r : req.routes)
    out += fmt::format("  route: {}\n", r);
  for (const auto& line : d.explain)
    out += "  " + line + "\n";
  if (d.action == Action::Reject) {
    out += fmt::format("reject: {} {}\n", d.status, d.reason);
    return out;
  }
  out += fmt::format("forward ({})\n", d.what);
  out += fmt::format("  next hop: {}\n", d.next_hop);
  out += fmt::format("  request URI: {}\n", d.ruri);
  for (const auto& r : d.push_routes)
    out += fmt::format("  Route: {}\n", r);
  if (!d.served_user.empty())
    out += fmt::format("  P-Served-User: <{}>;sescase={}\n", d.served_user, d.session_case);
  return out;
}

} // namespace cpm::route
