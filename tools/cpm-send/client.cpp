// cpm-send: the client on libre (MESSAGE out, MESSAGE in, REGISTER, notifications).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "cpm-send/send.hpp"
#include "cpm/base/events.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/codec/service.hpp"
#include "cpm/rt/sip.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::send {

namespace {

constexpr const char* k_prog = "cpm-send";
// Requests in flight at once with --rate.
constexpr size_t k_window = 64;
// How long the end of a run may wait for an unregister or a notification's answer.
constexpr uint64_t k_drain_ms = 2000;

std::string pl_str(const struct pl& p)
{
  return p.p ? std::string(p.p, p.l) : std::string();
}

std::string random_hex()
{
  return fmt::format("{:016x}", rand_u64());
}

std::string user_part(const std::string& uri)
{
  auto colon = uri.find(':');
  auto at = uri.find('@');
  if (colon == std::string::npos || at == std::string::npos || at < colon)
    return "cpm-send";
  return uri.substr(colon + 1, at - colon - 1);
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

class Client;

// One request in flight.
struct Outstanding {
  Client* self = nullptr;
  uint64_t key = 0;
  struct sip_request* req = nullptr;
  std::string route; // keeps the memory uri_decode points into
  struct uri route_uri {};
  uint64_t t0 = 0;
  std::string message_id;
  bool notification = false;
  sip::Timer timeout;
};

class Client {
public:
  explicit Client(Options& o) : m_opt(o) {}
  ~Client()
  {
    for (auto& [k, o] : m_out)
      o->req = static_cast<struct sip_request*>(mem_deref(o->req));
    m_reg = static_cast<struct sipreg*>(mem_deref(m_reg));
    m_lsnr = static_cast<struct sip_lsnr*>(mem_deref(m_lsnr));
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int main();

private:
  Result<void> setup();
  void ready();
  void begin();
  void finish(int code);
  void check_drained();
  void diag(const std::string& s) const { cli::diag(k_prog, s); }
  void verbose(const std::string& s) const
  {
    if (m_opt.common.verbose > 0)
      diag(s);
  }

  // Sending.
  Result<void> send(const std::string& ruri, const std::string& to, const std::string& body,
                    const std::string& message_id, bool notification, const sip::Hop& hop);
  void send_next_line();
  void pace();
  void on_response(Outstanding& o, int err, const struct sip_msg* msg);
  void on_request_timeout(Outstanding& o);
  void done(Outstanding& o);
  void after_single_final();

  // Receiving.
  bool on_request(const struct sip_msg* msg);
  void notify_back(const Incoming& in, const struct sip_msg* msg, imdn::Kind kind);
  void on_notification(const Incoming& in);
  void print_message(const Incoming& in);

  // Registration.
  void on_register(int err, const struct sip_msg* msg);

  static void resp_h(int err, const struct sip_msg* msg, void* arg) noexcept;
  static bool req_h(const struct sip_msg* msg, void* arg) noexcept;
  static void reg_h(int err, const struct sip_msg* msg, void* arg) noexcept;
  static int auth_h(char** user, char** pass, const char* realm, void* arg) noexcept;

  Options& m_opt;
  trace::Writer m_trace;
  std::unique_ptr<sip::Stack> m_stack;
  struct sip_lsnr* m_lsnr = nullptr;
  struct sipreg* m_reg = nullptr;
  uint32_t m_base_refs = 0;
  std::optional<sip::Hop> m_proxy;
  std::string m_from;
  std::map<uint64_t, std::unique_ptr<Outstanding>> m_out;
  uint64_t m_next_key = 1;
  bool m_registered = false;
  bool m_finishing = false;
  int m_exit = 0;
  sip::Timer m_deadline, m_pace, m_drain;
  uint64_t m_drain_until = 0;

  // Single send.
  std::string m_body;
  std::string m_ctype;
  std::string m_sent_id;
  imdn::Requested m_wanted;
  bool m_final_ok = false;
  std::optional<Awaited> m_awaited; // --wait: from --recipients distinct recipients

  // --lines.
  Stats m_stats;
  bool m_eof = false;
  uint64_t m_pace_t0 = 0;
  uint64_t m_paced = 0;

  // --receive.
  int m_received = 0;
};

Result<void> Client::setup()
{
  if (!m_opt.common.proxy.empty()) {
    auto p = sip::parse_proxy(m_opt.common.proxy);
    if (!p)
      return tl::unexpected(p.error());
    m_proxy = *p;
  }
  auto listen = m_opt.common.listen;
  if (listen.empty()) {
    std::string peer = "127.0.0.1";
    if (m_proxy)
      peer = m_proxy->host;
    else if (!m_opt.receive)
      peer = sip::hop_of_uri(m_opt.to).value_or(sip::Hop{}).host;
    listen = sip::default_listen(peer);
  } else {
    bool tcp = false;
    for (const auto& l : listen)
      tcp = tcp || l.rfind("tcp:", 0) == 0;
    auto first = sip::parse_listen(listen.front());
    if (!first)
      return tl::unexpected(first.error());
    if (!tcp) // bodies over 1300 bytes go over TCP, which needs a TCP transport
      listen.push_back(sip::format_listen({"tcp", first->host, 0}));
  }
  if (!m_opt.common.trace.empty()) {
    std::string node = !m_opt.common.node.empty() ? m_opt.common.node
                       : !m_opt.name.empty()      ? m_opt.name
                                                  : std::string(k_prog);
    auto t = m_trace.open(m_opt.common.trace, node);
    if (!t)
      return t;
  }
  auto s = sip::Stack::create(listen, k_prog, &m_trace);
  if (!s)
    return tl::unexpected(s.error());
  m_stack = std::move(*s);
  m_from = m_opt.common.from;
  if (m_from.empty()) {
    auto u = m_stack->uri();
    m_from =
        "sip:cpm-send@" + u.substr(4, u.find(';') == std::string::npos ? u.npos : u.find(';') - 4);
  }
  int err = sip_listen(&m_lsnr, m_stack->get(), true, req_h, this);
  if (err)
    return fail(fmt::format("cannot listen: {}", std::strerror(err)), 3);
  return {};
}

int Client::main()
{
  if (!m_opt.receive) {
    if (m_opt.lines) {
      m_ctype = m_opt.content_type.empty() ? "text/plain;charset=utf-8" : m_opt.content_type;
    } else {
      bool from_stdin = m_opt.text.empty() || (m_opt.text.size() == 1 && m_opt.text[0] == "-");
      if (!m_opt.file.empty()) {
        auto b = slurp(m_opt.file);
        if (!b) {
          diag(b.error().message);
          return 2;
        }
        m_body = std::move(*b);
        m_ctype = m_opt.content_type.empty() ? guess_content_type(m_opt.file) : m_opt.content_type;
      } else if (from_stdin) {
        auto b = slurp("-");
        if (!b) {
          diag(b.error().message);
          return 2;
        }
        m_body = std::move(*b);
        if (!m_body.empty() && m_body.back() == '\n')
          m_body.pop_back();
        if (!m_body.empty() && m_body.back() == '\r')
          m_body.pop_back();
      } else {
        for (const auto& t : m_opt.text)
          m_body += (m_body.empty() ? "" : " ") + t;
      }
      if (m_ctype.empty())
        m_ctype = m_opt.content_type.empty() ? "text/plain;charset=utf-8" : m_opt.content_type;
    }
    if (!m_opt.notify.empty())
      m_wanted = *imdn::parse_notify_option(m_opt.notify);
    m_awaited.emplace(m_wanted.positive_delivery, m_wanted.display, m_opt.recipients);
  }
  if (auto r = setup(); !r) {
    diag(r.error().message);
    return r.error().code;
  }
  m_base_refs = mem_nrefs(m_stack->get());
  if (m_opt.do_register || (m_opt.receive && m_proxy)) {
    std::string reg_uri = "sip:" + sip::hop_of_uri(m_from).value_or(sip::Hop{}).host;
    {
      // The registrar is the domain of --from (a name is fine: the request goes to --proxy).
      auto at = m_from.find('@');
      auto end = m_from.find_first_of(";>", at == std::string::npos ? 0 : at);
      if (at != std::string::npos)
        reg_uri = "sip:" + m_from.substr(at + 1, end == std::string::npos ? end : end - at - 1);
    }
    std::string route = m_proxy->uri();
    const char* routev[] = {route.c_str()};
    std::string params = service::contact_feature(service::k_icsi_msg).substr(1);
    std::string cuser = user_part(m_from);
    int err = sipreg_register(&m_reg, m_stack->get(), reg_uri.c_str(), m_from.c_str(), nullptr,
                              m_from.c_str(), m_opt.expires, cuser.c_str(), routev, 1, 0, auth_h,
                              this, false, reg_h, this, params.c_str(), nullptr);
    if (err) {
      diag(fmt::format("cannot register: {}", std::strerror(err)));
      return err == EINVAL ? 2 : 3;
    }
    m_deadline.start(static_cast<uint64_t>(m_opt.timeout * 1000), [this] {
      if (!m_registered) {
        diag(fmt::format("no answer to REGISTER within {} s", m_opt.timeout));
        finish(3);
      }
    });
  } else {
    ready();
  }
  int code = sip::run([this](int) {
    if (!m_finishing)
      finish(m_opt.receive ? 0 : 3);
  });
  if (!m_opt.receive && m_opt.lines)
    diag(m_stats.summary());
  return code;
}

void Client::ready()
{
  m_stack->report_ready(m_opt.common.ready_fd);
  m_opt.common.ready_fd = -1;
  begin();
}

void Client::begin()
{
  m_deadline.cancel();
  if (m_opt.receive) {
    verbose(fmt::format("listening on {}", m_stack->bound().front()));
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
  cpim::Outgoing o;
  o.from = m_from;
  o.to = m_opt.to;
  o.message_id = m_sent_id;
  o.notification = imdn::format_requested(m_wanted);
  o.content_type = m_ctype;
  o.body = m_body;
  auto hop = m_proxy ? *m_proxy : *sip::hop_of_uri(m_opt.to);
  if (auto r = send(m_opt.to, m_opt.to, cpim::encode(cpim::make(o)), m_sent_id, false, hop); !r) {
    diag(r.error().message);
    finish(r.error().code);
    return;
  }
  m_deadline.start(static_cast<uint64_t>(m_opt.timeout * 1000), [this] {
    if (!m_final_ok)
      diag(fmt::format("no answer within {} s", m_opt.timeout));
    else if (m_opt.recipients > 1)
      diag(fmt::format("{} of {} {} notifications within {} s",
                       m_awaited->count(m_awaited->missing()), m_opt.recipients,
                       m_awaited->missing(), m_opt.timeout));
    else
      diag(fmt::format("no {} notification within {} s", m_awaited->missing(), m_opt.timeout));
    if (m_opt.common.json)
      events::emit({{"type", "timeout"}, {"message_id", m_sent_id}, {"time", events::now()}});
    finish(3);
  });
}

Result<void> Client::send(const std::string& ruri, const std::string& to, const std::string& body,
                          const std::string& message_id, bool notification, const sip::Hop& hop_in)
{
  std::string headers = fmt::format("To: <{}>\r\nFrom: <{}>;tag={}\r\nCall-ID: {}\r\n"
                                    "CSeq: 1 MESSAGE\r\n",
                                    to, m_from, random_hex(), random_hex());
  sip::Hop hop = hop_in;
  if (!m_opt.no_service_indication)
    headers += fmt::format("Accept-Contact: {}\r\nP-Preferred-Service: {}\r\n",
                           service::accept_contact(service::k_icsi_msg), service::k_icsi_msg);
  headers += fmt::format("Content-Type: message/cpim\r\nContent-Length: {}\r\n\r\n", body.size());
  // RFC 3261 §18.1.1: request line, Via and Max-Forwards are added by libre (~160 bytes).
  if (hop.transport == "udp" && ruri.size() + 160 + headers.size() + body.size() > sip::k_udp_max)
    hop = hop.over_tcp();
  auto o = std::make_unique<Outstanding>();
  o->self = this;
  o->key = m_next_key++;
  o->message_id = message_id;
  o->notification = notification;
  o->route = hop.uri();
  struct pl pl;
  pl_set_str(&pl, o->route.c_str());
  if (uri_decode(&o->route_uri, &pl))
    return fail(fmt::format("bad next hop {}", o->route));
  if (m_proxy) {
    std::string r = o->route;
    auto semi = r.find(';');
    r.insert(semi == std::string::npos ? r.size() : semi, ";lr");
    headers = fmt::format("Route: <{}>\r\n", r) + headers;
  }
  std::string wire = headers + body;
  o->t0 = sip::jiffies();
  int err = sip_requestf(&o->req, m_stack->get(), true, "MESSAGE", ruri.c_str(), &o->route_uri,
                         nullptr, nullptr, resp_h, o.get(), "%b", wire.data(), wire.size());
  if (err)
    return fail(fmt::format("cannot send MESSAGE to {}: {}", o->route, std::strerror(err)),
                err == EINVAL ? 2 : 3);
  verbose(fmt::format("MESSAGE {} via {} ({} bytes)", ruri, o->route, body.size()));
  auto* raw = o.get();
  if (m_opt.lines || notification)
    raw->timeout.start(static_cast<uint64_t>(m_opt.timeout * 1000),
                       [raw] { raw->self->on_request_timeout(*raw); });
  m_out.emplace(raw->key, std::move(o));
  if (m_opt.lines && !notification)
    ++m_stats.sent;
  return {};
}

void Client::send_next_line()
{
  if (m_finishing)
    return;
  if (!m_eof) {
    char* line = nullptr;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    std::string text;
    if (n >= 0)
      text.assign(line, static_cast<size_t>(n));
    std::free(line);
    if (n < 0) {
      m_eof = true;
    } else {
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
      cpim::Outgoing o;
      o.from = m_from;
      o.to = m_opt.to;
      o.message_id = imdn::make_message_id();
      o.notification = imdn::format_requested(m_wanted);
      o.content_type = m_ctype;
      o.body = text;
      auto hop = m_proxy ? *m_proxy : *sip::hop_of_uri(m_opt.to);
      if (auto r = send(m_opt.to, m_opt.to, cpim::encode(cpim::make(o)), o.message_id, false, hop);
          !r) {
        diag(r.error().message);
        finish(r.error().code);
      }
      return;
    }
  }
  bool busy = false;
  for (auto& [k, o] : m_out)
    busy = busy || !o->notification;
  if (m_eof && !busy)
    finish(m_stats.exit_status());
}

void Client::pace()
{
  if (m_finishing)
    return;
  size_t inflight = 0;
  for (auto& [k, o] : m_out)
    inflight += o->notification ? 0 : 1;
  // Send what the schedule says is due by now, within the window.
  uint64_t interval_us = static_cast<uint64_t>(1e6 / m_opt.rate);
  uint64_t due = (sip::jiffies() - m_pace_t0) * 1000 / std::max<uint64_t>(interval_us, 1) + 1;
  while (!m_eof && m_paced < due && inflight < k_window && !m_finishing) {
    size_t before = m_out.size();
    send_next_line();
    if (m_out.size() > before) {
      ++m_paced;
      ++inflight;
    }
  }
  if (m_eof) {
    if (inflight == 0)
      finish(m_stats.exit_status());
    return;
  }
  uint64_t next_ms = (m_paced * interval_us) / 1000;
  uint64_t now = sip::jiffies() - m_pace_t0;
  m_pace.start(next_ms > now ? next_ms - now : 1, [this] { pace(); });
}

void Client::on_response(Outstanding& o, int err, const struct sip_msg* msg)
{
  if (msg && msg->scode < 200)
    return;
  double ms = static_cast<double>(sip::jiffies() - o.t0);
  if (o.notification) {
    if (err)
      diag(fmt::format("notification not delivered: {}", std::strerror(err)));
    else if (msg->scode >= 300)
      diag(fmt::format("notification refused: {} {}", msg->scode, pl_str(msg->reason)));
    done(o);
    return;
  }
  if (m_opt.common.json) {
    events::Json e{{"type", "response"}, {"message_id", o.message_id}, {"to", m_opt.to}};
    if (msg) {
      e["status"] = msg->scode;
      e["reason"] = pl_str(msg->reason);
    } else {
      e["status"] = nullptr;
      e["error"] = std::strerror(err);
    }
    e["latency_ms"] = ms;
    e["time"] = events::now();
    events::emit(e);
  }
  if (m_opt.lines) {
    if (err) {
      ++m_stats.no_answer;
      diag(fmt::format("no answer for message {}: {}", o.message_id, std::strerror(err)));
    } else if (msg->scode >= 300) {
      ++m_stats.failed;
      diag(fmt::format("SIP/2.0 {} {}", msg->scode, pl_str(msg->reason)));
    } else {
      ++m_stats.ok;
      m_stats.latency_ms.push_back(ms);
    }
    done(o);
    if (m_opt.rate > 0)
      pace();
    else
      send_next_line();
    return;
  }
  done(o);
  if (err) {
    diag(fmt::format("no answer from {}: {}", m_opt.to, std::strerror(err)));
    finish(3);
    return;
  }
  if (msg->scode >= 300) {
    diag(fmt::format("SIP/2.0 {} {}", msg->scode, pl_str(msg->reason)));
    finish(1);
    return;
  }
  verbose(fmt::format("SIP/2.0 {} {} ({} ms)", msg->scode, pl_str(msg->reason), ms));
  m_final_ok = true;
  after_single_final();
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

void Client::on_request_timeout(Outstanding& o)
{
  o.req = static_cast<struct sip_request*>(mem_deref(o.req));
  if (o.notification) {
    diag("no answer to a notification");
    done(o);
    return;
  }
  ++m_stats.no_answer;
  diag(fmt::format("no answer for message {} within {} s", o.message_id, m_opt.timeout));
  if (m_opt.common.json)
    events::emit({{"type", "timeout"}, {"message_id", o.message_id}, {"time", events::now()}});
  done(o);
  if (m_opt.rate > 0)
    pace();
  else
    send_next_line();
}

void Client::done(Outstanding& o)
{
  m_out.erase(o.key); // destroys o
}

bool Client::on_request(const struct sip_msg* msg)
{
  if (pl_strcmp(&msg->met, "OPTIONS") == 0) {
    (void)sip_treply(nullptr, m_stack->get(), msg, 200, "OK");
    return true;
  }
  if (pl_strcmp(&msg->met, "MESSAGE") != 0)
    return false;
  size_t left = mbuf_get_left(msg->mb);
  if (pl_isset(&msg->clen)) {
    size_t clen = pl_u32(&msg->clen);
    if (clen > left) {
      diag(fmt::format("MESSAGE from {}: body truncated ({} of {} bytes)", pl_str(msg->from.auri),
                       left, clen));
      (void)sip_treply(nullptr, m_stack->get(), msg, 400, "Truncated Body");
      return true;
    }
    left = clen;
  }
  std::string_view body(reinterpret_cast<const char*>(mbuf_buf(msg->mb)), left);
  std::string ctype;
  if (const auto* h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE))
    ctype = pl_str(h->val);
  auto in = interpret(ctype, body, pl_str(msg->from.auri), pl_str(msg->to.auri));
  if (!in) {
    diag(fmt::format("MESSAGE from {}: {}; answered {}", pl_str(msg->from.auri), in.error().message,
                     in.error().code));
    (void)sip_treply(nullptr, m_stack->get(), msg, static_cast<uint16_t>(in.error().code),
                     in.error().reason.c_str());
    return true;
  }
  (void)sip_treply(nullptr, m_stack->get(), msg, 200, "OK");
  if (in->notification) {
    on_notification(*in);
    return true;
  }
  if (!m_opt.receive) {
    verbose(fmt::format("ignored a MESSAGE from {} (not in --receive mode)", in->from));
    return true;
  }
  if (m_finishing)
    return true;
  print_message(*in);
  if (!in->requested.empty()) {
    auto r = imdn::parse_requested(in->requested);
    if (r && r->positive_delivery)
      notify_back(*in, msg, imdn::Kind::Delivery);
    if (r && r->display && m_opt.display)
      notify_back(*in, msg, imdn::Kind::Display);
  }
  ++m_received;
  if (m_opt.count > 0 && m_received >= m_opt.count)
    finish(0);
  return true;
}

void Client::print_message(const Incoming& in)
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
  std::fflush(stdout);
}

void Client::notify_back(const Incoming& in, const struct sip_msg* msg, imdn::Kind kind)
{
  imdn::Notification n;
  n.message_id = in.message_id;
  n.datetime = in.datetime;
  n.recipient_uri = m_from;
  n.kind = kind;
  n.status = kind == imdn::Kind::Delivery ? imdn::Status::Delivered : imdn::Status::Displayed;
  cpim::Outgoing o;
  o.from = m_from;
  o.to = in.from;
  o.message_id = imdn::make_message_id();
  o.content_type = std::string(imdn::k_content_type);
  o.body = imdn::encode(n);
  sip::Hop hop;
  if (m_proxy) {
    hop = *m_proxy;
  } else {
    // Direct (no core): answer to where the message came from.
    char buf[64];
    sa_ntop(&msg->src, buf, sizeof(buf));
    hop.host = buf;
    hop.port = sa_port(&msg->src);
    hop.transport = msg->tp == SIP_TRANSP_TCP ? "tcp" : "udp";
  }
  if (auto r = send(in.from, in.from, cpim::encode(cpim::make(o)), o.message_id, true, hop); !r)
    diag(fmt::format("cannot send {} notification: {}", imdn::to_string(kind), r.error().message));
}

void Client::on_notification(const Incoming& in)
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
    std::fflush(stdout);
  }
  if (m_opt.receive || m_opt.lines || in.message_id != m_sent_id || m_finishing)
    return;
  bool positive = in.status == "delivered" || in.status == "displayed";
  std::string who = m_opt.recipients > 1 ? fmt::format(" from {}", in.from) : "";
  m_awaited->add(in.from, in.kind, positive);
  if (!positive) {
    diag(fmt::format("{} notification{}: {}", in.kind, who, in.status));
    // Without --wait, or once every recipient has answered, the outcome is known.
    if (!m_opt.wait || m_awaited->complete())
      finish(1);
    return;
  }
  verbose(fmt::format("{} notification{}: {}", in.kind, who, in.status));
  after_single_final();
}

void Client::on_register(int err, const struct sip_msg* msg)
{
  if (m_finishing)
    return;
  if (err) {
    diag(fmt::format("REGISTER: {}", std::strerror(err)));
    if (!m_registered)
      finish(3);
    return;
  }
  if (!msg || msg->scode < 200)
    return;
  if (msg->scode >= 300) {
    diag(fmt::format("REGISTER: SIP/2.0 {} {}", msg->scode, pl_str(msg->reason)));
    if (!m_registered)
      finish(1);
    return;
  }
  if (!m_registered) {
    m_registered = true;
    verbose(fmt::format("registered {} with {}", m_from, m_proxy->uri()));
    ready();
  }
}

void Client::finish(int code)
{
  if (m_finishing)
    return;
  m_finishing = true;
  m_exit = code;
  m_deadline.cancel();
  m_pace.cancel();
  // Abandon our own messages still in flight; notifications get their answer first.
  for (auto it = m_out.begin(); it != m_out.end();) {
    if (!it->second->notification) {
      it->second->req = static_cast<struct sip_request*>(mem_deref(it->second->req));
      it = m_out.erase(it);
    } else {
      ++it;
    }
  }
  // Unregister: libre's sipreg sends REGISTER with Expires 0 when released.
  m_reg = static_cast<struct sipreg*>(mem_deref(m_reg));
  m_drain_until = sip::jiffies() + k_drain_ms;
  check_drained();
}

void Client::check_drained()
{
  bool idle = m_out.empty() && mem_nrefs(m_stack->get()) <= m_base_refs;
  if (idle || sip::jiffies() >= m_drain_until) {
    sip::stop(m_exit);
    return;
  }
  m_drain.start(5, [this] { check_drained(); });
}

void Client::resp_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto* o = static_cast<Outstanding*>(arg);
  try {
    o->self->on_response(*o, err, msg);
  } catch (const std::exception& e) {
    cli::diag(k_prog, fmt::format("internal error: {}", e.what()));
    sip::stop(1);
  }
}

bool Client::req_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  try {
    return self->on_request(msg);
  } catch (const std::exception& e) {
    cli::diag(k_prog, fmt::format("internal error: {}", e.what()));
    (void)sip_treply(nullptr, self->m_stack->get(), msg, 500, "Server Internal Error");
    return true;
  }
}

void Client::reg_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  try {
    self->on_register(err, msg);
  } catch (const std::exception& e) {
    cli::diag(k_prog, fmt::format("internal error: {}", e.what()));
    sip::stop(1);
  }
}

int Client::auth_h(char** user, char** pass, const char* realm, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  (void)realm;
  if (self->m_opt.password.empty()) {
    cli::diag(k_prog, "REGISTER was challenged: give --password (or a [[user]] password)");
    return EAUTH;
  }
  return sip::digest_credentials(self->m_from, self->m_opt.password, user, pass);
}

} // namespace

int run(Options& opt)
{
  if (opt.common.list_nodes)
    return cli::list_nodes(k_prog, opt.common.config);
  if (!opt.common.config.empty()) {
    auto file = config::load(opt.common.config);
    if (!file) {
      cli::diag(k_prog, file.error().message);
      return 2;
    }
    if (auto r = apply_config(opt, *file); !r) {
      cli::diag(k_prog, r.error().message);
      return 2;
    }
  }
  if (auto r = validate(opt); !r) {
    cli::diag(k_prog, r.error().message);
    return 2;
  }
  sip::Library lib;
  Client c(opt);
  return c.main();
}

} // namespace cpm::send
