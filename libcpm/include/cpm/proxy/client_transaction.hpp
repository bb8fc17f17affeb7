#pragma once
// The proxy's own client transactions for non-INVITE requests (RFC 3261 §17.1.2), over UDP
// or, reliable, over our own TCP (no Timer E). They spare libre's sip_request where it is
// not needed (a UDP or TCP next hop given as an IP literal):
// libre's Timer E/F/K sit in its one sorted timer list, and its branch per request cost a
// draw from OpenSSL. A transaction reports every response it gets (err 0) or a failure to
// send (an errno and no message) to its handler; it has no Timer F: the server side's
// non-answer timeout (at most 64*T1) answers 408.
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "cpm/grammar/wire.hpp"
#include "cpm/proxy/branch.hpp"
#include "cpm/rt/timer_queue.hpp"

struct sa;

namespace cpm::proxy {

class ClientTransactions {
public:
  using ResponseHandler = void (*)(int err, const sip::wire::Message* msg, void* arg) noexcept;
  // How a request goes out (and again on Timer E): to `dst`; returns errno. Over a
  // connection, `conn` gets its id (fail_connection).
  using Send = std::function<int(const struct ::sa& dst, std::string_view request, uint64_t* conn)>;

  // `reliable`: the transport retransmits, so there is no Timer E (RFC 3261 §17.1.2.2) and
  // no copy of the request is kept.
  ClientTransactions(Send send, rt::TimerQueue& timers, bool reliable = false);
  ~ClientTransactions();
  ClientTransactions(const ClientTransactions&) = delete;
  ClientTransactions& operator=(const ClientTransactions&) = delete;

  // Whether a transaction with `branch` is alive.
  bool has(uint64_t branch) const;
  // Send `request` (a complete message whose top Via has `branch`, a BranchGenerator
  // number) to `dst` and, unreliable, retransmit it on Timer E until a final response. Returns
  // errno; EEXIST, without sending, when `branch` is alive already.
  int start(uint64_t branch, std::string_view method, const struct ::sa& dst,
            std::string_view request, ResponseHandler h, void* arg);
  // Stop retransmitting (the server side has its final answer) and free the request;
  // responses still match.
  void stop(uint64_t branch);
  // Forget the transaction: later responses to it match nothing.
  void erase(uint64_t branch);
  // A response to one of ours (by top Via branch and CSeq method): handled, true.
  bool on_response(const sip::wire::Message& msg);
  // Whether on_response would take `msg`.
  bool matches(const sip::wire::Message& msg) const { return find(msg) != nullptr; }
  // The connection `conn` is gone with `err`: every transaction sent on it that has no
  // final response yet is told (err and no message), once.
  void fail_connection(uint64_t conn, int err);

private:
  struct Txn;
  struct Table;
  void stopped(Txn& t) noexcept;
  Txn* find(const sip::wire::Message& msg) const;
  static void on_timer_e(void* arg) noexcept;

  Send m_send;
  rt::TimerQueue& m_timers;
  bool m_reliable = false;
  std::unique_ptr<Table> m_table;
};

} // namespace cpm::proxy
