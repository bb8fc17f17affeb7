// The focus, a participant's re-INVITE (FLOWS.md Figures 3 and 4). libre's sipsess answers a
// re-INVITE at once from its offer handler and a refusal with a bare 488, so the proxy hook
// hands the focus's in-dialog INVITEs here first: the re-INVITE is held (a stateless 100),
// the group's policy checked (488 with a Warning naming this node and the rule, nothing
// changed), and when it adds audio the others without audio are re-offered their current
// streams plus audio (rt/reinvite: a refusal or port 0 leaves one chatting without audio);
// only then is the held re-INVITE answered 200 and its change applied. A CANCEL of it before
// then gets 200, the re-INVITE 487, and whoever took the audio meanwhile is re-offered
// without it (RFC 3261 §9.2, §14.2: the session stays as it was). The dialog stays sipsess's:
// its CSeq is checked and recorded here, its ACK goes to sipsess, which finds nothing to do.
#include "focus_impl.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <utility>

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

// Whether `o` should be offered the audio `adder` adds. When nobody has audio, the added audio
// starts afresh and everybody without it is asked (Figure 4); while audio runs, only those
// never asked: not who has an audio line already (port 0: it refused or removed the audio) or
// refused our offer outright.
static bool to_reoffer(const Party& o, const Party& adder, bool running)
{
  if (&o == &adder || o.gone || !o.joined || !o.sess || o.mix || o.reoffering)
    return false;
  return !running || (!o.audio_declined && !has_audio_line(o.remote));
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
  // One offer/answer at a time in a session (RFC 3261 §14.2): ours to it, anyone's held, or
  // a cancelled one being undone.
  if (l.reoffering || c.modifier || c.cancelled || !(l.joined || l.answered)) {
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
    if (!l.mix)
      stop_audio(l); // the RTP port audio_for opened
    refuse_modify(msg, 488, "Not Acceptable Here", answer.error().message);
    return proxy::Action::drop();
  }
  // RFC 3264 §8: our answer continues our previous description's o= line.
  if (auto mine = sdp::parse(l.local()))
    answer->origin = sdp::next_version(*mine).origin;

  // Nothing changes before our 200 (answer_modify): a CANCEL leaves the session as it was.
  bool adds_audio = !l.mix && sdp::audio_of(*answer).has_value();
  if (adds_audio) {
    start_audio(c);
    l.audio_declined = false;
  }
  l.modify = re_ref(msg);
  l.modify_txn = txn;
  l.modify_offer = *body;
  l.modify_answer = sdp::format(*answer);
  l.modify_what = describe(d);
  c.modifier = &l;
  c.reoffered.clear();
  verbose(fmt::format("{}: {} modifies the session: {}", tag(c), l.aor, l.modify_what));
  // Figure 4: the others get the added stream too; the held re-INVITE waits for them.
  if (adds_audio) {
    bool running = c.audio;
    for (auto& o : c.legs)
      if (to_reoffer(*o, l, running) && reoffer(c, *o))
        c.reoffered.push_back(o.get());
  }
  reoffer_done(c);
  return proxy::Action::drop();
}

// Answer the held re-INVITE of `l` with 200 and our answer, and apply its change: the dialog's
// remote target, the descriptions, its audio.
void Focus::Impl::answer_modify(Party& l)
{
  GroupCall& c = *l.conf;
  if (c.modifier == &l)
    c.modifier = nullptr;
  if (!l.modify)
    return;
  (void)sip_dialog_update(sipsess_dialog(l.sess.get()), l.modify.get());
  bool had_audio = l.mix != 0;
  l.remote = l.modify_offer;
  l.local() = l.modify_answer;
  auto ours = sdp::parse(l.local());
  auto theirs = sdp::parse(l.remote);
  if (ours && theirs)
    apply_audio(l, *ours, *theirs);
  else
    stop_audio(l);
  if (had_audio && !l.mix)
    l.audio_declined = true; // it removed its audio itself
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
  // RFC 3261 §13.3.1.4 over every transport, as libre's sipsess does: the request may have
  // come over TCP and its ACK go over UDP further down the path.
  re_ptr<struct mbuf> ok(sent);
  if (!err && ok) {
    l.ok = std::move(ok);
    l.ok_req = std::move(l.modify);
    l.ok_wait = 500; // T1
    l.ok_elapsed = 0;
    resend_ok(l);
  }
  l.modify.reset();
}

// A CANCEL of a held re-INVITE (RFC 3261 §9.2): 200 to it, 487 to the re-INVITE, whose change
// was never applied; the re-offers it caused finish, and whoever took the audio is then
// re-offered without it (reoffer_done). False: not a re-INVITE we hold (after our 200,
// libre's transaction answers a CANCEL 200 itself and nothing changes).
bool Focus::Impl::cancel_modify(const struct sip_msg* msg)
{
  std::string txn = txn_of(msg);
  Party* lp = nullptr;
  for (auto& c : confs)
    for (auto& l : c->legs)
      if (!l->gone && l->modify && l->modify_txn == txn)
        lp = l.get();
  if (!lp)
    return false;
  Party& l = *lp;
  GroupCall& c = *l.conf;
  struct sip* sip = env.stack->get();
  (void)sip_reply(sip, msg, 200, "OK");
  // Stateful: libre's transaction sends it again until the ACK, and absorbs that ACK.
  (void)sip_treplyf(nullptr, nullptr, sip, l.modify.get(), false, 487, "Request Terminated",
                    "Content-Length: 0\r\n\r\n");
  l.modify.reset();
  if (!l.mix)
    stop_audio(l); // the RTP port opened for our answer
  if (c.modifier == &l)
    c.modifier = nullptr;
  c.cancelled = true;
  verbose(fmt::format("{}: {} cancelled its re-INVITE ({}): 487, the session stays as it was",
                      tag(c), l.aor, l.modify_what));
  reoffer_done(c);
  return true;
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

// Every re-offer of a held modification has its answer (or its leg is gone): answer it. After
// a CANCEL, those who took the audio are re-offered without it first, and the session is
// open to modifications again once they answered.
void Focus::Impl::reoffer_done(GroupCall& c)
{
  if (c.reoffers > 0 || c.ended)
    return;
  if (c.cancelled) {
    auto back = std::exchange(c.reoffered, {});
    for (Party* o : back)
      if (o->mix)
        take_back(c, *o);
    if (c.reoffers == 0) {
      c.cancelled = false;
      verbose(fmt::format("{}: the cancelled modification is undone", tag(c)));
    }
    return;
  }
  c.reoffered.clear();
  if (c.modifier)
    answer_modify(*c.modifier);
}

// Our re-INVITE of `offer` to `o` (`what`: the logs' words for it). False when it cannot go.
bool Focus::Impl::send_offer(GroupCall& c, Party& o, const std::string& offer,
                             const std::string& what)
{
  auto r = sip::Reinvite::send(
      *env.stack, *acks, sipsess_dialog(o.sess.get()),
      contact(c, "P-Asserted-Identity", c.group.uri), offer,
      [this, &o, offer](const sip::ReinviteResult& res) {
        sip::guarded(env.diag, "a re-offer's answer", [&] { reoffered(o, offer, res); });
      },
      nullptr);
  if (!r) {
    diag(fmt::format("{}: cannot re-offer {}: {}", tag(c), o.aor, r.error().message));
    return false;
  }
  o.reinvite = std::move(*r);
  o.reoffering = true;
  ++c.reoffers;
  verbose(fmt::format("{}: re-offering {} {}", tag(c), o.aor, what));
  return true;
}

bool Focus::Impl::adding_audio(const GroupCall& c) const
{
  if (!c.modifier || !c.modifier->modify || c.modifier->mix || c.cancelled)
    return false;
  auto answer = sdp::parse(c.modifier->modify_answer);
  return answer && sdp::audio_of(*answer).has_value();
}

// Figure 4 step 2: re-INVITE `o` with its current streams plus the session's audio. False
// when no offer went out.
bool Focus::Impl::reoffer(GroupCall& c, Party& o)
{
  auto current = sdp::parse(o.local());
  if (!current) {
    diag(fmt::format("{}: cannot re-offer {}: {}", tag(c), o.aor, current.error().message));
    return false;
  }
  auto audio = audio_for(o);
  if (!audio)
    return false;
  if (!send_offer(c, o, sdp::format(sdp::add_media(*current, *audio)), "its streams plus audio")) {
    stop_audio(o);
    return false;
  }
  return true;
}

// After a cancelled modification: `o` took the audio; re-INVITE it with the audio at port 0
// (RFC 3264 §8.2), as it was before. It leaves the mix now, whatever it answers.
void Focus::Impl::take_back(GroupCall& c, Party& o)
{
  if (auto current = sdp::parse(o.local()))
    (void)send_offer(c, o, sdp::format(sdp::remove_media(*current, "audio")),
                     "its streams without the audio (cancelled)");
  stop_audio(o);
}

// The answer to our re-offer: `o` takes the audio, takes only chat (port 0), or refused the
// offer (its streams stay as they were). Either way it stays in the session. (An offer taking
// the audio back after a CANCEL has it leave the mix whatever it answers.)
void Focus::Impl::reoffered(Party& o, const std::string& offer, const sip::ReinviteResult& r)
{
  if (!o.reoffering)
    return;
  o.reoffering = false;
  GroupCall& c = *o.conf;
  auto ours = sdp::parse(offer);
  bool with_audio = ours && sdp::audio_of(*ours);
  if (r.ok()) {
    o.glare_tries = 0;
    auto theirs = sdp::parse(r.sdp);
    o.local() = offer;
    if (ours && theirs) {
      o.remote = r.sdp;
      apply_audio(o, *ours, *theirs);
    } else {
      diag(fmt::format("{}: {}'s answer: {}", tag(c), o.aor,
                       theirs ? ours.error().message : theirs.error().message));
      stop_audio(o);
    }
    if (with_audio && !o.mix)
      o.audio_declined = true;
    verbose(fmt::format("{}: {} {}", tag(c), o.aor,
                        o.mix        ? "takes the audio"
                        : with_audio ? "takes only chat (audio refused, port 0)"
                                     : "is back to chat only"));
  } else if (r.status == 491 && with_audio && retry_reoffer(o, false)) {
    stop_audio(o); // the RTP port opened for the offer; the next one opens its own
  } else {
    stop_audio(o);
    // A glare (491) or no answer is no decision; a refusal is.
    if (with_audio && r.status >= 300 && r.status != 491 && r.status != 408)
      o.audio_declined = true;
    o.glare_tries = 0;
    std::string why = r.status ? fmt::format("{} {}", r.status, r.reason) : std::strerror(r.err);
    verbose(fmt::format("{}: {} refused {} ({}{}); it keeps chatting", tag(c), o.aor,
                        with_audio ? "the audio" : "our offer", why,
                        r.warning.empty() ? "" : ", " + r.warning));
  }
  if (c.reoffers > 0)
    --c.reoffers;
  reoffer_done(c);
}

// `l` has just joined (its 200 to our INVITE, or its ACK of ours), and the SDP it was offered
// or offered had no audio line (`had_audio_line` false). If the session carries audio, or a
// participant's re-INVITE adding it is held (Figure 4), `l` is offered the audio now. In the
// second case the held re-INVITE also waits for this answer, and a CANCEL of it takes the
// audio back from `l` too.
void Focus::Impl::offer_audio_on_join(GroupCall& c, Party& l, bool had_audio_line)
{
  const bool adding = adding_audio(c);
  if (!(c.audio || adding) || c.ended || had_audio_line || l.mix || l.reoffering ||
      c.modifier == &l)
    return;
  if (reoffer(c, l) && adding)
    c.reoffered.push_back(&l);
}

// RFC 3261 §14.1: our re-offer of audio to `o` crossed a re-INVITE of its own and was answered
// 491 (`waiting` false), or its next try found another modification under way (`waiting`
// true). Send it again after the section's random time (2.1 to 4 s in a member's dialog, whose
// Call-ID is ours; up to 2 s in the inviter's), at most sip::k_glare_retries times in a row.
// False when the tries are used up.
bool Focus::Impl::retry_reoffer(Party& o, bool waiting)
{
  GroupCall& c = *o.conf;
  if (o.glare_tries >= sip::k_glare_retries) {
    diag(waiting ? fmt::format("{}: glare: the re-offer of audio to {} found another "
                               "modification under way; giving it up",
                               tag(c), o.aor)
                 : fmt::format("{}: glare: {} answered our re-offer of audio 491 Request "
                               "Pending {} times; giving it up",
                               tag(c), o.aor, o.glare_tries + 1));
    return false;
  }
  ++o.glare_tries;
  auto delay = sip::glare_delay_ms(!o.inviter);
  verbose(fmt::format(
      "{}: glare: {}; trying again in {}.{:02} s", tag(c),
      waiting ? fmt::format("the re-offer of audio to {} waits: another modification is under way",
                            o.aor)
              : fmt::format("{} answered our re-offer of audio 491 Request Pending (its own "
                            "re-INVITE crossed ours)",
                            o.aor),
      delay / 1000, delay % 1000 / 10));
  Party* p = &o;
  o.glare_timer.start(delay, [this, p] {
    sip::guarded(env.diag, "a re-offer after glare", [&] { reoffer_again(*p); });
  });
  return true;
}

// The glare timer of `o`: offer it the audio again if it still has none while the session
// carries audio (its own re-INVITE, answered meanwhile, may have added or refused it). While
// a modification of another participant is held, `o` joins it when it adds audio (that 200
// waits for `o`'s answer too); while any other is held or undone, `o` waits its turn.
void Focus::Impl::reoffer_again(Party& o)
{
  GroupCall& c = *o.conf;
  bool adding = adding_audio(c);
  if (o.gone || !o.joined || !o.sess || o.mix || o.reoffering || c.ended || o.audio_declined ||
      !(c.audio || adding) || (c.modifier == &o && adding)) {
    verbose(fmt::format("{}: {} needs no re-offer of audio any more", tag(c), o.aor));
    o.glare_tries = 0;
    return;
  }
  if (c.cancelled || (c.modifier && !adding)) {
    if (!retry_reoffer(o, true))
      o.glare_tries = 0;
    return;
  }
  if (reoffer(c, o) && adding)
    c.reoffered.push_back(&o);
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
  l.glare_timer.cancel();
  if (c.modifier == &l)
    c.modifier = nullptr;
  std::erase(c.reoffered, &l);
  if (l.reoffering) {
    l.reoffering = false;
    if (c.reoffers > 0)
      --c.reoffers;
    reoffer_done(c);
  }
}

} // namespace cpm::groupd
