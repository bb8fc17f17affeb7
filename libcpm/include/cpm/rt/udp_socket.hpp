#pragma once
// A UDP socket of our own on libre's loop, read and written in bursts: recvmmsg of up to
// `burst` datagrams per call and sendmmsg of everything queued, into buffers allocated
// once. libre reads one datagram per epoll wake-up (an epoll_wait and a recvfrom each),
// which is what a proxy under load cannot afford; libre stays the event loop (the socket
// is one of its fds) and the SIP stack for everything else.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"
#include "cpm/rt/guard.hpp"

struct sa;

namespace cpm::trace {
class Writer;
}

namespace cpm::rt {

struct UdpOptions {
  // SO_RCVBUF and SO_SNDBUF, in bytes (SO_*BUFFORCE first, which needs CAP_NET_ADMIN; else
  // the kernel caps them at net.core.rmem_max / wmem_max, said once on stderr).
  int buffer_bytes = 4 << 20;
  // Datagrams read by one recvmmsg, and the most queued for one sendmmsg.
  unsigned burst = 64;
  // recvmmsg calls per wake-up at most: the fd is level-triggered, so what is left is read
  // on the next turn of the loop, after libre's timers and other fds have run.
  unsigned bursts_per_wakeup = 4;
  // Every datagram received and sent is traced here when one of its sinks is open.
  trace::Writer* trace = nullptr;
  // Where diagnostics go (stderr with "cpm: " when empty).
  sip::Diag diag;
};

// Set a socket's receive and send buffers to `bytes` each (SO_*BUFFORCE first, else capped
// by the kernel, which is said once on `diag`): for sockets that are not UdpSockets, such
// as libre's own UDP transports.
void set_socket_buffers(int fd, int bytes, const sip::Diag& diag);
// A datagram from `local` to `dst` that the kernel refused with `err`, said on `diag`
// (stderr when empty) once per errno in the process: a peer that is gone would otherwise
// fill stderr at the rate it is sent to. For sends nobody waits on (queued ones).
void say_send_error_once(const sip::Diag& diag, std::string_view local, int err,
                         const struct ::sa& dst);

class UdpSocket {
public:
  // One datagram received: a view into the socket's receive buffer, valid only during the
  // call, and the address it came from.
  using Handler = std::function<void(std::string_view datagram, const struct ::sa& src)>;
  // A datagram that could not be sent: the errno (ECONNREFUSED from an earlier ICMP,
  // EHOSTUNREACH, EMSGSIZE, ENOBUFS; EAGAIN when it was dropped because the kernel's send
  // buffer and our queue were both full) and where it was going.
  using ErrorHandler = std::function<void(int err, const struct ::sa& dst)>;

  struct Stats {
    uint64_t received = 0;   // datagrams handed to the handler
    uint64_t recv_calls = 0; // recvmmsg calls that returned datagrams
    uint64_t wakeups = 0;    // times libre said the socket was readable
    uint64_t sent = 0;       // datagrams the kernel took
    uint64_t send_calls = 0; // sendmmsg calls
    uint64_t send_errors = 0;
    uint64_t dropped = 0; // queued while the kernel's buffer and the queue were full
  };

  // Bind to `local` (IPv4 or IPv6; port 0 picks one, see local()), non-blocking and
  // close-on-exec, and watch it on libre's loop. An IPv6 socket is IPv6 only, so that
  // "udp:[::]:P" and "udp:0.0.0.0:P" can both be listened on.
  static Result<std::unique_ptr<UdpSocket>> open(const struct ::sa& local,
                                                 const UdpOptions& options = {});
  // The same on "HOST", PORT (an IP literal, IPv6 with or without brackets).
  static Result<std::unique_ptr<UdpSocket>> open(std::string_view host, uint16_t port,
                                                 const UdpOptions& options = {});
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Who is told of each datagram received; none: datagrams are read and dropped. The
  // handler may queue() or send_now() replies, but must not destroy the socket.
  void set_handler(Handler h);
  void set_error_handler(ErrorHandler h);
  void set_trace(trace::Writer* trace);

  // The address bound, with its real port.
  const struct ::sa& local() const;
  uint16_t port() const;
  // local() as text ("127.0.0.1:5060", "[::1]:5060").
  const std::string& local_text() const;
  int fd() const;
  // What the kernel granted (getsockopt; Linux reports twice the usable size).
  int rcvbuf() const;
  int sndbuf() const;

  // Copy `bytes` into the next outgoing slot for `dst`; sent by flush(), which runs by
  // itself when the slots are full and at the end of each receive burst. Returns 0, or
  // EMSGSIZE (over 65535 bytes), or EAGAIN (dropped: the kernel's buffer and every slot
  // are full), or EAFNOSUPPORT (`dst` is of the other family).
  int queue(const struct ::sa& dst, std::string_view bytes);
  // Send everything queued with as few sendmmsg as the kernel allows. A datagram the
  // kernel refuses is reported (ErrorHandler, Stats::send_errors) and skipped; on EAGAIN
  // the rest stays queued until the socket is writable again. Returns how many were sent.
  size_t flush();
  // queue() then flush(): a send outside a receive burst. Returns 0 or an errno as queue().
  int send_now(const struct ::sa& dst, std::string_view bytes);
  // Datagrams queued and not yet sent.
  size_t queued() const;

  const Stats& stats() const;

private:
  struct Impl;
  explicit UdpSocket(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

} // namespace cpm::rt
