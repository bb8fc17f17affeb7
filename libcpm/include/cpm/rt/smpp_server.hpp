#pragma once
// The SMSC's side of SMPP 3.4 on libre's TCP (cpm-smsc): accepts connections, binds them
// (bind_transmitter / bind_receiver / bind_transceiver, checked against one account:
// ESME_RINVSYSID, ESME_RINVPASWD), answers enquire_link and unbind, refuses what comes
// before the bind (ESME_RINVBNDSTS) or after it twice (ESME_RALYBND), hands every other
// request of a bound ESME to its owner and sends the owner's answer, and sends the owner's
// requests (deliver_sm) to a bound receiver with their own sequence numbers, matching each
// response back. Bad PDUs: rt/smpp_conn.hpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/smpp/pdu.hpp"

namespace cpm::trace {
class Writer;
}

namespace cpm::smpp {

// A bound or binding ESME connection, by number (never reused in one Server).
using SessionId = uint64_t;

class Server {
public:
  struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 2775;
    std::string system_id = "cpm-smsc"; // ours, in bind responses
    // The account ESMEs bind with; an empty password takes any, an empty system_id any.
    std::string account;
    std::string password;
    trace::Writer* trace = nullptr;
    std::function<void(const std::string&)> diag; // one line per bad PDU or refused bind
  };
  struct Callbacks {
    // A bound ESME's request (submit_sm, ...): return its response (response(req, status)
    // with the body filled in).
    std::function<Pdu(SessionId, const Pdu& request)> on_request;
    // A session was bound (the bind PDU), or ended (unbind or connection closed); the
    // requests it had outstanding were answered with on_response(..., nullptr) first.
    std::function<void(SessionId, const Pdu& bind)> on_bound;
    std::function<void(SessionId)> on_unbound;
    // The response to a request sent with send(), or nullptr when the session ended first.
    std::function<void(SessionId, uint64_t tag, const Pdu* response)> on_response;
  };

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  static Result<std::unique_ptr<Server>> listen(Options opt, Callbacks cb);
  uint16_t port() const;
  const std::string& host() const;

  // Sessions that may receive a deliver_sm (bound as receiver or transceiver), oldest first.
  std::vector<SessionId> receivers() const;
  // The system_id an ESME bound with.
  std::string system_id_of(SessionId s) const;
  // Requests sent and not answered yet on a session.
  size_t outstanding(SessionId s) const;
  // Send a request (its sequence number is set here); `tag` comes back with its response.
  Result<void> send(SessionId s, Pdu request, uint64_t tag);
  // Unbind every session (each waits for nothing: the connections close after the unbind).
  void unbind_all();

  struct Impl;

private:
  Server() = default;
  std::unique_ptr<Impl> m;
};

} // namespace cpm::smpp
