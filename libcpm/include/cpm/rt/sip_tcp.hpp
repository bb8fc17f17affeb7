#pragma once
// SIP over TCP of our own on libre's TCP (issue 13), the counterpart of rt::UdpSocket: a
// listener, connections accepted and opened, each byte stream cut into messages by our
// own parser (rt::SipFramer), and outgoing connections bound to the node's own address,
// which libre's SIP transport cannot do (it connects from whatever address the kernel
// picks). A building block: the proxy does not use it yet.
//
// Each message is handed to the owner with its connection, its peer and local addresses
// and its parsed form; the owner answers on the same connection (send), or sends to an
// address (send_to), which reuses an open connection to that address, accepted or opened,
// and else opens one. Idle connections are closed after a timeout; the number of
// connections and the bytes buffered for each are bounded.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"
#include "cpm/grammar/wire.hpp"
#include "cpm/rt/guard.hpp"

struct sa;

namespace cpm::trace {
class Writer;
}

namespace cpm::rt {

struct TcpOptions {
  // The most bytes one message may take, head and body; a larger one gets 513 (a request
  // with a usable Via) and the connection is closed. Also the bound on received bytes kept
  // for one connection. libre's SIP over TCP allows 64 KiB.
  size_t max_message = 65536;
  // The most bytes waiting to be written on one connection (libre's send queue, and ours
  // while an outgoing connection is being set up); a send beyond it fails with ENOSPC.
  size_t max_send_queue = 512 * 1024;
  // Connections open at once, accepted and opened; an incoming one beyond it is refused
  // (closed at once), an outgoing one fails with EMFILE.
  size_t max_connections = 1024;
  // A connection that has neither received nor sent anything for this long is closed.
  // RFC 3261 §18 leaves it to the implementation; libre's SIP transport uses 900 s.
  uint64_t idle_ms = 900 * 1000;
  // RFC 3261 §18.3; see FramerLimits.
  bool require_content_length = true;
  // The IP outgoing connections are bound to (an IP literal of the listen address's
  // family); empty: the listen address's. A listener on the any-address needs it to have
  // its connections come from the node's own address. The port is one the kernel picks,
  // not the listen port: Linux lets a second socket bind a listening socket's address only
  // when both set SO_REUSEPORT, and Debian's libre 1.1 sets only SO_REUSEADDR on the
  // sockets it makes (and gives no way to the listening one's fd). Nor would the listen
  // port be enough for RFC 5923 connection reuse, where the peer sends its own requests
  // down a connection we opened: that needs an `alias` parameter on our Via, and the peer
  // must know that we own the address we claim (TLS), so a proxy that wants it needs TLS.
  std::string connect_from;
  // Every message received and sent is traced here when one of its sinks is open.
  trace::Writer* trace = nullptr;
  // Where diagnostics go (stderr with "cpm: " when empty).
  sip::Diag diag;
};

class SipTcp {
public:
  // A connection, never reused within one SipTcp; 0 is none.
  using ConnId = uint64_t;

  // One message received. `bytes` and every view of `message` point into the connection's
  // buffer, valid only during the call. `parsed.verdict` is Ok, or Bad, Version or Drop for
  // a message that was framed but is not valid: answered or dropped by the owner as it
  // would a datagram (the stream is still in step, so the connection stays).
  struct Received {
    ConnId conn;
    std::string_view bytes;
    const struct ::sa& peer;
    const struct ::sa& local;
    sip::wire::Message& message;
    sip::wire::Parsed parsed;
  };
  using Handler = std::function<void(const Received&)>;
  // A connection is gone: closed by the peer (err 0), broken (ECONNRESET, ECONNREFUSED for
  // one that never came up, ETIMEDOUT), idle (ETIMEDOUT), refused framing (EBADMSG,
  // EMSGSIZE), or closed by us (close(), err 0).
  using CloseHandler = std::function<void(ConnId conn, int err)>;

  struct Stats {
    uint64_t accepted = 0;
    uint64_t connected = 0;   // outgoing connections opened
    uint64_t refused = 0;     // incoming connections over max_connections
    uint64_t segments = 0;    // reads that returned bytes
    uint64_t bytes_in = 0;    // bytes read
    uint64_t received = 0;    // messages handed to the handler
    uint64_t sent = 0;        // messages taken by send / send_to
    uint64_t pings = 0;       // CRLFCRLF keep-alives answered
    uint64_t broken = 0;      // connections closed because the stream could not be framed
    uint64_t idle_closed = 0; // connections closed by the idle timeout
  };

  // Listen on `local` (IPv4 or IPv6; port 0 picks one, see port()).
  static Result<std::unique_ptr<SipTcp>> open(const struct ::sa& local,
                                              const TcpOptions& options = {});
  // The same on "HOST", PORT (an IP literal, IPv6 with or without brackets).
  static Result<std::unique_ptr<SipTcp>> open(std::string_view host, uint16_t port,
                                              const TcpOptions& options = {});
  ~SipTcp();
  SipTcp(const SipTcp&) = delete;
  SipTcp& operator=(const SipTcp&) = delete;

  // Who is told of each message; none: messages are read and dropped. The handler may
  // send, send_to and close, but must not destroy the SipTcp.
  void set_handler(Handler h);
  void set_close_handler(CloseHandler h);
  void set_trace(trace::Writer* trace);

  // The listen address, with its real port, and as text ("127.0.0.1:5060").
  const struct ::sa& local() const;
  uint16_t port() const;
  const std::string& local_text() const;

  // Write `bytes` on connection `conn`. Returns 0, ENOTCONN (no such connection, or it is
  // gone), ENOSPC (over max_send_queue) or the error of the socket, which closes it.
  int send(ConnId conn, std::string_view bytes);
  // Write `bytes` to `dst`: on the open connection to that address when there is one
  // (accepted or opened), else on a new connection from our own address
  // (TcpOptions::connect_from), the bytes kept until it is up. Returns 0 or an
  // errno as send(), EMFILE over max_connections, EAFNOSUPPORT for a `dst` of the other
  // family; `conn`, when given, gets the connection used.
  int send_to(const struct ::sa& dst, std::string_view bytes, ConnId* conn = nullptr);
  // Close a connection now (what is queued is dropped); the close handler is told.
  void close(ConnId conn);

  // The open connection to `peer`, 0 when none.
  ConnId find(const struct ::sa& peer) const;
  // A connection's addresses; nullptr when it is gone. An outgoing one's local address is
  // known once it is up.
  const struct ::sa* peer(ConnId conn) const;
  const struct ::sa* local(ConnId conn) const;
  size_t connections() const;
  const Stats& stats() const;

private:
  struct Impl;
  explicit SipTcp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

} // namespace cpm::rt
