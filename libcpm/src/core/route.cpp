// The core's routing decision: triggers, public service identities, location, peers.
#include "cpm/core/route.hpp"

#include "cpm/base/text.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/uri.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <regex>
#include <unordered_map>

namespace cpm::route {

namespace {

// A trigger pattern as matched: most are plain literals ("3gpp-service\.ims\.icsi"), searched
// as such; the rest run through std::regex, whose executor is far slower per character.
struct Compiled {
  bool literal = false;
  std::string text; // the literal, lower-cased (ASCII): icase in the "C" locale folds only A-Z
  std::regex re;    // when not literal
};

// A compiled pattern per pattern, kept across calls (patterns come from the config).
const Compiled* compiled(const std::string& pattern, std::string& error)
{
  thread_local std::unordered_map<std::string, Compiled> cache;
  if (auto it = cache.find(pattern); it != cache.end())
    return &it->second;
  try {
    Compiled c;
    if (auto lit = literal_pattern(pattern)) {
      c.literal = true;
      c.text = text::lower(*lit);
    } else {
      c.re = std::regex(pattern, std::regex::ECMAScript | std::regex::icase);
    }
    if (cache.size() > 256)
      cache.clear(); // a config reload left old patterns behind
    auto [it, ok] = cache.emplace(pattern, std::move(c));
    (void)ok;
    return &it->second;
  } catch (const std::regex_error& e) {
    error = fmt::format("invalid regex '{}': {}", pattern, e.what());
    return nullptr;
  }
}

// Whether `s` contains `lowered` (lower-case ASCII), ignoring ASCII case.
bool contains_nocase(std::string_view s, std::string_view lowered)
{
  if (lowered.empty())
    return true;
  if (s.size() < lowered.size())
    return false;
  const char first = lowered.front();
  const size_t last = s.size() - lowered.size();
  for (size_t i = 0; i <= last; ++i) {
    if (text::lower(s[i]) != first)
      continue;
    size_t k = 1;
    while (k < lowered.size() && text::lower(s[i + k]) == lowered[k])
      ++k;
    if (k == lowered.size())
      return true;
  }
  return false;
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

// "sip:h:p;transport=tcp" + ";lr" unless it is there already.
std::string with_lr(std::string uri)
{
  if (auto u = sip::parse_uri(uri); u && u->param("lr"))
    return uri;
  return uri + ";lr";
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

// Whether trigger `t` applies to `req` for `served_aor`. When it does not and `why` is given,
// *why says why (--explain); a busy core passes none and formats nothing.
bool matches(const config::Trigger& t, const sip::Request& req, const std::string& served_aor,
             std::string* why)
{
  auto no = [&](std::string_view format, const auto&... args) {
    if (why)
      *why = fmt::format(fmt::runtime(format), args...);
    return false;
  };
  if (!t.methods.empty()) {
    bool found = false;
    for (const auto& m : t.methods)
      found = found || text::iequals(m, req.method);
    if (!found)
      return no("no match: method {} not in [{}]", req.method, fmt::join(t.methods, ", "));
  }
  std::string error;
  if (!t.request_uri.empty() && !pattern_search(req.ruri, t.request_uri, error))
    return error.empty()
               ? no("no match: request URI {} does not match '{}'", req.ruri, t.request_uri)
               : no("no match: {}", error);
  for (const auto& h : t.headers) {
    bool found = false;
    for (const auto& v : req.values(h.name)) {
      if (pattern_search(v, h.pattern, error)) {
        found = true;
        break;
      }
    }
    if (!found)
      return error.empty() ? no("no match: header {} has no value matching '{}'", h.name, h.pattern)
                           : no("no match: {}", error);
  }
  if (!t.users.empty()) {
    bool found = false;
    for (const auto& u : t.users)
      found = found || (!served_aor.empty() && sip::same_aor(u, served_aor));
    if (!found)
      return no("no match: served user {} not in its users",
                served_aor.empty() ? "(none)" : served_aor);
  }
  return true;
}

// The canonical AORs decide() computes for each request, kept per thread so that their
// storage is reused: a busy core writes them without allocating.
struct Scratch {
  std::string orig_user, term_user;
};

// What the stages of decide() share: the request, the node, the session case, where trigger
// evaluation resumes, and the decision they fill in. A stage that decides returns true.
struct Routing {
  Routing(const sip::Request& request, const Context& context, Decision& decision, Scratch& scratch)
      : req(request), ctx(context), d(decision), orig_user(scratch.orig_user),
        term_user(scratch.term_user)
  {
  }
  const sip::Request& req;
  const Context& ctx;
  Decision& d;

  // session_case(): who is served and in which case the core handles the request.
  const std::string* served = nullptr; // P-Asserted-Identity, else From
  std::string& orig_user;              // canonical AOR of the served user, "" when malformed
  std::string& term_user;              // canonical AOR of the request URI
  bool served_psi = false;
  bool originating = false;
  bool terminating = false;

  // resume_point(): the request came back from a server after trigger `done` of `done_case`.
  bool have_odi = false;
  config::SessionCase done_case = config::SessionCase::Originating;
  int done = -1;
  std::string_view call_id; // signs odi tokens (only read when the core has a key)

  // node_triggers(): the node's triggers by priority.
  std::vector<const config::Trigger*> triggers;
  // came_from(): where the request came from, read when a trigger matches.
  std::optional<Result<sip::Hop>> source;

  const config::File& file() const { return *ctx.file; }

  // True when the request came from `server` (host and port).
  bool came_from(const std::string& server)
  {
    if (req.source.empty())
      return false;
    if (!source)
      source = sip::address_of(req.source);
    if (!*source)
      return false;
    auto a = sip::address_of(server);
    return a && sip::same_host_port(*a, **source);
  }
  const config::Node& node() const { return *ctx.node; }

  // An --explain line; formatted only when asked for, a busy core leaves it off.
  template <class... Args> void note(fmt::format_string<Args...> format, Args&&... args)
  {
    if (ctx.explain)
      d.explain.push_back(fmt::format(format, std::forward<Args>(args)...));
  }
  // An --explain line about trigger `t`: "trigger 'x' (priority 10, originating): ...".
  template <class... Args>
  void note(const config::Trigger& t, fmt::format_string<Args...> format, Args&&... args)
  {
    if (ctx.explain)
      d.explain.push_back(trigger_label(t) + ": " +
                          fmt::format(format, std::forward<Args>(args)...));
  }
  // Answer `status` `reason`; returns true (decided).
  bool reject(int status, std::string reason)
  {
    d.action = Action::Reject;
    d.status = status;
    d.reason = std::move(reason);
    d.what = "reject";
    return true;
  }
  // Send to `next_hop`; returns true (decided).
  bool forward(std::string_view next_hop, const char* what)
  {
    d.next_hop.assign(next_hop);
    return forwarded(what);
  }
  // Send to the d.next_hop written already; returns true (decided).
  bool forwarded(const char* what)
  {
    d.action = Action::Forward;
    d.what = what;
    return true;
  }
};

// RFC 3261 §16.12: loose routing; the Route set left after ours decides the next hop.
bool follow_routes(Routing& r)
{
  if (r.req.routes.empty())
    return false;
  r.forward(sip::addr_spec(r.req.routes.front()), "route");
  r.note("route: the request carries Route {}: following it, no triggers", r.req.routes.front());
  if (r.d.next_hop.empty() || sip::uri_host(r.d.next_hop).empty()) {
    r.note("{}", "route: the top Route is not a SIP URI");
    return r.reject(400, "Bad Route");
  }
  return true;
}

// Without a node configuration nothing below can run.
bool lacks_config(Routing& r)
{
  if (r.ctx.file && r.ctx.node)
    return false;
  r.note("{}", "no node configuration: cannot route");
  return r.reject(500, "Server Internal Error");
}

// The --explain lines of session_case().
void explain_session_case(Routing& r)
{
  if (!r.ctx.explain)
    return;
  const std::string& served = *r.served;
  if (r.originating)
    r.note("session case: originating for {} (domain {})", r.orig_user, sip::uri_host(served));
  else if (r.served_psi)
    r.note("session case: not originating ({} is a public service identity, served by its host)",
           r.orig_user);
  else if (r.req.from_peer)
    r.note("session case: not originating (request from peer {})", r.req.source);
  else
    r.note("session case: not originating ({} is not in our domains)",
           served.empty() ? std::string("no served user") : served);
  if (r.terminating)
    r.note("session case: terminating for {}", r.term_user);
  else
    r.note("session case: not terminating (request URI {} is not in our domains)", r.req.ruri);
}

// Originating when the served user is in one of our domains and the request did not come
// from a peer; terminating when the request URI is.
void session_case(Routing& r)
{
  const config::Node& node = r.node();
  r.served = r.req.asserted.empty() ? &r.req.from_uri : &r.req.asserted;
  sip::canonical_aor(*r.served, r.orig_user);
  sip::canonical_aor(r.req.ruri, r.term_user);
  // A public service identity (a group, a psi) is served by its host, which originates on
  // its behalf (the controlling function inviting members): no originating triggers for it.
  r.served_psi = !r.orig_user.empty() &&
                 (r.file().find_group(r.orig_user) != nullptr ||
                  std::any_of(node.psi.begin(), node.psi.end(),
                              [&](const auto& p) { return sip::same_aor(p.first, r.orig_user); }));
  // Hosts as written: in_domains compares case-insensitively.
  sip::UriParts served, ruri;
  r.originating = !r.req.from_peer && !r.served_psi && sip::split_uri(*r.served, served) &&
                  in_domains(node, served.host);
  r.terminating = sip::split_uri(r.req.ruri, ruri) && in_domains(node, ruri.host);
  explain_session_case(r);
}

// Where trigger evaluation resumes: after the trigger the request's odi token names, when we
// signed it (or, without a key, --explain, whatever it names).
void resume_point(Routing& r)
{
  const sip::Request& req = r.req;
  if (!r.ctx.odi_key.empty()) {
    r.call_id = req.value("Call-ID");
  }
  if (req.odi.empty())
    return;
  std::string odi = req.odi;
  if (!r.ctx.odi_key.empty()) {
    odi = verify_odi(req.odi, r.ctx.odi_key, r.call_id);
    if (odi.empty())
      r.note("odi '{}' is not signed by this core: ignored, evaluating every trigger", req.odi);
  } else {
    // No key (--explain): read a signed token without checking its signature.
    if (auto dot = odi.find('.', 2);
        dot != std::string::npos && odi.size() - dot - 1 == 10 &&
        odi.find_first_not_of("0123456789abcdef", dot + 1) == std::string::npos)
      odi.resize(dot);
  }
  if (odi.empty())
    return;
  if (!parse_odi(odi, r.done_case, r.done)) {
    r.note("odi '{}' is malformed: ignored, evaluating every trigger", req.odi);
    return;
  }
  r.have_odi = true;
  r.note("odi {}: {} triggers up to #{} already ran{}", req.odi, case_word(r.done_case), r.done,
         r.done_case == config::SessionCase::Terminating ? " (originating triggers finished)" : "");
}

void node_triggers(Routing& r)
{
  r.triggers = r.file().triggers_of(r.node().name);
}

// Whether trigger `i` of case `phase` may run at all (case active, not already run, not a
// loop back to the server the request came from without an odi).
bool may_run(Routing& r, config::SessionCase phase, size_t i)
{
  const auto& t = *r.triggers[i];
  const bool active = phase == config::SessionCase::Originating ? r.originating : r.terminating;
  if (!active) {
    r.note(t, "skipped: session case is not {}", case_word(phase));
    return false;
  }
  if (r.have_odi) {
    if (r.done_case == config::SessionCase::Terminating &&
        phase == config::SessionCase::Originating) {
      r.note(t, "skipped: originating case finished (odi {})", r.req.odi);
      return false;
    }
    if (r.done_case == phase && static_cast<int>(i) <= r.done) {
      r.note(t, "skipped: already ran (odi {})", r.req.odi);
      return false;
    }
  }
  return true;
}

// Send the request to trigger `i`'s server with two Routes pushed: the server, then this
// core with ;odi=<token> so that it comes back and resumes after trigger `i`.
bool fire(Routing& r, config::SessionCase phase, size_t i, std::string server,
          const std::string& served_aor)
{
  const auto& ctx = r.ctx;
  std::string self = ctx.self_uri.empty() ? r.file().node_uri(r.node().name) : ctx.self_uri;
  std::string token = make_odi(phase, static_cast<int>(i));
  if (!ctx.odi_key.empty())
    token = sign_odi(token, ctx.odi_key, r.call_id);
  r.d.push_routes = {"<" + with_lr(server) + ">", "<" + self + ";lr;odi=" + token + ">"};
  r.d.served_user = served_aor;
  r.d.session_case = phase == config::SessionCase::Originating ? "orig" : "term";
  r.note(*r.triggers[i], "matched -> {} (returns with odi {})", server, token);
  return r.forward(server, "trigger");
}

// The node's triggers of one session case, in priority order: the first that matches fires.
bool run_triggers(Routing& r, config::SessionCase phase)
{
  const std::string& served_aor =
      phase == config::SessionCase::Originating ? r.orig_user : r.term_user;
  std::string why;
  for (size_t i = 0; i < r.triggers.size(); ++i) {
    const auto& t = *r.triggers[i];
    if (t.session_case != phase || !may_run(r, phase, i))
      continue;
    if (!matches(t, r.req, served_aor, r.ctx.explain ? &why : nullptr)) {
      r.note(t, "{}", why);
      continue;
    }
    std::string server = sip::to_sip_uri(t.server);
    // Never send a request back to the server it just came from without an odi: a loop.
    if (!r.have_odi && r.came_from(server)) {
      r.note(t, "skipped: the request came from its server {}", r.req.source);
      continue;
    }
    return fire(r, phase, i, std::move(server), served_aor);
  }
  return false;
}

// Public service identities: the node's table, then groups of our domains.
bool service_identity(Routing& r)
{
  for (const auto& [uri, server] : r.node().psi) {
    if (!r.term_user.empty() && sip::same_aor(uri, r.term_user)) {
      r.forward(sip::to_sip_uri(server), "psi");
      r.note("psi: {} is a public service identity -> {}", uri, r.d.next_hop);
      return true;
    }
  }
  const config::Group* g = r.file().find_group(r.req.ruri);
  if (!g || !r.terminating)
    return false;
  auto host = r.file().node_uri(g->host);
  if (host.empty()) {
    r.note("psi: group {} names host node '{}', which the config does not know (or it listens "
           "nowhere)",
           g->uri, g->host);
    return false;
  }
  r.note("psi: group {} is hosted by {} -> {}", g->uri, g->host, host);
  return r.forward(host, "psi");
}

// Where a chosen binding is sent and why, for --explain.
std::string reach_note(const location::Binding& b)
{
  using location::Reach;
  if (b.reach == Reach::Contact || b.received.empty())
    return fmt::format("sent to its Contact {} (RFC 3261 §16.5){}", b.contact,
                       b.received.empty() ? "" : "; its REGISTER came from " + b.received);
  const char* why = b.reach == Reach::Connection ? "the connection its REGISTER came on"
                    : b.reach == Reach::Outbound
                        ? "its REGISTER's flow, as RFC 5626 outbound asked (reg-id)"
                        : "its REGISTER's source address, by the node's nat = \"received\"";
  return fmt::format("sent to flow {}: {}", b.received, why);
}

// A user of our domains: the registered contact chosen per RFC 3841 Accept-Contact (404 for
// an unknown user, 480 for a known user without an acceptable binding).
bool registered_contact(Routing& r)
{
  if (!r.terminating)
    return false;
  const auto& term_user = r.term_user;
  std::vector<location::Binding> bindings;
  if (r.ctx.location && !term_user.empty())
    bindings = r.ctx.location->lookup(term_user, r.ctx.now);
  const auto accept_contact = r.req.values("Accept-Contact");
  auto chosen = location::select(bindings, accept_contact);
  if (chosen.empty()) {
    if (bindings.empty() && r.file().find_user(r.req.ruri) == nullptr) {
      r.note("location: {} is not a user of ours and has no binding",
             term_user.empty() ? r.req.ruri : term_user);
      return r.reject(404, "Not Found");
    }
    if (bindings.empty())
      r.note("location: {} has no binding", term_user);
    else
      r.note("location: {} has {} binding(s), none acceptable to Accept-Contact (RFC 3841 "
             "require)",
             term_user, bindings.size());
    return r.reject(480, "Temporarily Unavailable");
  }
  const auto& b = chosen.front();
  r.d.ruri = b.contact;
  r.forward(b.target(), b.target() == b.contact ? "contact" : "flow");
  if (b.reach == location::Reach::Connection && r.d.next_hop != b.contact)
    r.d.alternate_hop = b.contact;
  const char* why = chosen.size() == 1       ? "the only one"
                    : accept_contact.empty() ? "most recent"
                                             : "best Accept-Contact match, then most recent";
  r.note("location: {} has {} binding{}, chose {} ({})", term_user, bindings.size(),
         bindings.size() == 1 ? "" : "s", b.contact, why);
  r.note("location: {}", reach_note(b));
  if (!r.d.alternate_hop.empty())
    r.note("location: if that connection is gone, to its Contact {}", r.d.alternate_hop);
  return true;
}

// Another domain: its peer core (404 if none). tel: URIs have no domain and use a peer
// named "tel"; a peer named "*" takes every other domain; with `dns_peers`, a domain no
// entry names goes where its DNS records point (RFC 3263).
bool peer_domain(Routing& r)
{
  sip::UriParts ruri; // views: the domain is compared case-insensitively
  if (!sip::split_uri(r.req.ruri, ruri)) {
    r.note("request URI '{}' is not a SIP or tel URI", r.req.ruri);
    return r.reject(416, "Unsupported URI Scheme");
  }
  const auto& peers = r.node().peers;
  std::string_view domain = ruri.tel ? std::string_view("tel") : ruri.host;
  const std::string* peer = nullptr;
  for (const auto& [dom, uri] : peers)
    if (text::iequals(dom, domain))
      peer = &uri;
  if (!peer)
    if (auto it = peers.find("*"); it != peers.end()) {
      peer = &it->second;
      r.note("peer: no peer for domain {}, using the default peer \"*\"", domain);
    }
  if (!peer && r.node().dns_peers && text::iequals(ruri.scheme, "sip")) {
    // RFC 3263: the request URI's own host, resolved by libre (NAPTR, SRV, A/AAAA) when the
    // request goes out. Only a name: an IP literal is no domain to look up.
    auto u = sip::parse_uri(r.req.ruri);
    if (auto h = u ? sip::hop_of(*u) : Result<sip::Hop>(fail("")); h && h->is_name()) {
      r.forward(h->uri(), "dns");
      r.note("peer: no peer for domain {}; dns_peers: to its DNS records, {}", domain,
             r.d.next_hop);
      return true;
    }
  }
  if (!peer) {
    r.note("peer: no peer for domain {}", domain);
    return r.reject(404, "Not Found");
  }
  sip::to_sip_uri(*peer, r.d.next_hop);
  r.forwarded("peer");
  r.note("peer: domain {} -> {}", domain, r.d.next_hop);
  return true;
}

} // namespace

std::optional<std::string> literal_pattern(std::string_view pattern)
{
  constexpr std::string_view meta = "^$\\.*+?()[]{}|";
  constexpr std::string_view escapable = "^$\\.*+?()[]{}|/-";
  std::string out;
  out.reserve(pattern.size());
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size() || escapable.find(pattern[i + 1]) == std::string_view::npos)
        return std::nullopt; // \d, \b, \x41, a back-reference, a trailing backslash...
      out.push_back(pattern[++i]);
    } else if (meta.find(c) != std::string_view::npos) {
      return std::nullopt;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool pattern_search(std::string_view text, const std::string& pattern, std::string& error)
{
  const Compiled* c = compiled(pattern, error);
  if (!c)
    return false;
  if (c->literal)
    return contains_nocase(text, c->text);
  try {
    return std::regex_search(text.begin(), text.end(), c->re);
  } catch (const std::regex_error& e) {
    error = fmt::format("regex '{}' failed: {}", pattern, e.what());
    return false;
  }
}

bool addresses_node(std::string_view ruri, const config::Node& node, std::string_view self_uri)
{
  auto u = sip::parse_uri(ruri);
  if (!u || u->scheme == "tel" || !u->user.empty())
    return false;
  if (in_domains(node, u->host))
    return true;
  auto target = sip::address_of(ruri);
  auto self = sip::address_of(self_uri);
  return target && self && sip::same_host_port(*target, *self);
}

void Decision::clear()
{
  action = Action::Reject;
  status = 0;
  reason.clear();
  ruri.clear();
  next_hop.clear();
  alternate_hop.clear();
  push_routes.clear();
  served_user.clear();
  session_case.clear();
  what.clear();
  explain.clear();
}

Decision decide(const sip::Request& req, const Context& ctx)
{
  Decision d;
  decide(req, ctx, d);
  return d;
}

void decide(const sip::Request& req, const Context& ctx, Decision& d)
{
  d.clear();
  d.ruri.assign(req.ruri);
  thread_local Scratch scratch;
  Routing r(req, ctx, d, scratch);
  if (follow_routes(r) || lacks_config(r))
    return;
  session_case(r);
  resume_point(r);
  node_triggers(r);
  if (run_triggers(r, config::SessionCase::Originating) ||
      run_triggers(r, config::SessionCase::Terminating) || service_identity(r) ||
      registered_contact(r))
    return;
  peer_domain(r);
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
  if (!d.alternate_hop.empty())
    out += fmt::format("  if refused: {}\n", d.alternate_hop);
  out += fmt::format("  request URI: {}\n", d.ruri);
  for (const auto& r : d.push_routes)
    out += fmt::format("  Route: {}\n", r);
  if (!d.served_user.empty())
    out += fmt::format("  P-Served-User: <{}>;sescase={}\n", d.served_user, d.session_case);
  return out;
}

} // namespace cpm::route
