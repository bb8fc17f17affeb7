#pragma once
// One SMPP 3.4 connection on libre's TCP: the stream cut into PDUs (smpp::Framer), each PDU
// read or written traced (transport "smpp", the message smpp::describe's line), and bad
// input answered as SMPP asks: a PDU that cannot be read gets a generic_nack and the next
// one is read; a command_length that lies gets a generic_nack and the connection closes
// (the stream cannot be resynchronised). Both ends build on it: the SMSC's sessions
// (rt/smpp_server.hpp) and the IWF's ESME link.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"
#include "cpm/smpp/pdu.hpp"

namespace cpm::trace {
class Writer;
}

namespace cpm::smpp {

class Connection {
public:
  struct Callbacks {
    // An outgoing connection is established (not called for an accepted one).
    std::function<void()> on_connected;
    // A PDU was read.
    std::function<void(Pdu&)> on_pdu;
    // A PDU could not be read; its generic_nack has been sent. `closing`: the length lied
    // and the connection is being closed.
    std::function<void(const DecodeError&, bool closing)> on_bad;
    // The connection ended (0: closed by the peer or by close(); else an errno). Not called
    // after the Connection is destroyed. The Connection may be destroyed inside it.
    std::function<void(int err)> on_closed;
  };

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connect to host:port (an IP literal), from `local_host` when not empty.
  static Result<std::unique_ptr<Connection>> connect(const std::string& host, uint16_t port,
                                                     const std::string& local_host, Callbacks cb,
                                                     trace::Writer* trace);

  // Callbacks of an accepted connection, given once its owner takes it.
  void set_callbacks(Callbacks cb);
  // Pack, trace and write one PDU (queued by libre when the socket is full). An error when
  // it does not pack or the connection is gone.
  Result<void> send(const Pdu& pdu);
  // Close after what was written is sent; on_closed(0) follows on the loop.
  void close();
  bool is_open() const;
  // "127.0.1.4:2775" and the peer's address.
  const std::string& local() const;
  const std::string& peer() const;
  // Octets written and not yet taken by the socket.
  size_t backlog() const;

  struct Impl;

private:
  friend class Listener;
  explicit Connection(std::unique_ptr<Impl> m);
  std::unique_ptr<Impl> m;
};

// A TCP listening socket whose accepted connections are handed to `on_accept`.
class Listener {
public:
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  // Listen on host:port (port 0 picks one). Errors have code 3 (network) or 2 (address).
  static Result<std::unique_ptr<Listener>>
  listen(const std::string& host, uint16_t port,
         std::function<void(std::unique_ptr<Connection>)> on_accept, trace::Writer* trace);
  const std::string& host() const;
  uint16_t port() const;

  struct Impl;

private:
  Listener() = default;
  std::unique_ptr<Impl> m;
};

} // namespace cpm::smpp
