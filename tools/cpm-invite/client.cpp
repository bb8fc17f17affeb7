// cpm-invite: the CPM Session client on the ua layer (INVITE sessions, REGISTER) and our
// MSRP (msrp::Listener/Session), chatting with stdin/stdout.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "cpm-invite/audio.hpp"
#include "cpm-invite/invite.hpp"
#include "cpm/base/events.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/codec/msrp.hpp"
#include "cpm/codec/sdp.hpp"
#include "cpm/codec/service.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/rt/audio_sdp.hpp"
#include "cpm/rt/msrp_session.hpp"
#include "cpm/rt/signals.hpp"
#include "cpm/rt/tls.hpp"
#include "cpm/ua/endpoint.hpp"
#include "cpm/ua/line_input.hpp"
#include "cpm/ua/program.hpp"
#include "cpm/ua/session.hpp"

namespace cpm::invite {

namespace {

constexpr const char* k_prog = "cpm-invite";

// The reason phrase of a --decline status.
const char* decline_reason(int status)
{
  return status == 486   ? "Busy Here"
         : status == 603 ? "Decline"
         : status == 480 ? "Temporarily Unavailable"
                         : "Declined";
}

class Client {
public:
  explicit Client(Options& o)
      : m_opt(o), m_log{k_prog, o.common.quiet, o.common.verbose},
        m_input(
            0, m_log, [this](const std::string& line) { on_line(line); },
            [this] { maybe_hang_up(); }),
        m_audio(m_log)
  {
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int main();

private:
  Result<void> setup();
  void ready();
  void invite();
  void finish(int code);
  // An event: a JSON line with --json, else a diagnostic.
  void event(events::Json e, const std::string& text);
  std::string cuser() const;
  std::string extra_headers() const;
  msrp::Callbacks msrp_callbacks();
  ua::SessionHandlers session_handlers();

  // The session.
  void on_progress(int status);
  bool on_answer(std::string_view sdp);
  std::optional<std::string> on_offer(std::string_view sdp);
  void on_established();
  void on_close(const ua::Ending& e);
  void on_msrp_lost(int err);
  void end_session(const std::string& reason, int code);
  void session_over(int code);
  void on_invite(ua::Invitation& inv);
  void decline(ua::Invitation& inv);
  void accept_now();

  // Media.
  void on_line(const std::string& line);
  void add_audio();
  void remove_audio();
  void change_audio(sdp::Direction dir, std::optional<media::Codec> codec);
  // Offer `next` in a re-INVITE changing `what`; `again` makes the change anew from the
  // session as it is then (a retry after glare).
  void offer(const sdp::Description& next, const std::string& what, std::function<void()> again);
  void on_reinvite_done(const sdp::Description& offered, const std::string& what,
                        const std::function<void()>& again, const sip::ReinviteResult& r);
  // RFC 3261 §14.1: our re-INVITE got 491; true when it will be tried again.
  bool retry_after_glare(const std::string& what, const std::function<void()>& again);
  void on_glare();
  // Apply the negotiated audio of `local` (ours) and `remote` (the peer's): start, change
  // or stop the stream.
  void apply_audio(const sdp::Description& local, const sdp::Description& remote);
  std::optional<sdp::Media> local_audio(sdp::Direction dir) const;
  void media_changed(const sdp::Description& before, const sdp::Description& after);

  // Chat.
  void send_text(const std::string& text);
  void on_msrp_message(const msrp::Message& m);
  void settle(const std::string& id);
  void maybe_hang_up();

  Options& m_opt;
  ua::Log m_log;
  std::unique_ptr<ua::Endpoint> m_ep;
  std::unique_ptr<sip::TlsContext> m_tls; // MSRP's, when the stack has none
  std::unique_ptr<msrp::Listener> m_msrp;
  std::unique_ptr<ua::Sessions> m_sessions;
  bool m_finishing = false;
  sip::Timer m_deadline, m_duration, m_answer_timer, m_grace;

  // The current session (one at a time).
  std::unique_ptr<ua::Session> m_sess;
  std::unique_ptr<msrp::Session> m_ms;
  bool m_msrp_up = false;   // this session's MSRP connection came up
  std::string m_peer;       // CPIM To of what we send: TO, or the inviter's URI
  std::string m_peer_setup; // the peer's a=setup
  std::string m_answer_sdp; // --answer: our SDP answer, sent with the 200
  bool m_established = false;
  bool m_ringing = false;
  bool m_hanging_up = false;
  std::set<std::string> m_pending; // sent, no REPORT or failure yet
  int m_sessions_done = 0;

  ua::LineInput m_input; // stdin, once a session is up

  // Media: our last offer or answer, the peer's, and the stream they negotiated.
  sdp::Description m_local, m_remote;
  bool m_has_sdp = false;
  std::string m_host; // our address (MSRP and RTP)
  media::Codec m_codec = media::Codec::Pcmu;
  bool m_accept_audio = true;
  sdp::Direction m_direction = sdp::Direction::SendRecv;
  Audio m_audio;
  sip::Timer m_add_audio;
  std::unique_ptr<sip::Signals> m_signals;
  // Glare: what our pending re-INVITE changes, its tries after a 491, the timer of the next.
  std::string m_changing;
  int m_glare_tries = 0;
  bool m_retrying = false;
  sip::Timer m_glare_retry;
};

void Client::event(events::Json e, const std::string& text)
{
  if (m_opt.common.json) {
    e["time"] = events::now();
    events::emit(e);
  } else {
    m_log.diag(text);
  }
}

Result<void> Client::setup()
{
  auto s = ua::settings_of(m_log, m_opt.common, m_opt.name, m_opt.password);
  s.missing_password = "the request was challenged: give --password (or a [[user]] password)";
  s.peer = m_opt.answer ? "" : m_opt.to;
  auto ep = ua::Endpoint::create(s);
  if (!ep)
    return tl::unexpected(ep.error());
  m_ep = std::move(*ep);
  auto first = sip::parse_listen(m_ep->stack().bound().front());
  if (!first)
    return tl::unexpected(first.error());
  std::string host = first->host;
  if (host == "0.0.0.0" || host == "::")
    return fail("--listen needs a specific address (MSRP advertises it in a=path)");
  m_host = host;
  if (auto r = m_audio.open_files(m_opt.audio_in, m_opt.audio_once, m_opt.audio_out); !r)
    return r;
  m_codec = media::codec_by_name(m_opt.codec).value_or(media::Codec::Pcmu);
  m_accept_audio = accepts_audio(m_opt.accept_media).value_or(true);
  // MSRP over TLS on the stack's TLS context, or on one of our own when SIP has none.
  const sip::TlsContext* tls = m_ep->stack().tls();
  if (!tls && !m_opt.common.tls.cert.empty()) {
    auto ctx = sip::TlsContext::create(m_opt.common.tls);
    if (!ctx)
      return tl::unexpected(ctx.error());
    m_tls = std::move(*ctx);
    tls = m_tls.get();
  }
  auto l = msrp::Listener::create(host, 0, m_ep->tracer(), tls);
  if (!l)
    return fail(fmt::format("MSRP: {}", l.error().message), 3);
  m_msrp = std::move(*l);
  if (m_opt.msrp_tls && !m_msrp->has_tls())
    return fail("--msrp-tls (msrp_tls) needs a certificate: give --tls-cert (tls_cert)", 2);
  auto sessions = ua::Sessions::listen(m_ep->stack(), m_ep->digest(), m_log,
                                       [this](ua::Invitation& inv) { on_invite(inv); });
  if (!sessions)
    return tl::unexpected(sessions.error());
  m_sessions = std::move(*sessions);
  return {};
}

std::string Client::cuser() const
{
  std::string user = ua::user_of(m_ep->from(), k_prog);
  if (m_opt.no_service_indication)
    return user;
  // The feature tag is a Contact header parameter (RFC 3840); the rest of the line becomes a
  // harmless extension header.
  auto u = m_ep->stack().uri();
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
      m_log.diag(fmt::format("message {} failed: MSRP {}", id, status));
    settle(id);
  };
  cb.on_failure = [this](const std::string& id, int status) {
    m_log.diag(status ? fmt::format("message {} failed: MSRP {}", id, status)
                      : fmt::format("message {} not sent: connection lost", id));
    // A connection that never came up fails the session (on_closed follows), rather than
    // settle the message and end the input as if all went well.
    if (status == 0 && !m_msrp_up)
      return;
    settle(id);
  };
  cb.on_connected = [this] {
    m_msrp_up = true;
    m_log.note(m_ms && m_ms->local().secure ? "MSRP connected (TLS)" : "MSRP connected");
  };
  cb.on_closed = [this](int err) { on_msrp_lost(err); };
  cb.on_diag = [this](const std::string& s) { m_log.diag(s); };
  return cb;
}

ua::SessionHandlers Client::session_handlers()
{
  ua::SessionHandlers h;
  h.progress = [this](int status) { on_progress(status); };
  h.answer = [this](std::string_view sdp) { return on_answer(sdp); };
  h.offer = [this](std::string_view sdp) { return on_offer(sdp); };
  h.established = [this] { on_established(); };
  h.glare = [this] { on_glare(); };
  h.closed = [this](const ua::Ending& e) { on_close(e); };
  return h;
}

int Client::main()
{
  if (auto r = setup(); !r) {
    m_log.error(r.error().message);
    return r.error().code;
  }
  std::optional<ua::Registering> reg;
  if (m_opt.do_register || (m_opt.answer && m_ep->proxy()))
    reg = ua::Registering{std::string(service::k_icsi_session), m_opt.expires, m_opt.timeout};
  auto started = m_ep->start(
      reg, m_opt.common.ready_fd, [this] { ready(); }, [this](int code) { finish(code); });
  if (!started) {
    m_log.error(started.error().message);
    return started.error().code;
  }
  m_signals = std::make_unique<sip::Signals>(std::vector<int>{SIGUSR1, SIGUSR2}, [this](int sig) {
    if (!m_established)
      m_log.diag(fmt::format("{}: no session to change", sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2"));
    else if (sig == SIGUSR1)
      add_audio();
    else
      remove_audio();
  });
  return sip::run([this](int) {
    if (m_finishing)
      return;
    if (m_sess && m_established)
      end_session("interrupted", 0);
    else if (m_sess)
      end_session("interrupted", m_opt.answer ? 0 : 3);
    else
      finish(m_opt.answer ? 0 : 3);
  });
}

void Client::ready()
{
  if (m_opt.answer)
    m_log.note(fmt::format("waiting for invitations on {}", m_ep->stack().bound().front()));
  else
    invite();
}

void Client::invite()
{
  // RFC 4975 §14: the chat over TLS when asked, or when the signalling is secure.
  bool secure = msrp::offer_tls(m_opt.msrp_tls, m_opt.to,
                                m_ep->proxy() ? m_ep->proxy()->transport : std::string());
  if (secure && !m_msrp->has_tls()) { // over TLS signalling (--msrp-tls has one: setup())
    m_log.diag(fmt::format("the INVITE to {} goes over TLS but the chat goes over TCP: MSRP "
                           "over TLS needs a certificate (--tls-cert)",
                           m_opt.to));
    secure = false;
  }
  m_msrp_up = false;
  m_ms = m_msrp->session(msrp_callbacks(), secure);
  m_peer = m_opt.to;
  ua::Call c;
  c.to = m_opt.to;
  c.from = m_ep->from();
  c.contact_user = cuser();
  c.route = m_ep->proxy() ? m_ep->proxy()->uri() : "";
  // libre's sip_request refuses a sips: next hop (ENOSYS): a sips: target without a proxy is
  // reached through a Route naming it as sip:...;transport=tls.
  if (auto h = sip::hop_of_uri(c.to); c.route.empty() && h && h->transport == "tls")
    c.route = h->uri() + ";lr";
  m_local = sdp::msrp_offer(m_ms->local(), "active");
  if (m_opt.offer_audio) {
    if (auto p = m_audio.bind(m_host); p)
      m_local = sdp::add_media(m_local, *local_audio(m_direction));
    else
      m_log.diag(fmt::format("--audio: {}; the INVITE offers chat alone", p.error().message));
  }
  m_has_sdp = true;
  c.sdp = sdp::format(m_local);
  c.headers = extra_headers();
  auto sess = m_sessions->connect(c, session_handlers());
  if (!sess) {
    m_log.diag(fmt::format("cannot send INVITE to {}: {}", m_opt.to, sess.error().message));
    finish(sess.error().code);
    return;
  }
  m_sess = std::move(*sess);
  m_log.note(fmt::format("INVITE {}{}", m_opt.to, c.route.empty() ? "" : " via " + c.route));
  m_deadline.start(static_cast<uint64_t>(m_opt.timeout * 1000), [this] {
    if (m_established || !m_sess)
      return;
    m_log.diag(fmt::format("no answer from {} within {} s", m_opt.to, m_opt.timeout));
    end_session("timeout", 3);
  });
}

void Client::on_progress(int status)
{
  if ((status == 180 || status == 183) && !m_ringing) {
    m_ringing = true;
    event({{"event", "ringing"}, {"to", m_peer}, {"status", status}},
          fmt::format("{} is ringing", m_peer));
  }
}

bool Client::on_answer(std::string_view sdp)
{
  if (sdp.empty())
    return true; // an ACK without SDP (--answer): the offer/answer was done in INVITE/200
  auto d = sdp::parse(sdp);
  if (!d) {
    m_log.diag(fmt::format("bad SDP answer: {}", d.error().message));
    return false;
  }
  auto m = sdp::msrp_media(*d);
  if (!m) {
    m_log.diag(fmt::format("SDP answer: {}", m.error().message));
    return false;
  }
  if (m->tls != m_ms->local().secure) {
    m_log.diag(fmt::format("SDP answer: {} answered our {} chat with {}", m_peer,
                           m_ms->local().secure ? "TCP/TLS/MSRP" : "TCP/MSRP",
                           m->tls ? "TCP/TLS/MSRP" : "TCP/MSRP"));
    return false;
  }
  m_ms->set_remote(m->path);
  m_peer_setup = m->setup;
  m_remote = *d;
  if (sdp::audio_of(m_local)) { // --audio: the answer took it, or refused it by port 0
    auto chat = sdp::remove_media(m_local, "audio");
    for (size_t i = 0; i < m_local.media.size() && i < d->media.size(); ++i)
      if (d->media[i].port == 0)
        m_local.media[i].port = 0;
    if (!sdp::audio_of(m_local))
      event(media_event("refused", "audio", 200),
            fmt::format("{} answered without audio (port 0)", m_peer));
    apply_audio(m_local, m_remote);
    media_changed(chat, m_local);
  }
  return true;
}

std::optional<std::string> Client::on_offer(std::string_view sdp)
{
  // A re-INVITE: answer with the same MSRP session (our path does not change), audio as
  // --accept-media says.
  auto d = sdp::parse(sdp);
  if (!d) {
    m_log.diag(fmt::format("re-INVITE from {}: {}; answered 488", m_peer, d.error().message));
    return std::nullopt;
  }
  std::optional<sdp::Media> audio;
  auto offered = sdp::audio_of(*d);
  if (offered && m_accept_audio) {
    if (auto p = m_audio.bind(m_host); p)
      audio = local_audio(sdp::Direction::SendRecv);
    else
      m_log.diag(p.error().message);
  }
  auto a = sdp::answer(*d, m_ms->local(), audio);
  if (!a) {
    m_log.diag(fmt::format("re-INVITE from {}: {}; answered 488", m_peer, a.error().message));
    return std::nullopt;
  }
  if (m_has_sdp)
    a->origin = sdp::next_version(m_local).origin;
  if (offered && !m_accept_audio)
    event(media_event("refused", "audio"),
          fmt::format("refused audio from {} (--accept-media {})", m_peer, m_opt.accept_media));
  auto before = m_local;
  m_local = *a;
  m_remote = *d;
  m_has_sdp = true;
  apply_audio(m_local, m_remote);
  media_changed(before, m_local);
  return sdp::format(*a);
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
      m_log.diag(fmt::format("MSRP: {}", r.error().message));
      end_session("MSRP connection failed", 3);
      return;
    }
  }
  for (const auto& s : m_opt.send)
    send_text(s);
  if (m_opt.add_audio_after >= 0)
    m_add_audio.start(static_cast<uint64_t>(m_opt.add_audio_after * 1000), [this] { add_audio(); });
  if (m_opt.duration > 0)
    m_duration.start(static_cast<uint64_t>(m_opt.duration * 1000),
                     [this] { end_session("duration elapsed", 0); });
  if (!m_opt.no_stdin)
    m_input.start();
  maybe_hang_up();
}

void Client::on_close(const ua::Ending& e)
{
  m_sess.reset(); // libre has ended it (ua::Sessions frees it on the next turn)
  if (e.status >= 300) {
    m_log.diag(refused(m_peer, e.status, e.reason));
    if (m_opt.common.json)
      events::emit({{"event", "refused"},
                    {"to", m_peer},
                    {"status", e.status},
                    {"reason", e.reason},
                    {"time", events::now()}});
    session_over(1);
    return;
  }
  std::string reason = e.err == ECONNRESET ? "peer ended the session"
                       : e.err             ? sip::errno_text(e.err)
                       : e.status          ? fmt::format("{} {}", e.status, e.reason)
                                           : "closed";
  event({{"event", "ended"}, {"reason", reason}}, fmt::format("session ended: {}", reason));
  if (!m_established && e.err != ECONNRESET) {
    if (!m_opt.answer)
      m_log.diag(fmt::format("no answer from {}: {}", m_peer, reason));
    session_over(m_opt.answer ? 0 : 3);
    return;
  }
  session_over(0);
}

// RFC 4975 §5.4: a session whose MSRP connection fails has failed. A peer that ends the
// session closes the connection too, and its BYE, relayed by every proxy on the path
// (retransmitted over lossy UDP for up to 64*T1), usually comes after the connection's
// end: it is awaited for --timeout. Without it the peer is gone (a focus killed, a network
// cut): the session ends with our BYE and exit status 3, said on stderr and in --json.
void Client::on_msrp_lost(int err)
{
  if (!m_sess || m_hanging_up || m_grace.active())
    return;
  if (err && !m_msrp_up) { // ours never came up (refused, or TLS refused): no chat to wait for
    end_session("MSRP connection failed", 3);
    return;
  }
  std::string why = err ? fmt::format(" ({})", sip::errno_text(err)) : "";
  m_log.note(fmt::format("MSRP connection to {} closed{}; waiting up to {} s for its BYE", m_peer,
                         why, m_opt.timeout));
  m_grace.start(static_cast<uint64_t>(m_opt.timeout * 1000), [this, why] {
    if (!m_sess)
      return;
    m_log.diag(fmt::format("session with {} failed: its MSRP connection was lost{} and no BYE "
                           "came within {} s (the peer or the group's focus is gone)",
                           m_peer, why, m_opt.timeout));
    end_session("MSRP connection lost", 3);
  });
}

void Client::end_session(const std::string& reason, int code)
{
  if (!m_sess) {
    session_over(code);
    return;
  }
  m_hanging_up = true;
  // Before the answer this is a CANCEL; after it a BYE (libre, notes §6). No closeh follows.
  m_sess.reset();
  event({{"event", "ended"}, {"reason", reason}}, fmt::format("session ended: {}", reason));
  session_over(code);
}

void Client::session_over(int code)
{
  m_deadline.cancel();
  m_duration.cancel();
  m_answer_timer.cancel();
  m_grace.cancel();
  m_add_audio.cancel();
  m_glare_retry.cancel();
  m_glare_tries = 0;
  m_input.stop();
  m_audio.stop();
  m_has_sdp = false;
  m_direction = sdp::Direction::SendRecv;
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
    ++m_sessions_done;
  if ((m_opt.count > 0 && m_sessions_done >= m_opt.count) || code != 0 ||
      (m_input.ended() && !m_opt.no_stdin))
    finish(code);
}

void Client::on_invite(ua::Invitation& inv)
{
  if (!m_opt.answer) {
    inv.reject(486, "Busy Here");
    return;
  }
  if (m_finishing || m_sess) {
    m_log.note(fmt::format("busy: refused an INVITE from {}", inv.from));
    inv.reject(486, "Busy Here");
    return;
  }
  bool group = is_focus(inv.contact);
  event({{"event", "invited"}, {"from", inv.from}, {"group", group}},
        fmt::format("{} invites{}", inv.from, group ? " (group session)" : ""));
  if (m_opt.decline) {
    decline(inv);
    return;
  }
  auto offer = sdp::parse(inv.sdp);
  if (!offer) {
    m_log.diag(fmt::format("INVITE from {}: {}; answered 400", inv.from, offer.error().message));
    inv.reject(400, "Bad SDP");
    return;
  }
  auto media = sdp::msrp_media(*offer);
  if (!media) {
    m_log.diag(fmt::format("INVITE from {}: {}; answered 488", inv.from, media.error().message));
    inv.reject(488, "Not Acceptable Here");
    return;
  }
  if (media->tls && !m_msrp->has_tls()) {
    m_log.diag(fmt::format("INVITE from {}: its chat is over TLS (TCP/TLS/MSRP) and we have no "
                           "certificate (--tls-cert); answered 488",
                           inv.from));
    inv.reject(488, "Not Acceptable Here");
    return;
  }
  m_msrp_up = false;
  m_ms = m_msrp->session(msrp_callbacks(), media->tls);
  m_ms->set_remote(media->path);
  m_peer_setup = media->setup;
  m_peer = inv.from;
  std::optional<sdp::Media> audio;
  auto offered = sdp::audio_of(*offer);
  if (offered && m_accept_audio) {
    if (auto p = m_audio.bind(m_host); p)
      audio = local_audio(sdp::Direction::SendRecv);
    else
      m_log.diag(p.error().message);
  }
  auto answer = sdp::answer(*offer, m_ms->local(), audio);
  if (!answer) { // msrp_media succeeded, so this cannot happen; answer like it anyway
    inv.reject(488, "Not Acceptable Here");
    m_ms.reset();
    return;
  }
  m_answer_sdp = sdp::format(*answer);
  m_local = *answer;
  m_remote = *offer;
  m_has_sdp = true;
  auto sess = inv.accept(cuser(), extra_headers(), session_handlers());
  if (!sess) {
    m_log.diag(fmt::format("cannot answer the INVITE from {}: {}", inv.from, sess.error().message));
    m_ms.reset(); // ua::Sessions answers 500
    return;
  }
  m_sess = std::move(*sess);
  if (m_opt.answer_after > 0)
    m_answer_timer.start(static_cast<uint64_t>(m_opt.answer_after * 1000),
                         [this] { accept_now(); });
  else
    accept_now();
}

void Client::decline(ua::Invitation& inv)
{
  const char* reason = decline_reason(m_opt.decline);
  inv.reject(m_opt.decline, reason);
  event({{"event", "declined"}, {"from", inv.from}, {"status", m_opt.decline}},
        fmt::format("declined with {} {}", m_opt.decline, reason));
  ++m_sessions_done;
  if (m_opt.count > 0 && m_sessions_done >= m_opt.count)
    finish(0);
}

void Client::accept_now()
{
  if (!m_sess)
    return;
  apply_audio(m_local, m_remote);
  media_changed(sdp::Description{}, m_local);
  if (auto r = m_sess->answer(m_answer_sdp, extra_headers()); !r) {
    m_log.diag(fmt::format("cannot send 200: {}", r.error().message));
    end_session("cannot answer", 3);
  }
}

void Client::on_line(const std::string& line)
{
  auto c = parse_command(line);
  using K = Command::Kind;
  switch (c.kind) {
  case K::Chat:
    send_text(c.text);
    return;
  case K::AudioOn:
    add_audio();
    return;
  case K::AudioOff:
    remove_audio();
    return;
  case K::Hold:
    change_audio(sdp::Direction::SendOnly, std::nullopt);
    return;
  case K::Resume:
    change_audio(sdp::Direction::SendRecv, std::nullopt);
    return;
  case K::Codec:
    change_audio(m_direction, media::codec_by_name(c.text));
    return;
  case K::Help:
    std::fprintf(stderr, "%s\n", command_help().c_str());
    return;
  case K::Unknown:
    m_log.diag(fmt::format("unknown command '{}' (nothing sent; /help lists them, //text sends "
                           "/text)",
                           c.text));
    return;
  }
}

std::optional<sdp::Media> Client::local_audio(sdp::Direction dir) const
{
  if (!m_audio.bound())
    return std::nullopt;
  // The preferred codec first: the answerer takes the first of ours it supports.
  return media::audio_line(m_host, m_audio.port(), media::preferring(m_codec), dir);
}

void Client::add_audio()
{
  if (!m_sess || !m_established || !m_has_sdp)
    return m_log.diag("/audio: no session");
  if (m_audio.active())
    return m_log.diag("/audio: the session has audio already");
  auto p = m_audio.bind(m_host);
  if (!p)
    return m_log.diag(p.error().message);
  m_direction = sdp::Direction::SendRecv;
  offer(sdp::add_media(m_local, *local_audio(m_direction)), "audio", [this] { add_audio(); });
}

void Client::remove_audio()
{
  if (!m_sess || !m_established || !m_has_sdp)
    return m_log.diag("/audio off: no session");
  if (!sdp::audio_of(m_local))
    return m_log.diag("/audio off: the session has no audio");
  offer(sdp::remove_media(m_local, "audio"), "audio", [this] { remove_audio(); });
}

void Client::change_audio(sdp::Direction dir, std::optional<media::Codec> codec)
{
  if (!m_sess || !m_established || !m_has_sdp || !sdp::audio_of(m_local) || !m_audio.bound())
    return m_log.diag("no audio to change (/audio adds it)");
  if (codec)
    m_codec = *codec;
  m_direction = dir;
  offer(sdp::replace_media(m_local, *local_audio(dir)), "audio",
        [this, dir, codec] { change_audio(dir, codec); });
}

void Client::offer(const sdp::Description& next, const std::string& what,
                   std::function<void()> again)
{
  if (!m_retrying) {
    // A change of the user's own: a retry still waiting gives way to it.
    m_glare_retry.cancel();
    m_glare_tries = 0;
  }
  auto r =
      m_sess->modify(sdp::format(next), [this, next, what, again](const sip::ReinviteResult& res) {
        on_reinvite_done(next, what, again, res);
      });
  if (!r) {
    m_log.diag(fmt::format("cannot change the session: {}", r.error().message));
    return;
  }
  m_changing = what;
  m_log.note(fmt::format("re-INVITE {} ({})", m_peer, what));
}

bool Client::retry_after_glare(const std::string& what, const std::function<void()>& again)
{
  if (!m_sess)
    return false;
  if (m_glare_tries >= sip::k_glare_retries) {
    m_log.diag(fmt::format("glare: {} answered 491 Request Pending {} times; giving up the "
                           "change of {}",
                           m_peer, m_glare_tries + 1, what));
    return false;
  }
  ++m_glare_tries;
  auto delay = sip::glare_delay_ms(m_sess->owns_call_id());
  auto e = media_event("retry", what, 491);
  e["after_ms"] = delay;
  e["attempt"] = m_glare_tries + 1;
  event(e, fmt::format("glare: {} answered our re-INVITE ({}) 491 Request Pending (its own "
                       "re-INVITE crossed ours); trying again in {}.{:02} s",
                       m_peer, what, delay / 1000, delay % 1000 / 10));
  m_glare_retry.start(delay, [this, again] {
    m_retrying = true;
    again();
    m_retrying = false;
  });
  return true;
}

void Client::on_glare()
{
  event(media_event("glare", m_changing, 491),
        fmt::format("glare: {} sent a re-INVITE while ours ({}) was pending; answered 491 "
                    "Request Pending",
                    m_peer, m_changing));
}

void Client::on_reinvite_done(const sdp::Description& offered, const std::string& what,
                              const std::function<void()>& again, const sip::ReinviteResult& r)
{
  if (r.status == 491 && retry_after_glare(what, again)) {
    if (!sdp::audio_of(m_local))
      m_audio.stop(); // the socket bound for the offer; bound again by the retry
    return;
  }
  if (!r.ok()) {
    std::string why = r.err ? sip::errno_text(r.err) : fmt::format("{} {}", r.status, r.reason);
    event(media_event("refused", what, r.status, r.warning),
          fmt::format("{} refused the change of {}: {}{}", m_peer, what, why,
                      r.warning.empty() ? "" : " (" + r.warning + ")"));
    if (!sdp::audio_of(m_local))
      m_audio.stop(); // the socket bound for the offer
    return;
  }
  auto d = sdp::parse(r.sdp);
  if (!d) {
    m_log.diag(fmt::format("bad SDP in the 200 to our re-INVITE: {}", d.error().message));
    return;
  }
  auto before = m_local;
  m_local = offered;
  m_remote = *d;
  // A stream the answer refused (port 0) is off in our next offer too (RFC 3264 §8).
  for (size_t i = 0; i < m_local.media.size() && i < d->media.size(); ++i)
    if (d->media[i].port == 0)
      m_local.media[i].port = 0;
  bool wanted = sdp::audio_of(offered).has_value();
  if (wanted && !sdp::audio_of(*d))
    event(media_event("refused", what, r.status),
          fmt::format("{} answered without {} (port 0)", m_peer, what));
  apply_audio(m_local, m_remote);
  media_changed(before, m_local);
}

void Client::apply_audio(const sdp::Description& local, const sdp::Description& remote)
{
  auto mine = sdp::audio_of(local);
  auto theirs = sdp::audio_of(remote);
  if (!mine || !theirs || theirs->payload_types.empty()) {
    if (m_audio.bound())
      m_audio.stop();
    return;
  }
  // The codec: the answer's (ours when we answered, theirs when we offered), sent with their
  // payload type.
  auto format = media::negotiated(*mine, *theirs);
  if (!format) {
    m_log.diag("audio: no codec in common with the peer");
    if (m_audio.bound())
      m_audio.stop();
    return;
  }
  bool send =
      mine->direction == sdp::Direction::SendRecv || mine->direction == sdp::Direction::SendOnly;
  bool recv =
      mine->direction == sdp::Direction::SendRecv || mine->direction == sdp::Direction::RecvOnly;
  if (auto r = m_audio.start(theirs->host, theirs->port, *format, send, recv); !r)
    m_log.diag(fmt::format("audio: {}", r.error().message));
}

void Client::media_changed(const sdp::Description& before, const sdp::Description& after)
{
  auto d = sdp::diff(before, after);
  for (const auto& t : d.added)
    if (t != "message")
      event(media_event("added", t), fmt::format("{} added", t));
  for (const auto& t : d.removed)
    if (t != "message")
      event(media_event("removed", t), fmt::format("{} removed", t));
  for (const auto& t : d.modified)
    if (t != "message")
      event(media_event("modified", t), fmt::format("{} modified", t));
}

void Client::send_text(const std::string& text)
{
  if (!m_ms)
    return;
  Chat c;
  c.from = m_ep->from();
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
  m_log.note(fmt::format("sent {} bytes to {}", text.size(), m_peer));
}

void Client::on_msrp_message(const msrp::Message& m)
{
  if (m.body.empty())
    return;
  auto c = unwrap(m.content_type, m.body);
  if (!c) {
    m_log.diag(fmt::format("message from {}: {}", m_peer, c.error().message));
    return;
  }
  if (c->from.empty())
    c->from = m_peer;
  if (c->to.empty())
    c->to = m_ep->from();
  if (m_opt.common.json) {
    events::emit(chat_event(*c));
    return;
  }
  auto line = chat_line(*c);
  std::fwrite(line.data(), 1, line.size(), stdout);
  events::written(stdout);
}

void Client::settle(const std::string& id)
{
  m_pending.erase(id);
  maybe_hang_up();
}

void Client::maybe_hang_up()
{
  if (!m_established || !m_sess || m_opt.no_stdin || !m_input.ended() || !m_pending.empty())
    return;
  end_session("end of input", 0);
}

void Client::finish(int code)
{
  if (m_finishing)
    return;
  m_finishing = true;
  m_deadline.cancel();
  m_input.stop();
  if (m_sess) {
    m_sess.reset();
    m_ms.reset();
  }
  m_ep->finish(code);
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

} // namespace cpm::invite
