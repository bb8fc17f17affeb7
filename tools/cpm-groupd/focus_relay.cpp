// The focus's MSRP: it terminates every participant's MSRP session (on one msrp::Listener)
// and relays each chat message to all other participants (joined, or answered).
#include "focus_impl.hpp"

#include <cstring>
#include <fmt/format.h>

namespace cpm::groupd {

std::unique_ptr<msrp::Session> Focus::Impl::new_msrp(Party& l)
{
  msrp::Callbacks cb;
  cb.on_message = [this, &l](const msrp::Message& m) { relay(l, m); };
  cb.on_failure = [this, &l](const std::string& id, int status) {
    verbose(fmt::format("{}: MSRP message {} to {} failed: {}", tag(*l.conf), id, l.aor, status));
  };
  cb.on_connected = [this, &l] {
    verbose(fmt::format("{}: MSRP up with {}", tag(*l.conf), l.aor));
  };
  cb.on_closed = [this, &l](int err) {
    l.msrp_lost = true; // nothing more is queued for it (the SIP leg stays until its BYE)
    if (!l.gone)
      verbose(fmt::format("{}: MSRP connection of {} closed{}", tag(*l.conf), l.aor,
                          err ? fmt::format(": {}", std::strerror(err)) : std::string()));
  };
  cb.on_diag = [this, &l](const std::string& s) {
    diag(fmt::format("{}: MSRP {}: {}", tag(*l.conf), l.aor, s));
  };
  return listener->session(std::move(cb));
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

// The active side (our offer said so, or the inviter's offer did) connects once joined.
void Focus::Impl::start_msrp(Party& l)
{
  if (l.msrp && l.msrp_active && !l.msrp->connected())
    if (auto r = l.msrp->connect(); !r)
      diag(fmt::format("{}: MSRP connect to {}: {}", tag(*l.conf), l.aor, r.error().message));
}

} // namespace cpm::groupd
