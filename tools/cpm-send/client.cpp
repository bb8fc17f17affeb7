// cpm-send: the pager-mode client (MESSAGE out, MESSAGE in, REGISTER, notifications) on the
// ua layer.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cpm-send/send.hpp"
#include "cpm/base/events.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/codec/service.hpp"
#include "cpm/ua/endpoint.hpp"
#include "cpm/ua/inbox.hpp"
#include "cpm/ua/notification.hpp"
#include "cpm/ua/pager.hpp"
#include "cpm/ua/plain_retry.hpp"
#include "cpm/ua/program.hpp"

namespace cpm::send {

namespace {

constexpr const char* k_prog = "cpm-send";
// A final failure's status line, with the Accept of a 415 (what the peer would take).
std::string status_line(const ua::Final& f)
{
  return fmt::format("SIP/2.0 {} {}{}", f.status, f.reason,
                     f.status == 415 ? fmt::format(" (Accept: {})", f.accept) : "");
}

// Read all of stdin or a file.
Result<std::string> slurp(const std::string& path)
{
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return fail(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  ss << f.rdbuf();
  return ss.str();
}

// One line of stdin without its line end, or nullopt at the end.
std::optional<std::string> read_line()
{
  char* line = nullptr;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  std::optional<std::string> text;
  if (n >= 0)
    text.emplace(line, static_cast<size_t>(n));
  std::free(line);
  while (text && !text->empty() && (text->back() == '\n' || text->back() == '\r'))
    text->pop_back();
  return text;
}

class Client {
public:
  explicit Client(Options& o) : m_opt(o), m_log{k_prog, false, o.common.verbose} {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int main();

private:
  Result<void> read_body();
  Result<void> setup();
  void begin();
  void finish(int code);

  // Sending.
  Result<void> send(ua::Message m, const std::string& message_id, bool notification,
                    const sip::Hop& hop, std::string text = {}, int resends = 0);
  Result<void> send_text(const std::string& text, const std::string& message_id, int resends = 0);
  bool resend_lost(const ua::Final& f);
  void send_next_line();
  void pace();
  void next_line() { m_opt.rate > 0 ? pace() : send_next_line(); }
  void on_final(const std::string& message_id, const ua::Final& f);
  void on_line_final(const std::string& message_id, const ua::Final& f);
  void on_line_notification(const ua::Incoming& in);
  void lines_drained();
  void on_notification_final(const ua::Final& f);
  void on_plain_resend(const ua::Final& refused);
  void after_single_final();

  // Receiving.
  void on_message(const ua::Incoming& in, const sip::Hop& source);
  void notify_back(const ua::Incoming& in, const sip::Hop& source, imdn::Kind kind);
  void on_notification(const ua::Incoming& in);
  void print_message(const ua::Incoming& in);

  Options& m_opt;
  ua::Log m_log; // cpm-send's diagnostics do not heed -q
  std::unique_ptr<ua::Endpoint> m_ep;
  std::unique_ptr<ua::Pager> m_pager;
  std::unique_ptr<ua::Inbox> m_inbox;
  // One of our messages in flight.
  struct Mine {
    std::string message_id; // imdn.Message-ID ("" for --plain)
    bool plain = false;     // sent as text/plain from the start (--plain, or learned)
    std::string text;       // a CPIM message's text, for sending it again (resend_lost)
    int resends = 0;        // how many times it went again
  };
  std::map<uint64_t, Mine> m_mine; // by Pager id
  bool m_finishing = false;
  sip::Timer m_deadline, m_pace;

  // Single send.
  std::string m_body;
  std::string m_ctype;
  std::string m_sent_id;
  // TO took only text/plain (a 415 asked for it): what follows goes as text/plain.
  bool m_plain_learned = false;
  imdn::Requested m_wanted;
  bool m_final_ok = false;
  std::optional<ua::Awaited> m_awaited; // --wait: from --recipients distinct recipients

  // --lines.
  Stats m_stats;
  bool m_eof = false;
  uint64_t m_pace_t0 = 0;
  uint64_t m_paced = 0;
  std::optional<LineWaits> m_line_waits; // --lines --wait

  // --receive.
  int m_received = 0;
  ua::Seen m_seen; // what was printed, to drop a copy that comes again
};

Result<void> Client::read_body()
{
  const std::string plain = "text/plain;charset=utf-8";
  if (m_opt.lines) {
    m_ctype = m_opt.content_type.empty() ? plain : m_opt.content_type;
    return {};
  }
  bool from_stdin = m_opt.text.empty() || (m_opt.text.size() == 1 && m_opt.text[0] == "-");
  if (!m_opt.file.empty()) {
    auto b = slurp(m_opt.file);
    if (!b)
      return tl::unexpected(b.error());
    m_body = std::move(*b);
    m_ctype = m_opt.content_type.empty() ? guess_content_type(m_opt.file) : m_opt.content_type;
    return {};
  }
  if (from_stdin) {
    auto b = slurp("-");
    if (!b)
      return tl::unexpected(b.error());
    m_body = std::move(*b);
    if (!m_body.empty() && m_body.back() == '\n')
      m_body.pop_back();
    if (!m_body.empty() && m_body.back() == '\r')
      m_body.pop_back();
  } else {
    for (const auto& t : m_opt.text)
      m_body += (m_body.empty() ? "" : " ") + t;
  }
  m_ctype = m_opt.content_type.empty() ? plain : m_opt.content_type;
  return {};
}

Result<void> Client::setup()
{
  auto s = ua::settings_of(m_log, m_opt.common, m_opt.name, m_opt.password);
  s.missing_password = "REGISTER was challenged: give --password (or a [[user]] password)";
  s.peer = m_opt.receive ? "" : m_opt.to;
  s.need_tcp = true; // bodies over 1300 bytes go over TCP
  auto ep = ua::Endpoint::create(s);
  if (!ep)
    return tl::unexpected(ep.error());
  m_ep = std::move(*ep);
  m_pager = std::make_unique<ua::Pager>(m_ep->stack(), [this](const std::string& e) {
    m_log.error(e);
    sip::stop(1);
  });
  m_pager->set_notice([this](const std::string& n) { m_log.diag(n); });
  // A core with auth challenges our MESSAGEs (407) as it does our REGISTER.
  m_pager->set_credentials({m_ep->from(), s.password, s.missing_password, m_log});
  auto inbox = ua::Inbox::listen(
      m_ep->stack(), m_log,
      [this](const ua::Incoming& in, const sip::Hop& source) { on_message(in, source); });
  if (!inbox)
    return tl::unexpected(inbox.error());
  m_inbox = std::move(*inbox);
  return {};
}

int Client::main()
{
  if (!m_opt.receive) {
    if (auto r = read_body(); !r) {
      m_log.error(r.error().message);
      return 2;
    }
    if (!m_opt.notify.empty())
      m_wanted = *imdn::parse_notify_option(m_opt.notify);
    m_awaited.emplace(m_wanted.positive_delivery, m_wanted.display, m_opt.recipients);
    if (m_opt.lines && m_opt.wait) {
      m_line_waits.emplace(m_wanted.positive_delivery, m_wanted.display, m_opt.recipients);
      m_stats.waited = true;
    }
  }
  if (auto r = setup(); !r) {
    m_log.error(r.error().message);
    return r.error().code;
  }
  std::optional<ua::Registering> reg;
  if (m_opt.do_register || (m_opt.receive && m_ep->proxy()))
    reg = ua::Registering{std::string(service::k_icsi_msg), m_opt.expires, m_opt.timeout};
  auto started = m_ep->start(
      reg, m_opt.common.ready_fd, [this] { begin(); }, [this](int code) { finish(code); });
  if (!started) {
    m_log.error(started.error().message);
    return started.error().code;
  }
  int code = sip::run([this](int) {
    if (!m_finishing)
      finish(m_opt.receive ? 0 : 3);
  });
  if (!m_opt.receive && m_opt.lines)
    m_log.error(m_stats.summary());
  return code;
}

void Client::begin()
{
  if (m_opt.receive) {
    m_log.note(fmt::format("listening on {}", m_ep->stack().bound().front()));
    return;
  }
  if (m_opt.lines) {
    if (m_opt.rate > 0) {
      m_pace_t0 = sip::jiffies();
      pace();
    } else {
      send_next_line();
    }
    return;
  }
  m_sent_id = imdn::make_message_id();
  if (auto r = send_text(m_body, m_sent_id); !r) {
    m_log.error(r.error().message);
    finish(r.error().code);
    return;
  }
  m_deadline.start(static_cast<uint64_t>(m_opt.timeout * 1000), [this] {
    if (!m_final_ok) {
      std::string where;
      for (const auto& [id, mine] : m_mine)
        if (mine.message_id == m_sent_id)
          where = m_pager->progress(id);
      m_log.error(fmt::format("no answer within {} s{}", m_opt.timeout,
                              where.empty() ? "" : " (" + where + ")"));
    } else if (m_opt.recipients > 1)
      m_log.error(fmt::format("{} of {} {} notifications within {} s",
                              m_awaited->count(m_awaited->missing()), m_opt.recipients,
                              m_awaited->missing(), m_opt.timeout));
    else
      m_log.error(
          fmt::format("no {} notification within {} s", m_awaited->missing(), m_opt.timeout));
    if (m_opt.common.json)
      events::emit({{"type", "timeout"}, {"message_id", m_sent_id}, {"time", events::now()}});
    finish(3);
  });
}

// The CPIM message with `text` to TO, asking for the --notify notifications, with its
// text/plain form for a peer that takes only that; with --plain (or once TO has asked for
// it) the text bare.
Result<void> Client::send_text(const std::string& text, const std::string& message_id, int resends)
{
  auto hop = m_ep->hop_to(m_opt.to);
  if (!hop)
    return tl::unexpected(hop.error());
  ua::Message m;
  m.ruri = m_opt.to;
  if (m_opt.plain || m_plain_learned) {
    m.content_type = m_ctype;
    m.body = text;
    return send(std::move(m), "", false, *hop);
  }
  cpim::Outgoing o;
  o.from = m_ep->from();
  o.to = m_opt.to;
  o.message_id = message_id;
  o.notification = imdn::format_requested(m_wanted);
  o.content_type = m_ctype;
  o.body = text;
  m.body = cpim::encode(cpim::make(o));
  m.plain = ua::plain_of_cpim(m.body);
  m.on_plain = [this](const ua::Final& refused) { on_plain_resend(refused); };
  return send(std::move(m), message_id, false, *hop, text, resends);
}

// A message whose transaction ended with no answer, or with a proxy's 408, may well have
// arrived (its 2xx lost on the way back under loss): it goes again, at most
// k_max_resends times, as a new transaction with the same imdn.Message-ID, which a
// receiver shows and notifies once (ua::Seen). So the sender is not told "failed" for a
// message that was delivered. Returns whether it went again.
bool Client::resend_lost(const ua::Final& f)
{
  constexpr int k_max_resends = 1;
  auto it = m_mine.find(f.id);
  if (it == m_mine.end() || it->second.text.empty() || it->second.resends >= k_max_resends ||
      m_finishing || !(f.timed_out || f.err == ETIMEDOUT || f.status == 408))
    return false;
  Mine old = std::move(it->second);
  m_mine.erase(it);
  m_log.diag(fmt::format("no answer for message {} ({}); sending it again with the same "
                         "Message-ID",
                         old.message_id,
                         f.status == 408 ? std::string("408") : std::string("timed out")));
  if (auto r = send_text(old.text, old.message_id, old.resends + 1); !r) {
    m_log.error(r.error().message);
    return false;
  }
  return true;
}

Result<void> Client::send(ua::Message m, const std::string& message_id, bool notification,
                          const sip::Hop& hop, std::string text, int resends)
{
  m.from = m_ep->from();
  m.service_indication = !m_opt.no_service_indication;
  for (const auto& h : m_opt.headers)
    m.headers += h + "\r\n";
  bool plain = !notification && m.content_type != "message/cpim";
  uint64_t timeout_ms = m_opt.lines || notification ? uint64_t(m_opt.timeout * 1000) : 0;
  ua::Pager::Done done;
  if (notification)
    done = [this](const ua::Final& f) { on_notification_final(f); };
  else
    done = [this, message_id](const ua::Final& f) { on_final(message_id, f); };
  const std::string to = m.ruri;
  const size_t size = m.body.size();
  auto sent = m_pager->send(m, hop, m_ep->proxy().has_value(), std::move(done), timeout_ms);
  if (!sent)
    return tl::unexpected(sent.error());
  m_log.note(fmt::format("MESSAGE {} via {} ({} bytes{})", to, sent->hop.uri(), size,
                         plain ? ", text/plain" : ""));
  if (!notification)
    m_mine.emplace(sent->id, Mine{message_id, plain, std::move(text), resends});
  if (resends > 0) // counted and awaited once, when it first went
    return {};
  if (m_opt.lines && !notification)
    ++m_stats.sent;
  if (m_line_waits && !notification && !plain)
    m_line_waits->expect(message_id);
  return {};
}

void Client::send_next_line()
{
  if (m_finishing)
    return;
  if (!m_eof) {
    auto text = read_line();
    if (text) {
      if (auto r = send_text(*text, imdn::make_message_id()); !r) {
        m_log.error(r.error().message);
        finish(r.error().code);
      }
      return;
    }
    m_eof = true;
  }
  lines_drained();
}

void Client::pace()
{
  if (m_finishing)
    return;
  // Send what the schedule says is due by now, within the window: together (one sendmmsg).
  uint64_t interval_us = static_cast<uint64_t>(1e6 / m_opt.rate);
  uint64_t due = (sip::jiffies() - m_pace_t0) * 1000 / std::max<uint64_t>(interval_us, 1) + 1;
  {
    sip::Stack::Batch batch(m_ep->stack());
    while (!m_eof && m_paced < due && m_mine.size() < static_cast<size_t>(m_opt.window) &&
           !m_finishing) {
      size_t before = m_mine.size();
      send_next_line();
      if (m_mine.size() > before)
        ++m_paced;
    }
  }
  if (m_eof) {
    lines_drained();
    return;
  }
  uint64_t next_ms = (m_paced * interval_us) / 1000;
  uint64_t now = sip::jiffies() - m_pace_t0;
  m_pace.start(next_ms > now ? next_ms - now : 1, [this] { pace(); });
}

void Client::on_notification_final(const ua::Final& f)
{
  if (f.timed_out)
    m_log.error("no answer to a notification");
  else if (f.err)
    m_log.error(fmt::format("notification not delivered: {}", sip::errno_text(f.err)));
  else if (f.status >= 300)
    m_log.error(fmt::format("notification refused: {} {}", f.status, f.reason));
}

// A 415 took only text/plain: the message goes again as text/plain, without notifications.
void Client::on_plain_resend(const ua::Final& refused)
{
  std::string lost = m_wanted.any() ? "; no notification can be requested" : "";
  if (m_opt.lines && !m_plain_learned)
    lost += "; the next messages go as text/plain";
  m_log.diag(fmt::format("{} answered {} {} (Accept: {}): sending the text again as "
                         "text/plain{}",
                         m_opt.to, refused.status, refused.reason, refused.accept, lost));
  m_plain_learned = true;
}

void Client::on_final(const std::string& message_id, const ua::Final& f)
{
  if (resend_lost(f))
    return;
  bool plain = f.plain;
  if (auto it = m_mine.find(f.id); it != m_mine.end()) {
    plain = plain || it->second.plain;
    m_mine.erase(it);
  }
  if (m_opt.common.json && !f.timed_out) {
    events::Json e{{"type", "response"}, {"message_id", message_id}, {"to", m_opt.to}};
    if (!f.err) {
      e["status"] = f.status;
      e["reason"] = f.reason;
    } else {
      e["status"] = nullptr;
      e["error"] = sip::errno_text(f.err);
    }
    // Sent as text/plain (--plain, or again after a 415): no notification was asked for.
    e["plain"] = plain;
    e["notifications_requested"] = !plain && m_wanted.any();
    e["latency_ms"] = static_cast<double>(f.latency_ms);
    e["time"] = events::now();
    events::emit(e);
  }
  if (m_opt.lines) {
    if (m_line_waits && (plain || f.err || f.timed_out || f.status >= 300))
      m_line_waits->forget(message_id);
    on_line_final(message_id, f);
    return;
  }
  if (f.err) {
    m_log.error(fmt::format("no answer from {}: {}", m_opt.to, sip::errno_text(f.err)));
    finish(3);
    return;
  }
  if (f.status >= 300) {
    m_log.error(status_line(f));
    finish(1);
    return;
  }
  m_log.note(
      fmt::format("SIP/2.0 {} {} ({} ms)", f.status, f.reason, static_cast<double>(f.latency_ms)));
  m_final_ok = true;
  if (plain && m_opt.wait) {
    // No notification can come for a text/plain message: its 2xx is all there is.
    m_log.diag(fmt::format("{} took the message as text/plain: no {} notification can come, "
                           "not waiting",
                           m_opt.to, m_awaited->missing()));
    finish(0);
    return;
  }
  after_single_final();
}

// --lines: once every line is sent and answered, end; with --wait once every message's
// notifications are in too, or --timeout after that.
void Client::lines_drained()
{
  if (!m_eof || !m_mine.empty() || m_finishing)
    return;
  if (!m_line_waits || m_line_waits->pending() == 0) {
    finish(m_stats.exit_status());
    return;
  }
  if (m_deadline.active())
    return;
  m_deadline.start(static_cast<uint64_t>(m_opt.timeout * 1000), [this] {
    m_stats.unnotified = m_line_waits->pending();
    m_log.error(fmt::format("{} messages without all their notifications within {} s",
                            m_stats.unnotified, m_opt.timeout));
    finish(m_stats.exit_status());
  });
}

// --lines --wait: a notification completes a message, or is one it does not wait for.
void Client::on_line_notification(const ua::Incoming& in)
{
  bool positive = in.status == "delivered" || in.status == "displayed";
  switch (m_line_waits->add(in.message_id, in.from, in.kind, positive)) {
  case LineWaits::Outcome::pending:
    return;
  case LineWaits::Outcome::unknown:
    m_log.note(
        fmt::format("{} notification for {}, which awaits none (again?)", in.kind, in.message_id));
    return;
  case LineWaits::Outcome::negative:
    ++m_stats.negative;
    m_log.error(fmt::format("{} notification for {}: {}", in.kind, in.message_id, in.status));
    break;
  case LineWaits::Outcome::positive:
    ++m_stats.notified;
    break;
  }
  lines_drained();
}

// One message of --lines is over: count it, then send what comes next.
void Client::on_line_final(const std::string& message_id, const ua::Final& f)
{
  if (f.timed_out) {
    ++m_stats.no_answer;
    m_log.error(fmt::format("no answer for message {} within {} s", message_id, m_opt.timeout));
    if (m_opt.common.json)
      events::emit({{"type", "timeout"}, {"message_id", message_id}, {"time", events::now()}});
  } else if (f.err) {
    ++m_stats.no_answer;
    m_log.error(fmt::format("no answer for message {}: {}", message_id, sip::errno_text(f.err)));
  } else if (f.status >= 300) {
    ++m_stats.failed;
    m_log.error(status_line(f));
  } else {
    ++m_stats.ok;
    m_stats.latency_ms.push_back(static_cast<double>(f.latency_ms));
  }
  next_line();
}

void Client::after_single_final()
{
  if (!m_final_ok)
    return;
  if (!m_opt.wait) {
    finish(0);
    return;
  }
  if (m_awaited->complete())
    finish(m_awaited->negative() ? 1 : 0);
}

void Client::on_message(const ua::Incoming& in, const sip::Hop& source)
{
  if (in.notification) {
    on_notification(in);
    return;
  }
  if (!m_opt.receive) {
    m_log.note(fmt::format("ignored a MESSAGE from {} (not in --receive mode)", in.from));
    return;
  }
  if (m_finishing)
    return;
  if (!m_seen.first(in)) {
    // Answered 200 again, but shown (and notified) once.
    m_log.diag(fmt::format("dropped a copy of message {} from {} (shown already)", in.message_id,
                           in.from));
    return;
  }
  print_message(in);
  for (auto kind : ua::requested_kinds(in, m_opt.display))
    notify_back(in, source, kind);
  ++m_received;
  if (m_opt.count > 0 && m_received >= m_opt.count)
    finish(0);
}

void Client::print_message(const ua::Incoming& in)
{
  if (m_opt.common.json) {
    events::Json headers = events::Json::object();
    for (const auto& [n, v] : in.headers)
      headers[n] = v;
    events::emit({{"type", "message"},
                  {"from", in.from},
                  {"to", in.to},
                  {"message_id", in.message_id},
                  {"content_type", in.content_type},
                  {"text", in.text},
                  {"headers", headers},
                  {"time", events::now()}});
    return;
  }
  std::string line = in.text;
  if (line.empty() || line.back() != '\n')
    line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  events::written(stdout);
}

void Client::notify_back(const ua::Incoming& in, const sip::Hop& source, imdn::Kind kind)
{
  auto n = ua::positive(in, m_ep->from(), kind);
  // Without a proxy (no core), the notification goes back to where the message came from.
  const sip::Hop& hop = m_ep->proxy() ? *m_ep->proxy() : source;
  ua::Message m;
  m.ruri = in.from;
  m.body = ua::notification_body(n, in.from);
  if (auto r = send(std::move(m), "", true, hop); !r)
    m_log.error(
        fmt::format("cannot send {} notification: {}", imdn::to_string(kind), r.error().message));
}

void Client::on_notification(const ua::Incoming& in)
{
  if (m_opt.common.json) {
    events::emit({{"type", "notification"},
                  {"from", in.from},
                  {"to", in.to},
                  {"message_id", in.message_id},
                  {"notification", in.kind},
                  {"status", in.status},
                  {"time", events::now()}});
  } else if (m_opt.receive) {
    auto line = fmt::format("{} {} {}\n", in.kind, in.status, in.message_id);
    std::fwrite(line.data(), 1, line.size(), stdout);
    events::written(stdout);
  }
  if (m_line_waits && !m_finishing) {
    on_line_notification(in);
    return;
  }
  if (m_opt.receive || m_opt.lines || in.message_id != m_sent_id || m_finishing)
    return;
  bool positive = in.status == "delivered" || in.status == "displayed";
  std::string who = m_opt.recipients > 1 ? fmt::format(" from {}", in.from) : "";
  m_awaited->add(in.from, in.kind, positive);
  if (!positive) {
    m_log.error(fmt::format("{} notification{}: {}", in.kind, who, in.status));
    // Without --wait, or once every recipient has answered, the outcome is known.
    if (!m_opt.wait || m_awaited->complete())
      finish(1);
    return;
  }
  m_log.note(fmt::format("{} notification{}: {}", in.kind, who, in.status));
  after_single_final();
}

void Client::finish(int code)
{
  if (m_finishing)
    return;
  m_finishing = true;
  m_deadline.cancel();
  m_pace.cancel();
  // Abandon our own messages still in flight; notifications get their answer first.
  for (const auto& [id, message_id] : m_mine)
    m_pager->cancel(id);
  m_mine.clear();
  m_ep->finish(code, [this] { return m_pager->in_flight() > 0; });
}

} // namespace

int run(Options& opt)
{
  return ua::run(
      k_prog, opt.common, [&](const config::File& f) { return apply_config(opt, f); },
      [&] { return validate(opt); },
      [&] {
        Client c(opt);
        return c.main();
      });
}

} // namespace cpm::send
