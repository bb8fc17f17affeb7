// INVITE sessions on libre's sipsess.
#include "cpm/ua/session.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/ua/incoming.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::ua {

namespace {

// The SDP of an answer or a re-INVITE with its Content-Encoding undone, or nullopt after a
// diagnostic (libre then fails the session or refuses the offer).
std::optional<std::string> sdp_of(const struct sip_msg* msg, const Log& log)
{
  auto body = decoded_body(msg);
  if (body)
    return std::move(*body);
  log.diag(fmt::format("SDP from {}: {}", pl_string(msg->from.auri), body.error().message));
  return std::nullopt;
}

} // namespace

Session::Session(Sessions& owner, SessionHandlers h, bool outgoing)
    : m_owner(owner), m_h(std::move(h)), m_outgoing(outgoing), m_live(owner.m_live)
{
  owner.m_live->push_back(this);
}

// Releasing the sipsess hangs up (libre calls us no more).
Session::~Session()
{
  if (auto live = m_live.lock())
    live->erase(std::remove(live->begin(), live->end(), this), live->end());
}

Result<void> Session::answer(const std::string& sdp, const std::string& headers)
{
  if (!m_sess)
    return fail("the session has ended", 3);
  auto mb = mbuf_copy(sdp);
  int err = sipsess_answer(m_sess.get(), 200, "OK", mb.get(), headers.empty() ? nullptr : "%s",
                           headers.c_str());
  if (err)
    return fail(std::strerror(err), 3);
  return {};
}

Result<void> Session::modify(const std::string& sdp, sip::Reinvite::Done done)
{
  if (!m_sess)
    return fail("the session has ended", 1);
  if (!m_established)
    return fail("the session is not established yet", 1);
  if (modifying())
    return fail("a re-INVITE is already waiting for its answer", 1);
  auto r = sip::Reinvite::send(m_owner.m_stack, *m_owner.m_acks, sipsess_dialog(m_sess.get()),
                               m_cuser, sdp, std::move(done), m_owner.m_auth.get());
  if (!r)
    return tl::unexpected(r.error());
  m_reinvite = std::move(*r);
  return {};
}

void Session::progr_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Session*>(arg);
  sip::guarded(self->m_owner.m_log.fatal(), "the INVITE's progress handler", [&] {
    auto h = self->m_h.progress; // the handler may release the session
    if (h)
      h(msg->scode);
  });
}

int Session::answer_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Session*>(arg);
  int err = 0;
  sip::guarded(self->m_owner.m_log.fatal(), "the session's answer handler", [&] {
    auto h = self->m_h.answer;
    auto sdp = sdp_of(msg, self->m_owner.m_log);
    if (!sdp || (h && !h(*sdp)))
      err = EPROTO;
  });
  return err;
}

int Session::offer_h(struct mbuf** descp, const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Session*>(arg);
  int err = EPROTO;
  sip::guarded(self->m_owner.m_log.fatal(), "the re-INVITE handler", [&] {
    auto h = self->m_h.offer;
    auto sdp = sdp_of(msg, self->m_owner.m_log);
    auto answer = h && sdp ? h(*sdp) : std::nullopt;
    if (!answer)
      return;
    *descp = mbuf_copy(*answer).release();
    err = *descp ? 0 : ENOMEM;
  });
  return err;
}

void Session::estab_h(const struct sip_msg* msg, void* arg) noexcept
{
  (void)msg;
  auto* self = static_cast<Session*>(arg);
  self->m_established = true;
  sip::guarded(self->m_owner.m_log.fatal(), "the session's established handler", [&] {
    auto h = self->m_h.established;
    if (h)
      h();
  });
}

void Session::close_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Session*>(arg);
  sip::guarded(self->m_owner.m_log.fatal(), "the session's close handler", [&] {
    // libre has ended it, but a leaked sipsess keeps the stack and its sockets alive: it is
    // freed on the next turn of the loop.
    self->m_owner.reap(std::move(self->m_sess));
    self->m_reinvite.reset();
    Ending e;
    e.err = err;
    if (msg) {
      e.status = msg->scode;
      e.reason = pl_string(msg->reason);
    }
    auto h = self->m_h.closed;
    if (h)
      h(e);
  });
}

void Invitation::reject(int status, const std::string& reason)
{
  m_answered = true;
  (void)sip_treply(nullptr, m_owner.m_stack.get(), m_msg, static_cast<uint16_t>(status),
                   reason.c_str());
}

Result<std::unique_ptr<Session>> Invitation::accept(const std::string& cuser,
                                                    const std::string& headers, SessionHandlers h)
{
  m_answered = true;
  std::unique_ptr<Session> s(new Session(m_owner, std::move(h), false));
  s->m_cuser = cuser;
  int err =
      sipsess_accept(re_out(s->m_sess), m_owner.m_sock.get(), m_msg, 180, "Ringing", cuser.c_str(),
                     "application/sdp", nullptr, digest_auth_h, &m_owner.m_digest, true,
                     Session::offer_h, Session::answer_h, Session::estab_h, nullptr, nullptr,
                     Session::close_h, s.get(), headers.empty() ? nullptr : "%s", headers.c_str());
  if (err) {
    m_answered = false; // the caller answers it (500)
    return fail(std::strerror(err), 3);
  }
  return s;
}

Sessions::Sessions(sip::Stack& stack, Digest& digest, const Log& log, OnInvite on_invite)
    : m_stack(stack), m_digest(digest), m_log(log), m_on_invite(std::move(on_invite))
{
}

Sessions::~Sessions() = default;

Result<std::unique_ptr<Sessions>> Sessions::listen(sip::Stack& stack, Digest& digest,
                                                   const Log& log, OnInvite on_invite)
{
  std::unique_ptr<Sessions> s(new Sessions(stack, digest, log, std::move(on_invite)));
  auto acks = sip::Acks::listen(stack);
  if (!acks)
    return tl::unexpected(acks.error());
  s->m_acks = std::move(*acks);
  if (int err = sip_auth_alloc(re_out(s->m_auth), digest_auth_h, &digest, true))
    return fail(fmt::format("cannot listen: {}", std::strerror(err)), 3);
  if (int err = sip_listen(s->m_glare.out(), stack.get(), true, glare_h, s.get()))
    return fail(fmt::format("cannot listen: {}", std::strerror(err)), 3);
  int err = sipsess_listen(re_out(s->m_sock), stack.get(), 32, conn_h, s.get());
  if (err)
    return fail(fmt::format("cannot listen: {}", std::strerror(err)), 3);
  return s;
}

Result<std::unique_ptr<Session>> Sessions::connect(const Call& c, SessionHandlers h)
{
  std::unique_ptr<Session> s(new Session(*this, std::move(h), true));
  s->m_cuser = c.contact_user;
  auto mb = mbuf_copy(c.sdp);
  const char* routev[] = {c.route.c_str()};
  int err = sipsess_connect(re_out(s->m_sess), m_sock.get(), c.to.c_str(), nullptr, c.from.c_str(),
                            c.contact_user.c_str(), c.route.empty() ? nullptr : routev,
                            c.route.empty() ? 0 : 1, "application/sdp", mb.get(), digest_auth_h,
                            &m_digest, true, Session::offer_h, Session::answer_h, Session::progr_h,
                            Session::estab_h, nullptr, nullptr, Session::close_h, s.get(),
                            c.headers.empty() ? nullptr : "%s", c.headers.c_str());
  if (err)
    return fail(std::strerror(err), err == EINVAL ? 2 : 3);
  return s;
}

void Sessions::reap(re_ptr<struct sipsess> s)
{
  if (!s)
    return;
  m_closed.push_back(std::move(s));
  m_reap.start(0, [this] { m_closed.clear(); });
}

bool Sessions::glare_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Sessions*>(arg);
  if (pl_strcmp(&msg->met, "INVITE") != 0 || !pl_isset(&msg->to.tag))
    return false;
  return sip::guarded(self->m_log.report(), "the re-INVITE glare check", false, [&] {
    for (Session* s : *self->m_live) {
      if (!s->m_sess || !s->modifying() || !sip_dialog_cmp(sipsess_dialog(s->m_sess.get()), msg))
        continue;
      (void)sip_treply(nullptr, self->m_stack.get(), msg, 491, "Request Pending");
      auto h = s->m_h.glare; // the handler may release the session
      if (h)
        h();
      return true;
    }
    return false;
  });
}

void Sessions::conn_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Sessions*>(arg);
  Invitation inv(*self, msg);
  sip::guarded(self->m_log.report(), "the INVITE handler", [&] {
    inv.from = pl_string(msg->from.auri);
    if (const auto* h = sip_msg_hdr(msg, SIP_HDR_CONTACT))
      inv.contact = pl_string(h->val);
    auto sdp = decoded_body(msg);
    if (!sdp) {
      self->m_log.diag(fmt::format("INVITE from {}: {}; answered {}", inv.from, sdp.error().message,
                                   sdp.error().code));
      sip::treply(self->m_stack, msg, sdp.error().code, sdp.error().reason, sdp.error().headers);
      inv.m_answered = true;
      return;
    }
    inv.sdp = std::move(*sdp);
    self->m_on_invite(inv);
  });
  if (!inv.m_answered)
    (void)sip_treply(nullptr, self->m_stack.get(), msg, 500, "Server Internal Error");
}

} // namespace cpm::ua
