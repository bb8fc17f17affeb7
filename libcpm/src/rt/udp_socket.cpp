// A UDP socket of our own on libre's loop: recvmmsg bursts into buffers allocated once,
// sendmmsg of queued datagrams, large kernel buffers, every datagram traced.
#include "cpm/rt/udp_socket.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "cpm/base/heap.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/rt/datagram_queue.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"

namespace cpm::rt {

namespace {

// The largest UDP payload there is (IPv4's is 65507; IPv6 without jumbograms 65527).
constexpr size_t k_max_datagram = 65535;

void say(const sip::Diag& diag, const std::string& line)
{
  if (diag)
    diag(line);
  else
    fmt::print(stderr, "cpm: {}\n", line);
}

long read_sysctl(const char* path)
{
  std::ifstream in(path);
  long v = -1;
  in >> v;
  return in ? v : -1;
}

// Set SO_RCVBUF or SO_SNDBUF to `bytes`: the FORCE variant first, which passes the
// sysctl cap when the process has CAP_NET_ADMIN; else the plain one, which the kernel caps
// at net.core.[rw]mem_max. A cap is said once per process and kind: a proxy that asked
// for a large buffer and got the default drops datagrams under load, and only this line
// says why.
void set_buffer(int fd, bool receive, int bytes, const sip::Diag& diag)
{
  if (bytes <= 0)
    return;
  int force = receive ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
  int plain = receive ? SO_RCVBUF : SO_SNDBUF;
  if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) != 0)
    (void)setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof bytes);
  int got = 0;
  socklen_t len = sizeof got;
  if (getsockopt(fd, SOL_SOCKET, plain, &got, &len) != 0)
    return;
  // Linux reports twice what it grants (the other half is its bookkeeping).
  if (got / 2 >= bytes)
    return;
  static bool said[2] = {false, false};
  if (said[receive])
    return;
  said[receive] = true;
  const char* name = receive ? "net.core.rmem_max" : "net.core.wmem_max";
  long max = read_sysctl(receive ? "/proc/sys/net/core/rmem_max" : "/proc/sys/net/core/wmem_max");
  say(diag, fmt::format("UDP {} buffer is {} bytes, not the {} asked: {} is {} (sysctl -w {}={} "
                        "raises it)",
                        receive ? "receive" : "send", got / 2, bytes, name, max, name, bytes));
}

} // namespace

void set_socket_buffers(int fd, int bytes, const sip::Diag& diag)
{
  set_buffer(fd, true, bytes, diag);
  set_buffer(fd, false, bytes, diag);
}

void say_send_error_once(const sip::Diag& diag, std::string_view local, int err,
                         const struct sa& dst)
{
  static std::vector<int> said;
  if (std::find(said.begin(), said.end(), err) != said.end())
    return;
  said.push_back(err);
  say(diag, fmt::format("cannot send a UDP datagram from {} to {}: {}", local, sa_str(dst),
                        std::strerror(err)));
}

struct UdpSocket::Impl {
  int fd = -1;
  struct sa local {};
  std::string local_text;
  UdpOptions opt;
  Handler handler;
  ErrorHandler on_error;
  Stats stats;
  unsigned burst = 64;

  // Receiving: `burst` slots of the largest datagram; the source address is read straight
  // into a struct sa.
  std::unique_ptr<char[]> rx_buf;
  std::vector<struct mmsghdr> rx_msgs;
  std::vector<struct iovec> rx_iov;
  std::vector<struct sa> rx_src;

  // Sending: at most `burst` datagrams queued (DatagramQueue), set up in open().
  std::unique_ptr<DatagramQueue> tx;
  bool watching_write = false;

  ~Impl()
  {
    if (fd >= 0) {
      fd_close(fd);
      ::close(fd);
    }
  }

  bool tracing() const { return opt.trace && opt.trace->is_open(); }

  void report(int err, const struct sa& dst)
  {
    ++stats.send_errors;
    if (on_error) {
      sip::guarded(opt.diag, "udp send error handler", [&] { on_error(err, dst); });
      return;
    }
    say_send_error_once(opt.diag, local_text, err, dst); // no owner to tell
  }

  void watch(bool write)
  {
    if (write == watching_write)
      return;
    watching_write = write;
    (void)fd_listen(fd, FD_READ | (write ? FD_WRITE : 0), on_fd, this);
  }

  size_t flush()
  {
    auto f = tx->flush(fd, [this](int err, const struct sa& dst) { report(err, dst); });
    stats.send_calls += f.calls;
    stats.sent += f.sent;
    watch(f.blocked);
    return f.sent;
  }

  int queue(const struct sa& dst, std::string_view bytes)
  {
    if (bytes.size() > k_max_datagram)
      return EMSGSIZE;
    if (sa_af(&dst) != sa_af(&local))
      return EAFNOSUPPORT;
    if (!tx->push(dst, bytes)) {
      flush();
      if (!tx->push(dst, bytes)) {
        ++stats.dropped;
        report(EAGAIN, dst);
        return EAGAIN;
      }
    }
    if (tracing())
      sip::guarded(opt.diag, "udp trace",
                   [&] { opt.trace->write("tx", "udp", local_text, sa_str(dst), bytes); });
    return 0;
  }

  void receive()
  {
    ++stats.wakeups;
    for (unsigned b = 0; b < opt.bursts_per_wakeup; ++b) {
      for (unsigned i = 0; i < burst; ++i)
        rx_msgs[i].msg_hdr.msg_namelen = sizeof rx_src[i].u;
      int n = recvmmsg(fd, rx_msgs.data(), burst, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          break;
        // EINTR, or an error an ICMP message left on the socket (ECONNREFUSED): it is
        // consumed by this call; read again, within the bound.
        continue;
      }
      if (n == 0)
        break;
      ++stats.recv_calls;
      for (int i = 0; i < n; ++i) {
        struct sa& src = rx_src[size_t(i)];
        src.len = rx_msgs[size_t(i)].msg_hdr.msg_namelen;
        std::string_view d(static_cast<const char*>(rx_iov[size_t(i)].iov_base),
                           rx_msgs[size_t(i)].msg_len);
        ++stats.received;
        if (tracing())
          sip::guarded(opt.diag, "udp trace",
                       [&] { opt.trace->write("rx", "udp", local_text, sa_str(src), d); });
        if (handler)
          sip::guarded(opt.diag, "udp handler", [&] { handler(d, src); });
      }
      flush();
      if (unsigned(n) < burst)
        break; // drained
    }
    heap::grown();
  }

  static void on_fd(int flags, void* arg) noexcept
  {
    auto* self = static_cast<Impl*>(arg);
    if (flags & FD_WRITE)
      self->flush();
    if (flags & FD_READ)
      self->receive();
  }
};

UdpSocket::UdpSocket(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
UdpSocket::~UdpSocket() = default;

Result<std::unique_ptr<UdpSocket>> UdpSocket::open(std::string_view host, uint16_t port,
                                                   const UdpOptions& options)
{
  std::string h(host);
  if (h.size() > 1 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  struct sa local;
  if (sa_set_str(&local, h.c_str(), port) != 0)
    return fail(fmt::format("cannot listen on udp:{}:{}: not an IP address", host, port));
  return open(local, options);
}

Result<std::unique_ptr<UdpSocket>> UdpSocket::open(const struct sa& local,
                                                   const UdpOptions& options)
{
  auto m = std::make_unique<Impl>();
  m->opt = options;
  m->burst = std::max(1u, options.burst);
  m->opt.bursts_per_wakeup = std::max(1u, options.bursts_per_wakeup);
  m->local = local;
  auto where = [&] { return fmt::format("udp:{}", sa_str(local)); };
  int af = sa_af(&local);
  m->fd = ::socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (m->fd < 0)
    return fail(fmt::format("cannot open a socket for {}: {}", where(), std::strerror(errno)), 3);
  if (af == AF_INET6) {
    int one = 1;
    (void)setsockopt(m->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  set_buffer(m->fd, true, options.buffer_bytes, options.diag);
  set_buffer(m->fd, false, options.buffer_bytes, options.diag);
  if (::bind(m->fd, &local.u.sa, local.len) != 0)
    return fail(fmt::format("cannot listen on {}: {}", where(), std::strerror(errno)), 3);
  struct sa bound = local;
  socklen_t len = sizeof bound.u;
  if (getsockname(m->fd, &bound.u.sa, &len) == 0) {
    bound.len = len;
    m->local = bound;
  }
  m->local_text = sa_str(m->local);

  size_t n = m->burst;
  m->rx_buf.reset(new char[n * k_max_datagram]); // pages the kernel never fills stay unused
  m->rx_msgs.assign(n, mmsghdr{});
  m->rx_iov.assign(n, iovec{});
  m->rx_src.assign(n, sa{});
  for (size_t i = 0; i < n; ++i) {
    m->rx_iov[i].iov_base = m->rx_buf.get() + i * k_max_datagram;
    m->rx_iov[i].iov_len = k_max_datagram;
    auto& h = m->rx_msgs[i].msg_hdr;
    h.msg_name = &m->rx_src[i].u;
    h.msg_namelen = sizeof m->rx_src[i].u;
    h.msg_iov = &m->rx_iov[i];
    h.msg_iovlen = 1;
  }
  // SIP datagrams are mostly under 1500 bytes: 4 KiB a slot on average, and never less than
  // one largest datagram.
  m->tx = std::make_unique<DatagramQueue>(n, std::max(k_max_datagram, n * 4096));

  if (int err = fd_listen(m->fd, FD_READ, Impl::on_fd, m.get()); err)
    return fail(fmt::format("cannot watch {}: {}", where(), std::strerror(err)), 3);
  return std::unique_ptr<UdpSocket>(new UdpSocket(std::move(m)));
}

void UdpSocket::set_handler(Handler h)
{
  m->handler = std::move(h);
}
void UdpSocket::set_error_handler(ErrorHandler h)
{
  m->on_error = std::move(h);
}
void UdpSocket::set_trace(trace::Writer* trace)
{
  m->opt.trace = trace;
}
const struct sa& UdpSocket::local() const
{
  return m->local;
}
uint16_t UdpSocket::port() const
{
  return sa_port(&m->local);
}
const std::string& UdpSocket::local_text() const
{
  return m->local_text;
}
int UdpSocket::fd() const
{
  return m->fd;
}

namespace {
int sockopt_int(int fd, int name)
{
  int v = 0;
  socklen_t len = sizeof v;
  return getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0 ? v : -1;
}
} // namespace

int UdpSocket::rcvbuf() const
{
  return sockopt_int(m->fd, SO_RCVBUF);
}
int UdpSocket::sndbuf() const
{
  return sockopt_int(m->fd, SO_SNDBUF);
}
int UdpSocket::queue(const struct sa& dst, std::string_view bytes)
{
  return m->queue(dst, bytes);
}
size_t UdpSocket::flush()
{
  return m->flush();
}
int UdpSocket::send_now(const struct sa& dst, std::string_view bytes)
{
  int err = m->queue(dst, bytes);
  m->flush();
  return err;
}
size_t UdpSocket::queued() const
{
  return m->tx->size();
}
const UdpSocket::Stats& UdpSocket::stats() const
{
  return m->stats;
}

} // namespace cpm::rt
