#pragma once
// A transaction-stateful SIP proxy on a sip::Stack, with its own compact server-transaction
// table (libre's server transactions answer 482 to spirals: notes/libre-1.1.md §5).
//
// The owner decides per request through a hook (action.hpp): forward (new request URI,
// pushed Routes, headers to add or remove), answer locally (reject, or a registrar's 200),
// or pass the request to later libre listeners (a B2BUA's sipsess). The proxy does
// everything else: retransmission absorption, 100 Trying, Max-Forwards/483, Record-Route,
// CANCEL, Timer C, 408 on silence, relaying of responses, stateless ACK / in-dialog /
// stray-2xx forwarding, UDP -> TCP for requests over 1300 bytes, 400 for malformed
// requests, and the flood limits (503 then silence per source address, 513 by size).
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "cpm/base/error.hpp"
#include "cpm/proxy/action.hpp"
#include "cpm/proxy/flood.hpp"
#include "cpm/proxy/next_hop.hpp" // with_transport, for owners that pick hops themselves
#include "cpm/rt/sip.hpp"

struct sip_msg;

namespace cpm::proxy {

struct Options {
  // Non-answer timeout (no final response from the next hop) for non-INVITE, ms.
  int timeout_ms = 32000;
  // Timer C for INVITE: no final response this long after the last provisional -> CANCEL, 408.
  int timer_c_ms = 180000;
  // RFC 3261 §18.1.1: a request bigger than this to a UDP next hop goes over TCP; 0: the
  // stack's (sip::Stack::udp_max: 1300, or 200 bytes below a known path MTU).
  size_t udp_max = 0;
  // Seed of the keyed hash that derives the branches of forwarded requests from the
  // incoming ones (proxy/branch.hpp); the same seed after a restart gives a late
  // retransmission the branch it had before. Empty: random, drawn once per process.
  std::string branch_secret;
  // How many completed UDP transactions may linger for Timer J at once (the oldest leave
  // early beyond it); 0: the default, k_max_lingering (transaction_table.hpp).
  size_t max_lingering = 0;
  // Flood limits (flood.hpp): checked on every request before anything else; by default
  // no rate limit and 513 over k_max_request_size bytes.
  FloodLimits flood;
  // Prefix of stderr diagnostics ("cpm-core-route").
  std::string name = "cpm";
  // A CANCEL that matches none of the proxy's transactions (e.g. one for an INVITE the hook
  // passed to a B2BUA that has not answered yet): return true when the owner answered it;
  // false (or unset) gives 481.
  std::function<bool(const struct ::sip_msg*)> unmatched_cancel;
  // Diagnostics sink (one line each, no newline); default: "name: line" on stderr.
  std::function<void(const std::string&)> diag;
};

// Where a response to a request that came over UDP from `src` goes (RFC 3261 §18.2.2,
// RFC 3581): the source address, at the Via's sent-by port unless the Via asked for rport;
// to the Via's maddr when it names one.
struct ::sa udp_response_address(const struct ::sa& src, const sip::wire::Message& request);

class Proxy {
public:
  // Listen for requests and stray responses on `stack` (which must outlive the proxy).
  static Result<std::unique_ptr<Proxy>> create(sip::Stack& stack, Options opt, RequestHook hook);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  struct Impl;

private:
  Proxy() = default;
  std::unique_ptr<Impl> m;
};

} // namespace cpm::proxy
