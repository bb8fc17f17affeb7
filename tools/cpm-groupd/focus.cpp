// The controlling function of pre-defined groups: a B2BUA on libre's sipsess with one MSRP
// session per participant, relaying every chat message to all other participants.
//
// The inviter's INVITE is held (no libre server transaction yet, a stateless 100 Trying) until
// the first member rings (180, sipsess_accept) or accepts (200); a failure of every member
// is answered with sip_treply (stateful, ACK absorbed). Legs and conferences are removed on
// a zero-delay timer, never inside the libre callback that ends them.
//
// This file: the entry points and the life of sessions and legs (focus_impl.hpp has the rest).
#include "focus_impl.hpp"

#include <algorithm>
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

std::string txn_of(const struct sip_msg* msg)
{
  return fmt::format("{}|{}|{}", pl_string(msg->callid), msg->cseq.num, pl_string(msg->from.tag));
}

Party* GroupCall::inviter() const
{
  for (auto& l : legs)
    if (l->inviter && !l->gone)
      return l.get();
  return nullptr;
}

size_t GroupCall::alive() const
{
  return size_t(std::count_if(legs.begin(), legs.end(), [](auto& l) { return !l->gone; }));
}

// Stopping: every session ends (BYE to participants, CANCEL to pending invitations).
Focus::Impl::~Impl()
{
  for (auto& c : confs)
    end(*c, "shutting down");
  for (auto& c : confs)
    for (auto& l : c->legs)
      drop_leg(*l);
}

void Focus::Impl::diag(const std::string& s) const
{
  if (env.diag)
    env.diag(s);
}

void Focus::Impl::verbose(const std::string& s) const
{
  if (env.verbose)
    env.verbose(s);
}

std::string Focus::Impl::tag(const GroupCall& c) const
{
  return fmt::format("{} (session {})", c.group.uri, c.id);
}

// Contact of the focus with the isfocus feature tag (RFC 4579 §3.3.1), carried by one more
// header line (sip::sipsess_contact).
std::string Focus::Impl::contact(const GroupCall& c, std::string_view header_name,
                                 std::string_view header_value) const
{
  return sip::sipsess_contact(fmt::format("sip:{}@{}:{}", sip::uri_user(c.group.uri), host, port),
                              ";isfocus", header_name, header_value);
}

GroupCall* Focus::Impl::running(const std::string& group_uri)
{
  for (auto& c : confs)
    if (!c->ended && c->group.uri == group_uri)
      return c.get();
  return nullptr;
}

Party* Focus::Impl::held_leg(const std::string& txn)
{
  for (auto& c : confs)
    for (auto& l : c->legs)
      if (l->held && l->held_txn == txn)
        return l.get();
  return nullptr;
}

// A new session of group `g`.
GroupCall& Focus::Impl::open_call(const config::Group& g)
{
  auto conf = std::make_unique<GroupCall>();
  conf->impl = this;
  conf->id = next_id++;
  conf->group = g;
  conf->started_ms = sip::jiffies();
  confs.push_back(std::move(conf));
  return *confs.back();
}

void Focus::Impl::schedule_gc()
{
  if (!gc.active())
    gc.start(0, [this] { collect(); });
}

// Free what the libre callbacks ended (a terminated sipsess sends nothing when freed).
void Focus::Impl::collect()
{
  for (auto& c : confs) {
    for (auto& l : c->legs)
      if (l->gone) {
        l->sess.reset();
        l->held.reset();
      }
    c->legs.erase(std::remove_if(c->legs.begin(), c->legs.end(), [](auto& l) { return l->gone; }),
                  c->legs.end());
  }
  confs.erase(std::remove_if(confs.begin(), confs.end(),
                             [](auto& c) { return c->ended && c->legs.empty(); }),
              confs.end());
}

// A leg whose sipsess ended (its close handler runs): freed later by collect().
void Focus::Impl::closed(Party& l)
{
  forget_media(l);
  if (l.msrp)
    l.msrp->close();
  l.gone = true;
  schedule_gc();
}

// Forget a leg's SIP and MSRP: BYE when established, CANCEL when ringing (libre).
void Focus::Impl::drop_leg(Party& l)
{
  forget_media(l);
  if (l.msrp)
    l.msrp->close();
  l.sess.reset();
  l.held.reset();
  l.gone = true;
}

// Answer a held INVITE with a failure, statefully (the ACK is absorbed by libre).
void Focus::Impl::refuse_held(Party& l, int code, const char* reason)
{
  if (!l.held)
    return;
  (void)sip_treply(nullptr, env.stack->get(), l.held.get(), uint16_t(code), reason);
  l.held.reset();
}

void Focus::Impl::end(GroupCall& c, const std::string& why)
{
  if (c.ended)
    return;
  c.ended = true;
  c.timeout.cancel();
  verbose(fmt::format("{}: ended ({}), {} messages relayed", tag(c), why, c.relayed));
  for (auto& l : c.legs) {
    if (l->held)
      refuse_held(*l, 480, "Temporarily Unavailable");
    if (!l->gone)
      drop_leg(*l);
  }
  c.ticker.reset();
  c.mixer.reset();
  c.mixed.clear();
  schedule_gc();
}

// Fewer than two participants (joined or still being invited) left: the session ends.
void Focus::Impl::maybe_end(GroupCall& c)
{
  if (!c.ended && c.alive() < 2)
    end(c, "fewer than two participants");
}

// A re-INVITE that reached sipsess (the proxy hook hands ours to reinvite(), focus_modify.cpp):
// answered with the same media.
int Focus::Impl::on_reoffer(struct mbuf** descp, const struct sip_msg*, void* arg) noexcept
{
  auto& l = *static_cast<Party*>(arg);
  return sip::guarded(l.conf->impl->env.diag, "the re-INVITE handler", ENOMEM, [&] {
    *descp = mbuf_copy(l.inviter ? l.answer : l.offer).release();
    return *descp ? 0 : ENOMEM;
  });
}

// ---- Focus ----

Result<std::unique_ptr<Focus>> Focus::create(Env env)
{
  std::unique_ptr<Focus> f(new Focus);
  f->m = std::make_unique<Impl>();
  Impl& m = *f->m;
  m.env = std::move(env);
  // Our address: the first listen address of the node.
  auto spec = sip::parse_listen(m.env.stack->bound().front());
  if (!spec)
    return tl::unexpected(spec.error());
  m.host = spec->host;
  m.port = spec->port;
  // MSRP over TLS on the stack's TLS context, or on one of our own when SIP has none.
  const sip::TlsContext* tls = m.env.stack->tls();
  if (!tls && !m.env.node->tls.cert.empty()) {
    auto ctx = sip::TlsContext::create(m.env.node->tls);
    if (!ctx)
      return tl::unexpected(ctx.error());
    m.tls = std::move(*ctx);
    tls = m.tls.get();
  }
  auto l = msrp::Listener::create(m.host, 0, m.env.stack->tracer(), tls);
  if (!l)
    return tl::unexpected(l.error());
  m.listener = std::move(*l);
  if (m.env.node->msrp_tls && !m.listener->has_tls())
    return fail("msrp_tls (--msrp-tls) needs a certificate: tls_cert (--tls-cert)", 2);
  // Before sipsess_listen: the ACKs of our re-INVITEs' retransmitted 2xx come first.
  auto acks = sip::Acks::listen(*m.env.stack);
  if (!acks)
    return tl::unexpected(acks.error());
  m.acks = std::move(*acks);
  if (int err = sipsess_listen(re_out(m.sock), m.env.stack->get(), 64, Impl::on_connect, &m))
    return fail(fmt::format("sipsess_listen: {}", std::strerror(err)), 3);
  return f;
}

Focus::~Focus() = default;

proxy::Action Focus::invite(const proxy::Incoming& in, const config::Group& g)
{
  const sip::Request& req = in.req;
  if (m->held_leg(txn_of(in.msg))) {
    (void)sip_reply(m->env.stack->get(), in.msg, 100, "Trying");
    return proxy::Action::drop();
  }
  std::string who = req.asserted.empty() ? req.from_uri : req.asserted;
  GroupCall* c = m->running(g.uri);
  auto v = group::authorize(g, who, c ? c->alive() : 0);
  if (!v.allowed()) {
    m->diag(fmt::format("INVITE {} from {}: {} {} ({})", g.uri, who, v.status, v.reason, v.why));
    return proxy::Action::reply(v.status, v.reason);
  }
  auto offer = ua::decoded_body(in.msg);
  if (!offer) {
    m->diag(fmt::format("INVITE {} from {}: {}: {}", g.uri, who, offer.error().code,
                        offer.error().message));
    return proxy::Action::reply(offer.error().code, offer.error().reason, offer.error().headers);
  }
  auto d = sdp::parse(*offer);
  if (!d) {
    m->diag(fmt::format("INVITE {} from {}: 488: bad SDP: {}", g.uri, who, d.error().message));
    return proxy::Action::reply(488, "Not Acceptable Here");
  }
  auto mv = group::check_media(group::allowed_media(g), sdp::media_types(*d));
  if (!mv.allowed()) {
    m->diag(fmt::format("INVITE {} from {}: {} {} ({})", g.uri, who, mv.status, mv.reason, mv.why));
    return proxy::Action::reply(mv.status, mv.reason);
  }
  if (in.msg->tp == SIP_TRANSP_UDP)
    (void)sip_reply(m->env.stack->get(), in.msg, 100, "Trying");
  return proxy::Action::pass();
}

proxy::Action Focus::reinvite(const proxy::Incoming& in)
{
  return m->reinvite(in.msg);
}

void Focus::ack(const proxy::Incoming& in)
{
  m->acked(in.msg);
}

bool Focus::cancel(const struct ::sip_msg* msg)
{
  return m->cancel(msg) || m->cancel_modify(msg);
}

size_t Focus::sessions() const
{
  return size_t(std::count_if(m->confs.begin(), m->confs.end(), [](auto& c) { return !c->ended; }));
}

} // namespace cpm::groupd
