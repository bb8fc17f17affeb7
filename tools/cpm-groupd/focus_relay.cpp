// The focus's MSRP: it terminates every participant's MSRP session (on one msrp::Listener)
// and relays each chat message to all other participants (joined, or answered).
#include "focus_impl.hpp"

#include <cstring>
#include <fmt/format.h>

namespace cpm::groupd {

std::unique_ptr<msrp::Session> Focus::Impl::new_msrp(Party& l, bool secure)
{
  msrp::Callbacks cb;
  cb.on_message = [this, &l](const msrp::Message& m) { relay(l, m); };
  cb.on_failure = [this, &l](const std::string& id, int status) {
    verbose(fmt::format("{}: MSRP message {} to {} failed: {}", tag(*l.conf), id, l.aor, status));
  };
  cb.on_connected = [this, &l] {
    verbose(fmt::format("{}: MSRP up with {}", tag(*l.conf), l.aor));
  };
  cb.on_closed = [this, &l](int err) { msrp_closed(l, err); };
  cb.on_diag = [this, &l](const std::string& s) {
    diag(fmt::format("{}: MSRP {}: {}", tag(*l.conf), l.aor, s));
  };
  return listener->session(std::move(cb), secure);
}

bool Focus::Impl::member_tls(const GroupCall& c, const std::string& member) const
{
  return msrp::offer_tls(env.node->msrp_tls || c.msrp_tls, member,
                         msrp::offer_tls(false, sip::to_sip_uri(env.node->proxy), "") ? "tls" : "");
}

msrp::Uri Focus::Impl::msrp_local(const Party& l) const
{
  if (l.msrp)
    return l.msrp->local();
  msrp::Uri u;
  u.host = host;
  return u;
}

sdp::Chat Focus::Impl::chat_of(const Party& l)
{
  return l.msrp ? sdp::Chat::Required : sdp::Chat::Optional;
}

// A chat message from `from`: to every other joined participant, unchanged (its CPIM From
// names the writer). An inviter counts once answered: RFC 3264 lets media flow once the
// answer is sent, and under loss its ACK may come seconds later (lines meanwhile were lost).
void Focus::Impl::relay(Party& from, const msrp::Message& m)
{
  GroupCall& c = *from.conf;
  if (c.ended || m.body.empty())
    return;
  for (auto& l : c.legs) {
    if (l.get() == &from || l->gone || !(l->joined || l->answered) || !l->msrp || l->msrp_lost)
      continue;
    msrp::Message out;
    out.content_type = m.content_type;
    out.body = m.body;
    l->msrp->send(std::move(out));
    ++c.relayed;
  }
}

// A participant's MSRP connection closed. Its BYE usually follows; if none has come within
// the node's timeout (a participating function or core on its path is gone, or the
// participant died), the session with it has failed (RFC 4975 §5.4): its leg ends with our
// BYE, and a session left with fewer than two participants ends for the others too,
// instead of keeping them in a session with nobody.
void Focus::Impl::msrp_closed(Party& l, int err)
{
  l.msrp_lost = true; // nothing more is queued for it
  if (l.gone || l.conf->ended)
    return;
  verbose(fmt::format("{}: MSRP connection of {} closed{}", tag(*l.conf), l.aor,
                      err ? fmt::format(": {}", std::strerror(err)) : std::string()));
  uint64_t ms = bye_grace_ms();
  l.msrp_grace.start(ms, [this, &l, ms] {
    GroupCall& c = *l.conf;
    if (l.gone || c.ended)
      return;
    diag(fmt::format("{}: {} failed: its MSRP connection was lost and no BYE came within {} s; "
                     "its leg ends (RFC 4975 §5.4)",
                     tag(c), l.aor, ms / 1000));
    if (l.held)
      refuse_held(l, 480, "Temporarily Unavailable");
    drop_leg(l);
    schedule_gc();
    maybe_end(c);
  });
}

// How long a BYE may take after the MSRP connection closed: the node's timeout (a request
// over lossy UDP is answered or given up within it), 32 s by default.
uint64_t Focus::Impl::bye_grace_ms() const
{
  return env.node && env.node->timeout_ms > 0 ? uint64_t(env.node->timeout_ms) : 32000;
}

// The active side (our offer said so, or the inviter's offer did) connects once joined.
void Focus::Impl::start_msrp(Party& l)
{
  if (l.msrp && l.msrp_active && !l.msrp->connected())
    if (auto r = l.msrp->connect(); !r)
      diag(fmt::format("{}: MSRP connect to {}: {}", tag(*l.conf), l.aor, r.error().message));
}

} // namespace cpm::groupd
