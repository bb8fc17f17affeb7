// cpm-core-route: config merge, the routing hook, registrar, signals.
#include "core.hpp"

#include <algorithm>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <unistd.h>

#include "cpm/base/text.hpp"
#include "cpm/codec/auth.hpp"
#include "cpm/config/config.hpp"
#include "cpm/core/identity.hpp"
#include "cpm/core/location.hpp"
#include "cpm/core/registrar.hpp"
#include "cpm/core/route.hpp"
#include "cpm/core/trust.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/proxy/branch.hpp"
#include "cpm/proxy/proxy.hpp"
#include "cpm/rt/daemon.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/store/secret.hpp"

namespace cpm::core_route {

namespace {

constexpr const char* k_prog = "cpm-core-route";

bool split_pair(const std::string& s, std::string& key, std::string& value)
{
  auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    return false;
  key = s.substr(0, eq);
  value = s.substr(eq + 1);
  return true;
}

class Core final : public daemon::Role {
public:
  Options& opt;
  daemon::Runner runner;
  config::File& file;
  config::Node& node;
  location::Store store;
  std::unique_ptr<auth::Nonces> nonces;
  // The nc each nonce was used with: a replayed one is challenged again.
  auth::NonceUse nonce_use;
  // Whose P-Asserted-Identity, P-Served-User and odi Routes the core believes.
  trust::Domain domain;
  // Signs the odi of the Route back from a triggered server (set when serving).
  std::string odi_key;
  // Seed of the proxy's branch hash kept in registrar_db; empty: random per process.
  std::string branch_seed;
  // --explain: the routing decision writes its reasons.
  bool explaining = false;
  std::unique_ptr<proxy::Proxy> px;
  // The stack's URI, written once at start: the Route back from a triggered server.
  std::string self_uri;
  // Kept between requests so that their strings keep their storage: a request routed to a
  // peer allocates nothing here.
  route::Context routing;
  route::Decision decision;
  std::vector<sip::Hop> peers;
  sip::Timer purge_timer;
  // The trust domain's names (a peer, trigger server or `trusted` entry named by DNS).
  std::unique_ptr<sip::NameWatch> trust_names;

  explicit Core(Options& o)
      : opt(o), runner({k_prog, config::Role::Core, o.name, {}}, o.common), file(runner.file()),
        node(runner.node())
  {
  }

  void diag(const std::string& line) const { runner.diag(line); }

  // The core's own flags over the node (the runner merged the shared ones), flags winning.
  Result<void> configure(daemon::Runner&) override
  {
    for (const auto& p : opt.peers) {
      std::string k, v;
      if (!split_pair(p, k, v))
        return fail(fmt::format("bad --peer '{}': want DOMAIN=URI", p));
      node.peers[k] = v;
    }
    for (const auto& p : opt.psi) {
      std::string k, v;
      if (!split_pair(p, k, v))
        return fail(fmt::format("bad --psi '{}': want URI=ADDR", p));
      node.psi[k] = v;
    }
    if (!opt.db.empty())
      node.registrar_db = opt.db;
    if (opt.auth)
      node.auth = true;
    if (opt.dns_peers)
      node.dns_peers = true;
    if (!opt.realm.empty())
      node.realm = opt.realm;
    if (node.realm.empty() && !node.domains.empty())
      node.realm = node.domains.front();
    if (opt.timeout_ms)
      node.timeout_ms = opt.timeout_ms;
    apply_flood_options(opt, node);
    peers.clear();
    for (const auto& [dom, uri] : node.peers)
      if (auto a = sip::address_of(uri))
        peers.push_back(std::move(*a));
    if (!node.registrar_db.empty()) {
      auto r = store.open(node.registrar_db, std::time(nullptr));
      if (!r)
        return tl::unexpected(r.error());
      // The branch seed lives beside the bindings, so that a late retransmission after a
      // restart is forwarded with the branch it had (issue 9).
      auto db = store::Database::open(node.registrar_db);
      if (!db)
        return tl::unexpected(db.error());
      auto seed = store::keep_secret(*db, "branch", proxy::BranchGenerator::random_seed());
      if (!seed)
        return tl::unexpected(seed.error());
      branch_seed = std::move(*seed);
      diag(fmt::format("registrations: {} kept in {}", store.size(), node.registrar_db));
    }
    auto d = trust::Domain::of(file, node);
    if (!d)
      return tl::unexpected(d.error());
    domain = std::move(*d);
    if (opt.common.verbose)
      diag(fmt::format("trust domain: {}", domain.describe()));
    if (node.auth && file.users.empty())
      diag("warning: --auth without any [[user]] in the config: every REGISTER gets 404");
    nonces = std::make_unique<auth::Nonces>(
        fmt::format("{}-{}-{}", node.name, ::getpid(), std::time(nullptr)));
    std::random_device rd;
    odi_key = auth::md5_hex(fmt::format("odi-{}-{}-{}-{}", node.name, rd(), rd(), rd()));
    return {};
  }

  // A configured peer core sent this: UDP by ip:port, TCP by ip (ephemeral source ports).
  bool from_peer(const std::string& source) const
  {
    auto s = sip::address_of(source);
    if (!s)
      return false;
    for (const auto& p : peers)
      if (p.host == s->host && (s->transport == "tcp" || p.port == s->port))
        return true;
    return false;
  }

  bool our_domain(const std::string& host) const
  {
    for (const auto& d : node.domains)
      if (text::iequals(d, host))
        return true;
    return false;
  }

  const route::Context& context(std::string_view self)
  {
    route::Context& ctx = routing;
    ctx.file = &file;
    ctx.node = &node;
    ctx.location = &store;
    ctx.self_uri.assign(self);
    ctx.now = std::time(nullptr);
    ctx.odi_key.assign(odi_key);
    ctx.explain = explaining;
    return ctx;
  }

  // Action::forward(): the proxy's Action of the previous request when it hands it over,
  // cleared, so that assigning into its strings and lists reuses their storage.
  static proxy::Action fresh(const proxy::Incoming& in)
  {
    return in.reuse ? std::move(*in.reuse) : proxy::Action::forward();
  }

  proxy::Action decide(const proxy::Incoming& in)
  {
    // In-dialog requests and ACKs follow their Route set (or the request URI).
    if (in.in_dialog || in.ack)
      return fresh(in);
    sip::Request& req = in.req;
    req.from_peer = from_peer(req.source);
    if (req.method == "REGISTER" && req.routes.empty() && our_domain(sip::uri_host(req.ruri)))
      return do_register(req);
    if (req.method == "OPTIONS" && req.routes.empty() &&
        route::addresses_node(req.ruri, node, self_uri))
      return keepalive();
    auto id = identity::decide(req, identity_settings(true), std::time(nullptr));
    if (!id.diag.empty())
      diag(id.diag);
    if (!id.forward)
      return proxy::Action::reply(id.status, id.reason, std::move(id.headers));
    route::Decision& d = decision;
    route::decide(req, context(self_uri), d);
    if (opt.common.verbose)
      diag(fmt::format("{} {} -> {} {} (identity: {}{})", req.method, req.ruri, d.what,
                       d.action == route::Action::Forward ? d.next_hop : std::to_string(d.status),
                       id.how, id.asserted.empty() ? "" : " " + id.asserted));
    if (d.action == route::Action::Reject)
      return proxy::Action::reply(d.status, d.reason);
    proxy::Action a = fresh(in);
    a.ruri.assign(d.ruri);
    a.next_hop.assign(d.next_hop);
    a.alternate_hop.assign(d.alternate_hop);
    a.push_routes.assign(d.push_routes.begin(), d.push_routes.end());
    a.remove_headers.assign(id.remove_headers.begin(), id.remove_headers.end());
    a.add_headers.assign(id.add_headers.begin(), id.add_headers.end());
    // RFC 5502: only the core asserts P-Served-User, and only towards a server it triggers.
    a.remove_headers.emplace_back("P-Served-User");
    if (!d.served_user.empty())
      a.add_headers.push_back(
          fmt::format("P-Served-User: <{}>;sescase={}", d.served_user, d.session_case));
    // RFC 3325 §5: the asserted identity leaves the trust domain only as Privacy allows.
    std::string_view hop = a.push_routes.empty() ? std::string_view(d.next_hop)
                                                 : sip::addr_spec(a.push_routes.front());
    if (hop.empty())
      hop = d.ruri;
    bool to_user = d.what == "contact" || d.what == "flow";
    if (!trust::keeps_asserted(domain, hop, to_user, req)) {
      a.remove_headers.push_back("P-Asserted-Identity");
      a.add_headers.erase(std::remove_if(a.add_headers.begin(), a.add_headers.end(),
                                         [](const std::string& h) {
                                           return h.rfind("P-Asserted-Identity:", 0) == 0;
                                         }),
                          a.add_headers.end());
    }
    return a;
  }

  identity::Settings identity_settings(bool serving)
  {
    identity::Settings s;
    s.file = &file;
    s.node = &node;
    s.location = &store;
    s.domain = &domain;
    s.nonces = serving ? nonces.get() : nullptr;
    s.uses = serving ? &nonce_use : nullptr;
    s.explain = !serving || explaining;
    return s;
  }

  // An OPTIONS to the core itself (a client's keep-alive ping, Kamailio's "Keepalive"):
  // 200 with what a proxy relays (RFC 3261 §11.2).
  static proxy::Action keepalive()
  {
    return proxy::Action::reply(200, "OK",
                                {"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER, "
                                 "UPDATE, INFO, PRACK, REFER, SUBSCRIBE, NOTIFY",
                                 "Accept: application/sdp, message/cpim, text/plain",
                                 "Accept-Encoding: identity"});
  }

  proxy::Action do_register(const sip::Request& req)
  {
    registrar::Settings s;
    s.min_expires = node.min_expires;
    s.max_expires = node.max_expires;
    s.default_expires = node.default_expires;
    s.auth = node.auth;
    s.realm = node.realm;
    s.users = &file;
    s.nonces = nonces.get();
    s.nat_received = node.nat_received;
    auto r = registrar::handle(req, s, store, std::time(nullptr));
    if (r.status >= 400 && r.status != 401)
      diag(fmt::format("REGISTER {} from {}: {} {}{}", req.to_uri, req.source, r.status, r.reason,
                       r.why.empty() ? "" : " (" + r.why + ")"));
    return proxy::Action::reply(r.status, r.reason, std::move(r.headers));
  }

  // SIGHUP: users and triggers change (with them the trust domain: the triggers' servers);
  // listen addresses, domains and peers stay.
  std::string reloaded(daemon::Runner&) override
  {
    if (auto d = trust::Domain::of(file, node)) {
      domain = std::move(*d);
      // The names known before keep their addresses until they are asked again.
      if (trust_names)
        for (const auto& n : domain.names())
          domain.add_resolved(n, trust_names->addresses(n));
      watch_trust_names();
      if (opt.common.verbose)
        diag(fmt::format("trust domain: {}", domain.describe()));
    } else {
      diag(fmt::format("SIGHUP: keeping the old trust domain: {}", d.error().message));
    }
    return fmt::format("({} users, {} triggers)", file.users.size(),
                       file.triggers_of(node.name).size());
  }

  void schedule_purge()
  {
    purge_timer.start(60000, [this] {
      store.purge(std::time(nullptr));
      schedule_purge();
    });
  }

  std::optional<int> instead_of_serving(daemon::Runner&) override
  {
    if (opt.explain.empty())
      return std::nullopt;
    return explain();
  }

  int explain()
  {
    std::string text;
    if (opt.explain == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(opt.explain, std::ios::binary);
      if (!in) {
        cli::diag(k_prog, fmt::format("cannot read {}", opt.explain));
        return 2;
      }
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    sip::Library lib;
    auto req = sip::parse_request_text(text);
    if (!req) {
      cli::diag(k_prog, fmt::format("{}: {}", opt.explain == "-" ? "stdin" : opt.explain,
                                    req.error().message));
      return 2;
    }
    // A captured request came from where its top Via says (received= and rport first).
    if (auto by_via = identity::source_by_via(*req); !by_via.empty())
      req->source = by_via;
    req->from_peer = from_peer(req->source);
    odi_key.clear(); // a captured request's odi was signed by a core that is not us
    explaining = true;
    std::string self =
        node.listen.empty() ? "sip:127.0.0.1:5060" : sip::to_sip_uri(node.listen.front());
    auto id = identity::decide(*req, identity_settings(false), std::time(nullptr));
    route::Decision d;
    if (id.forward) {
      d = route::decide(*req, context(self));
    } else {
      d.status = id.status;
      d.reason = id.reason;
    }
    d.explain.insert(d.explain.begin(), id.explain.begin(), id.explain.end());
    fmt::print("{}", route::format_explain(*req, d));
    std::fflush(stdout);
    return 0;
  }

  // Resolve the trust domain's names (again, every minute) into members.
  void watch_trust_names()
  {
    trust_names = runner.watch_trust_names(
        domain.names(), [this](const auto& n, const auto& a) { domain.add_resolved(n, a); });
  }

  Result<void> start(daemon::Runner&) override
  {
    self_uri = runner.stack().uri();
    watch_trust_names();
    proxy::Options po;
    po.name = k_prog;
    po.timeout_ms = node.timeout_ms > 0 ? node.timeout_ms : 32000;
    po.max_lingering = node.max_lingering;
    po.branch_secret = branch_seed;
    po.flood = proxy::flood_limits(file, node);
    if (node.timeout_ms > 0 && node.timeout_ms < po.timer_c_ms)
      po.timer_c_ms = std::max(node.timeout_ms, 1000) * 6;
    po.diag = [this](const std::string& line) { diag(line); };
    auto p = proxy::Proxy::create(runner.stack(), po,
                                  [this](const proxy::Incoming& in) { return decide(in); });
    if (!p)
      return tl::unexpected(p.error());
    px = std::move(*p);
    schedule_purge();
    return {};
  }

  void stop(daemon::Runner&) override
  {
    trust_names.reset();
    purge_timer.cancel();
    px.reset();
  }
};

} // namespace

int run(Options& opt)
{
  Core core(opt);
  return core.runner.run(core);
}

} // namespace cpm::core_route
