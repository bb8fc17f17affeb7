#pragma once
// What the parts of MSRP sessions share (not a public interface): a connection (Conn,
// msrp_conn.cpp), the state of a session (SessionCore, msrp_session.cpp) and the listener
// (msrp_listener.cpp).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cpm/codec/msrp.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/msrp_session.hpp"
#include "cpm/rt/re_ptr.hpp"

struct mbuf;
struct sa;
struct tcp_conn;
struct tcp_sock;
struct tls_conn;

namespace cpm::msrp::detail {

// libre's default tcp_conn txqsz limit (TCP_TXQSZ_DEFAULT)
constexpr size_t k_txq_default = 512 * 1024;
// Body bytes per SEND chunk (RFC 4975 suggests <= 2048 for interleaving).
constexpr size_t k_chunk_size = 2048;

struct SessionCore;

// One TCP connection (TLS on it for msrps:): parser, our queue of encoded control frames,
// the libre connection.
struct Conn : std::enable_shared_from_this<Conn> {
  re_ptr<struct tcp_conn> tc;
  re_ptr<struct tls_conn> tls; // msrps: libre's TLS on tc (up, and estab_h called, once shaken)
  bool verifying = false;      // the active side's: the peer's certificate checked
  Listener::Impl* lst = nullptr;
  SessionCore* session = nullptr; // once bound (or the active side's own)
  Parser parser;
  std::string local, peer;
  bool up = false;
  bool closing = false; // pending connection: close once our answer is written
  bool sendh_on = false;
  size_t txq_max = k_txq_default;
  std::deque<std::string> ctl; // responses, REPORTs, the binding SEND: before message chunks
  // A pump at the end of this turn of the loop: what the turn queues (every message relayed
  // from one read, every line of one stdin read) leaves in one write.
  sip::Timer soon;

  Conn() = default;
  ~Conn() { destroy(); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  // Close the connection (no callbacks).
  void destroy();
  // Close an unbound connection and forget it.
  void discard();
  void queue(const Frame& f);
  int write(const std::string& frame);
  void want_send(bool on);
  // libre's limit on its send queue for our own limit `max`: TLS adds its records' overhead
  // below us, and a full queue would fail an SSL_write midway (tcp_send_helper's ENOSPC).
  void set_txq_limit(size_t max);
  // What a connection that ended with `err` before it was up has to say ("" for nothing).
  std::string failure(int err) const;
  void pump();
  void pump_soon();
  void on_data(std::string_view bytes);
  void on_bad_frame(const Error& e);
  void on_pending_frame(Frame& f);
  void addresses();
  void trace(const char* dir, std::string_view frame) const;

  static void estab_h(void* arg) noexcept;
  static void recv_h(struct mbuf* mb, void* arg) noexcept;
  static void close_h(int err, void* arg) noexcept;
  static void send_h(void* arg) noexcept;
};

// The trace's transport of an MSRP connection.
inline const char* transport_of(const Conn& c)
{
  return c.tls ? "tls" : "tcp";
}

// A session's state: paths, its connection, messages to send and transactions in flight.
struct SessionCore {
  Listener::Impl* lst = nullptr;
  Callbacks cb;
  Uri local;
  std::vector<Uri> remote;
  std::string local_s, remote_s; // formatted path values
  std::shared_ptr<Conn> conn;
  bool bound = false;
  std::string bind_tid;
  Reassembler reasm;
  struct Out {
    Message m;
    size_t off = 0;
  };
  std::deque<Out> out;
  size_t out_bytes = 0; // unsent body bytes of `out`
  std::string staged;   // the next chunk, encoded
  std::string staged_tid, staged_mid;
  size_t staged_len = 0;
  bool staged_last = false, staged_track = false;
  struct Txn {
    std::string mid;  // Message-ID
    uint64_t sent_ms; // tmr_jiffies() when it went to the connection
  };
  std::unordered_map<std::string, Txn> txns; // tid -> a SEND awaiting its response
  // RFC 4975 §7.1: no response within 30 s counts as 408.
  uint32_t txn_timeout_ms = 30000;
  sip::Timer txn_tmr;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  SessionCore() = default;
  virtual ~SessionCore() { *alive = false; }
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;
  void arm_txn_timer();
  void expire_txns();

  void diag(const std::string& s)
  {
    if (cb.on_diag)
      cb.on_diag(s);
  }
  void stage_next();
  void staged_sent();
  void handle(Conn& c, Frame& f);
  void on_response(const Frame& f);
  void fail_message(const std::string& mid, int status);
  void drop_conn(int err); // the connection is gone: callbacks
  void detach();           // close without callbacks
  void respond(Conn& c, const Frame& req, int status, std::string_view comment = {})
  {
    c.queue(make_response(req, status, comment));
  }
};

} // namespace cpm::msrp::detail

namespace cpm::msrp {

struct Session::Impl : detail::SessionCore {};

struct Listener::Impl {
  re_ptr<struct tcp_sock> ts;
  std::string host;
  uint16_t port = 0;
  const sip::TlsContext* tls = nullptr; // msrps: our certificate and the CAs we trust
  re_ptr<struct tcp_sock> tls_ts;       // msrps: sessions' socket (with a certificate)
  uint16_t tls_port = 0;
  trace::Writer* trace = nullptr;
  std::unordered_map<std::string, detail::SessionCore*> sessions; // by session-id
  std::list<std::shared_ptr<detail::Conn>> pending;               // accepted, not yet bound

  ~Impl();
  void forget(detail::Conn* c);
  void accept(const struct sa* peer, bool secure);
  static void conn_h(const struct sa* peer, void* arg) noexcept;
  static void tls_conn_h(const struct sa* peer, void* arg) noexcept;
};

} // namespace cpm::msrp
