#pragma once
// Pager-mode MESSAGEs in: every MESSAGE to the stack is answered at once, 200 when its body
// makes sense (interpret()) and a 4xx with a diagnostic when not; OPTIONS gets 200.
//
// Over UDP they are read from the stack's tap (sip::Stack::add_udp_tap) once libre has
// delivered a first message: parsed once (wire::parse) and answered from a server
// transaction of our own (proxy::TransactionTable: a retransmission gets the same answer
// again and is not delivered twice, for Timer J). The first message, and whatever the tap
// does not take (over TCP or TLS, a branch without the RFC 3261 cookie, what wire::parse
// refuses), come through libre's sip_listen and sip_treply.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/incoming.hpp"
#include "cpm/ua/log.hpp"

struct sip_lsnr;

namespace cpm::ua {

class Inbox {
public:
  // A MESSAGE answered 200, and the hop it came from (to answer there without a proxy).
  using Handler = std::function<void(const Incoming& in, const sip::Hop& source)>;

  static Result<std::unique_ptr<Inbox>> listen(sip::Stack& stack, const Log& log,
                                               Handler on_message);
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // The answer to a request, whichever way it came: code, reason, extra header lines.
  using Reply = std::function<void(int code, const std::string& reason,
                                   const std::vector<std::string>& headers)>;

private:
  struct Fast; // inbox.cpp
  Inbox(sip::Stack& stack, const Log& log, Handler h);
  bool on_request(const struct sip_msg* msg);
  // A MESSAGE or OPTIONS, from libre or the tap: answered with `reply`.
  void serve(std::string_view method, const std::string& from, std::string_view to,
             std::string_view ctype, const tl::expected<std::string, Refusal>& body,
             const sip::Hop& source, const Reply& reply);
  static bool req_h(const struct sip_msg* msg, void* arg) noexcept;

  sip::Stack& m_stack;
  Log m_log;
  Handler m_on_message;
  // sip_listen keeps the address of its out-pointer and clears it when the listener ends:
  // a slot that never moves, not a re_ptr (re_out's temporary would be gone by then).
  re_slot<struct sip_lsnr> m_lsnr;
  std::unique_ptr<Fast> m_fast;
};

} // namespace cpm::ua
