// The focus, the members' side: one INVITE per member through the node's core (Contact with
// isfocus, Referred-By the inviter); the first 180 and the first 200 answer the inviter
// (group::Setup decides); members who do not answer in time are cancelled.
#include "focus_impl.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "cpm/codec/service.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/ua/incoming.hpp"

namespace cpm::groupd {

bool Focus::Impl::invite_member(GroupCall& c, const std::string& member, const std::string& inviter)
{
  auto l = std::make_unique<Party>();
  l->conf = &c;
  l->aor = member;
  bool secure = member_tls(c, member);
  if (secure && !listener->has_tls())
    diag(fmt::format("{}: {}'s chat is offered over TCP: MSRP over TLS needs tls_cert", tag(c),
                     member));
  l->msrp = new_msrp(*l, secure && listener->has_tls());
  auto offer = sdp::msrp_offer(l->msrp->local(), "active");
  // A member invited while the session carries audio is offered it too.
  if (c.audio)
    if (auto audio = audio_for(*l))
      offer = sdp::add_media(offer, *audio);
  l->offer = sdp::format(offer);
  std::string cuser = contact(c, "Referred-By", inviter);
  std::string proxy = sip::to_sip_uri(env.node->proxy);
  const char* routev[1] = {proxy.c_str()};
  auto body = mbuf_copy(l->offer);
  std::string name = sip::uri_user(c.group.uri);
  int err = sipsess_connect(
      re_out(l->sess), sock.get(), member.c_str(), name.c_str(), c.group.uri.c_str(), cuser.c_str(),
      routev, proxy.empty() ? 0 : 1, "application/sdp", body.get(), nullptr, nullptr, false,
      on_reoffer, on_member_answer, on_member_progress, on_member_estab, nullptr, nullptr,
      on_member_close, l.get(), "Accept-Contact: %s\r\nP-Preferred-Service: %s\r\n",
      service::accept_contact(service::k_icsi_session).c_str(),
      std::string(service::k_icsi_session).c_str());
  if (err) {
    diag(fmt::format("{}: cannot invite {}: {}", tag(c), member, std::strerror(err)));
    return false;
  }
  c.legs.push_back(std::move(l));
  return true;
}

// Members still not answering are cancelled; they count as 408.
void Focus::Impl::expire(GroupCall& c)
{
  for (auto& l : c.legs) {
    if (l->inviter || l->joined || l->gone)
      continue;
    verbose(fmt::format("{}: {} did not answer in time", tag(c), l->aor));
    drop_leg(*l); // CANCEL
    say(c, c.setup.failed(l->aor, 408));
    if (c.ended)
      break;
  }
  maybe_end(c);
  schedule_gc();
}

int Focus::Impl::bad_answer(Party& l, const std::string& why)
{
  diag(fmt::format("{}: unusable answer from {}: {}", tag(*l.conf), l.aor, why));
  return EPROTO;
}

void Focus::Impl::on_member_progress(const struct sip_msg* msg, void* arg) noexcept
{
  auto& l = *static_cast<Party*>(arg);
  if (msg->scode != 180 && msg->scode != 183)
    return;
  Impl& self = *l.conf->impl;
  sip::guarded(self.env.diag, "a member's progress handler", [&] {
    self.verbose(fmt::format("{}: {} rings", self.tag(*l.conf), l.aor));
    self.say(*l.conf, l.conf->setup.ringing(l.aor));
  });
}

// The member's SDP answer: where its MSRP is, and who connects.
int Focus::Impl::on_member_answer(const struct sip_msg* msg, void* arg) noexcept
{
  auto& l = *static_cast<Party*>(arg);
  Impl& self = *l.conf->impl;
  return sip::guarded(self.env.diag, "a member's answer handler", EPROTO, [&] {
    auto answer = ua::decoded_body(msg);
    if (!answer)
      return self.bad_answer(l, answer.error().message);
    auto d = sdp::parse(*answer);
    if (!d)
      return self.bad_answer(l, d.error().message);
    // What we offered it: audio when the session carried audio as it was invited (the
    // session may have none any more: everybody removed theirs meanwhile).
    auto ours = sdp::parse(l.offer);
    bool offered_audio = ours && sdp::audio_of(*ours);
    auto m = sdp::msrp_media(*d);
    if (!m && !(offered_audio && sdp::audio_of(*d)))
      return self.bad_answer(l, m.error().message);
    if (m && l.msrp && m->tls != l.msrp->local().secure)
      return self.bad_answer(l, m->tls ? "TCP/TLS/MSRP answered to TCP/MSRP"
                                       : "TCP/MSRP answered to TCP/TLS/MSRP");
    if (m) {
      l.msrp->set_remote(m->path);
      l.msrp_active = sdp::we_connect(m->setup, true);
    } else if (l.msrp) {
      // It took the audio and refused the chat (port 0): a participant with audio only.
      self.verbose(fmt::format("{}: {} takes part with audio only (chat refused, port 0)",
                               self.tag(*l.conf), l.aor));
      l.msrp->close();
      l.msrp.reset();
    }
    l.remote = *answer;
    if (offered_audio) {
      self.start_audio(*l.conf);
      self.apply_audio(l, *ours, *d);
    }
    return 0;
  });
}

void Focus::Impl::on_member_estab(const struct sip_msg*, void* arg) noexcept
{
  auto& l = *static_cast<Party*>(arg);
  Impl& self = *l.conf->impl;
  sip::guarded(self.env.diag, "a member's 200 handler", [&] {
    l.joined = true;
    self.verbose(fmt::format("{}: {} joined", self.tag(*l.conf), l.aor));
    self.start_msrp(l);
    GroupCall& c = *l.conf;
    // Invited before the session carried audio: offered it now if it does or is being added.
    self.offer_audio_on_join(c, l, has_audio_line(l.offer));
    self.say(c, c.setup.accepted(l.aor));
    if (c.setup.pending() == 0 && c.setup.joined() == c.setup.legs().size())
      self.verbose(fmt::format("{}: all {} members joined in {} ms", self.tag(c), c.setup.joined(),
                               sip::jiffies() - c.started_ms));
  });
}

void Focus::Impl::on_member_close(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto& l = *static_cast<Party*>(arg);
  Impl& self = *l.conf->impl;
  sip::guarded(self.env.diag, "a member's close handler", [&] {
    GroupCall& c = *l.conf;
    bool was_joined = l.joined;
    self.closed(l);
    if (!was_joined) {
      int status = msg && msg->scode >= 300 ? msg->scode : (err == ETIMEDOUT ? 408 : 480);
      self.verbose(fmt::format("{}: {} did not join: {}{}", self.tag(c), l.aor, status,
                               msg ? fmt::format(" {}", pl_string(msg->reason)) : std::string()));
      self.say(c, c.setup.failed(l.aor, status));
    } else {
      self.verbose(fmt::format("{}: {} left", self.tag(c), l.aor));
    }
    self.maybe_end(c);
    self.schedule_gc();
  });
}

} // namespace cpm::groupd
