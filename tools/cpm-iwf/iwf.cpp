// cpm-iwf: the role on the daemon runner. The SIP side is a cpm::proxy whose hook takes
// MESSAGEs (202 once stored), the CPM side out is a ua::Pager through the node's core, the
// SMS side a Link (SMPP or the pipe); the store (iw::Store) is between them, and two pumps
// move what it holds: SMS due towards the link (at most its room at once), MESSAGEs due
// towards the core (retried with the node's backoff).
#include "iwf.hpp"

#include <chrono>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unistd.h>

#include "cpm/base/events.hpp"
#include "cpm/base/text.hpp"
#include "cpm/config/config.hpp"
#include "cpm/core/trust.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/iw/mapping.hpp"
#include "cpm/iw/store.hpp"
#include "cpm/proxy/proxy.hpp"
#include "cpm/rt/daemon.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/incoming.hpp"
#include "cpm/ua/pager.hpp"
#include "link.hpp"
#include "numbers.hpp"
#include "pipe_link.hpp"
#include "smpp_link.hpp"

namespace cpm::iwf {

namespace {

constexpr const char* k_prog = "cpm-iwf";

// Unix milliseconds: the store's clock, which a restart keeps.
int64_t now_ms()
{
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class Server final : public daemon::Role {
public:
  explicit Server(Options& o)
      : m_opt(o), m_daemon({k_prog, config::Role::Iwf, o.name, {"udp:127.0.0.1:0"}}, o.common),
        m_file(m_daemon.file()), m_node(m_daemon.node())
  {
  }

  int run() { return m_daemon.run(*this); }

  void diag(const std::string& line) const { m_daemon.diag(line); }
  void verbose(const std::string& line) const { m_daemon.verbose(line); }

  // A line on stderr and a note in the trace.
  void note(const std::string& line)
  {
    diag(line);
    if (auto* tr = m_daemon.stack().tracer())
      tr->write("note", "", "", "", line);
  }

  Result<void> configure(daemon::Runner&) override
  {
    if (!m_opt.name.empty())
      m_node.name = m_opt.name;
    if (!m_opt.db.empty())
      m_node.iwf_db = m_opt.db;
    if (!m_opt.smsc.empty())
      m_node.smsc = m_opt.smsc;
    if (!m_opt.system_id.empty())
      m_node.system_id = m_opt.system_id;
    if (!m_opt.password.empty())
      m_node.password = m_opt.password;
    if (m_opt.timeout_ms)
      m_node.timeout_ms = m_opt.timeout_ms;
    // The config checks its own values; these may come from the command line.
    if (auto too_long = config::smpp_too_long(m_node); !too_long.empty())
      return fail(fmt::format("the SMPP {} is longer than SMPP 3.4 allows ({} characters)",
                              too_long.front().key, too_long.front().limit));
    if (!m_opt.pipe && m_node.smsc.empty())
      return fail("no SMSC: give smsc in the config, --smsc HOST:PORT, or --pipe");
    if (!m_opt.pipe) {
      auto hp = smsc_address(m_file, m_node.smsc);
      if (!hp)
        return tl::unexpected(hp.error());
      m_smsc = *hp;
    }
    auto d = trust::Domain::of(m_file, m_node);
    if (!d)
      return tl::unexpected(d.error());
    m_domain = std::move(*d);
    return {};
  }

  std::string reloaded(daemon::Runner&) override
  {
    return fmt::format("({} users)", m_file.users.size());
  }

  Result<void> start(daemon::Runner&) override
  {
    const bool durable = !m_node.iwf_db.empty() && m_node.iwf_db != ":memory:";
    auto st = iw::Store::open(durable ? m_node.iwf_db : ":memory:");
    if (!st) {
      Error e = st.error();
      e.message = fmt::format("store: {} (iwf_db wants a writable place: --db FILE overrides it)",
                              e.message);
      return tl::unexpected(std::move(e));
    }
    m_store.emplace(std::move(*st));
    if (!durable)
      diag("warning: no iwf_db: accepted messages are kept in memory only and lost if the IWF "
           "is killed (cpm.toml(5) iwf_db)");
    proxy::Options po;
    po.name = k_prog;
    po.timeout_ms = m_node.timeout_ms > 0 ? m_node.timeout_ms : 32000;
    po.max_lingering = m_node.max_lingering;
    po.flood = proxy::flood_limits(m_file, m_node);
    po.diag = [this](const std::string& line) { diag(line); };
    auto p = proxy::Proxy::create(m_daemon.stack(), po,
                                  [this](const proxy::Incoming& in) { return decide(in); });
    if (!p)
      return tl::unexpected(p.error());
    m_proxy = std::move(*p);
    m_pager = std::make_unique<ua::Pager>(m_daemon.stack(), [this](const std::string& e) {
      diag(fmt::format("internal error: {}", e));
    });
    m_pager->set_notice([this](const std::string& n) { diag(n); });

    LinkEvents ev;
    ev.submitted = [this](int64_t id, std::vector<std::string> ids) { submitted(id, ids); };
    ev.refused = [this](int64_t id, std::string why, bool final) { refused(id, why, final); };
    ev.receipt = [this](std::string nid, iw::State s, std::function<void()> ack) {
      receipt(nid, s, std::move(ack));
    };
    ev.returned = [this](int64_t id) { returned(id); };
    ev.incoming = [this](iw::InSms sms, std::function<void(Ack)> ack) {
      incoming(std::move(sms), std::move(ack));
    };
    ev.ready = [this] { pump_sms(); };
    ua::Log log{k_prog, m_opt.common.quiet, m_opt.common.verbose};
    if (m_opt.pipe) {
      m_link = make_pipe_link(STDIN_FILENO, STDOUT_FILENO, log, std::move(ev));
    } else {
      SmppSettings s;
      s.address = m_smsc;
      s.system_id = m_node.system_id;
      s.password = m_node.password;
      s.system_type = m_node.system_type;
      s.window = size_t(m_node.smpp_window);
      s.enquire_link_ms = m_node.enquire_link_ms;
      s.reconnect_ms = m_node.reconnect_ms;
      s.validity_s = m_node.validity_s;
      s.node = m_node.name;
      auto l = make_smpp_link(m_daemon.stack(), s, log, std::move(ev));
      if (!l)
        return tl::unexpected(l.error());
      m_link = std::move(*l);
    }
    auto queued = m_store->queued_sms();
    auto waiting = m_store->awaiting_receipts();
    if (queued && waiting && (*queued || *waiting))
      diag(fmt::format("store {}: {} SMS to submit, {} awaiting receipts", m_store->path(), *queued,
                       *waiting));
    m_link->start();
    m_expiry.start(1000, [this] { expire(); });
    pump_cpm();
    m_trust_names = m_daemon.watch_trust_names(
        m_domain.names(), [this](const auto& n, const auto& a) { m_domain.add_resolved(n, a); });
    return {};
  }

  void stop(daemon::Runner&) override
  {
    m_trust_names.reset();
    if (m_link)
      m_link->stop();
    m_link.reset();
    m_pager.reset();
    m_proxy.reset();
  }

  // ---- the SIP side in ----

  proxy::Action decide(const proxy::Incoming& in)
  {
    const sip::Request& req = in.req;
    if (in.in_dialog || in.ack)
      return proxy::Action::reply(481, "Call/Transaction Does Not Exist");
    if (req.method == "OPTIONS")
      return proxy::Action::reply(200, "OK", {"Allow: MESSAGE, OPTIONS"});
    if (req.method != "MESSAGE")
      return proxy::Action::reply(405, "Method Not Allowed", {"Allow: MESSAGE, OPTIONS"});
    // The sender of the SMS is the P-Asserted-Identity of our own core (and `trusted`) alone.
    auto sc = trust::screen(m_domain, in.req, m_node.untrusted_refuse, m_node.name, false);
    if (!sc.diag.empty())
      diag(sc.diag);
    if (sc.kind == trust::Screening::Kind::Refused)
      return proxy::Action::reply(403, "Forbidden", sc.headers);
    return message(in);
  }

  proxy::Action message(const proxy::Incoming& in)
  {
    const sip::Request& req = in.req;
    const std::string sender =
        sip::canonical_aor(req.asserted.empty() ? req.from_uri : req.asserted);
    auto refuse = [&](int status, const std::string& reason, const std::string& why,
                      std::vector<std::string> headers = {}) {
      diag(fmt::format("MESSAGE {} from {}: {} {} ({})", req.ruri, sender, status, reason, why));
      return proxy::Action::reply(status, reason, std::move(headers));
    };
    if (!in.wire)
      return refuse(500, "Server Internal Error", "no message");
    auto body = ua::decoded_body(*in.wire);
    if (!body)
      return refuse(body.error().code, body.error().reason, body.error().message,
                    body.error().headers);
    auto got = iw::read_message(req.ruri, sender, text::media_type(req.value("Content-Type")),
                                *body, m_node.sms_routes);
    if (!got)
      return refuse(got.error().status, got.error().reason, got.error().why, got.error().headers);
    if (got->notice)
      return notice(*got->notice);
    iw::Submission& s = *got->message;
    if (s.text.empty())
      return refuse(488, "Not Acceptable Here", "empty text",
                    {"Warning: 399 cpm-iwf \"an SMS needs some text\""});
    const std::string src = number_of_user(m_file, s.sender);
    const std::string key = s.message_id.empty() ? fmt::format("call {}", req.value("Call-ID"))
                                                 : fmt::format("msg {} {}", s.sender, s.message_id);
    auto a = m_store->accept(s, src, key, now_ms());
    if (!a) {
      note(fmt::format("store: cannot keep a message: {}", a.error().message));
      return refuse(503, "Service Unavailable", "the store failed", {"Retry-After: 5"});
    }
    if (!a->fresh) {
      verbose(fmt::format("MESSAGE {} from {}: a repeat of message {}: 202 again", req.ruri, sender,
                          s.message_id));
      return proxy::Action::reply(202, "Accepted");
    }
    verbose(fmt::format("MESSAGE {} from {}: stored as SMS {} to {}", req.ruri, sender, a->id,
                        s.recipient));
    pump_sms_soon();
    return proxy::Action::reply(202, "Accepted");
  }

  // Figure 8 step 14: a CPM user's notification about a CPM Message made from an SMS.
  proxy::Action notice(const iw::Notice& n)
  {
    auto q = m_store->acknowledge(n, now_ms());
    if (!q) {
      note(fmt::format("store: cannot keep a notification: {}", q.error().message));
      return proxy::Action::reply(503, "Service Unavailable", {"Retry-After: 5"});
    }
    if (*q) {
      verbose(fmt::format("notification {} from {} about {}: SME acknowledgement {} to {}",
                          imdn::to_string(n.imdn.status), n.from, n.imdn.message_id, **q,
                          n.recipient));
      pump_sms_soon();
    } else {
      verbose(fmt::format("notification from {} about {}: nothing to acknowledge", n.from,
                          n.imdn.message_id));
    }
    return proxy::Action::reply(200, "OK");
  }

  // ---- the SMS side ----

  void pump_sms_soon()
  {
    if (!m_sms_soon.active())
      m_sms_soon.start(0, [this] { pump_sms(); });
  }

  // Hand the link what is due, as much as it takes.
  void pump_sms()
  {
    if (!m_link)
      return;
    const int64_t now = now_ms();
    size_t room = m_link->room();
    if (room > 0) {
      std::vector<int64_t> skip(m_in_flight.begin(), m_in_flight.end());
      auto due = m_store->due_sms(now, room, skip);
      if (!due) {
        note(fmt::format("store: {}", due.error().message));
        return;
      }
      for (const auto& sms : *due) {
        m_in_flight.insert(sms.id);
        json_event("submit", sms);
        m_link->submit(sms);
      }
    }
    auto next = m_store->next_sms_due();
    m_sms_timer.cancel();
    if (next && *next && **next > now)
      m_sms_timer.start(uint64_t(**next - now), [this] { pump_sms(); });
  }

  void submitted(int64_t id, const std::vector<std::string>& ids)
  {
    m_in_flight.erase(id);
    if (auto r = m_store->submitted(id, ids); !r)
      note(fmt::format("store: cannot record SMS {} as submitted: {}", id, r.error().message));
    pump_sms_soon();
  }

  // The link ended before the SMSC answered: the SMS waits for the link again (no attempt
  // counted; it may reach the SMSC twice).
  void returned(int64_t id)
  {
    m_in_flight.erase(id);
    pump_sms_soon();
  }

  store::Backoff backoff() const
  {
    store::Backoff b;
    b.attempts = m_node.outbox_attempts;
    b.first_ms = m_node.outbox_backoff_ms;
    return b;
  }

  void refused(int64_t id, const std::string& why, bool final)
  {
    m_in_flight.erase(id);
    auto f = m_store->submit_failed(id, why, now_ms(), backoff(), final, events::now());
    if (!f) {
      note(fmt::format("store: cannot record SMS {} as refused: {}", id, f.error().message));
      return;
    }
    if (f->retry.again)
      diag(fmt::format("SMS {} not submitted: {} (attempt {}); again later", id, why,
                       f->retry.attempts));
    else
      note(fmt::format("SMS {} not submitted: {}: given up{}", id, why,
                       f->notified ? "; the sender gets a delivery notification 'failed'" : ""));
    if (f->notified)
      pump_cpm_soon();
    pump_sms_soon();
  }

  void receipt(const std::string& nid, iw::State state, const std::function<void()>& ack)
  {
    auto r = m_store->receipt(nid, state, events::now(), now_ms());
    if (!r) {
      note(fmt::format("store: cannot record a receipt for {}: {}", nid, r.error().message));
      return; // no acknowledgement: the SMSC sends it again
    }
    ack();
    if (!r->known) {
      if (iw::final(state))
        diag(fmt::format("receipt {} for {}: no message awaits it", iw::to_string(state), nid));
      return;
    }
    if (r->complete)
      verbose(fmt::format("receipt {} for {}: message {} of {} {}", iw::to_string(state), nid,
                          r->message_id, r->sender,
                          r->notified ? "notified" : "done (no notification asked)"));
    if (m_opt.common.json)
      print({{"type", "receipt"}, {"smsc_id", nid}, {"stat", iw::to_string(state)}});
    if (r->notified)
      pump_cpm_soon();
  }

  void incoming(iw::InSms sms, const std::function<void(Ack)>& ack)
  {
    const config::User* u = user_of_number(m_file, sms.dst);
    if (!u) {
      diag(fmt::format("SMS from {} to {}: no CPM user has this number", sms.src, sms.dst));
      ack(Ack::NoUser);
      return;
    }
    sms.user = sip::canonical_aor(u->uri);
    auto a = m_store->arrive(sms, events::now(), now_ms());
    if (!a) {
      note(fmt::format("store: cannot keep an SMS: {}", a.error().message));
      ack(Ack::Failed);
      return;
    }
    ack(Ack::Ok);
    if (a->duplicate) {
      verbose(fmt::format("SMS from {} to {}: a repeat, dropped", sms.src, sms.dst));
      return;
    }
    if (m_opt.common.json)
      print({{"type", "sms"},
             {"from", sms.src},
             {"to", sms.dst},
             {"user", sms.user},
             {"text", sms.text},
             {"complete", a->complete}});
    if (a->complete)
      pump_cpm_soon();
  }

  void expire()
  {
    auto r = m_store->expire_parts(now_ms() - m_opt.reassembly_ms, events::now(), now_ms());
    if (!r)
      note(fmt::format("store: {}", r.error().message));
    else if (!r->empty()) {
      diag(fmt::format("{} incomplete SMS delivered with their missing parts marked \u2026",
                       r->size()));
      pump_cpm_soon();
    }
    // Repeats are recognised for 10 minutes (a SIP resend, a deliver_sm sent again).
    if (++m_ticks % 60 == 0)
      if (auto p = m_store->purge_seen(now_ms() - 600000); !p)
        note(fmt::format("store: {}", p.error().message));
    m_expiry.start(1000, [this] { expire(); });
  }

  // ---- the CPM side out ----

  void pump_cpm_soon()
  {
    if (!m_cpm_soon.active())
      m_cpm_soon.start(0, [this] { pump_cpm(); });
  }

  void pump_cpm()
  {
    const int64_t now = now_ms();
    constexpr size_t k_max_in_flight = 256;
    if (m_cpm_in_flight.size() < k_max_in_flight) {
      std::vector<int64_t> skip(m_cpm_in_flight.begin(), m_cpm_in_flight.end());
      auto due = m_store->due_cpm(now, k_max_in_flight - m_cpm_in_flight.size(), skip);
      if (!due) {
        note(fmt::format("store: {}", due.error().message));
        return;
      }
      for (auto& o : *due)
        send_cpm(o);
    }
    auto next = m_store->next_cpm_due();
    m_cpm_timer.cancel();
    if (next && *next && **next > now)
      m_cpm_timer.start(uint64_t(**next - now), [this] { pump_cpm(); });
  }

  void send_cpm(const iw::OutCpm& o)
  {
    auto hop = sip::parse_proxy(m_node.proxy);
    if (m_node.proxy.empty() || !hop) {
      note(fmt::format("MESSAGE {} from {}: no proxy (core) to send it through", o.ruri, o.from));
      cpm_answered(o.id, o.ruri, ua::Final{0, 0, false, 503, "No Proxy", "", false, 0});
      return;
    }
    ua::Message m;
    m.ruri = o.ruri;
    m.from = o.from;
    m.body = o.body;
    if (o.kind == iw::OutCpm::Kind::Message)
      m.plain = ua::plain_of_cpim(o.body);
    m_cpm_in_flight.insert(o.id);
    auto id = o.id;
    auto ruri = o.ruri;
    auto sent = m_pager->send(m, *hop, true,
                              [this, id, ruri](const ua::Final& f) { cpm_answered(id, ruri, f); });
    if (!sent) {
      m_cpm_in_flight.erase(o.id);
      note(fmt::format("MESSAGE {}: {}", o.ruri, sent.error().message));
    }
  }

  void cpm_answered(int64_t id, const std::string& ruri, const ua::Final& f)
  {
    m_cpm_in_flight.erase(id);
    if (!f.err && f.status >= 200 && f.status < 300) {
      if (auto r = m_store->cpm_done(id); !r)
        note(fmt::format("store: {}", r.error().message));
      pump_cpm_soon();
      return;
    }
    std::string why = f.err ? (f.timed_out ? std::string("no answer") : std::strerror(f.err))
                            : fmt::format("{} {}", f.status, f.reason);
    auto r = m_store->cpm_failed(id, now_ms(), backoff(), !ua::transient(f));
    if (!r)
      note(fmt::format("store: {}", r.error().message));
    else if (r->again)
      diag(fmt::format("MESSAGE {} not delivered: {} (attempt {}); again later", ruri, why,
                       r->attempts));
    else {
      note(fmt::format(
          "MESSAGE {} not delivered: {}: given up after {} attempt(s){}", ruri, why, r->attempts,
          r->acknowledged ? "; the SMS sender is told (SME acknowledgement UNDELIV)" : ""));
      if (r->acknowledged)
        pump_sms_soon();
    }
    pump_cpm_soon();
  }

  // ---- --json ----

  void print(const nlohmann::json& j)
  {
    if (m_opt.pipe)
      return; // stdout is the pipe
    nlohmann::json e = j;
    e["time"] = events::now();
    std::string line = e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    (void)!::write(STDOUT_FILENO, line.data(), line.size());
  }

  void json_event(const char* type, const iw::OutSms& sms)
  {
    if (!m_opt.common.json)
      return;
    print({{"type", type},
           {"id", sms.id},
           {"kind", sms.kind == iw::OutSms::Kind::Ack ? "ack" : "message"},
           {"from", sms.src},
           {"to", sms.dst},
           {"text", sms.text}});
  }

private:
  Options& m_opt;
  daemon::Runner m_daemon;
  config::File& m_file;
  config::Node& m_node;
  std::string m_smsc;
  std::optional<iw::Store> m_store;
  std::unique_ptr<proxy::Proxy> m_proxy;
  std::unique_ptr<ua::Pager> m_pager;
  // Whose P-Asserted-Identity names the sender: our own core (`proxy`) and `trusted`.
  trust::Domain m_domain;
  std::unique_ptr<sip::NameWatch> m_trust_names; // its names, resolved
  std::unique_ptr<Link> m_link;
  std::set<int64_t> m_in_flight;
  std::set<int64_t> m_cpm_in_flight;
  uint64_t m_ticks = 0;
  sip::Timer m_sms_soon, m_sms_timer, m_cpm_soon, m_cpm_timer, m_expiry;
};

} // namespace

int run(Options& opt)
{
  Server s(opt);
  return s.run();
}

} // namespace cpm::iwf
