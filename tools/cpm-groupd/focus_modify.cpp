// The focus, a participant's re-INVITE (FLOWS.md Figures 3 and 4). libre's sipsess answers a
// re-INVITE at once from its offer handler and a refusal with a bare 488, so the proxy hook
// hands the focus's in-dialog INVITEs here first: the re-INVITE is held (a stateless 100),
// the group's policy checked (488 with a Warning naming this node and the rule, nothing
// changed), every other joined participant re-offered its current streams plus the added
// one (rt/reinvite: a refusal or port 0 leaves it chatting without audio), and only then the
// held re-INVITE answered 200 with our answer. The dialog stays sipsess's: its CSeq is
// checked and recorded here, its ACK goes to sipsess, which finds nothing to do with it.
#include "focus_impl.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "cpm/rt/guard.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/ua/incoming.hpp"

namespace cpm::groupd {

namespace {

std::string joined(const std::vector<std::string>& v)
{
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

// What a re-INVITE changes, for the logs: "audio added", "audio removed, ...".
std::string describe(const sdp::Diff& d)
{
  std::vector<std::string> parts;
  for (const auto& t : d.added)
    parts.push_back(t + " added");
  for (const auto& t : d.removed)
    parts.push_back(t + " removed");
  for (const auto& t : d.modified)
    parts.push_back(t + " modified");
  return parts.empty() ? std::string("no change") : joined(parts);
}

} // namespace

// The participant whose dialog `msg` belongs to.
Party* Focus::Impl::leg_of(const struct sip_msg* msg)
{
  for (auto& c : confs)
    for (auto& l : c->legs)
      if (!l->gone && l->sess && sip_dialog_cmp(sipsess_dialog(l->sess.get()), msg))
        return l.get();
  return nullptr;
}

// A refusal that leaves the session as it was: 488 with a Warning naming this node and the
// rule (libre's server transaction retransmits it until the ACK and absorbs that ACK).
void Focus::Impl::refuse_modify(const struct sip_msg* msg, int code, const char* reason,
                                const std::string& rule)
{
  diag(fmt::format("re-INVITE from {}: {} {} ({})", pl_string(msg->from.auri), code, reason, rule));
  std::string w = policy::warning(env.node->name, rule);
  (void)sip_treplyf(nullptr, nullptr, env.stack->get(), msg, false, uint16_t(code), reason,
                    "%s\r\n"
                    "Content-Length: 0\r\n"
                    "\r\n",
                    w.c_str());
}

// The Contact of our 2xx to a re-INVITE: the focus's, as sipsess writes it (isfocus, the
// group as P-Asserted-Identity), on the address and transport the request came on.
std::string Focus::Impl::modify_contact(const GroupCall& c, const struct sip_msg* msg) const
{
  std::string cuser = contact(c, "P-Asserted-Identity", c.group.uri);
  struct sip_contact ct;
  sip_contact_set(&ct, cuser.c_str(), &msg->dst, msg->tp);
  char buf[512];
  if (re_snprintf(buf, sizeof(buf), "%H", sip_contact_print, &ct) < 0)
    return {};
  return buf;
}

// The group's own policy on what a participant's re-INVITE adds or modifies (Figure 3 step
// 6): the media the group carries, and who may add one (may_add_media). The rule broken, or
// nothing.
std::optional<std::string> Focus::Impl::group_refusal(const GroupCall& c, const Party& l,
                                                      const sdp::Diff& d)
{
  auto v = group::check_media_change(c.group, l.aor, c.started_by, d);
  if (v.allowed())
    return std::nullopt;
  return v.why;
}

// A participant's re-INVITE (the proxy hook's in-dialog INVITE to us). Pass: not a dialog of
// ours (sipsess answers 481); otherwise Drop, answered here now or later.
proxy::Action Focus::Impl::reinvite(const struct sip_msg* msg)
{
  Party* lp = leg_of(msg);
  if (!lp)
    return proxy::Action::pass();
  Party& l = *lp;
  GroupCall& c = *l.conf;
  struct sip* sip = env.stack->get();
  std::string txn = txn_of(msg);
  if (l.modify && l.modify_txn == txn) { // a retransmission of the one held
    (void)sip_reply(sip, msg, 100, "Trying");
    return proxy::Action::drop();
  }
  struct sip_dialog* dlg = sipsess_dialog(l.sess.get());
  if (!sip_dialog_rseq_valid(dlg, msg)) {
    (void)sip_treply(nullptr, sip, msg, 500, "Server Internal Error");
    return proxy::Action::drop();
  }
  // One offer/answer at a time in a session (RFC 3261 §14.2): ours to it, or anyone's held.
  if (l.reoffering || c.modifier || !(l.joined || l.answered)) {
    (void)sip_treplyf(nullptr, nullptr, sip, msg, false, 491, "Request Pending",
                      "Content-Length: 0\r\n\r\n");
    return proxy::Action::drop();
  }
  if (msg->tp == SIP_TRANSP_UDP)
    (void)sip_reply(sip, msg, 100, "Trying");

  auto body = ua::decoded_body(msg);
  if (!body) {
    refuse_modify(msg, 488, "Not Acceptable Here", body.error().message);
    return proxy::Action::drop();
  }
  auto offer = sdp::parse(*body);
  if (!offer) {
    refuse_modify(msg, 488, "Not Acceptable Here", "bad SDP: " + offer.error().message);
    return proxy::Action::drop();
  }
  sdp::Description before;
  if (auto b = sdp::parse(l.remote))
    before = *b;
  sdp::Diff d = sdp::diff(before, *offer);
  if (auto rule = group_refusal(c, l, d)) {
    refuse_modify(msg, 488, "Not Acceptable Here", *rule);
    return proxy::Action::drop();
  }
  std::optional<sdp::Media> audio;
  if (sdp::audio_of(*offer))
    audio = audio_for(l);
  auto answer = sdp::answer(*offer, msrp_local(l), audio, chat_of(l));
  if (!answer) {
    refuse_modify(msg, 488, "Not Acceptable Here", answer.error().message);
    return proxy::Action::drop();
  }
  // RFC 3264 §8: our answer continues our previous description's o= line.
  if (auto mine = sdp::parse(l.local()))
    answer->origin = sdp::next_version(*mine).origin;
  (void)sip_dialog_update(dlg, msg);

  bool adds_audio = !c.audio && sdp::audio_of(*answer).has_value();
  if (sdp::audio_of(*answer))
    start_audio(c);
  l.remote = *body;
  l.local() = sdp::format(*answer);
  apply_audio(l, *answer, *offer);
  l.modify = re_ref(msg);
  l.modify_txn = txn;
  l.modify_answer = l.local();
  l.modify_what = describe(d);
  c.modifier = &l;
  verbose(fmt::format("{}: {} modifies the session: {}", tag(c), l.aor, l.modify_what));
  // Figure 4: the others get the added stream too; the held re-INVITE waits for them.
  if (adds_audio)
    for (auto& o : c.legs)
      if (o.get() != &l && !o->gone && o->joined && o->sess)
        reoffer(c, *o);
  reoffer_done(c);
  return proxy::Action::drop();
}

// Answer the held re-INVITE of `l` with 200 and our answer.
void Focus::Impl::answer_modify(Party& l)
{
  GroupCall& c = *l.conf;
  if (c.modifier == &l)
    c.modifier = nullptr;
  if (!l.modify)
    return;
  std::string ct = modify_contact(c, l.modify.get());
  struct mbuf* sent = nullptr;
  int err = sip_treplyf(nullptr, &sent, env.stack->get(), l.modify.get(), false, 200, "OK",
                        "%s"
                        "Content-Type: application/sdp\r\n"
                        "Content-Length: %zu\r\n"
                        "\r\n"
                        "%s",
                        ct.c_str(), l.modify_answer.size(), l.modify_answer.c_str());
  if (err)
    diag(fmt::format("{}: cannot answer {}'s re-INVITE: {}", tag(c), l.aor, std::strerror(err)));
  else
    verbose(fmt::format("{}: {}'s re-INVITE answered 200 ({})", tag(c), l.aor, l.modify_what));
  re_ptr<struct mbuf> ok(sent);
  if (!err && ok && l.modify->tp == SIP_TRANSP_UDP) {
    l.ok = std::move(ok);
    l.ok_req = std::move(l.modify);
    l.ok_wait = 500; // T1
    l.ok_elapsed = 0;
    resend_ok(l);
  }
  l.modify.reset();
}

// Our 200 to a re-INVITE once more after ok_wait, until its ACK or 64*T1.
void Focus::Impl::resend_ok(Party& l)
{
  Party* p = &l;
  l.ok_timer.start(l.ok_wait, [this, p] {
    sip::guarded(env.diag, "a 200's retransmission", [&] {
      if (!p->ok || !p->ok_req || p->gone)
        return;
      p->ok_elapsed += p->ok_wait;
      if (p->ok_elapsed >= 32000) {
        diag(fmt::format("{}: no ACK from {} for our 200 to its re-INVITE", tag(*p->conf), p->aor));
        p->ok.reset();
        p->ok_req.reset();
        return;
      }
      struct sa dst;
      sip_reply_addr(&dst, p->ok_req.get(), true);
      p->ok->pos = 0;
      (void)sip_send(env.stack->get(), p->ok_req->sock, p->ok_req->tp, &dst, p->ok.get());
      p->ok_wait = std::min<uint64_t>(p->ok_wait * 2, 4000); // T2
      resend_ok(*p);
    });
  });
}

// The ACK of our 200 to a re-INVITE: no more retransmissions of it.
void Focus::Impl::acked(const struct sip_msg* msg)
{
  Party* l = leg_of(msg);
  if (!l || !l->ok_req || l->ok_req->cseq.num != msg->cseq.num)
    return;
  l->ok_timer.cancel();
  l->ok.reset();
  l->ok_req.reset();
}

// Every re-offer of a held modification has its answer (or its leg is gone): answer it.
void Focus::Impl::reoffer_done(GroupCall& c)
{
  if (c.reoffers == 0 && c.modifier && !c.ended)
    answer_modify(*c.modifier);
}

// Figure 4 step 2: re-INVITE `o` with its current streams plus the session's audio.
void Focus::Impl::reoffer(GroupCall& c, Party& o)
{
  auto current = sdp::parse(o.local());
  if (!current) {
    diag(fmt::format("{}: cannot re-offer {}: {}", tag(c), o.aor, current.error().message));
    return;
  }
  auto audio = audio_for(o);
  if (!audio)
    return;
  std::string offer = sdp::format(sdp::add_media(*current, *audio));
  auto r = sip::Reinvite::send(
      *env.stack, *acks, sipsess_dialog(o.sess.get()),
      contact(c, "P-Asserted-Identity", c.group.uri), offer,
      [this, &o, offer](const sip::ReinviteResult& res) {
        sip::guarded(env.diag, "a re-offer's answer", [&] { reoffered(o, offer, res); });
      },
      nullptr);
  if (!r) {
    diag(fmt::format("{}: cannot re-offer {}: {}", tag(c), o.aor, r.error().message));
    stop_audio(o);
    return;
  }
  o.reinvite = std::move(*r);
  o.reoffering = true;
  ++c.reoffers;
  verbose(fmt::format("{}: re-offering {} its streams plus audio", tag(c), o.aor));
}

// The answer to our re-offer: `o` takes the audio, takes only chat (port 0), or refused the
// offer (its streams stay as they were). Either way it stays in the session.
void Focus::Impl::reoffered(Party& o, const std::string& offer, const sip::ReinviteResult& r)
{
  if (!o.reoffering)
    return;
  o.reoffering = false;
  GroupCall& c = *o.conf;
  if (r.ok()) {
    auto ours = sdp::parse(offer);
    auto theirs = sdp::parse(r.sdp);
    o.local() = offer;
    if (theirs) {
      o.remote = r.sdp;
      apply_audio(o, *ours, *theirs);
    } else {
      diag(fmt::format("{}: {}'s answer: {}", tag(c), o.aor, theirs.error().message));
      stop_audio(o);
    }
    verbose(fmt::format("{}: {} {}", tag(c), o.aor,
                        o.mix ? "takes the audio" : "takes only chat (audio refused, port 0)"));
  } else {
    stop_audio(o);
    std::string why = r.status ? fmt::format("{} {}", r.status, r.reason) : std::strerror(r.err);
    verbose(fmt::format("{}: {} refused the audio ({}{}); it keeps chatting", tag(c), o.aor, why,
                        r.warning.empty() ? "" : ", " + r.warning));
  }
  if (c.reoffers > 0)
    --c.reoffers;
  reoffer_done(c);
}

// A leg that ends: out of the mix, its held re-INVITE forgotten (its BYE ends the dialog),
// and a re-offer to it no longer awaited.
void Focus::Impl::forget_media(Party& l)
{
  GroupCall& c = *l.conf;
  stop_audio(l);
  l.modify.reset();
  l.ok_timer.cancel();
  l.ok.reset();
  l.ok_req.reset();
  if (c.modifier == &l)
    c.modifier = nullptr;
  if (l.reoffering) {
    l.reoffering = false;
    if (c.reoffers > 0)
      --c.reoffers;
    reoffer_done(c);
  }
}

} // namespace cpm::groupd
