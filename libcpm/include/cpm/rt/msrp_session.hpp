#pragma once
// MSRP sessions (RFC 4975) on libre's TCP, and over TLS on libre's TLS (RFC 4975 §14,
// msrps:): one Listener serves many sessions; frames, the parser, chunking and reports are
// the pure part in codec/msrp.hpp.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/codec/msrp.hpp"

namespace cpm::trace {
class Writer;
}
namespace cpm::sip {
class TlsContext;
}

namespace cpm::msrp {

// ---- Sessions on libre's TCP ----------------------------------------------------------

// What a session reports to its owner (called on the libre loop; must not throw).
struct Callbacks {
  std::function<void(const Message&)> on_message; // a whole received message
  std::function<void(const std::string& message_id, int status)> on_report; // REPORT received
  // A sent message failed (transaction response >= 300, or the connection closed before its
  // 200): message id, status (0 for a network error).
  std::function<void(const std::string& message_id, int status)> on_failure;
  std::function<void()> on_connected;              // connection up and matched to this session
  std::function<void(int err)> on_closed;          // connection gone (0: peer closed)
  std::function<void(const std::string&)> on_diag; // diagnostics for stderr
};

class Listener;

// One MSRP session: our URI (on a Listener's address) and the peer's path. Sends whole
// messages (chunked), answers the peer's SENDs with 200 (or the error of check_request),
// sends REPORTs on request, reassembles chunks, and never overruns libre's send queue:
// frames wait in our own queue while tcp_conn_txqsz() is low and resume on tcp_set_send.
class Session {
public:
  ~Session(); // closes the connection (no callbacks)
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Our URI (for a=path) and the peer's path (from its a=path), once known.
  const Uri& local() const;
  void set_remote(std::vector<Uri> path);
  const std::vector<Uri>& remote() const;

  // Active side (RFC 4975 §5.4 / RFC 6135 a=setup:active): connect to the first hop of the
  // remote path and send an empty SEND to bind the connection (RFC 4975 §5.4). An msrps: hop
  // is reached over TLS (the listener's context; error without one), its certificate
  // verified unless the listener says not to.
  Result<void> connect();
  bool connected() const;

  // Queue a message; it goes out when connected. Returns its Message-ID (m.message_id, or a
  // new one when empty).
  std::string send(Message m);
  // Bytes queued by us and by libre, not yet written to the socket.
  size_t backlog() const;
  // How long a SEND may wait for its response before its message fails with 408
  // (on_failure); default (and 0) 30000 ms, RFC 4975 §7.1.
  void set_transaction_timeout(uint32_t ms);
  // Close the connection (no callbacks).
  void close();

private:
  friend class Listener;
  Session() = default;
  struct Impl;
  std::unique_ptr<Impl> m;
};

// A TCP listening socket that serves many sessions; an accepted connection is bound to a
// session by the session-id of the first request's To-Path (481 and close otherwise). With a
// TLS context that has a certificate, a second socket on its own port serves msrps:
// sessions: TLS first, then the same.
class Listener {
public:
  // host: the address to bind (also written into session URIs); port 0 picks one (the TLS
  // socket always picks its own). tls: the node's TLS context (it must outlive the
  // listener): our certificate, the CAs we trust and whether we verify the certificate of
  // the side we connect to (its chain, and that it names the host of the msrps: URI).
  static Result<std::unique_ptr<Listener>> create(const std::string& host, uint16_t port,
                                                  trace::Writer* trace = nullptr,
                                                  const sip::TlsContext* tls = nullptr);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  uint16_t port() const;
  const std::string& host() const;
  // Whether it serves msrps: sessions (it has a TLS context with a certificate), and on
  // which port.
  bool has_tls() const;
  uint16_t tls_port() const;
  // A new session with a fresh session-id on this listener's address: an msrps: URI on the
  // TLS port when `secure` (which needs has_tls(); a plain session otherwise). The session
  // must not outlive the listener.
  std::unique_ptr<Session> session(Callbacks cb, bool secure = false);

  struct Impl;

private:
  Listener() = default;
  std::unique_ptr<Impl> m;
};

// Whether a session we offer carries its chat over TLS (RFC 4975 §14): the node asks for it
// (msrp_tls, --msrp-tls), or its signalling is secure: a sips: or ;transport=tls target, or
// a first hop (the proxy's transport) of "tls".
bool offer_tls(bool msrp_tls, std::string_view target, std::string_view first_hop_transport);

} // namespace cpm::msrp
