// The focus, the inviter's side: its INVITE is held (a stateless 100 Trying, no libre
// transaction) until the first member rings or accepts, then answered with sipsess_accept;
// a failure is answered with sip_treply. A member who invites while a session of the
// group runs joins it.
#include "focus_impl.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "cpm/grammar/uri.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/ua/incoming.hpp"

namespace cpm::groupd {

// The INVITE the proxy passed on (sipsess_listen's connection handler).
void Focus::Impl::on_connect(const struct sip_msg* msg, void* arg) noexcept
{
  auto& self = *static_cast<Impl*>(arg);
  if (!sip::guarded(self.env.diag, "the INVITE handler", false, [&] {
        self.incoming(msg);
        return true;
      }))
    self.fail_incoming(msg);
}

void Focus::Impl::incoming(const struct sip_msg* msg)
{
  std::string ruri = sip::canonical_aor(pl_string(msg->ruri));
  const config::Group* g = env.file->find_group(ruri);
  if (!g || g->host != env.node->name) {
    (void)sip_treply(nullptr, env.stack->get(), msg, 404, "Not Found");
    return;
  }
  if (held_leg(txn_of(msg)))
    return; // a retransmission (the proxy answered it 100 already)
  // Its Content-Encoding was checked by Focus::invite: a failure here is a bad offer.
  auto offer = ua::decoded_body(msg);
  auto d = offer ? sdp::parse(*offer) : fail(offer.error().message);
  Result<sdp::MsrpMedia> media = d ? sdp::msrp_media(*d) : tl::unexpected(d.error());
  if (media && media->tls && !listener->has_tls())
    media = tl::unexpected(Error{"its chat is over TLS (TCP/TLS/MSRP) and this node has no "
                                 "certificate (tls_cert)"});
  msrp::Uri probe;
  probe.secure = media && media->tls;
  if (media && !sdp::msrp_answer(*d, probe))
    media = tl::unexpected(Error{"no MSRP stream to answer"});
  // Without a chat stream, an offer with audio (a softphone; the group's media allow audio:
  // Focus::invite checked) makes a participant with audio only.
  bool audio_only = !media && d && sdp::audio_of(*d);
  if (!media && !audio_only) {
    diag(fmt::format("INVITE {}: 488: {}", ruri, media.error().message));
    (void)sip_treply(nullptr, env.stack->get(), msg, 488, "Not Acceptable Here");
    return;
  }
  const struct sip_hdr* pai = sip_msg_hdr(msg, SIP_HDR_P_ASSERTED_IDENTITY);
  std::string who = sip::canonical_aor(pai ? pl_string(pai->val) : pl_string(msg->from.auri));

  GroupCall* c = running(g->uri);
  bool rejoining = c != nullptr;
  bool had_audio = c && c->audio;
  if (!c)
    c = &open_call(*g);
  Party* leg = hold(*c, msg, who, *d, media ? &*media : nullptr);
  if (!leg) {
    maybe_end(*c);
    return;
  }
  if (!rejoining) {
    c->started_by = who;
    c->msrp_tls = media && media->tls;
  }
  // Audio offered (the group's media allow it: Focus::invite checked): the session carries
  // it from the start, and every member is offered it.
  if (auto ours = sdp::parse(leg->answer); ours && sdp::audio_of(*ours)) {
    start_audio(*c);
    apply_audio(*leg, *ours, *d);
  }
  if (!rejoining) {
    invite_members(*c, who);
    return;
  }
  rejoin(*c, *leg);
  // Its audio is the session's first: the others joined get it too, as in Figure 4.
  if (c->audio && !had_audio && !c->ended)
    for (auto& o : c->legs)
      if (o.get() != leg && !o->gone && o->joined && o->sess && !o->rtp)
        reoffer(*c, *o);
}

// After an internal error in incoming(): 500 to the INVITE unless it was answered, and no
// session left with fewer than two participants.
void Focus::Impl::fail_incoming(const struct sip_msg* msg) noexcept
{
  sip::guarded(env.diag, "the INVITE handler", [&] {
    std::string txn = txn_of(msg);
    Party* leg = nullptr;
    for (auto& c : confs)
      for (auto& l : c->legs)
        if (l->inviter && l->held_txn == txn)
          leg = l.get();
    if (!leg) {
      (void)sip_treply(nullptr, env.stack->get(), msg, 500, "Server Internal Error");
    } else if (leg->held) {
      refuse_held(*leg, 500, "Server Internal Error");
      closed(*leg);
    }
    for (auto& c : confs)
      maybe_end(*c);
  });
}

// The inviter's leg of `c`, its INVITE held until a member rings or accepts; `media` is its
// chat stream, none for a participant with audio only. Null (the INVITE answered 488) when
// an audio-only offer has no codec in common with us.
Party* Focus::Impl::hold(GroupCall& c, const struct sip_msg* msg, const std::string& who,
                         const sdp::Description& offer, const sdp::MsrpMedia* media)
{
  auto l = std::make_unique<Party>();
  l->conf = &c;
  l->aor = who;
  l->inviter = true;
  l->held = re_ref(msg);
  l->held_txn = txn_of(msg);
  if (media) {
    l->msrp = new_msrp(*l, media->tls);
    l->msrp->set_remote(media->path);
    l->msrp_active = sdp::we_connect(media->setup, false);
  }
  l->remote = sdp::format(offer);
  std::optional<sdp::Media> audio;
  if (sdp::audio_of(offer))
    audio = audio_for(*l);
  auto answer = sdp::answer(offer, msrp_local(*l), audio, chat_of(*l));
  if (!answer && media)
    answer = sdp::msrp_answer(offer, msrp_local(*l)); // our audio failed: chat only
  if (!answer) {
    diag(fmt::format("{}: INVITE from {}: 488: {}", tag(c), who, answer.error().message));
    (void)sip_treply(nullptr, env.stack->get(), msg, 488, "Not Acceptable Here");
    forget_media(*l);
    return nullptr;
  }
  l->answer = sdp::format(*answer);
  if (!media)
    verbose(fmt::format("{}: {} takes part with audio only (no MSRP in its offer)", tag(c), who));
  c.legs.push_back(std::move(l));
  return c.legs.back().get();
}

// A member invites while a session of the group runs: it joins that session.
void Focus::Impl::rejoin(GroupCall& c, Party& leg)
{
  diag(fmt::format("{}: {} joins the running session", tag(c), leg.aor));
  // Invited and inviting at once: the focus's own invitation to it is withdrawn.
  for (auto& p : c.legs)
    if (p.get() != &leg && p->aor == leg.aor && !p->inviter && !p->joined && !p->gone)
      drop_leg(*p);
  accept(leg, 200);
  say(c, c.setup.accepted(leg.aor)); // the first to accept answers the inviter
}

// A new session: invite every other member (up to max_participants) through the core.
void Focus::Impl::invite_members(GroupCall& c, const std::string& who)
{
  const config::Group& g = c.group;
  auto members = group::others(g, who);
  if (g.max_participants > 0 && members.size() + 1 > size_t(g.max_participants)) {
    diag(fmt::format("{}: max_participants {}: inviting the first {} of {} members", tag(c),
                     g.max_participants, g.max_participants - 1, members.size()));
    members.resize(size_t(g.max_participants - 1));
  }
  c.setup = group::Setup(members);
  diag(fmt::format("{}: {} invites {} members", tag(c), who, members.size()));
  for (const auto& m : members)
    if (!invite_member(c, m, who))
      say(c, c.setup.failed(m, 500));
  if (c.ended)
    return;
  int ms = g.invite_timeout_ms > 0 ? g.invite_timeout_ms : 60000;
  c.timeout.start(uint64_t(ms), [this, &c] { expire(c); });
}

// Accept the held INVITE of `l` with 180 (no body) or 200 (our answer).
bool Focus::Impl::accept(Party& l, int code)
{
  GroupCall& c = *l.conf;
  if (!l.held)
    return false;
  std::string cuser = contact(c, "P-Asserted-Identity", c.group.uri);
  auto body = mbuf_copy(l.answer);
  int err = sipsess_accept(re_out(l.sess), sock.get(), l.held.get(), uint16_t(code),
                           code == 180 ? "Ringing" : "OK", cuser.c_str(), "application/sdp",
                           code == 200 ? body.get() : nullptr, nullptr, nullptr, false, on_reoffer,
                           on_late_answer, on_inviter_estab, nullptr, nullptr, on_inviter_close, &l,
                           nullptr);
  l.held.reset();
  if (err) {
    diag(fmt::format("{}: cannot answer {}: {}", tag(c), l.aor, std::strerror(err)));
    l.gone = true;
    return false;
  }
  l.ringing = code == 180;
  if (code == 200) {
    l.joined = false; // joined on the ACK
    l.answered = true;
  }
  return true;
}

void Focus::Impl::answer_inviter(GroupCall& c)
{
  Party* l = c.inviter();
  if (!l)
    return;
  if (l->held) {
    accept(*l, 200);
    return;
  }
  if (l->sess) {
    auto body = mbuf_copy(l->answer);
    if (int err = sipsess_answer(l->sess.get(), 200, "OK", body.get(), nullptr))
      diag(fmt::format("{}: cannot answer {}: {}", tag(c), l->aor, std::strerror(err)));
    else
      l->answered = true;
  }
}

void Focus::Impl::fail_inviter(GroupCall& c)
{
  int code = c.setup.failure();
  const char* reason = code == 486 ? "Busy Here" : "Temporarily Unavailable";
  diag(fmt::format("{}: no member accepted: {} {} to the inviter", tag(c), code, reason));
  if (Party* l = c.inviter()) {
    if (l->held)
      refuse_held(*l, code, reason);
    else if (l->sess)
      (void)sipsess_reject(l->sess.get(), uint16_t(code), reason, nullptr);
  }
  end(c, "nobody accepted");
}

// What group::Setup says the inviter must hear now.
void Focus::Impl::say(GroupCall& c, group::Setup::Say s)
{
  switch (s) {
  case group::Setup::Say::Ringing:
    if (Party* l = c.inviter(); l && l->held)
      accept(*l, 180);
    break;
  case group::Setup::Say::Answer:
    answer_inviter(c);
    break;
  case group::Setup::Say::Fail:
    fail_inviter(c);
    break;
  case group::Setup::Say::Nothing:
    break;
  }
}

// A CANCEL for a held INVITE.
bool Focus::Impl::cancel(const struct sip_msg* msg)
{
  Party* l = held_leg(txn_of(msg));
  if (!l)
    return false;
  (void)sip_reply(env.stack->get(), msg, 200, "OK");
  refuse_held(*l, 487, "Request Terminated");
  l->gone = true;
  if (l->msrp)
    l->msrp->close();
  l->conf->setup.cancel();
  if (!l->conf->setup.answered())
    end(*l->conf, "the inviter cancelled");
  else
    maybe_end(*l->conf);
  schedule_gc();
  return true;
}

void Focus::Impl::on_inviter_estab(const struct sip_msg*, void* arg) noexcept
{
  auto& l = *static_cast<Party*>(arg);
  Impl& self = *l.conf->impl;
  sip::guarded(self.env.diag, "the inviter's ACK handler", [&] {
    l.joined = true;
    self.verbose(fmt::format("{}: {} joined", self.tag(*l.conf), l.aor));
    self.start_msrp(l);
    // Its offer had no audio line at all: offered the audio now if the session carries it or
    // a participant's re-INVITE adding it is held (it may have come before this ACK).
    GroupCall& c = *l.conf;
    self.offer_audio_on_join(c, l, l.rtp != nullptr || has_audio_line(l.remote));
  });
}

void Focus::Impl::on_inviter_close(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto& l = *static_cast<Party*>(arg);
  Impl& self = *l.conf->impl;
  sip::guarded(self.env.diag, "the inviter's close handler", [&] {
    self.closed(l);
    // libre reports the peer's BYE (or CANCEL) as ECONNRESET without a message.
    std::string why = msg                 ? pl_string(msg->met)
                      : err == ECONNRESET ? std::string("BYE")
                                          : std::string(std::strerror(err));
    self.verbose(fmt::format("{}: {} left ({})", self.tag(*l.conf), l.aor, why));
    if (l.inviter && !l.conf->setup.answered())
      self.end(*l.conf, "the inviter gave up");
    self.maybe_end(*l.conf);
    self.schedule_gc();
  });
}

// An SDP answer in the inviter's ACK (none comes: its INVITE carried the offer).
int Focus::Impl::on_late_answer(const struct sip_msg*, void*) noexcept
{
  return 0;
}

} // namespace cpm::groupd
