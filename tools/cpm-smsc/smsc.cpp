// cpm-smsc: the SMSC. Submitted SMS are printed (reassembled when concatenated) and
// answered with a message id, then receipted as the options say; SMS from stdin and the
// receipts wait in one queue until a receiver is bound, go out within a window per ESME, and
// are sent again when the ESME answers with a temporary error or goes away unanswered.
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <fmt/format.h>
#include <map>
#include <unistd.h>

#include "cpm/base/events.hpp"
#include "cpm/base/hep.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/config/config.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/smpp_server.hpp"
#include "cpm/smpp/describe.hpp"
#include "cpm/sms/coding.hpp"
#include "cpm/sms/reassembly.hpp"
#include "cpm/sms/segment.hpp"
#include "cpm/ua/line_input.hpp"
#include "cpm/ua/log.hpp"
#include "smsc.hpp"

namespace cpm::smsc {

namespace {

constexpr const char* k_prog = "cpm-smsc";
// How long a temporary error from an ESME holds the queue back.
constexpr int k_retry_ms = 500;

// A deliver_sm waiting to go, and what to say once it is answered.
struct Outgoing {
  smpp::Pdu pdu;
  events::Json event; // emitted (with --json) when the ESME accepts it
  int attempts = 0;
};

bool temporary(uint32_t status)
{
  return status == smpp::k_esme_rthrottled || status == smpp::k_esme_rmsgqful ||
         status == smpp::k_esme_rx_t_appn || status == smpp::k_esme_rsyserr;
}

class Smsc {
public:
  Smsc(Options& opt, Policy policy, trace::Writer* trace)
      : m_opt(opt), m_policy(std::move(policy)),
        m_trace(trace), m_log{k_prog, opt.common.quiet, opt.common.verbose},
        m_epoch(uint32_t(std::time(nullptr)))
  {
  }

  Result<void> listen(const std::string& host, uint16_t port)
  {
    smpp::Server::Options so;
    so.host = host;
    so.port = port;
    so.system_id = m_opt.name;
    so.account = m_opt.system_id;
    so.password = m_opt.password;
    so.trace = m_trace;
    so.diag = [this](const std::string& l) { m_log.diag(l); };
    smpp::Server::Callbacks cb;
    cb.on_request = [this](smpp::SessionId s, const smpp::Pdu& p) { return on_request(s, p); };
    cb.on_bound = [this](smpp::SessionId s, const smpp::Pdu& b) {
      m_log.note(fmt::format("{} bound as {} (session {})", b.system_id,
                             smpp::command_name(b.command), s));
      pump();
    };
    cb.on_unbound = [this](smpp::SessionId s) { m_log.note(fmt::format("session {} ended", s)); };
    cb.on_response = [this](smpp::SessionId, uint64_t tag, const smpp::Pdu* r) {
      on_response(tag, r);
    };
    auto srv = smpp::Server::listen(so, cb);
    if (!srv)
      return tl::unexpected(srv.error());
    m_server = std::move(*srv);
    return {};
  }

  std::string bound() const
  {
    return sip::format_listen(sip::Hop{"tcp", m_server->host(), m_server->port(), false});
  }

  void inject(const Injected& in)
  {
    auto seg = sms::segment(in.text, uint8_t(++m_reference));
    if (!seg) {
      m_log.diag(fmt::format("stdin: {}", seg.error().message));
      return;
    }
    for (const auto& part : seg->parts) {
      Outgoing o;
      auto& p = o.pdu;
      p.command = smpp::Command::deliver_sm;
      p.source = address_of(in.from);
      p.destination = address_of(in.to);
      p.data_coding = sms::data_coding_of(seg->coding);
      if (part.concat)
        p.esm_class |= smpp::k_esm_udhi;
      if (in.report)
        p.registered_delivery = smpp::k_ack_delivery;
      auto octets = sms::short_message(part);
      p.short_message.assign(octets.begin(), octets.end());
      o.event = {{"event", "delivered"},
                 {"from", in.from},
                 {"to", in.to},
                 {"text", in.text},
                 {"part", part.concat ? part.concat->sequence : 1},
                 {"parts", seg->parts.size()}};
      m_queue.push_back(std::move(o));
    }
    pump();
  }

  void stop()
  {
    if (m_server)
      m_server->unbind_all();
  }

private:
  static smpp::Address address_of(const std::string& number)
  {
    bool digits = !number.empty() && number.find_first_not_of("+0123456789") == std::string::npos;
    if (!digits)
      return {smpp::k_ton_alphanumeric, smpp::k_npi_unknown, number};
    return {smpp::k_ton_international, smpp::k_npi_e164, number};
  }

  std::string next_message_id() { return fmt::format("{:x}{:05x}", m_epoch, ++m_ids); }

  smpp::Pdu on_request(smpp::SessionId, const smpp::Pdu& p)
  {
    if (p.command != smpp::Command::submit_sm) {
      m_log.diag(fmt::format("{} is not served here", smpp::command_name(p.command)));
      return smpp::response(p, smpp::k_esme_rinvcmdid);
    }
    if (auto forced = m_policy.take_status(p.destination.addr)) {
      m_log.note(fmt::format("submit_sm to {} answered {}", p.destination.addr,
                             smpp::status_name(*forced)));
      if (*forced != smpp::k_esme_rok)
        return smpp::response(p, *forced);
    }
    auto r = smpp::response(p);
    r.message_id = next_message_id();
    show(p, r.message_id);
    uint8_t want = p.registered_delivery & 0x03;
    const ReceiptPlan& plan = m_policy.receipt_of(p.destination.addr);
    if (want != smpp::k_receipt_none && plan.send &&
        (want == smpp::k_receipt_final || !smpp::is_success(plan.state)))
      receipt(p, r.message_id, plan);
    return r;
  }

  // Print a submitted SMS: a delivery acknowledgement at once, a text once all its parts
  // are here.
  void show(const smpp::Pdu& p, const std::string& id)
  {
    std::string from = p.source.addr, to = p.destination.addr;
    auto coding = sms::coding_of(p.data_coding);
    std::vector<uint8_t> octets(p.short_message.begin(), p.short_message.end());
    if (const smpp::Tlv* payload = p.find(smpp::k_tlv_message_payload); payload && octets.empty())
      octets.assign(payload->value.begin(), payload->value.end());
    bool ack = (p.esm_class & smpp::k_esm_type_mask) == smpp::k_esm_delivery_ack;
    if (!coding) {
      m_log.diag(fmt::format("submit_sm {}: {}", id, coding.error().message));
      return;
    }
    auto ud = sms::parse_user_data(octets, (p.esm_class & smpp::k_esm_udhi) != 0);
    if (!ud) {
      m_log.diag(fmt::format("submit_sm {}: {}", id, ud.error().message));
      return;
    }
    sms::Fragment f;
    f.from = from;
    f.to = to;
    f.coding = *coding;
    f.payload = ud->payload;
    if (ud->concat)
      f.concat = *ud->concat;
    auto key = std::tuple{from, to, f.concat.reference};
    m_ids_of[key].push_back(id);
    sms::Assembled done;
    if (m_parts.add(std::move(f), int64_t(sip::jiffies()), &done) != sms::Added::Complete)
      return;
    auto ids = std::move(m_ids_of[key]);
    m_ids_of.erase(key);
    if (m_opt.common.json) {
      events::emit({{"event", ack ? "delivery_ack" : "sms"},
                    {"time", events::now()},
                    {"from", from},
                    {"to", to},
                    {"text", done.text},
                    {"message_ids", ids},
                    {"parts", done.total},
                    {"coding", sms::name_of(*coding)},
                    {"registered_delivery", p.registered_delivery}});
    } else {
      std::printf("%s -> %s: %s%s\n", from.c_str(), to.c_str(),
                  ack ? "(delivery acknowledgement) " : "", done.text.c_str());
      events::written(stdout);
    }
  }

  void receipt(const smpp::Pdu& submitted, const std::string& id, const ReceiptPlan& plan)
  {
    smpp::ReceiptText t;
    t.submit_date = smpp::receipt_date(std::time(nullptr));
    t.done_date = t.submit_date;
    auto first = submitted.short_message.substr(0, 20);
    if (submitted.data_coding == smpp::k_dcs_default && !(submitted.esm_class & smpp::k_esm_udhi))
      t.text = sms::decode_text(sms::Coding::Gsm7, std::vector<uint8_t>(first.begin(), first.end()))
                   .value_or("");
    auto make = [&](smpp::MessageState st) {
      Outgoing o;
      o.pdu = smpp::make_receipt(submitted, id, st, t);
      o.event = {{"event", "receipt"},
                 {"message_id", id},
                 {"to", submitted.source.addr},
                 {"from", submitted.destination.addr},
                 {"stat", smpp::stat_text(st)}};
      return o;
    };
    if (plan.delayed) {
      auto o = make(smpp::MessageState::enroute);
      o.pdu.esm_class = smpp::k_esm_intermediate;
      m_queue.push_back(std::move(o));
      later(make(smpp::MessageState::delivered));
    } else {
      later(make(plan.state));
    }
  }

  // A final receipt after --receipt-delay (the same delay for all, so they stay in order).
  void later(Outgoing o)
  {
    if (m_opt.receipt_delay_ms <= 0) {
      m_queue.push_back(std::move(o));
      pump_soon();
      return;
    }
    m_later.emplace_back(sip::jiffies() + uint64_t(m_opt.receipt_delay_ms), std::move(o));
    arm_later();
  }

  void arm_later()
  {
    if (m_later.empty() || m_later_timer.active())
      return;
    uint64_t now = sip::jiffies(), due = m_later.front().first;
    m_later_timer.start(due > now ? due - now : 0, [this] {
      uint64_t t = sip::jiffies();
      while (!m_later.empty() && m_later.front().first <= t) {
        m_queue.push_back(std::move(m_later.front().second));
        m_later.pop_front();
      }
      arm_later();
      pump();
    });
  }

  void pump_soon()
  {
    if (!m_soon.active())
      m_soon.start(0, [this] { pump(); });
  }

  // Send what waits to receivers with room in their window, oldest first.
  void pump()
  {
    if (!m_server || m_hold.active())
      return;
    while (!m_queue.empty()) {
      smpp::SessionId to = 0;
      for (auto s : m_server->receivers())
        if (m_server->outstanding(s) < size_t(m_opt.window)) {
          to = s;
          break;
        }
      if (!to)
        return;
      Outgoing o = std::move(m_queue.front());
      m_queue.pop_front();
      uint64_t tag = ++m_tags;
      ++o.attempts;
      if (auto sent = m_server->send(to, o.pdu, tag); !sent) {
        m_log.diag(sent.error().message);
        m_queue.push_front(std::move(o));
        return;
      }
      m_inflight.emplace(tag, std::move(o));
    }
  }

  void on_response(uint64_t tag, const smpp::Pdu* r)
  {
    auto it = m_inflight.find(tag);
    if (it == m_inflight.end())
      return;
    Outgoing o = std::move(it->second);
    m_inflight.erase(it);
    if (!r || temporary(r->status)) {
      // Unanswered (the ESME went away) or refused for now: again, before what came later.
      m_requeue.emplace(tag, std::move(o));
      if (r) {
        m_log.note(fmt::format("deliver_sm refused for now: {}", smpp::status_name(r->status)));
        m_hold.start(k_retry_ms, [this] { pump(); });
      }
      requeue_soon();
      return;
    }
    if (r->status != smpp::k_esme_rok) {
      m_log.diag(
          fmt::format("{} refused: {}", smpp::describe(o.pdu), smpp::status_name(r->status)));
      if (m_opt.common.json) {
        o.event["event"] = "refused";
        o.event["status"] = smpp::status_name(r->status);
        events::emit(o.event);
      }
      pump_soon();
      return;
    }
    if (m_opt.common.json) {
      o.event["time"] = events::now();
      events::emit(o.event);
    }
    pump_soon();
  }

  // What came back unanswered goes to the front of the queue in the order it was sent.
  void requeue_soon()
  {
    if (m_requeue_timer.active())
      return;
    m_requeue_timer.start(0, [this] {
      for (auto it = m_requeue.rbegin(); it != m_requeue.rend(); ++it)
        m_queue.push_front(std::move(it->second));
      m_requeue.clear();
      pump();
    });
  }

  Options& m_opt;
  Policy m_policy;
  trace::Writer* m_trace;
  ua::Log m_log;
  uint32_t m_epoch;
  uint64_t m_ids = 0;
  uint64_t m_tags = 0;
  unsigned m_reference = 0;
  std::unique_ptr<smpp::Server> m_server;
  std::deque<Outgoing> m_queue;
  std::map<uint64_t, Outgoing> m_inflight;
  std::map<uint64_t, Outgoing> m_requeue; // by tag: the order they were sent in
  std::deque<std::pair<uint64_t, Outgoing>> m_later;
  sip::Timer m_later_timer, m_soon, m_hold, m_requeue_timer;
  sms::Reassembly m_parts;
  std::map<std::tuple<std::string, std::string, uint16_t>, std::vector<std::string>> m_ids_of;
};

} // namespace

int run(Options& opt)
{
  if (opt.common.list_nodes)
    return cli::list_nodes(k_prog, opt.common.config);
  auto sel = config::load_node(opt.common.config, opt.common.node, config::Role::Smsc,
                               opt.name.empty() ? k_prog : opt.name);
  if (!sel) {
    cli::diag(k_prog, sel.error().message);
    return 2;
  }
  auto& node = sel->node;
  if (opt.name.empty())
    opt.name = node.name;
  if (opt.password.empty())
    opt.password = node.password;
  if (opt.system_id.empty())
    opt.system_id = node.system_id;
  if (opt.common.listen.empty())
    opt.common.listen = node.listen;
  if (opt.common.listen.empty())
    opt.common.listen = {"tcp:127.0.0.1:2775"};
  if (opt.common.trace.empty())
    opt.common.trace = node.trace;
  if (opt.common.pcap.empty())
    opt.common.pcap = node.pcap;
  if (opt.common.hep.empty())
    opt.common.hep = node.hep;
  if (opt.common.hep_id < 0)
    opt.common.hep_id = node.hep_id;
  if (opt.common.listen.size() != 1) {
    cli::diag(k_prog, "give one --listen tcp:HOST:PORT");
    return 2;
  }
  auto hop = sip::parse_listen(opt.common.listen.front());
  if (!hop || hop->transport != "tcp") {
    cli::diag(k_prog, fmt::format("--listen '{}': want tcp:HOST:PORT", opt.common.listen.front()));
    return 2;
  }
  auto policy = make_policy(opt);
  if (!policy) {
    cli::diag(k_prog, policy.error().message);
    return 2;
  }
  if (opt.window < 1 || opt.receipt_delay_ms < 0) {
    cli::diag(k_prog, "--window must be at least 1 and --receipt-delay not negative");
    return 2;
  }
  trace::Writer tracer;
  if (!opt.common.trace.empty()) {
    if (auto r = tracer.open(opt.common.trace, opt.name); !r) {
      cli::diag(k_prog, r.error().message);
      return 2;
    }
  }
  if (!opt.common.pcap.empty()) {
    if (auto r = tracer.open_pcap(opt.common.pcap); !r) {
      cli::diag(k_prog, r.error().message);
      return 2;
    }
  }
  // Taken as every program takes it, though an SMSC speaks only SMPP, which HEP has no type
  // for: nothing is sent (cpm-smsc(1)).
  if (!opt.common.hep.empty()) {
    hep::Options o{opt.common.hep,
                   opt.common.hep_id < 0 ? 1 : static_cast<uint32_t>(opt.common.hep_id),
                   node.hep_node.empty() ? opt.name : node.hep_node, node.hep_key};
    if (auto r = tracer.open_hep(o, k_prog); !r) {
      cli::diag(k_prog, r.error().message);
      return r.error().code;
    }
  }
  sip::Library lib;
  Smsc smsc(opt, std::move(*policy), tracer.is_open() ? &tracer : nullptr);
  if (auto r = smsc.listen(hop->host, hop->port); !r) {
    cli::diag(k_prog, r.error().message);
    return r.error().code;
  }
  ua::Log log{k_prog, opt.common.quiet, opt.common.verbose};
  ua::LineInput input(
      STDIN_FILENO, log,
      [&](const std::string& line) {
        auto in = parse_inject_line(line, opt.report);
        if (!in)
          log.diag(fmt::format("stdin: {}: {}", in.error().message, line));
        else if (*in)
          smsc.inject(**in);
      },
      [] {});
  std::string bound = smsc.bound();
  if (opt.common.ready_fd >= 0) {
    std::string line = bound + "\n";
    ssize_t n;
    do
      n = ::write(opt.common.ready_fd, line.data(), line.size());
    while (n < 0 && errno == EINTR);
    ::close(opt.common.ready_fd);
  }
  log.diag(fmt::format("ready on {}", bound));
  input.start();
  // A signal unbinds every ESME, then gives the unbinds a moment to leave.
  sip::Timer leave;
  return sip::run([&](int) {
    if (leave.active())
      return;
    input.stop();
    smsc.stop();
    leave.start(100, [] { sip::stop(0); });
  });
}

} // namespace cpm::smsc
