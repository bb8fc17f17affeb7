// Pager Mode messages to a pre-defined group (FLOWS.md "Pager mode CPM Message to a
// pre-defined group", cpm-groupd(1) GROUP MESSAGES): authorize the sender, answer 202, send
// one MESSAGE per other member through the node's core (a new UAC transaction each, From the
// group, the CPIM body as it came, inflated if it was compressed; its text as text/plain to a
// member whose 415 asks for that), and tell the sender of every member it could not reach.
#include "group_pager.hpp"

#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <string>

#include "cpm/base/events.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/core/group.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/incoming.hpp"
#include "cpm/ua/notification.hpp"
#include "cpm/ua/pager.hpp"
#include "cpm/ua/plain_retry.hpp"

namespace cpm::groupd {

namespace {

// What every leg of one fan-out shares: enough to tell the sender about a failed member.
struct Fanout {
  std::string group;             // the group URI
  std::string sender;            // who sent it (P-Asserted-Identity, else From), canonical AOR
  std::string cpim_from;         // the CPIM From address (the original sender)
  std::string message_id;        // imdn.Message-ID, or ""
  std::string datetime;          // CPIM DateTime
  bool negative = false;         // the sender asked for delivery notifications
  bool notify = false;           // the sender asked for any notification
  std::optional<ua::Body> plain; // the text/plain form, for members that take only that
};

} // namespace

struct GroupPager::Impl {
  Env env;
  std::unique_ptr<ua::Pager> pager;

  ~Impl()
  {
    if (pager && pager->in_flight())
      env.diag(fmt::format("group pager: {} MESSAGE(s) still in flight at shutdown",
                           pager->in_flight()));
  }

  // Send one MESSAGE to `ruri` through the node's core, or its `plain` form when a 415 asks
  // for text/plain (`on_plain` hears of it); errors as values (nothing sent). `done` hears
  // how it ended.
  Result<void> send(const std::string& ruri, const std::string& from, const std::string& extra,
                    std::string_view body, ua::Pager::Done done,
                    std::optional<ua::Body> plain = std::nullopt,
                    std::function<void(const ua::Final&)> on_plain = {})
  {
    auto hop = sip::parse_proxy(env.node->proxy);
    if (!hop)
      return fail(fmt::format("bad proxy {}: {}", env.node->proxy, hop.error().message));
    ua::Message m;
    m.ruri = ruri;
    m.from = from;
    m.headers = extra;
    m.body = std::string(body);
    m.plain = std::move(plain);
    m.on_plain = std::move(on_plain);
    auto sent = pager->send(m, *hop, true, std::move(done));
    if (!sent)
      return tl::unexpected(sent.error());
    return {};
  }

  // Why a MESSAGE failed, or "" when it was answered 2xx.
  static std::string failure(const ua::Final& f)
  {
    if (f.err)
      return std::strerror(f.err);
    if (f.status >= 300)
      return fmt::format("{} {}", f.status, f.reason);
    return "";
  }

  // A member's 415 takes only text/plain: its copy goes again as text/plain.
  void member_plain(const std::string& member, const std::shared_ptr<const Fanout>& fan,
                    const ua::Final& refused)
  {
    env.diag(fmt::format("MESSAGE to {} from {}: member {} answered {} {} (Accept: {}): sent "
                         "again as text/plain{}",
                         fan->group, fan->sender, member, refused.status, refused.reason,
                         refused.accept, fan->notify ? ", no notification can come from it" : ""));
  }

  // A member could not be reached: say so, and tell the sender if it asked.
  void member_failed(const std::string& target, const std::shared_ptr<const Fanout>& fan,
                     const std::string& why)
  {
    const Fanout& f = *fan;
    env.diag(fmt::format("MESSAGE to {} from {}: member {} not reached: {}", f.group, f.sender,
                         target, why));
    if (!f.negative || f.message_id.empty())
      return;
    imdn::Notification n;
    n.message_id = f.message_id;
    n.datetime = f.datetime.empty() ? events::now() : f.datetime;
    n.recipient_uri = target;
    n.kind = imdn::Kind::Delivery;
    n.status = imdn::Status::Failed;
    std::string body = ua::notification_body(n, f.cpim_from.empty() ? f.sender : f.cpim_from);
    auto done = [this, fan](const ua::Final& fin) {
      if (auto lost = failure(fin); !lost.empty())
        env.diag(fmt::format("failure notification for {} to {} not delivered: {}", fan->group,
                             fan->sender, lost));
    };
    if (auto r = send(f.sender, f.group, "", body, done); !r)
      env.diag(fmt::format("cannot send the failure notification for {} to {}: {}", target,
                           f.sender, r.error().message));
    else
      env.verbose(
          fmt::format("delivery notification 'failed' for {} sent to {}", target, f.sender));
  }

  // A member's copy has its final answer.
  void member_answered(const std::string& member, const std::shared_ptr<const Fanout>& fan,
                       const ua::Final& f)
  {
    std::string why = failure(f);
    if (why.empty()) {
      env.verbose(fmt::format("MESSAGE to {} from {}: {} answered {} {}{}", fan->group, fan->sender,
                              member, f.status, f.reason,
                              f.plain ? " to the text/plain copy" : ""));
      return;
    }
    member_failed(member, fan, why);
  }
};

GroupPager::GroupPager(Env env) : m(std::make_unique<Impl>())
{
  m->env = std::move(env);
  m->pager = std::make_unique<ua::Pager>(*m->env.stack, [this](const std::string& e) {
    m->env.diag(fmt::format("group pager: {}", e));
  });
  m->pager->set_notice([this](const std::string& n) { m->env.diag("group pager: " + n); });
}
GroupPager::~GroupPager() = default;

proxy::Action GroupPager::message(const proxy::Incoming& in, const config::Group& g)
{
  const sip::Request& req = in.req;
  const std::string sender = sip::canonical_aor(req.asserted.empty() ? req.from_uri : req.asserted);
  auto refuse = [&](int status, const std::string& reason, const std::string& why,
                    std::vector<std::string> headers = {}) {
    m->env.diag(
        fmt::format("MESSAGE to {} from {}: {} {} ({})", g.uri, sender, status, reason, why));
    return proxy::Action::reply(status, reason, std::move(headers));
  };
  if (auto v = group::authorize(g, sender); !v.allowed())
    return refuse(v.status, v.reason, v.why);
  if (!in.msg)
    return refuse(500, "Server Internal Error", "no message");
  std::string ctype = sip::content_type_of(in.msg);
  if (ctype != "message/cpim")
    return refuse(415, "Unsupported Media Type",
                  fmt::format("content type '{}', a group takes message/cpim", ctype),
                  {"Accept: message/cpim"});
  // Members get the body inflated (RFC 3261 §20.12): they need not know its coding.
  auto decoded = ua::decoded_body(in.msg);
  if (!decoded)
    return refuse(decoded.error().code, decoded.error().reason, decoded.error().message,
                  decoded.error().headers);
  std::string_view body = *decoded;
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
    fan->notify = r->any();
    if (r->any() && fan->message_id.empty())
      return refuse(400, "Bad CPIM", "notification requested without imdn.Message-ID");
  }
  fan->plain = ua::plain_of(*c);
  if (m->env.node->proxy.empty())
    return refuse(500, "No Route To Members", "this node has no proxy (its core) to send through");

  auto members = group::others(g, sender);
  m->env.verbose(
      fmt::format("MESSAGE to {} from {}: {} members", fan->group, sender, members.size()));
  const std::string referred_by = fmt::format("Referred-By: <{}>\r\n", sender);
  for (const auto& member : members) {
    auto done = [impl = m.get(), member, fan](const ua::Final& f) {
      impl->member_answered(member, fan, f);
    };
    auto on_plain = [impl = m.get(), member, fan](const ua::Final& refused) {
      impl->member_plain(member, fan, refused);
    };
    if (auto r = m->send(member, fan->group, referred_by, body, done, fan->plain, on_plain); !r) {
      // Accepted all the same: this member is told about like one that failed.
      m->member_failed(member, fan, r.error().message);
    }
  }
  return proxy::Action::reply(202, "Accepted");
}

} // namespace cpm::groupd
