// cpm-groupd: config merge, the participating function on cpm::proxy, signals.
#include "groupd.hpp"

#include <cstdlib>
#include <fmt/format.h>
#include <random>

#include "focus.hpp"
#include "group_pager.hpp"
#include <memory>
#include <optional>

#include "cpm/codec/auth.hpp"
#include "cpm/codec/sdp.hpp"
#include "cpm/config/config.hpp"
#include "cpm/core/interwork.hpp"
#include "cpm/core/policy.hpp"
#include "cpm/core/trust.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/proxy/proxy.hpp"
#include "cpm/rt/daemon.hpp"
#include "cpm/rt/realtime.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/incoming.hpp"

namespace cpm::groupd {

namespace {

constexpr const char* k_prog = "cpm-groupd";

class Server final : public daemon::Role {
public:
  explicit Server(Options& o)
      : m_opt(o),
        m_daemon({k_prog, config::Role::ConversationServer, o.name, {"udp:127.0.0.1:0"}}, o.common),
        m_file(m_daemon.file()), m_node(m_daemon.node())
  {
  }

  int run() { return m_daemon.run(*this); }

  void diag(const std::string& line) const { m_daemon.diag(line); }

  // The server's own flags over the node (the runner merged the shared ones), flags winning.
  Result<void> configure(daemon::Runner&) override
  {
    if (!m_opt.name.empty())
      m_node.name = m_opt.name;
    if (m_opt.max_message_size >= 0)
      m_node.max_message_size = uint64_t(m_opt.max_message_size);
    if (m_opt.timeout_ms)
      m_node.timeout_ms = m_opt.timeout_ms;
    if (!m_opt.outbox.empty())
      m_node.outbox_db = m_opt.outbox;
    if (m_opt.realtime_priority >= 0)
      m_node.realtime_priority = m_opt.realtime_priority;
    if (m_opt.msrp_tls)
      m_node.msrp_tls = true;
    auto d = trust::Domain::of(m_file, m_node);
    if (!d)
      return tl::unexpected(d.error());
    m_domain = std::move(*d);
    m_daemon.verbose(fmt::format("trust domain: {}", m_domain.describe()));
    return {};
  }

  // RFC 3325, RFC 5502 §6: P-Asserted-Identity and P-Served-User are believed from our own
  // core (and `trusted`) alone. From anyone else they are forgotten, and removed from what
  // goes on (or the request is refused, untrusted = "refuse"). The refusal, if any.
  std::optional<proxy::Action> screen(const proxy::Incoming& in, bool& stripped)
  {
    auto sc = trust::screen(m_domain, in.req, m_node.untrusted_refuse, m_node.name, false);
    stripped = sc.kind == trust::Screening::Kind::Stripped;
    if (!sc.diag.empty())
      diag(sc.diag);
    if (sc.kind == trust::Screening::Kind::Refused)
      return proxy::Action::reply(403, "Forbidden", sc.headers);
    return std::nullopt;
  }

  // A group of the config hosted by this node, by request URI.
  const config::Group* hosted_group(const std::string& ruri) const
  {
    const config::Group* g = m_file.find_group(sip::canonical_aor(ruri));
    return g && g->host == m_node.name ? g : nullptr;
  }

  // An in-dialog request or ACK addressed to us (the focus's Contact) with no Route left.
  bool for_us(const sip::Request& req) const
  {
    if (!req.routes.empty())
      return false;
    auto a = sip::address_of(req.ruri);
    return a && m_daemon.stack().is_local(a->host, a->port);
  }

  // The proxy's hook: dialogs of the focus, the hosted groups (pager, focus), else the
  // participating function.
  proxy::Action decide(const proxy::Incoming& in)
  {
    if (in.in_dialog || in.ack || in.req.method == "CANCEL")
      return decide_screened(in);
    bool stripped = false;
    if (auto refused = screen(in, stripped))
      return *refused;
    auto a = decide_screened(in);
    if (stripped && a.kind == proxy::Action::Kind::Forward) {
      a.remove_headers.emplace_back("P-Asserted-Identity");
      a.remove_headers.emplace_back("P-Served-User");
    }
    return a;
  }

  proxy::Action decide_screened(const proxy::Incoming& in)
  {
    const sip::Request& req = in.req;
    if (in.in_dialog || in.ack) {
      if (m_focus && for_us(req)) {
        // A participant's re-INVITE is the focus's to hold and answer (Figures 3 and 4).
        if (!in.ack && req.method == "INVITE")
          return m_focus->reinvite(in);
        if (in.ack)
          m_focus->ack(in);
        return proxy::Action::pass();
      }
      if (!in.ack && req.method == "INVITE")
        return reinvite(in);
      return proxy::Action::forward();
    }
    if (req.method == "CANCEL")
      return proxy::Action::forward();
    if (const config::Group* g = hosted_group(req.ruri)) {
      if (req.method == "MESSAGE")
        return m_pager->message(in, *g);
      if (req.method == "INVITE")
        return m_focus->invite(in, *g);
      return proxy::Action::reply(405, "Method Not Allowed",
                                  {"Allow: INVITE, ACK, BYE, CANCEL, MESSAGE"});
    }
    return participate(in);
  }

  // The offered media types of an INVITE's SDP body (empty: no body), or the reply that
  // refuses a body we cannot read.
  static tl::expected<std::vector<std::string>, ua::Refusal>
  offered_media(const proxy::Incoming& in)
  {
    auto body = ua::decoded_body(in.msg);
    if (!body)
      return tl::unexpected(body.error());
    if (body->empty())
      return std::vector<std::string>{};
    auto d = sdp::parse(*body);
    if (!d)
      return tl::unexpected(ua::Refusal{
          488, "Not Acceptable Here", fmt::format("bad SDP offer: {}", d.error().message), {}});
    return sdp::media_types(*d);
  }

  // A refusal of session media: 488 with a Warning naming this node and the rule.
  proxy::Action refuse_media(const sip::Request& req, const char* what, const char* side,
                             const policy::Verdict& v)
  {
    diag(fmt::format("{} {} from {}: {} {} ({} side: {})", what, req.ruri, req.from_uri, v.status,
                     v.reason, side, v.why));
    return proxy::Action::reply(v.status, v.reason, {policy::warning(m_node.name, v.why)});
  }

  // A re-INVITE (an INVITE in a dialog we record-routed as a participating function): the
  // served user and side come back on our Route (policy::route_params); every medium the
  // offer keeps or adds must be one the served user may use, else 488 and the session stays
  // as it was. A dialog without our parameters (not ours to check) passes, as does a
  // re-INVITE without an offer (the offer is then in its 200, which we do not check).
  proxy::Action reinvite(const proxy::Incoming& in)
  {
    const sip::Request& req = in.req;
    policy::ServedUser served;
    if (!policy::served_from_route(req.own_route_params, served))
      return proxy::Action::forward();
    if (!policy::route_params_signed(req.own_route_params, served, m_route_key,
                                     req.value("Call-ID"))) {
      diag(fmt::format("re-INVITE {} from {}: 403 (the dialog's cpm-served parameters are not "
                       "signed by this server: changed on the way, or from before a restart)",
                       req.ruri, req.from_uri));
      return proxy::Action::reply(
          403, "Forbidden",
          {policy::warning(m_node.name, "the dialog's service-control parameters are not ours")});
    }
    const char* side =
        served.session_case == config::SessionCase::Originating ? "originating" : "terminating";
    auto offered = offered_media(in);
    if (!offered) {
      diag(fmt::format("re-INVITE {} from {}: {}: {}", req.ruri, req.from_uri, offered.error().code,
                       offered.error().message));
      return proxy::Action::reply(offered.error().code, offered.error().reason,
                                  offered.error().headers);
    }
    if (offered->empty())
      return proxy::Action::forward();
    auto v = policy::check_media(m_file, m_node, served, *offered);
    if (!v.allowed())
      return refuse_media(req, "re-INVITE", side, v);
    m_daemon.verbose(fmt::format("re-INVITE {} from {}: {} media policy passed for {}", req.ruri,
                                 req.from_uri, side, served.aor));
    return proxy::Action::forward();
  }

  // The participating function: service control for the served user, then on to the core.
  proxy::Action participate(const proxy::Incoming& in)
  {
    const sip::Request& req = in.req;
    auto p = policy::participate(m_file, m_node, req);
    const char* side =
        p.served.session_case == config::SessionCase::Originating ? "originating" : "terminating";
    if (p.verdict.allowed() && req.method == "INVITE") {
      // Session media: the SDP offer passes unchanged, but only with media the policy allows.
      auto offered = offered_media(in);
      if (!offered) {
        diag(fmt::format("INVITE {} from {}: {}: {}", req.ruri, req.from_uri, offered.error().code,
                         offered.error().message));
        return proxy::Action::reply(offered.error().code, offered.error().reason,
                                    offered.error().headers);
      }
      p.verdict = policy::check_media(m_file, m_node, p.served, *offered);
      if (!p.verdict.allowed() && p.verdict.status == 488)
        return refuse_media(req, "INVITE", side, p.verdict);
    }
    if (!p.verdict.allowed()) {
      diag(fmt::format("{} {} from {}: {} {} ({} side: {})", req.method, req.ruri, req.from_uri,
                       p.verdict.status, p.verdict.reason, side, p.verdict.why));
      return proxy::Action::reply(p.verdict.status, p.verdict.reason);
    }
    if (m_opt.common.verbose)
      diag(fmt::format("{} {} from {}: {} service control passed for {}", req.method, req.ruri,
                       req.from_uri, side, p.served.aor));
    proxy::Action a = proxy::Action::forward();
    a.remove_headers = std::move(p.remove_headers);
    a.add_headers = std::move(p.add_headers);
    // Dialog-forming requests keep the server on the signalling path; pager mode needs not.
    a.record_route = req.method == "INVITE" || req.method == "SUBSCRIBE";
    // Whose side we are on, for the dialog's later requests (a re-INVITE's media policy).
    if (req.method == "INVITE")
      a.record_route_params = policy::route_params(p.served, m_route_key, req.value("Call-ID"));
    if (p.served.session_case == config::SessionCase::Originating)
      if (auto refused = interworking(in, p.served.aor, a))
        return *refused;
    if (req.routes.empty() && a.push_routes.empty()) {
      if (m_node.proxy.empty())
        return proxy::Action::reply(404, "No Route Back To Core");
      a.next_hop = sip::to_sip_uri(m_node.proxy);
    }
    return a;
  }

  // Figure 7 step 3 on the originating side: a number of a CPM user becomes that user's URI;
  // a MESSAGE to no CPM user goes through the core to the IWF (Route set: the core's Routes
  // left, then the IWF); a message of a user with sms_fallback gets the IWF as its second
  // target for a 404 or 480. A refusal is returned.
  std::optional<proxy::Action> interworking(const proxy::Incoming& in, const std::string& sender,
                                            proxy::Action& a)
  {
    const sip::Request& req = in.req;
    auto d = interwork::decide(m_file, m_node, req);
    switch (d.kind) {
    case interwork::Kind::Cpm:
      break;
    case interwork::Kind::Translate:
      a.ruri = d.ruri;
      m_daemon.verbose(fmt::format("{} {} from {}: {}", req.method, req.ruri, req.from_uri, d.why));
      break;
    case interwork::Kind::Refuse:
      diag(fmt::format("{} {} from {}: {} {} ({})", req.method, req.ruri, req.from_uri, d.status,
                       d.reason, d.why));
      return proxy::Action::reply(
          d.status, d.reason,
          {fmt::format("Warning: 399 {} \"not a CPM user and no interworking function\"",
                       m_node.name)});
    case interwork::Kind::Interwork: {
      auto routes = interwork::routes_to_iwf(m_node, req.routes);
      if (routes.empty())
        return proxy::Action::reply(404, "No Route Back To Core");
      a.remove_headers.push_back("Route");
      a.push_routes = std::move(routes);
      m_daemon.verbose(fmt::format("{} {} from {}: {}", req.method, req.ruri, req.from_uri, d.why));
      return std::nullopt;
    }
    }
    if (req.method != "MESSAGE")
      return std::nullopt;
    std::string target = interwork::fallback_target(
        m_file, m_node, sender, d.kind == interwork::Kind::Translate ? d.ruri : req.ruri, req.ruri);
    if (target.empty() || is_notification(in))
      return std::nullopt;
    auto r = std::make_shared<proxy::Retry>();
    r->on_status = {404, 480};
    r->ruri = target;
    r->push_routes = interwork::routes_to_iwf(m_node, req.routes);
    r->remove_headers = a.remove_headers;
    r->remove_headers.push_back("Route");
    r->add_headers = a.add_headers;
    r->why = fmt::format("SMS fallback of {}", sender);
    if (!r->push_routes.empty())
      a.retry = std::move(r);
    return std::nullopt;
  }

  // Whether a MESSAGE carries an IMDN notification (never sent on as SMS by fallback).
  static bool is_notification(const proxy::Incoming& in)
  {
    if (!in.wire)
      return false;
    auto body = ua::decoded_body(*in.wire);
    if (!body)
      return false;
    auto msg = ua::interpret(in.req.value("Content-Type"), *body, in.req.from_uri, in.req.to_uri);
    return msg && msg->notification;
  }

  // SIGHUP: new users and policies; addresses, domains and the proxy stay.
  std::string reloaded(daemon::Runner&) override
  {
    return fmt::format("({} users)", m_file.users.size());
  }

  Result<void> start(daemon::Runner&) override
  {
    // Not fatal: without the privilege the mixer runs at normal priority (late frames on a
    // busy machine, bench/mix.sh).
    if (int prio = m_node.realtime_priority; prio > 0) {
      if (auto r = rt::set_realtime_priority(prio); !r)
        cli::diag(k_prog, fmt::format("{}; going on at normal priority", r.error().message));
      else
        diag(fmt::format("real-time priority {} (SCHED_FIFO)", prio));
    }
    proxy::Options po;
    po.name = k_prog;
    po.timeout_ms = m_node.timeout_ms > 0 ? m_node.timeout_ms : 32000;
    po.max_lingering = m_node.max_lingering;
    po.flood = proxy::flood_limits(m_file, m_node);
    po.diag = [this](const std::string& line) { diag(line); };
    po.unmatched_cancel = [this](const struct ::sip_msg* msg) {
      return m_focus && m_focus->cancel(msg);
    };
    auto p = proxy::Proxy::create(m_daemon.stack(), po,
                                  [this](const proxy::Incoming& in) { return decide(in); });
    if (!p)
      return tl::unexpected(p.error());
    m_proxy = std::move(*p);
    Env env;
    env.stack = &m_daemon.stack();
    env.file = &m_file;
    env.node = &m_node;
    env.diag = [this](const std::string& line) { diag(line); };
    env.verbose = [this](const std::string& line) { m_daemon.verbose(line); };
    auto pager = GroupPager::create(env);
    if (!pager)
      return tl::unexpected(pager.error());
    m_pager = std::move(*pager);
    // The key that signs our dialogs' Route parameters lives in the outbox file when there
    // is one, so that a re-INVITE is still checked after a restart (as a core's odi seed).
    auto key = m_pager->secret("route", m_route_key);
    if (!key)
      return tl::unexpected(key.error());
    m_route_key = std::move(*key);
    // After the proxy: the focus's sipsess listener only sees what the proxy passes on.
    auto f = Focus::create(env);
    if (!f)
      return tl::unexpected(f.error());
    m_focus = std::move(*f);
    m_trust_names = m_daemon.watch_trust_names(
        m_domain.names(), [this](const auto& n, const auto& a) { m_domain.add_resolved(n, a); });
    return {};
  }

  void stop(daemon::Runner&) override
  {
    m_trust_names.reset();
    if (m_focus && m_focus->sessions() > 0)
      diag(fmt::format("stopping: {} group session(s) end with BYE", m_focus->sessions()));
    m_focus.reset();
    m_pager.reset();
    m_proxy.reset();
  }

private:
  Options& m_opt;
  daemon::Runner m_daemon;
  config::File& m_file; // reloaded in place on SIGHUP
  config::Node& m_node;
  std::unique_ptr<proxy::Proxy> m_proxy;
  std::unique_ptr<GroupPager> m_pager;
  // Whose P-Asserted-Identity and P-Served-User we believe (our core, `trusted`).
  trust::Domain m_domain;
  std::unique_ptr<sip::NameWatch> m_trust_names; // its names, resolved
  // Signs the served user we record in a dialog's Route (policy::route_params), drawn at
  // start: a client cannot name another served user for its re-INVITEs.
  std::string m_route_key = random_key();
  static std::string random_key()
  {
    std::random_device rd;
    return auth::md5_hex(fmt::format("route-{}-{}-{}-{}", rd(), rd(), rd(), rd()));
  }
  std::unique_ptr<Focus> m_focus;
};

} // namespace

int run(Options& opt)
{
  Server s(opt);
  return s.run();
}

} // namespace cpm::groupd
