#pragma once
// Pager-mode MESSAGEs out (OMA CPM pager mode, RFC 3428): one MESSAGE per message, with the
// CPM service indication, through an outbound proxy (a Route) or straight to a host, over
// TCP when the encoded request is bigger than UDP allows (RFC 3261 §18.1.1) unless the hop
// names UDP, and over UDP again when that TCP connection is refused; sent again as
// text/plain when a 415 asks for it (plain_retry.hpp); each ends in a final answer, an error
// or a timeout.
//
// A MESSAGE whose next hop is UDP at an IP literal goes out on client transactions of our
// own (proxy::ClientTransactions: our Via and branch, libre's sip_send, Timer E and F on an
// rt::TimerQueue, the responses from a libre response listener), as the proxy's do: libre
// 1.1 keeps every timer in one sorted list, and each Timer E of its sip_request walked past
// every Timer F of the last 32 s (quadratic under load). A MESSAGE to a DNS name, over
// TCP or TLS, or moved to TCP by its size, stays on libre's sip_request (RFC 3263 lookups,
// connections).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cpm/base/error.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/credentials.hpp"
#include "cpm/ua/plain_retry.hpp"

namespace cpm::sip::wire {
class Message;
}

namespace cpm::ua {

struct Final;

// One MESSAGE to send.
struct Message {
  std::string ruri;    // the request URI, and the To
  std::string from;    // the From URI
  std::string headers; // more header lines, each ending in CRLF (Referred-By)
  std::string content_type = "message/cpim";
  std::string body;
  bool service_indication = true; // Accept-Contact and P-Preferred-Service of CPM messaging
  // The text/plain form of the body (plain_of_cpim): sent instead, once, when the first
  // answer is a 415 whose Accept takes text/plain (RFC 3261 §8.1.3.5: the same Call-ID,
  // From tag and To, CSeq + 1). None: a 415 is final.
  std::optional<Body> plain;
  // Hears of that resend as it goes out, with the 415 that asked for it.
  std::function<void(const Final& refused)> on_plain;
};

// How one MESSAGE ended.
struct Final {
  uint64_t id = 0;        // Sent::id
  int err = 0;            // an errno when no final answer came (ETIMEDOUT after our timeout)
  bool timed_out = false; // our own timeout fired
  int status = 0;         // the final response's status (0 with err)
  std::string reason;
  std::string accept; // the Accept header(s) of a 415, joined by ", "
  bool plain = false; // the answer is to the text/plain resend (Message::plain)
  uint64_t latency_ms = 0;
};

// A failure that another attempt later may overcome: no answer (a timeout or a transport
// error), 408, 480, 500, 503 or 504. Any other final status of 300 or more is permanent.
bool transient(const Final& f);

// A MESSAGE on its way: its id for Pager::cancel() and the hop it went to (over TCP when
// it was too big for UDP).
struct Sent {
  uint64_t id = 0;
  sip::Hop hop;
};

class Pager {
public:
  using Done = std::function<void(const Final&)>;

  // `on_error` hears of a Done handler that threw ("internal error in ...").
  Pager(sip::Stack& stack, sip::Diag on_error);
  // Abandons what is still in flight (no Done calls).
  ~Pager();
  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;

  // Send `m` to `hop`, with a Route header naming it when `route` (an outbound proxy).
  // `done` gets the final answer, or the timeout after `timeout_ms` (0: the transaction's
  // own, 64*T1 = 32 s, err ETIMEDOUT). Nothing is sent on error (code 2 for a bad hop, else
  // 3).
  Result<Sent> send(const Message& m, const sip::Hop& hop, bool route, Done done,
                    uint64_t timeout_ms = 0);
  // Abandon one request (retransmissions stop; its Done is not called).
  void cancel(uint64_t id);
  size_t in_flight() const { return m_out.size(); }
  // Where request `id` stands, for a timeout's message: "last sent to udp:10.0.0.1:5060"
  // (libre's last send, after any failover), "nothing sent: no DNS answer for 'b.example'
  // from 127.0.0.1:53" (still resolving), or "" (not in flight, or on our own transaction).
  std::string progress(uint64_t id) const;
  // Answer a 401 or 407 with these credentials (RFC 3261 §22.2-22.3): the MESSAGE goes
  // again with CSeq + 1 and its Authorization; every later MESSAGE carries credentials for
  // that challenge with the next nonce count, until a new challenge replaces it. Without
  // credentials (or without a password) a challenge is the final answer.
  void set_credentials(Credentials c) { m_creds = std::move(c); }
  // Where a notice goes (a MESSAGE sent over UDP after TCP was refused); stderr if unset.
  void set_notice(sip::Diag notice) { m_on_note = std::move(notice); }

  struct Outstanding;

private:
  struct Own;
  struct Link;
  Result<void> ensure_own();
  Result<sip::Hop> launch(Outstanding& o, const sip::Hop& hop);
  int request(Outstanding& o, const sip::Hop& hop);
  // request() on our own client transaction (a UDP hop at an IP literal); ENOTSUP when the
  // hop is not one (libre's path then).
  int request_own(Outstanding& o, const sip::Hop& hop, const std::string& route_header);
  // Stop o's own client transaction, if any: it lingers for T4 to absorb retransmitted
  // answers (as libre's Timer K), which then reach no Outstanding.
  void retire(Outstanding& o) noexcept;
  // A final answer (msg), or a failure (err, no msg), for o's current transaction.
  // `msg` is libre's form of the answer; without it (the stack's tap took a 1xx or 2xx),
  // `wm` is.
  void answer(Outstanding& o, int err, const struct sip_msg* msg,
              const sip::wire::Message* wm = nullptr);
  bool resend_plain(Outstanding& o, const Final& refused);
  // The same MESSAGE with credentials for the challenge of `msg`; false if it cannot be.
  bool resend_authenticated(Outstanding& o, const struct sip_msg* msg);
  // The Authorization line for the current challenge ("" without one).
  std::string authorization(const std::string& ruri);
  // RFC 3261 §18.1.1 fallback: the same MESSAGE over UDP; false if it could not go.
  bool send_over_udp(Outstanding& o);
  // The same MESSAGE over TCP after DNS chose UDP for it and it is too big; false if not.
  bool send_over_tcp(Outstanding& o);
  void end(Outstanding& o, const Final& f);
  static void resp_h(int err, const struct sip_msg* msg, void* arg) noexcept;
  static bool lsnr_h(const struct sip_msg* msg, void* arg) noexcept;
  static void own_resp_h(int err, const sip::wire::Message* msg, void* arg) noexcept;
  static void timer_f_h(void* arg) noexcept;
  static void timeout_h(void* arg) noexcept;
  static void purge_h(void* arg) noexcept;

  sip::Stack& m_stack;
  sip::Diag m_on_error;
  sip::Diag m_on_note;
  std::optional<Credentials> m_creds;
  // The last challenge answered: its header value, whether a proxy's (407), the nonce
  // count of the last request sent on it, and our client nonce for it.
  struct Challenge {
    std::string value;
    bool proxy = true;
    uint32_t nc = 0;
    std::string cnonce;
  };
  std::optional<Challenge> m_challenge;
  // Our client transactions and the timer queue of every MESSAGE's timeouts (made by the
  // first send()); before m_out, which uses it as it goes.
  std::unique_ptr<Own> m_own;
  std::map<uint64_t, std::unique_ptr<Outstanding>> m_out;
  uint64_t m_next_id = 1;
};

} // namespace cpm::ua
