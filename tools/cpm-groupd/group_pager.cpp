// Pager Mode messages to a pre-defined group (FLOWS.md "Pager mode CPM Message to a
// pre-defined group", cpm-groupd(1) GROUP MESSAGES): authorize the sender, answer 202, send
// one MESSAGE per other member through the node's core (a new UAC transaction each, From the
// group, the CPIM body as it came), and tell the sender of every member it could not reach.
#include "group_pager.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <string>

#include "cpm/base/events.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/codec/service.hpp"
#include "cpm/core/group.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/rt/sip.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::groupd {

namespace {

// RFC 3261 §18.1.1: a request bigger than this goes over TCP.
constexpr size_t k_udp_max = 1300;

std::string pl_str(const struct pl& p)
{
  return p.p ? std::string(p.p, p.l) : std::string();
}

std::string random_hex()
{
  return fmt::format("{:016x}", rand_u64());
}

// What every leg of one fan-out shares: enough to tell the sender about a failed member.
struct Fanout {
  std::string group;      // the group URI
  std::string sender;     // who sent it (P-Asserted-Identity, else From), canonical AOR
  std::string cpim_from;  // the CPIM From address (the original sender)
  std::string message_id; // imdn.Message-ID, or ""
  std::string datetime;   // CPIM DateTime
  bool negative = false;  // the sender asked for delivery notifications
};

} // namespace

// One MESSAGE in flight (a member's copy, or a failure notification to a sender).
struct Leg {
  GroupPager::Impl* self = nullptr;
  uint64_t key = 0;
  struct sip_request* req = nullptr;
  std::string route; // uri_decode points into it
  struct uri route_uri {};
  std::string target; // the member (or the sender, for a notification)
  std::shared_ptr<const Fanout> fan;
  bool notification = false;
};

struct GroupPager::Impl {
  Env env;
  std::map<uint64_t, std::unique_ptr<Leg>> legs;
  uint64_t next_key = 1;

  ~Impl()
  {
    if (!legs.empty())
      env.diag(fmt::format("group pager: {} MESSAGE(s) still in flight at shutdown", legs.size()));
    for (auto& [k, l] : legs)
      l->req = static_cast<struct sip_request*>(mem_deref(l->req));
  }

  bool has_tcp() const
  {
    for (const auto& b : env.stack->bound())
      if (b.rfind("tcp:", 0) == 0)
        return true;
    return false;
  }

  // Send one MESSAGE to `ruri` through the node's core; errors as values (nothing sent).
  Result<void> send(const std::string& ruri, const std::string& from, const std::string& extra,
                    std::string_view body, std::shared_ptr<const Fanout> fan, bool notification)
  {
    std::string hop = sip::to_sip_uri(env.node->proxy);
    std::string headers =
        fmt::format("To: <{}>\r\nFrom: <{}>;tag={}\r\nCall-ID: {}\r\nCSeq: 1 MESSAGE\r\n{}"
                    "Accept-Contact: {}\r\nP-Preferred-Service: {}\r\n"
                    "Content-Type: message/cpim\r\nContent-Length: {}\r\n\r\n",
                    ruri, from, random_hex(), random_hex(), extra,
                    service::accept_contact(service::k_icsi_msg), service::k_icsi_msg, body.size());
    // Request line, Via, Max-Forwards and Route come on top (~200 bytes).
    bool udp = hop.find(";transport=") == std::string::npos ||
               hop.find(";transport=udp") != std::string::npos;
    if (udp && ruri.size() + hop.size() + 200 + headers.size() + body.size() > k_udp_max) {
      if (!has_tcp())
        return fail(fmt::format("{} bytes need TCP, and there is no tcp listen address",
                                headers.size() + body.size()));
      hop = proxy::with_transport(hop, "tcp");
    }
    auto l = std::make_unique<Leg>();
    l->self = this;
    l->key = next_key++;
    l->route = hop;
    l->target = ruri;
    l->fan = std::move(fan);
    l->notification = notification;
    struct pl pl;
    pl_set_str(&pl, l->route.c_str());
    if (uri_decode(&l->route_uri, &pl))
      return fail(fmt::format("bad proxy {}", l->route));
    std::string lr = hop;
    auto semi = lr.find(';');
    lr.insert(semi == std::string::npos ? lr.size() : semi, ";lr");
    std::string wire = fmt::format("Route: <{}>\r\n", lr) + headers;
    wire.append(body);
    int err = sip_requestf(&l->req, env.stack->get(), true, "MESSAGE", ruri.c_str(), &l->route_uri,
                           nullptr, nullptr, resp_h, l.get(), "%b", wire.data(), wire.size());
    if (err)
      return fail(std::strerror(err));
    legs.emplace(l->key, std::move(l));
    return {};
  }

  // A member could not be reached: say so, and tell the sender if it asked.
  void member_failed(const Leg& l, const std::string& why)
  {
    const Fanout& f = *l.fan;
    env.diag(fmt::format("MESSAGE to {} from {}: member {} not reached: {}", f.group, f.sender,
                         l.target, why));
    if (!f.negative || f.message_id.empty())
      return;
    imdn::Notification n;
    n.message_id = f.message_id;
    n.datetime = f.datetime.empty() ? events::now() : f.datetime;
    n.recipient_uri = l.target;
    n.kind = imdn::Kind::Delivery;
    n.status = imdn::Status::Failed;
    cpim::Outgoing o;
    o.from = l.target;
    o.to = f.cpim_from.empty() ? f.sender : f.cpim_from;
    o.message_id = imdn::make_message_id();
    o.content_type = std::string(imdn::k_content_type);
    o.body = imdn::encode(n);
    std::string body = cpim::encode(cpim::make(o));
    if (auto r = send(f.sender, f.group, "", body, l.fan, true); !r)
      env.diag(fmt::format("cannot send the failure notification for {} to {}: {}", l.target,
                           f.sender, r.error().message));
    else
      env.verbose(
          fmt::format("delivery notification 'failed' for {} sent to {}", l.target, f.sender));
  }

  void on_response(Leg& l, int err, const struct sip_msg* msg)
  {
    if (!err && msg && msg->scode < 200)
      return;
    auto owned = std::move(legs[l.key]); // libre has already forgotten l.req
    legs.erase(l.key);
    std::string why;
    if (err)
      why = std::strerror(err);
    else if (msg->scode >= 300)
      why = fmt::format("{} {}", msg->scode, pl_str(msg->reason));
    if (owned->notification) {
      if (!why.empty())
        env.diag(fmt::format("failure notification for {} to {} not delivered: {}",
                             owned->fan->group, owned->target, why));
      return;
    }
    if (why.empty()) {
      env.verbose(fmt::format("MESSAGE to {} from {}: {} answered {} {}", owned->fan->group,
                              owned->fan->sender, owned->target, msg->scode, pl_str(msg->reason)));
      return;
    }
    member_failed(*owned, why);
  }

  static void resp_h(int err, const struct sip_msg* msg, void* arg) noexcept
  {
    auto* l = static_cast<Leg*>(arg);
    try {
      l->self->on_response(*l, err, msg);
    } catch (const std::exception& e) {
      l->self->env.diag(fmt::format("group pager: internal error: {}", e.what()));
    }
  }
};

GroupPager::GroupPager(Env env) : m(std::make_unique<Impl>())
{
  m->env = std::move(env);
}
GroupPager::~GroupPager() = default;

proxy::Action GroupPager::message(const proxy::Incoming& in, const config::Group& g)
{
  const sip::Request& req = in.req;
  const std::string sender = sip::canonical_aor(req.asserted.empty() ? req.from_uri : req.asserted);
  auto refuse = [&](int status, const std::string& reason, const std::string& why) {
    m->env.diag(
        fmt::format("MESSAGE to {} from {}: {} {} ({})", g.uri, sender, status, reason, why));
    return proxy::Action::reply(status, reason);
  };
  if (auto v = group::authorize(g, sender); !v.allowed())
    return refuse(v.status, v.reason, v.why);
  if (!in.msg)
    return refuse(500, "Server Internal Error", "no message");
  std::string ctype = sip::content_type_of(in.msg);
  if (ctype != "message/cpim") {
    auto a = refuse(415, "Unsupported Media Type",
                    fmt::format("content type '{}', a group takes message/cpim", ctype));
    a.reply_headers.push_back("Accept: message/cpim");
    return a;
  }
  std::string_view body = sip::body_of(in.msg);
  auto c = cpim::decode(body);
  if (!c)
    return refuse(400, "Bad CPIM", c.error().message);
  auto fan = std::make_shared<Fanout>();
  fan->group = sip::canonical_aor(g.uri);
  fan->sender = sender;
  fan->cpim_from = cpim::address(c->get("From").value_or(""));
  fan->message_id = c->get_ns(cpim::k_imdn_ns, "Message-ID").value_or("");
  fan->datetime = c->get("DateTime").value_or("");
  if (auto dn = c->get_ns(cpim::k_imdn_ns, "Disposition-Notification")) {
    auto r = imdn::parse_requested(*dn);
    if (!r)
      return refuse(400, "Bad Disposition-Notification", r.error().message);
    fan->negative = r->negative_delivery;
    if (r->any() && fan->message_id.empty())
      return refuse(400, "Bad CPIM", "notification requested without imdn.Message-ID");
  }
  if (m->env.node->proxy.empty())
    return refuse(500, "No Route To Members", "this node has no proxy (its core) to send through");

  auto members = group::others(g, sender);
  m->env.verbose(
      fmt::format("MESSAGE to {} from {}: {} members", fan->group, sender, members.size()));
  const std::string referred_by = fmt::format("Referred-By: <{}>\r\n", sender);
  for (const auto& member : members) {
    if (auto r = m->send(member, fan->group, referred_by, body, fan, false); !r) {
      // Accepted all the same: this member is told about like one that failed.
      Leg l;
      l.target = member;
      l.fan = fan;
      m->member_failed(l, r.error().message);
    }
  }
  return proxy::Action::reply(202, "Accepted");
}

} // namespace cpm::groupd
