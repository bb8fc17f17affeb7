#pragma once
// The ESME side of SMPP 3.4 on libre's TCP (cpm-iwf's link to its SMSC): connects and binds
// as a transceiver with the configured account, keeps the link alive with enquire_link
// (a link whose requests go unanswered is closed and made again), reconnects with a
// doubling backoff, keeps at most `window` requests outstanding, resends a submit_sm the
// SMSC answered ESME_RTHROTTLED or ESME_RMSGQFUL after a growing pause (new submissions
// wait meanwhile), hands deliver_sm to its owner and answers it with the owner's status,
// and unbinds on stop. Bad PDUs: rt/smpp_conn.hpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cpm/base/error.hpp"
#include "cpm/smpp/pdu.hpp"

struct dnsc;

namespace cpm::trace {
class Writer;
}

namespace cpm::smpp {

class Esme {
public:
  struct Options {
    // An IP literal, or a host name asked of `dnsc` (A, then AAAA) before each connect.
    std::string host;
    std::string local_host; // connect from this address ("": any)
    uint16_t port = 2775;
    std::string system_id, password, system_type;
    size_t window = 10;
    int enquire_link_ms = 30000;
    int reconnect_ms = 1000; // first wait, doubled up to reconnect_max_ms
    int reconnect_max_ms = 60000;
    int response_timeout_ms = 10000; // a request unanswered this long: the link is dead
    trace::Writer* trace = nullptr;
    std::function<void(const std::string&)> diag;
    struct ::dnsc* dnsc = nullptr; // the SIP stack's DNS client (rt/resolve.hpp)
  };
  struct Callbacks {
    // Bound (again): submissions may go.
    std::function<void()> on_bound;
    // The response to send(request, tag); nullptr when the link ended before it came (the
    // request may or may not have reached the SMSC).
    std::function<void(uint64_t tag, const Pdu* response)> on_response;
    // A deliver_sm or data_sm: the command_status to answer it with.
    std::function<uint32_t(const Pdu& request)> on_deliver;
    // Room in the window again (after a full window or a throttling pause).
    std::function<void()> on_room;
  };

  static Result<std::unique_ptr<Esme>> create(Options opt, Callbacks cb);
  ~Esme();
  Esme(const Esme&) = delete;
  Esme& operator=(const Esme&) = delete;

  // Connect and bind (again and again until stop()).
  void start();
  // How many more requests may go now: 0 unless bound, not throttled and the window has room.
  size_t room() const;
  bool bound() const;
  // Send a request (submit_sm); its sequence number is set here.
  Result<void> send(Pdu request, uint64_t tag);
  // Unbind and close; no callbacks after it.
  void stop();

  struct Impl;

private:
  Esme() = default;
  std::unique_ptr<Impl> m;
};

} // namespace cpm::smpp
