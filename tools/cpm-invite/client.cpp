// cpm-invite: the CPM Session client on libre (sipsess INVITE/BYE, REGISTER) and our MSRP
// (msrp::Listener/Session), chatting with stdin/stdout.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <set>
#include <sys/epoll.h>
#include <unistd.h>

#include "cpm-invite/invite.hpp"
#include "cpm/base/events.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/codec/msrp.hpp"
#include "cpm/codec/sdp.hpp"
#include "cpm/codec/service.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/rt/msrp_session.hpp"
#include "cpm/rt/sip.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::invite {

namespace {

constexpr const char* k_prog = "cpm-invite";
// How long the end of a run may wait for a BYE's or an unregister's answer.
constexpr uint64_t k_drain_ms = 2000;
// After the MSRP connection closes, how long to wait for the peer's BYE before sending ours.
constexpr uint64_t k_bye_grace_ms = 1000;
// Largest stdin line buffered.
constexpr size_t k_max_line = 1 << 20;

std::string pl_str(const struct pl& p)
{
  return p.p ? std::string(p.p, p.l) : std::string();
}

std::string body_of(const struct sip_msg* msg)
{
  if (!msg || !msg->mb)
    return {};
  size_t left = mbuf_get_left(msg->mb);
  if (pl_isset(&msg->clen))
    left = std::min<size_t>(left, pl_u32(&msg->clen));
  return std::string(reinterpret_cast<const char*>(mbuf_buf(msg->mb)), left);
}

struct mbuf* to_mbuf(const std::string& s)
{
  struct mbuf* mb = mbuf_alloc(s.size() + 1);
  if (!mb)
    return nullptr;
  (void)mbuf_write_mem(mb, reinterpret_cast<const uint8_t*>(s.data()), s.size());
  mb->pos = 0;
  return mb;
}

// Whether epoll takes `fd` (a pipe, socket or terminal; not a regular file or /dev/null), asked
// quietly: libre's fd_listen prints a warning when it does not.
bool pollable(int fd)
{
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    return false;
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  bool ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
  ::close(ep);
  return ok;
}

std::string user_part(const std::string& uri)
{
  auto colon = uri.find(':');
  auto at = uri.find('@');
  if (colon == std::string::npos || at == std::string::npos || at < colon)
    return k_prog;
  return uri.substr(colon + 1, at - colon - 1);
}

class Client {
public:
  explicit Client(Options& o) : m_opt(o) {}
  ~Client()
  {
    stop_stdin();
    m_ms.reset();
    m_sess = static_cast<struct sipsess*>(mem_deref(m_sess));
    for (auto* s : m_closed)
      mem_deref(s);
    m_closed.clear();
    m_sock = static_cast<struct sipsess_sock*>(mem_deref(m_sock));
    m_reg = static_cast<struct sipreg*>(mem_deref(m_reg));
    m_msrp.reset();
    if (m_stdin_flags >= 0)
      (void)fcntl(0, F_SETFL, m_stdin_flags);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int main();

private:
  Result<void> setup();
  void ready();
  void invite();
  void finish(int code);
  void check_drained();
  void diag(const std::string& s) const
  {
    if (!m_opt.common.quiet)
      cli::diag(k_prog, s);
  }
  void verbose(const std::string& s) const
  {
    if (m_opt.common.verbose > 0)
      cli::diag(k_prog, s);
  }
  // An event: a JSON line with --json, else a diagnostic.
  void event(events::Json e, const std::string& text);
  std::string cuser() const;
  std::string extra_headers() const;
  msrp::Callbacks msrp_callbacks();

  // The session.
  void on_progress(const struct sip_msg* msg);
  int on_answer(const struct sip_msg* msg);
  int on_offer(struct mbuf** descp, const struct sip_msg* msg);
  void on_established();
  void on_close(int err, const struct sip_msg* msg);
  void end_session(const std::string& reason, int code);
  void session_over(int code);
  void on_incoming(const struct sip_msg* msg);
  void accept_now();

  // Chat.
  void send_text(const std::string& text);
  void on_msrp_message(const msrp::Message& m);
  void settle(const std::string& id);
  void maybe_hang_up();
  void start_stdin();
  void stop_stdin();
  void read_stdin();

  void on_register(int err, const struct sip_msg* msg);

  static void conn_h(const struct sip_msg* msg, void* arg) noexcept;
  static void progr_h(const struct sip_msg* msg, void* arg) noexcept;
  static int answer_h(const struct sip_msg* msg, void* arg) noexcept;
  static int offer_h(struct mbuf** descp, const struct sip_msg* msg, void* arg) noexcept;
  static void estab_h(const struct sip_msg* msg, void* arg) noexcept;
  static void close_h(int err, const struct sip_msg* msg, void* arg) noexcept;
  static void reg_h(int err, const struct sip_msg* msg, void* arg) noexcept;
  static int auth_h(char** user, char** pass, const char* realm, void* arg) noexcept;
  static void stdin_h(int flags, void* arg) noexcept;
  template <class F> static void guard(F&& f) noexcept;

  Options& m_opt;
  trace::Writer m_trace;
  std::unique_ptr<sip::Stack> m_stack;
  std::unique_ptr<msrp::Listener> m_msrp;
  struct sipsess_sock* m_sock = nullptr;
  struct sipreg* m_reg = nullptr;
  uint32_t m_base_refs = 0;
  std::optional<sip::Hop> m_proxy;
  std::string m_route;
  std::string m_from;
  bool m_registered = false;
  bool m_finishing = false;
  int m_exit = 0;
  uint64_t m_drain_until = 0;
  sip::Timer m_deadline, m_drain, m_duration, m_answer_timer, m_grace, m_reap;
  // Sessions libre has terminated: still ours to free, but not inside their close handler.
  std::vector<struct sipsess*> m_closed;

  // The current session (one at a time).
  struct sipsess* m_sess = nullptr;
  std::unique_ptr<msrp::Session> m_ms;
  std::string m_peer;       // CPIM To of what we send: TO, or the inviter's URI
  std::string m_peer_setup; // the peer's a=setup
  std::string m_answer_sdp; // --answer: our SDP answer, sent with the 200
  bool m_established = false;
  bool m_ringing = false;
  bool m_hanging_up = false;
  std::set<std::string> m_pending; // sent, no REPORT or failure yet
  int m_sessions = 0;

  // stdin.
  bool m_stdin_eof = false;
  bool m_stdin_on = false;
  int m_stdin_flags = -1;
  std::string m_inbuf;
};

template <class F> void Client::guard(F&& f) noexcept
{
  try {
    f();
  } catch (const std::exception& e) {
    cli::diag(k_prog, fmt::format("internal error: {}", e.what()));
    sip::stop(1);
  }
}

void Client::event(events::Json e, const std::string& text)
{
  if (m_opt.common.json) {
    e["time"] = events::now();
    events::emit(e);
  } else {
    diag(text);
  }
}

Result<void> Client::setup()
{
  if (!m_opt.common.proxy.empty()) {
    auto p = sip::parse_proxy(m_opt.common.proxy);
    if (!p)
      return tl::unexpected(p.error());
    m_proxy = *p;
    m_route = p->uri();
  }
  auto listen = m_opt.common.listen;
  if (listen.empty()) {
    std::string peer = "127.0.0.1";
    if (m_proxy)
      peer = m_proxy->host;
    else if (!m_opt.answer)
      peer = sip::hop_of_uri(m_opt.to).value_or(sip::Hop{}).host;
    listen = sip::default_listen(peer);
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
  auto first = sip::parse_listen(m_stack->bound().front());
  if (!first)
    return tl::unexpected(first.error());
  std::string host = first->host;
  if (host == "0.0.0.0" || host == "::")
    return fail("--listen needs a specific address (MSRP advertises it in a=path)");
  auto l = msrp::Listener::create(host, 0, m_trace.is_open() ? &m_trace : nullptr);
  if (!l)
    return fail(fmt::format("MSRP: {}", l.error().message), 3);
  m_msrp = std::move(*l);
  m_from = m_opt.common.from;
  if (m_from.empty()) {
    auto u = m_stack->uri();
    auto semi = u.find(';');
    m_from = "sip:cpm-invite@" + u.substr(4, semi == std::string::npos ? u.npos : semi - 4);
  }
  int err = sipsess_listen(&m_sock, m_stack->get(), 32, conn_h, this);
  if (err)
    return fail(fmt::format("cannot listen: {}", std::strerror(err)), 3);
  return {};
}

std::string Client::cuser() const
{
  std::string user = user_part(m_from);
  if (m_opt.no_service_indication)
    return user;
  // The feature tag is a Contact header parameter (RFC 3840); the rest of the line becomes a
  // harmless extension header.
  auto u = m_stack->uri();
  std::string contact = "sip:" + user + "@" + u.substr(4);
  return sip::sipsess_contact(contact, service::contact_feature(service::k_icsi_session),
                              "X-CPM-Contact", contact);
}

std::string Client::extra_headers() const
{
  if (m_opt.no_service_indication)
    return {};
  return fmt::format("Accept-Contact: {}\r\nP-Preferred-Service: {}\r\n",
                     service::accept_contact(service::k_icsi_session), service::k_icsi_session);
}

msrp::Callbacks Client::msrp_callbacks()
{
  msrp::Callbacks cb;
  cb.on_message = [this](const msrp::Message& m) { on_msrp_message(m); };
  cb.on_report = [this](const std::string& id, int status) {
    if (status >= 300)
      diag(fmt::format("message {} failed: MSRP {}", id, status));
    settle(id);
  };
  cb.on_failure = [this](const std::string& id, int status) {
    diag(status ? fmt::format("message {} failed: MSRP {}", id, status)
                : fmt::format("message {} not sent: connection lost", id));
    settle(id);
  };
  cb.on_connected = [this] { verbose("MSRP connected"); };
  cb.on_closed = [this](int err) {
    if (!m_sess || m_hanging_up)
      return;
    verbose(fmt::format("MSRP connection closed{}",
                        err ? fmt::format(": {}", std::strerror(err)) : ""));
    // The peer usually sends BYE and closes MSRP at once; let its BYE arrive first.
    m_grace.start(k_bye_grace_ms, [this] {
      if (m_sess)
        end_session("MSRP connection closed", 0);
    });
  };
  cb.on_diag = [this](const std::string& s) { diag(s); };
  return cb;
}

int Client::main()
{
  if (auto r = setup(); !r) {
    cli::diag(k_prog, r.error().message);
    return r.error().code;
  }
  m_base_refs = mem_nrefs(m_stack->get());
  bool reg = m_opt.do_register || (m_opt.answer && m_proxy);
  if (reg) {
    std::string reg_uri;
    auto at = m_from.find('@');
    auto end = m_from.find_first_of(";>", at == std::string::npos ? 0 : at);
    if (at != std::string::npos)
      reg_uri = "sip:" + m_from.substr(at + 1, end == std::string::npos ? end : end - at - 1);
    else
      reg_uri = m_proxy->uri();
    const char* routev[] = {m_route.c_str()};
    std::string params = service::contact_feature(service::k_icsi_session).substr(1);
    std::string cu = user_part(m_from);
    int err = sipreg_register(&m_reg, m_stack->get(), reg_uri.c_str(), m_from.c_str(), nullptr,
                              m_from.c_str(), m_opt.expires, cu.c_str(), routev, 1, 0, auth_h, this,
                              false, reg_h, this, params.c_str(), nullptr);
    if (err) {
      cli::diag(k_prog, fmt::format("cannot register: {}", std::strerror(err)));
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
    if (m_finishing)
      return;
    if (m_sess && m_established)
      end_session("interrupted", 0);
    else if (m_sess)
      end_session("interrupted", m_opt.answer ? 0 : 3);
    else
      finish(m_opt.answer ? 0 : 3);
  });
  return code;
}

void Client::ready()
{
  m_deadline.cancel();
  m_stack->report_ready(m_opt.common.ready_fd);
  m_opt.common.ready_fd = -1;
  if (m_opt.answer)
    verbose(fmt::format("waiting for invitations on {}", m_stack->bound().front()));
  else
    invite();
}

void Client::invite()
{
  m_ms = m_msrp->session(msrp_callbacks());
  m_peer = m_opt.to;
  auto offer = sdp::format(sdp::msrp_offer(m_ms->local(), "active"));
  struct mbuf* mb = to_mbuf(offer);
  const char* routev[] = {m_route.c_str()};
  std::string cu = cuser();
  std::string hdrs = extra_headers();
  int err = sipsess_connect(&m_sess, m_sock, m_opt.to.c_str(), nullptr, m_from.c_str(), cu.c_str(),
                            m_proxy ? routev : nullptr, m_proxy ? 1 : 0, "application/sdp", mb,
                            auth_h, this, false, offer_h, answer_h, progr_h, estab_h, nullptr,
                            nullptr, close_h, this, hdrs.empty() ? nullptr : "%s", hdrs.c_str());
  mem_deref(mb);
  if (err) {
    diag(fmt::format("cannot send INVITE to {}: {}", m_opt.to, std::strerror(err)));
    finish(err == EINVAL ? 2 : 3);
    return;
  }
  verbose(fmt::format("INVITE {}{}", m_opt.to, m_proxy ? " via " + m_route : ""));
  m_deadline.start(static_cast<uint64_t>(m_opt.timeout * 1000), [this] {
    if (m_established || !m_sess)
      return;
    diag(fmt::format("no answer from {} within {} s", m_opt.to, m_opt.timeout));
    end_session("timeout", 3);
  });
}

void Client::on_progress(const struct sip_msg* msg)
{
  if ((msg->scode == 180 || msg->scode == 183) && !m_ringing) {
    m_ringing = true;
    event({{"event", "ringing"}, {"to", m_peer}, {"status", msg->scode}},
          fmt::format("{} is ringing", m_peer));
  }
}

int Client::on_answer(const struct sip_msg* msg)
{
  std::string body = body_of(msg);
  if (body.empty())
    return 0; // an ACK without SDP (--answer): the offer/answer was done in INVITE/200
  auto d = sdp::parse(body);
  if (!d) {
    diag(fmt::format("bad SDP answer: {}", d.error().message));
    return EPROTO;
  }
  auto m = sdp::msrp_media(*d);
  if (!m) {
    diag(fmt::format("SDP answer: {}", m.error().message));
    return EPROTO;
  }
  m_ms->set_remote(m->path);
  m_peer_setup = m->setup;
  return 0;
}

int Client::on_offer(struct mbuf** descp, const struct sip_msg* msg)
{
  // A re-INVITE: answer with the same MSRP session (our path does not change).
  auto d = sdp::parse(body_of(msg));
  if (!d)
    return EPROTO;
  auto a = sdp::msrp_answer(*d, m_ms->local());
  if (!a)
    return EPROTO;
  *descp = to_mbuf(sdp::format(*a));
  return *descp ? 0 : ENOMEM;
}

void Client::on_established()
{
  m_deadline.cancel();
  m_established = true;
  bool offered = !m_opt.answer;
  event({{"event", offered ? "answered" : "established"}, {"peer", m_peer}},
        offered ? fmt::format("{} answered", m_peer) : fmt::format("session with {}", m_peer));
  if (m_ms->remote().empty()) {
    end_session("no MSRP path from the peer", 1);
    return;
  }
  if (sdp::we_connect(m_peer_setup, offered)) {
    if (auto r = m_ms->connect(); !r) {
      diag(fmt::format("MSRP: {}", r.error().message));
      end_session("MSRP connection failed", 3);
      return;
    }
  }
  for (const auto& s : m_opt.send)
    send_text(s);
  if (m_opt.duration > 0)
    m_duration.start(static_cast<uint64_t>(m_opt.duration * 1000),
                     [this] { end_session("duration elapsed", 0); });
  if (!m_opt.no_stdin)
    start_stdin();
  maybe_hang_up();
}

void Client::on_close(int err, const struct sip_msg* msg)
{
  // libre has terminated the session but we still hold it (a leaked sipsess keeps the SIP
  // stack and its sockets alive): free it on the next turn of the loop.
  if (m_sess) {
    m_closed.push_back(m_sess);
    m_sess = nullptr;
    m_reap.start(0, [this] {
      for (auto* s : m_closed)
        mem_deref(s);
      m_closed.clear();
    });
  }
  if (msg && msg->scode >= 300) {
    diag(refused(m_peer, msg->scode, pl_str(msg->reason)));
    if (m_opt.common.json)
      events::emit({{"event", "refused"},
                    {"to", m_peer},
                    {"status", msg->scode},
                    {"reason", pl_str(msg->reason)},
                    {"time", events::now()}});
    session_over(1);
    return;
  }
  std::string reason = err == ECONNRESET ? "peer ended the session"
                       : err             ? std::strerror(err)
                       : msg             ? fmt::format("{} {}", msg->scode, pl_str(msg->reason))
                                         : "closed";
  event({{"event", "ended"}, {"reason", reason}}, fmt::format("session ended: {}", reason));
  if (!m_established && err != ECONNRESET) {
    if (!m_opt.answer)
      diag(fmt::format("no answer from {}: {}", m_peer, reason));
    session_over(m_opt.answer ? 0 : 3);
    return;
  }
  session_over(0);
}

void Client::end_session(const std::string& reason, int code)
{
  if (!m_sess) {
    session_over(code);
    return;
  }
  m_hanging_up = true;
  // Before the answer this is a CANCEL; after it a BYE (libre, notes §6). No closeh follows.
  m_sess = static_cast<struct sipsess*>(mem_deref(m_sess));
  event({{"event", "ended"}, {"reason", reason}}, fmt::format("session ended: {}", reason));
  session_over(code);
}

void Client::session_over(int code)
{
  m_deadline.cancel();
  m_duration.cancel();
  m_answer_timer.cancel();
  m_grace.cancel();
  stop_stdin();
  m_ms.reset();
  m_pending.clear();
  bool was_session = m_established || m_opt.answer;
  m_established = m_ringing = m_hanging_up = false;
  m_answer_sdp.clear();
  m_peer_setup.clear();
  if (!m_opt.answer) {
    finish(code);
    return;
  }
  if (was_session)
    ++m_sessions;
  if ((m_opt.count > 0 && m_sessions >= m_opt.count) || code != 0 ||
      (m_stdin_eof && !m_opt.no_stdin))
    finish(code);
}

void Client::on_incoming(const struct sip_msg* msg)
{
  std::string from = pl_str(msg->from.auri);
  if (m_finishing || m_sess) {
    verbose(fmt::format("busy: refused an INVITE from {}", from));
    (void)sip_treply(nullptr, m_stack->get(), msg, 486, "Busy Here");
    return;
  }
  bool group = false;
  if (const auto* h = sip_msg_hdr(msg, SIP_HDR_CONTACT))
    group = is_focus(pl_str(h->val));
  event({{"event", "invited"}, {"from", from}, {"group", group}},
        fmt::format("{} invites{}", from, group ? " (group session)" : ""));
  if (m_opt.decline) {
    const char* reason = m_opt.decline == 486   ? "Busy Here"
                         : m_opt.decline == 603 ? "Decline"
                         : m_opt.decline == 480 ? "Temporarily Unavailable"
                                                : "Declined";
    (void)sip_treply(nullptr, m_stack->get(), msg, static_cast<uint16_t>(m_opt.decline), reason);
    event({{"event", "declined"}, {"from", from}, {"status", m_opt.decline}},
          fmt::format("declined with {} {}", m_opt.decline, reason));
    ++m_sessions;
    if (m_opt.count > 0 && m_sessions >= m_opt.count)
      finish(0);
    return;
  }
  auto offer = sdp::parse(body_of(msg));
  if (!offer) {
    diag(fmt::format("INVITE from {}: {}; answered 400", from, offer.error().message));
    (void)sip_treply(nullptr, m_stack->get(), msg, 400, "Bad SDP");
    return;
  }
  auto media = sdp::msrp_media(*offer);
  if (!media) {
    diag(fmt::format("INVITE from {}: {}; answered 488", from, media.error().message));
    (void)sip_treply(nullptr, m_stack->get(), msg, 488, "Not Acceptable Here");
    return;
  }
  m_ms = m_msrp->session(msrp_callbacks());
  m_ms->set_remote(media->path);
  m_peer_setup = media->setup;
  m_peer = from;
  auto answer = sdp::msrp_answer(*offer, m_ms->local());
  if (!answer) { // msrp_media succeeded, so this cannot happen; answer like it anyway
    (void)sip_treply(nullptr, m_stack->get(), msg, 488, "Not Acceptable Here");
    m_ms.reset();
    return;
  }
  m_answer_sdp = sdp::format(*answer);
  std::string cu = cuser();
  std::string hdrs = extra_headers();
  int err = sipsess_accept(&m_sess, m_sock, msg, 180, "Ringing", cu.c_str(), "application/sdp",
                           nullptr, auth_h, this, false, offer_h, answer_h, estab_h, nullptr,
                           nullptr, close_h, this, hdrs.empty() ? nullptr : "%s", hdrs.c_str());
  if (err) {
    diag(fmt::format("cannot answer the INVITE from {}: {}", from, std::strerror(err)));
    (void)sip_treply(nullptr, m_stack->get(), msg, 500, "Server Internal Error");
    m_ms.reset();
    return;
  }
  if (m_opt.answer_after > 0)
    m_answer_timer.start(static_cast<uint64_t>(m_opt.answer_after * 1000),
                         [this] { accept_now(); });
  else
    accept_now();
}

void Client::accept_now()
{
  if (!m_sess)
    return;
  struct mbuf* mb = to_mbuf(m_answer_sdp);
  std::string hdrs = extra_headers();
  int err = sipsess_answer(m_sess, 200, "OK", mb, hdrs.empty() ? nullptr : "%s", hdrs.c_str());
  mem_deref(mb);
  if (err) {
    diag(fmt::format("cannot send 200: {}", std::strerror(err)));
    end_session("cannot answer", 3);
  }
}

void Client::send_text(const std::string& text)
{
  if (!m_ms)
    return;
  Chat c;
  c.from = m_from;
  c.to = m_peer;
  c.message_id = imdn::make_message_id();
  msrp::Message m;
  m.message_id = msrp::random_id(16);
  m.content_type = "message/cpim";
  c.text = text;
  m.body = wrap(c);
  m.success_report = true; // the REPORT tells us the peer has it (end of stdin waits for it)
  m.failure_report = "yes";
  m_pending.insert(m_ms->send(std::move(m)));
  verbose(fmt::format("sent {} bytes to {}", text.size(), m_peer));
}

void Client::on_msrp_message(const msrp::Message& m)
{
  if (m.body.empty())
    return;
  auto c = unwrap(m.content_type, m.body);
  if (!c) {
    diag(fmt::format("message from {}: {}", m_peer, c.error().message));
    return;
  }
  if (c->from.empty())
    c->from = m_peer;
  if (c->to.empty())
    c->to = m_from;
  if (m_opt.common.json) {
    events::emit(chat_event(*c));
    return;
  }
  auto line = chat_line(*c);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void Client::settle(const std::string& id)
{
  m_pending.erase(id);
  maybe_hang_up();
}

void Client::maybe_hang_up()
{
  if (!m_established || !m_sess || m_opt.no_stdin || !m_stdin_eof || !m_pending.empty())
    return;
  end_session("end of input", 0);
}

void Client::start_stdin()
{
  if (m_stdin_on || m_stdin_eof)
    return;
  if (m_stdin_flags < 0)
    m_stdin_flags = fcntl(0, F_GETFL);
  if (m_stdin_flags >= 0)
    (void)fcntl(0, F_SETFL, m_stdin_flags | O_NONBLOCK);
  if (pollable(0) && fd_listen(0, FD_READ, stdin_h, this) == 0) {
    m_stdin_on = true;
    return;
  }
  // A regular file (or /dev/null) cannot be polled: it is all there, read it now.
  while (!m_stdin_eof)
    read_stdin();
}

void Client::stop_stdin()
{
  if (m_stdin_on)
    fd_close(0);
  m_stdin_on = false;
}

void Client::read_stdin()
{
  char buf[4096];
  ssize_t n = ::read(0, buf, sizeof(buf));
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR)
      return;
    diag(fmt::format("stdin: {}", std::strerror(errno)));
    n = 0;
  }
  if (n == 0) {
    m_stdin_eof = true;
    stop_stdin();
    if (!m_inbuf.empty()) {
      send_text(m_inbuf);
      m_inbuf.clear();
    }
    maybe_hang_up();
    return;
  }
  m_inbuf.append(buf, static_cast<size_t>(n));
  size_t nl;
  while ((nl = m_inbuf.find('\n')) != std::string::npos) {
    std::string line = m_inbuf.substr(0, nl);
    m_inbuf.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    send_text(line);
  }
  if (m_inbuf.size() > k_max_line) {
    send_text(m_inbuf);
    m_inbuf.clear();
  }
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
    verbose(fmt::format("registered {} with {}", m_from, m_route));
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
  stop_stdin();
  if (m_sess) {
    m_sess = static_cast<struct sipsess*>(mem_deref(m_sess));
    m_ms.reset();
  }
  // Unregister: libre's sipreg sends REGISTER with Expires 0 when released.
  m_reg = static_cast<struct sipreg*>(mem_deref(m_reg));
  m_drain_until = sip::jiffies() + k_drain_ms;
  check_drained();
}

void Client::check_drained()
{
  if (mem_nrefs(m_stack->get()) <= m_base_refs || sip::jiffies() >= m_drain_until) {
    sip::stop(m_exit);
    return;
  }
  m_drain.start(5, [this] { check_drained(); });
}

void Client::conn_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  try {
    if (!self->m_opt.answer) {
      (void)sip_treply(nullptr, self->m_stack->get(), msg, 486, "Busy Here");
      return;
    }
    self->on_incoming(msg);
  } catch (const std::exception& e) {
    cli::diag(k_prog, fmt::format("internal error: {}", e.what()));
    (void)sip_treply(nullptr, self->m_stack->get(), msg, 500, "Server Internal Error");
  }
}

void Client::progr_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  guard([&] { self->on_progress(msg); });
}

int Client::answer_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  int err = 0;
  guard([&] { err = self->on_answer(msg); });
  return err;
}

int Client::offer_h(struct mbuf** descp, const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  int err = EPROTO;
  guard([&] { err = self->on_offer(descp, msg); });
  return err;
}

void Client::estab_h(const struct sip_msg* msg, void* arg) noexcept
{
  (void)msg;
  auto* self = static_cast<Client*>(arg);
  guard([&] { self->on_established(); });
}

void Client::close_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  guard([&] { self->on_close(err, msg); });
}

void Client::reg_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  guard([&] { self->on_register(err, msg); });
}

void Client::stdin_h(int flags, void* arg) noexcept
{
  (void)flags;
  auto* self = static_cast<Client*>(arg);
  guard([&] { self->read_stdin(); });
}

int Client::auth_h(char** user, char** pass, const char* realm, void* arg) noexcept
{
  auto* self = static_cast<Client*>(arg);
  (void)realm;
  if (self->m_opt.password.empty()) {
    cli::diag(k_prog, "the request was challenged: give --password (or a [[user]] password)");
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

} // namespace cpm::invite
