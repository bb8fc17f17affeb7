// Pager Mode messages to a pre-defined group (FLOWS.md "Pager mode CPM Message to a
// pre-defined group", cpm-groupd(1) GROUP MESSAGES): authorize the sender, store the message
// and its deliveries in the outbox (committed), answer 202, send one MESSAGE per other
// member through the node's core (a new UAC transaction each, From the group, the CPIM body
// as it came, inflated if it was compressed; its text as text/plain to a member whose 415
// asks for that), retry a transient failure with a bounded backoff, and tell the sender of
// every member it could not reach. A restart resumes every open delivery of the outbox.
#include "group_pager.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cpm/base/events.hpp"
#include "cpm/base/text.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/core/group.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/store/outbox.hpp"
#include "cpm/ua/incoming.hpp"
#include "cpm/ua/notification.hpp"
#include "cpm/ua/pager.hpp"
#include "cpm/ua/plain_retry.hpp"

namespace cpm::groupd {

namespace {

// What every delivery of one message shares, read again from the outbox after a restart.
struct Fanout {
  int64_t id = 0;                // the outbox item
  std::string group;             // the group URI
  std::string sender;            // who sent it (P-Asserted-Identity, else From), canonical AOR
  std::string body;              // the CPIM body, inflated
  std::string cpim_from;         // the CPIM From address (the original sender)
  std::string message_id;        // imdn.Message-ID, or ""
  std::string datetime;          // CPIM DateTime
  bool negative = false;         // the sender asked for negative delivery notifications
  bool notify = false;           // the sender asked for any notification
  std::optional<ua::Body> plain; // the text/plain form, for members that take only that
  size_t open = 0;               // deliveries not yet delivered or reported
};

// Why a group message is refused.
struct Refusal {
  int status = 400;
  std::string reason;
  std::string why;
};

// The fan-out of `body` (a CPIM message, inflated) that `sender` sent to `group`.
tl::expected<Fanout, Refusal> read_fanout(std::string group, std::string sender, std::string body)
{
  Fanout f;
  f.group = std::move(group);
  f.sender = std::move(sender);
  f.body = std::move(body);
  auto c = cpim::decode(f.body);
  if (!c)
    return tl::unexpected(Refusal{400, "Bad CPIM", c.error().message});
  f.cpim_from = cpim::address(c->get("From").value_or(""));
  f.message_id = c->get_ns(cpim::k_imdn_ns, "Message-ID").value_or("");
  f.datetime = c->get("DateTime").value_or("");
  if (auto dn = c->get_ns(cpim::k_imdn_ns, "Disposition-Notification")) {
    auto r = imdn::parse_requested(*dn);
    if (!r)
      return tl::unexpected(Refusal{400, "Bad Disposition-Notification", r.error().message});
    f.negative = r->negative_delivery;
    f.notify = r->any();
    if (r->any() && f.message_id.empty())
      return tl::unexpected(
          Refusal{400, "Bad CPIM", "notification requested without imdn.Message-ID"});
  }
  f.plain = ua::plain_of(*c);
  return f;
}

// Unix milliseconds: the outbox's clock, which a restart keeps.
int64_t now_ms()
{
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// "2 s", "500 ms".
std::string wait_text(int64_t ms)
{
  return ms % 1000 == 0 ? fmt::format("{} s", ms / 1000) : fmt::format("{} ms", ms);
}

} // namespace

struct GroupPager::Impl {
  Env env;
  std::optional<store::Outbox> outbox;
  bool durable = false;           // the outbox is a file
  std::map<int64_t, Fanout> open; // outbox item -> its fan-out, while a delivery is open
  // What is due, by unix ms: an attempt, or (report) telling the sender of a failure.
  struct Due {
    int64_t item = 0;
    std::string member;
    bool report = false;
    std::string why;
  };
  std::multimap<int64_t, Due> due;
  sip::Timer timer;
  std::unique_ptr<ua::Pager> pager; // last: destroyed first, with no Done calls

  ~Impl()
  {
    auto n = outbox ? outbox->open_count() : Result<size_t>(0);
    if (n && *n > 0)
      env.diag(fmt::format("group pager: {} delivery(ies) still open at shutdown{}", *n,
                           durable ? fmt::format(": kept in {} for the next start", outbox->path())
                                   : ": lost (no outbox_db)"));
  }

  // The node's retry schedule (SIGHUP reloads it in place).
  store::Backoff backoff() const
  {
    store::Backoff b;
    b.attempts = env.node->outbox_attempts;
    b.first_ms = env.node->outbox_backoff_ms;
    return b;
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
      return f.timed_out ? "no answer" : std::strerror(f.err);
    if (f.status >= 300)
      return fmt::format("{} {}", f.status, f.reason);
    return "";
  }

  // A line on stderr and, when tracing, a note in the trace.
  void note(const std::string& line)
  {
    env.diag(line);
    if (auto* tr = env.stack->tracer())
      tr->write("note", "", "", "", line);
  }

  // An outbox write failed: nothing more can be promised about this delivery.
  void store_failed(const std::string& what, const Error& e)
  {
    note(fmt::format("group pager: outbox: cannot {}: {}", what, e.message));
  }

  // ---- the schedule ----

  void schedule(int64_t at_ms, Due d)
  {
    due.emplace(at_ms, std::move(d));
    arm();
  }

  void arm()
  {
    timer.cancel();
    if (due.empty())
      return;
    int64_t wait = due.begin()->first - now_ms();
    timer.start(uint64_t(wait > 0 ? wait : 0),
                [this] { sip::guarded(env.diag, "the group pager's timer", [this] { fire(); }); });
  }

  // Run everything due by now, then wait for the next.
  void fire()
  {
    const int64_t now = now_ms();
    while (!due.empty() && due.begin()->first <= now) {
      Due d = std::move(due.begin()->second);
      due.erase(due.begin());
      if (d.report)
        give_up(d.item, d.member, d.why);
      else
        attempt(d.item, d.member);
    }
    arm();
  }

  // ---- one delivery ----

  // One attempt to deliver item `id` to `member`.
  void attempt(int64_t id, const std::string& member)
  {
    auto it = open.find(id);
    if (it == open.end())
      return;
    const Fanout& f = it->second;
    auto done = [this, id, member](const ua::Final& fin) { answered(id, member, fin); };
    auto on_plain = [this, id, member](const ua::Final& refused) {
      member_plain(id, member, refused);
    };
    const std::string referred_by = fmt::format("Referred-By: <{}>\r\n", f.sender);
    if (auto r = send(member, f.group, referred_by, f.body, done, f.plain, on_plain); !r)
      attempt_failed(id, member, r.error().message, r.error().code == 2);
  }

  // A member's copy has its final answer.
  void answered(int64_t id, const std::string& member, const ua::Final& fin)
  {
    auto it = open.find(id);
    if (it == open.end())
      return;
    std::string why = failure(fin);
    if (!why.empty()) {
      attempt_failed(id, member, why, !ua::transient(fin));
      return;
    }
    const Fanout& f = it->second;
    env.verbose(fmt::format("MESSAGE to {} from {}: {} answered {} {}{}", f.group, f.sender, member,
                            fin.status, fin.reason, fin.plain ? " to the text/plain copy" : ""));
    if (auto r = outbox->delivered(id, member); !r)
      store_failed(fmt::format("mark {} delivered", member), r.error());
    close(id);
  }

  // An attempt failed: again after the backoff, or (`final`, or no attempt left) the sender
  // is told.
  void attempt_failed(int64_t id, const std::string& member, const std::string& why, bool final)
  {
    auto it = open.find(id);
    if (it == open.end())
      return;
    const Fanout& f = it->second;
    const int64_t now = now_ms();
    const store::Backoff b = backoff();
    auto r = outbox->failed(id, member, why, now, b, final);
    if (!r) {
      store_failed(fmt::format("count a failed attempt to {}", member), r.error());
      give_up(id, member, why);
      return;
    }
    if (r->again) {
      env.diag(fmt::format("MESSAGE to {} from {}: member {} not reached: {} (attempt {} of {}); "
                           "again in {}",
                           f.group, f.sender, member, why, r->attempts, b.attempts,
                           wait_text(r->at_ms - now)));
      schedule(r->at_ms, Due{id, member, false, ""});
      return;
    }
    give_up(id, member,
            final ? why : fmt::format("{} (attempt {} of {})", why, r->attempts, b.attempts));
  }

  // A member's 415 takes only text/plain: its copy goes again as text/plain.
  void member_plain(int64_t id, const std::string& member, const ua::Final& refused)
  {
    auto it = open.find(id);
    if (it == open.end())
      return;
    const Fanout& f = it->second;
    env.diag(fmt::format("MESSAGE to {} from {}: member {} answered {} {} (Accept: {}): sent "
                         "again as text/plain{}",
                         f.group, f.sender, member, refused.status, refused.reason, refused.accept,
                         f.notify ? ", no notification can come from it" : ""));
  }

  // A member cannot be reached: say so, tell the sender if it asked (RFC 5438 negative
  // delivery notification), and close the delivery.
  void give_up(int64_t id, const std::string& member, const std::string& why)
  {
    auto it = open.find(id);
    if (it == open.end())
      return;
    const Fanout& f = it->second;
    const bool tell = f.negative && !f.message_id.empty();
    note(fmt::format("MESSAGE to {} from {}: member {} not reached: {}{}", f.group, f.sender,
                     member, why,
                     tell ? "; the sender gets a delivery notification 'failed'"
                          : "; the sender asked for no negative delivery notification"));
    if (tell)
      notify_failed(f, member);
    if (auto r = outbox->reported(id, member); !r)
      store_failed(fmt::format("close the failed delivery to {}", member), r.error());
    close(id);
  }

  // RFC 5438: a delivery notification 'failed' about `member`, from the group to the sender.
  void notify_failed(const Fanout& f, const std::string& member)
  {
    imdn::Notification n;
    n.message_id = f.message_id;
    n.datetime = f.datetime.empty() ? events::now() : f.datetime;
    n.recipient_uri = member;
    n.kind = imdn::Kind::Delivery;
    n.status = imdn::Status::Failed;
    std::string body = ua::notification_body(n, f.cpim_from.empty() ? f.sender : f.cpim_from);
    auto done = [this, group = f.group, sender = f.sender, member](const ua::Final& fin) {
      if (auto lost = failure(fin); !lost.empty())
        note(fmt::format("failure notification for {} about {} to {} not delivered: {}", group,
                         member, sender, lost));
    };
    if (auto r = send(f.sender, f.group, "", body, done); !r)
      note(fmt::format("cannot send the failure notification for {} to {}: {}", member, f.sender,
                       r.error().message));
    else
      env.verbose(
          fmt::format("delivery notification 'failed' for {} sent to {}", member, f.sender));
  }

  // One delivery of `id` is closed; the fan-out goes with the last.
  void close(int64_t id)
  {
    auto it = open.find(id);
    if (it != open.end() && --it->second.open == 0)
      open.erase(it);
  }

  // ---- restart ----

  // Schedule every open delivery of the outbox: pending ones when due, failed ones to be
  // reported at once.
  Result<void> resume()
  {
    auto all = outbox->open_deliveries();
    if (!all)
      return tl::unexpected(all.error());
    if (all->empty())
      return {};
    const int64_t now = now_ms();
    std::set<int64_t> dropped;
    for (const auto& d : *all) {
      if (dropped.count(d.item))
        continue;
      auto it = open.find(d.item);
      if (it == open.end()) {
        auto item = outbox->item(d.item);
        if (!item)
          return tl::unexpected(item.error());
        auto fan = read_fanout(item->meta, item->owner, item->payload);
        if (!fan) {
          // Only what was read once is stored: this file was written by something else.
          note(fmt::format("group pager: outbox {}: item {} is unreadable ({}): dropped",
                           outbox->path(), d.item, fan.error().why));
          dropped.insert(d.item);
          continue;
        }
        fan->id = d.item;
        it = open.emplace(d.item, std::move(*fan)).first;
      }
      ++it->second.open;
      if (d.state == store::DeliveryState::Failed)
        due.emplace(now, Due{d.item, d.destination, true, d.last_error});
      else
        due.emplace(std::max(d.next_ms, now), Due{d.item, d.destination, false, ""});
    }
    for (int64_t id : dropped)
      for (const auto& d : *all)
        if (d.item == id)
          (void)outbox->reported(id, d.destination);
    env.diag(fmt::format("group pager: outbox {}: resuming {} delivery(ies) of {} message(s)",
                         outbox->path(), due.size(), open.size()));
    arm();
    return {};
  }
};

GroupPager::GroupPager() : m(std::make_unique<Impl>()) {}

Result<std::string> GroupPager::secret(std::string_view name, std::string_view fresh)
{
  return m->outbox->secret(name, fresh);
}
GroupPager::~GroupPager() = default;

Result<std::unique_ptr<GroupPager>> GroupPager::create(Env env)
{
  std::unique_ptr<GroupPager> self(new GroupPager());
  Impl& m = *self->m;
  m.env = std::move(env);
  const config::Node& node = *m.env.node;
  m.durable = !node.outbox_db.empty() && node.outbox_db != ":memory:";
  auto box = store::Outbox::open(m.durable ? node.outbox_db : ":memory:");
  if (!box) {
    Error e = box.error();
    e.message = fmt::format("outbox: {} (outbox_db wants a writable place: --outbox FILE "
                            "overrides it)",
                            e.message);
    return tl::unexpected(std::move(e));
  }
  m.outbox.emplace(std::move(*box));
  Impl* impl = &m;
  m.pager = std::make_unique<ua::Pager>(*m.env.stack, [impl](const std::string& e) {
    impl->env.diag(fmt::format("group pager: {}", e));
  });
  m.pager->set_notice([impl](const std::string& n) { impl->env.diag("group pager: " + n); });
  bool hosts = false;
  for (const auto& g : m.env.file->groups)
    hosts = hosts || g.host == node.name;
  if (!m.durable && hosts)
    m.env.diag("warning: no outbox_db: group messages accepted here are kept in memory only "
               "and lost if the server is killed (cpm.toml(5) outbox_db)");
  if (auto r = m.resume(); !r)
    return tl::unexpected(r.error());
  return self;
}

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
  if (!in.wire)
    return refuse(500, "Server Internal Error", "no message");
  std::string ctype = text::media_type(req.value("Content-Type"));
  if (ctype != "message/cpim")
    return refuse(415, "Unsupported Media Type",
                  fmt::format("content type '{}', a group takes message/cpim", ctype),
                  {"Accept: message/cpim"});
  // Members get the body inflated (RFC 3261 §20.12): they need not know its coding.
  auto decoded = ua::decoded_body(*in.wire);
  if (!decoded)
    return refuse(decoded.error().code, decoded.error().reason, decoded.error().message,
                  decoded.error().headers);
  auto fan = read_fanout(sip::canonical_aor(g.uri), sender, std::string(*decoded));
  if (!fan)
    return refuse(fan.error().status, fan.error().reason, fan.error().why);
  if (m->env.node->proxy.empty())
    return refuse(500, "No Route To Members", "this node has no proxy (its core) to send through");

  std::vector<std::string> members;
  for (auto& member : group::others(g, sender))
    if (std::find(members.begin(), members.end(), member) == members.end())
      members.push_back(std::move(member));
  m->env.verbose(
      fmt::format("MESSAGE to {} from {}: {} members", fan->group, sender, members.size()));
  if (members.empty())
    return proxy::Action::reply(202, "Accepted");
  // Committed before the 202: from here on a kill -9 loses nothing.
  auto id = m->outbox->add(sender, fan->group, fan->body, members, now_ms());
  if (!id) {
    m->note(fmt::format("group pager: outbox: cannot store a message: {}", id.error().message));
    return refuse(500, "Server Internal Error", "the message could not be stored");
  }
  fan->id = *id;
  fan->open = members.size();
  m->open.emplace(*id, std::move(*fan));
  for (const auto& member : members)
    m->attempt(*id, member);
  return proxy::Action::reply(202, "Accepted");
}

} // namespace cpm::groupd
