#pragma once
// Pager-mode MESSAGEs in: every MESSAGE to the stack is answered at once, 200 when its body
// makes sense (interpret()) and a 4xx with a diagnostic when not; OPTIONS gets 200.
#include <functional>
#include <memory>

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

private:
  Inbox(sip::Stack& stack, const Log& log, Handler h);
  bool on_request(const struct sip_msg* msg);
  static bool req_h(const struct sip_msg* msg, void* arg) noexcept;

  sip::Stack& m_stack;
  Log m_log;
  Handler m_on_message;
  // sip_listen keeps the address of its out-pointer and clears it when the listener ends:
  // a slot that never moves, not a re_ptr (re_out's temporary would be gone by then).
  re_slot<struct sip_lsnr> m_lsnr;
};

} // namespace cpm::ua
