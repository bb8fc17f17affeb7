#pragma once
// The controlling function of the pre-defined groups hosted here (FLOWS.md Figures 1 and 2):
// a B2BUA (libre sipsess) that authorizes the inviter, invites every other member through
// the node's core, answers the inviter on the first 180 / first 200, terminates every
// participant's MSRP and relays each chat message to all other participants.
#include <memory>

#include "cpm/base/error.hpp"
#include "cpm/proxy/proxy.hpp"
#include "env.hpp"

struct sip_msg;

namespace cpm::groupd {

class Focus {
public:
  // Listen for the INVITEs the proxy passes on (create it after the proxy), and for MSRP on
  // the node's first listen address.
  static Result<std::unique_ptr<Focus>> create(Env env);
  ~Focus(); // BYE to every participant, CANCEL to every pending invitation
  Focus(const Focus&) = delete;
  Focus& operator=(const Focus&) = delete;

  // An INVITE whose request URI is group `g`: authorization and media checks; Pass (the
  // focus takes it) or a Reply with the refusal.
  proxy::Action invite(const proxy::Incoming& in, const config::Group& g);
  // An in-dialog INVITE addressed to the focus (a participant modifies its media, FLOWS.md
  // Figures 3 and 4): Pass when it is no dialog of ours, else Drop (answered by the focus).
  proxy::Action reinvite(const proxy::Incoming& in);
  // An ACK addressed to the focus (passed on to sipsess after): the ACK of our 200 to a
  // re-INVITE ends that 200's retransmissions.
  void ack(const proxy::Incoming& in);
  // A CANCEL for an INVITE the focus holds (not answered yet): 200, 487, and the members'
  // legs are cancelled. False when it is not one of ours.
  bool cancel(const struct ::sip_msg* msg);
  // Sessions in progress (for diagnostics and tests).
  size_t sessions() const;

  struct Impl;

private:
  Focus() = default;
  std::unique_ptr<Impl> m;
};

} // namespace cpm::groupd
