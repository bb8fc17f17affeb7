// A libre SIP stack on the listen addresses, its trace, and the requests it receives as
// sip::Request.
#include "cpm/rt/sip.hpp"

#include "cpm/grammar/header.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fmt/format.h>
#include <optional>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cpm/base/heap.hpp"
#include "cpm/base/text.hpp"
#include "cpm/rt/datagram_queue.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/tls.hpp"

namespace cpm::sip {

namespace {

const char* tp_name(enum sip_transp tp)
{
  switch (tp) {
  case SIP_TRANSP_UDP:
    return "udp";
  case SIP_TRANSP_TCP:
    return "tcp";
  case SIP_TRANSP_TLS:
    return "tls";
  default:
    return "ws";
  }
}

void trace_h(bool tx, enum sip_transp tp, const struct sa* src, const struct sa* dst,
             const uint8_t* pkt, size_t len, void* arg) noexcept
{
  auto* self = static_cast<Stack*>(arg);
  if (!self || !self->tracer() || !self->tracer()->is_open())
    return;
  try {
    self->tracer()->write(tx ? "tx" : "rx", tp_name(tp), sa_str(tx ? *src : *dst),
                          sa_str(tx ? *dst : *src),
                          std::string_view(reinterpret_cast<const char*>(pkt), len));
  } catch (...) {
  }
}

void exit_h(void*) noexcept {}

// The DNS client on `dns` ("HOST[:PORT]"), else on the system's servers. No server at all
// is not an error: IP literals need none, and a name then fails with send_error's words.
Result<void> make_dnsc(const std::string& dns, re_ptr<struct ::dnsc>& out, std::string& servers)
{
  struct sa srv[8];
  uint32_t n = 0;
  if (!dns.empty()) {
    auto h = parse_dns_server(dns);
    if (!h)
      return tl::unexpected(h.error());
    if (sa_set_str(&srv[0], h->host.c_str(), h->port) != 0)
      return fail(fmt::format("bad DNS server '{}'", dns));
    n = 1;
  } else {
    char domain[256] = "";
    n = sizeof srv / sizeof srv[0];
    if (dns_srv_get(domain, sizeof domain, srv, &n) != 0)
      n = 0;
  }
  int err = dnsc_alloc(re_out(out), nullptr, srv, n);
  if (err)
    return fail(fmt::format("cannot create the DNS client: {}", std::strerror(err)), 3);
  for (uint32_t i = 0; i < n; ++i)
    servers += (servers.empty() ? "" : ", ") + sa_str(srv[i]);
  return {};
}

// libre's UDP transports get the large buffers of the owned sockets (rt::UdpOptions): a
// client or server that answers or is answered in bursts (bob's cpm-send --receive in
// bench/pager-throughput.sh, whose IMDNs' 200s arrive at the rate of the messages) dropped
// them at the kernel's 208 KiB default. libre 1.1 makes the socket inside sip_transp_add
// and shows it only as the `sock` of the requests it delivers (never of the responses its
// client transactions take), so the socket is found once, here, among the process's own:
// the one datagram socket bound to the address libre reports.
void grow_libre_udp(const struct sa& bound, const rt::UdpOptions& udp)
{
  if (udp.buffer_bytes <= 0 || !sa_port(&bound))
    return;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir)
    return;
  // A cap by net.core.rmem_max goes unsaid here: every cpm-send run by a user without
  // CAP_NET_ADMIN would print it, and only a receiver under load needs it (a core says it
  // for its own sockets).
  const sip::Diag quiet = [](const std::string&) {};
  while (const struct dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end || fd == ::dirfd(dir))
      continue;
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(int(fd), SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM)
      continue;
    struct sa local;
    sa_init(&local, AF_UNSPEC);
    local.len = sizeof local.u;
    if (getsockname(int(fd), &local.u.sa, &local.len) != 0 || !sa_cmp(&local, &bound, SA_ALL))
      continue;
    rt::set_socket_buffers(int(fd), udp.buffer_bytes, quiet);
    break;
  }
  ::closedir(dir);
}

} // namespace

// libre 1.1's struct udp_sock, as src/udp/udp.c of v1.1.0 lays it out (the library keeps it
// private). Read only to hand a datagram we read ourselves to libre's own receive handler,
// which libre 2.0.1 and later offer as udp_recv_helper() and 1.1 does not; Stack::Taps
// checks this layout against what the public calls say before it relies on it, and leaves
// the socket to libre when they disagree.
struct LibreUdpSock {
  struct list helpers;
  udp_recv_h* rh;
  udp_error_h* eh;
  void* arg;
  int fd;
  int fd6;
  bool conn;
  size_t rxsz;
  size_t rx_presz;
};

// The taps on libre's UDP transports (Stack::add_udp_tap): two listeners that see every
// message libre delivers before anyone else (they take none) learn its sockets, and a udp
// helper on each socket offers its datagrams to the tap before libre decodes them.
//
// Once a socket is learnt, its reads are ours: libre's loop calls drain_h when the socket is
// readable, which reads bursts of datagrams with recvmmsg into buffers allocated once (libre
// reads one datagram per wake-up, into an 8 KiB buffer it allocates, shrinks and frees each
// time), offers each to the taps, and hands what no tap claims to libre's receive handler,
// as libre would have. udp_thread_attach() gives the socket back to libre's own reader.
struct Stack::Taps {
  Stack* stack = nullptr;
  // Shared: a tap's serve may remove taps (its owner ends) while it runs.
  std::vector<std::pair<uint64_t, std::shared_ptr<const UdpTap>>> taps;
  uint64_t next_id = 0;
  uint64_t taken = 0;
  uint64_t drained = 0; // datagrams read by drain_h (claimed or handed to libre)
  uint64_t sent = 0;    // datagrams send_direct wrote
  re_slot<struct sip_lsnr> req_lsnr, resp_lsnr;
  struct Hooked {
    Taps* taps = nullptr;
    // A reference of ours, so that the socket outlives its helper: the helper leaves the
    // socket's list when we let it go, and the socket never frees it behind our back.
    re_ptr<struct udp_sock> sock;
    struct udp_helper* helper = nullptr;
    struct sa local;
    int fd = -1; // the socket's descriptor while its reads are ours (drain_h)
    // What is sent from the socket while a burst of its reads is served, sent with one
    // sendmmsg when the burst is done (made at the take-over).
    std::unique_ptr<rt::DatagramQueue> tx;
    bool watching_write = false; // the queue waits for the socket to be writable
    // libre's private view of the socket (LibreUdpSock): trusted once take_over checked it.
    const LibreUdpSock& libre() const { return *reinterpret_cast<const LibreUdpSock*>(sock.get()); }
  };
  std::vector<std::unique_ptr<Hooked>> hooked;

  // drain_h's buffers, shared by the hooked sockets (one loop, one thread), allocated at the
  // first take-over and left untouched until used.
  static constexpr unsigned k_burst = 16;
  static constexpr unsigned k_bursts_per_wakeup = 8; // then timers and other sockets run
  static constexpr size_t k_datagram = 65536;
  // What one burst may send from one socket before the queue is flushed early: a request
  // forwarded and a response relayed per datagram read, with room for a few more.
  static constexpr unsigned k_tx_slots = 4 * k_burst;
  unsigned in_burst = 0; // drain_h serves a burst, or a Stack::Batch is open: send_direct queues
  std::unique_ptr<char[]> rx_buf;
  std::vector<struct mmsghdr> rx_msgs;
  std::vector<struct iovec> rx_iov;
  std::vector<struct sa> rx_src;

  ~Taps()
  {
    for (auto& h : hooked) {
      if (h->fd >= 0) {
        if (h->tx && !h->tx->empty())
          (void)h->tx->flush(h->fd, {});        // what was queued still goes
        (void)udp_thread_attach(h->sock.get()); // libre's reader again, before we go
      }
      mem_deref(h->helper);
    }
  }

  static bool seen(const struct sip_msg* msg, void* arg) noexcept
  {
    auto& t = *static_cast<Taps*>(arg);
    if (t.taps.empty() || msg->tp != SIP_TRANSP_UDP || !msg->sock)
      return false;
    for (const auto& h : t.hooked)
      if (h->sock.get() == msg->sock)
        return false;
    try {
      auto h = std::make_unique<Hooked>();
      h->taps = &t;
      h->local = msg->dst;
      h->sock = re_ref(static_cast<struct udp_sock*>(msg->sock));
      if (udp_register_helper(&h->helper, h->sock.get(), 0, nullptr, recv, h.get()) == 0) {
        t.take_over(*h);
        t.hooked.push_back(std::move(h));
      }
    } catch (const std::bad_alloc&) {
    }
    return false;
  }

  // Make the socket's reads ours when libre's private layout is the one we know: its
  // descriptors are the ones udp_sock_fd() gives, its only helper is ours, a receive handler
  // is set and no room is kept before the data. Otherwise the helper alone serves the taps.
  void take_over(Hooked& h)
  {
    auto* us = h.sock.get();
    const auto* m = &h.libre();
    int af = sa_af(&h.local);
    int fd = udp_sock_fd(us, af);
    bool known = fd >= 0 && m->fd == udp_sock_fd(us, AF_INET) &&
                 (m->fd6 != -1 ? m->fd6 : m->fd) == udp_sock_fd(us, AF_INET6) && m->rh &&
                 !m->conn && m->rx_presz == 0 && m->helpers.head &&
                 m->helpers.head->data == static_cast<void*>(h.helper) && !m->helpers.head->next;
    if (!known)
      return;
    if (!rx_buf) {
      rx_buf.reset(new char[size_t(k_burst) * k_datagram]); // not zeroed: not touched yet
      rx_msgs.assign(k_burst, {});
      rx_iov.assign(k_burst, {});
      rx_src.assign(k_burst, {});
      for (unsigned i = 0; i < k_burst; ++i) {
        rx_iov[i].iov_base = rx_buf.get() + size_t(i) * k_datagram;
        rx_iov[i].iov_len = k_datagram;
        rx_msgs[i].msg_hdr.msg_iov = &rx_iov[i];
        rx_msgs[i].msg_hdr.msg_iovlen = 1;
        rx_msgs[i].msg_hdr.msg_name = &rx_src[i].u;
      }
    }
    h.tx = std::make_unique<rt::DatagramQueue>(k_tx_slots, size_t(k_tx_slots) * 4096);
    if (fd_listen(fd, FD_READ, drain_h, &h) == 0)
      h.fd = fd;
  }

  // Offer one datagram to the taps: true when one took it (traced and served).
  bool offer(Hooked& h, const struct sa& src, std::string_view data) noexcept
  {
    std::shared_ptr<const UdpTap> taker;
    try {
      for (const auto& [id, tap] : taps)
        if (tap->claim(data, src)) {
          taker = tap;
          break;
        }
    } catch (...) {
      return false; // nothing was done with it: libre's then
    }
    if (!taker)
      return false;
    ++taken;
    try {
      if (auto* w = stack->tracer(); w && w->is_open())
        w->write("rx", "udp", sa_str(h.local), sa_str(src), data);
      taker->serve(data, src, h.local, h.sock.get());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cpm: a datagram from %s was dropped: %s\n", sa_str(src).c_str(),
                   e.what());
    } catch (...) {
    }
    return true;
  }

  static bool recv(struct sa* src, struct mbuf* mb, void* arg) noexcept
  {
    auto& h = *static_cast<Hooked*>(arg);
    std::string_view data(reinterpret_cast<const char*>(mb->buf + mb->pos), mb->end - mb->pos);
    bool claimed = h.taps->offer(h, *src, data);
    if (claimed)
      heap::grown();
    return claimed;
  }

  // The socket whose reads are ours that libre would send from: `sock` itself, or, when it
  // is null, libre's UDP transport for dst's family (sip_transp_laddr makes the choice
  // sip_send makes; each hooked socket's `local` is its transport's address). Null when that
  // socket's reads are libre's or it has gained a helper besides ours (one that may want to
  // see what is sent).
  Hooked* sender(struct ::sip* sip, void* sock, const struct sa& dst)
  {
    struct sa laddr;
    bool by_laddr = !sock;
    if (by_laddr && sip_transp_laddr(sip, &laddr, SIP_TRANSP_UDP, &dst) != 0)
      return nullptr;
    for (auto& h : hooked) {
      if (by_laddr ? !sa_cmp(&h->local, &laddr, SA_ALL) : h->sock.get() != sock)
        continue;
      const auto& m = h->libre();
      if (h->fd < 0 || !m.helpers.head || m.helpers.head->data != static_cast<void*>(h->helper) ||
          m.helpers.head->next)
        return nullptr;
      return h.get();
    }
    return nullptr;
  }

  // libre's udp_send on a socket whose reads are ours: the descriptor of dst's family,
  // traced as libre's trace_send would (from the transport's address). During a burst of
  // the stack's reads it is queued for the burst's sendmmsg, else sent at once.
  int send_direct(Hooked& h, const struct sa& dst, std::string_view bytes) noexcept
  {
    const auto& m = h.libre();
    int fd = sa_af(&dst) == AF_INET6 && m.fd6 != -1 ? m.fd6 : m.fd;
    try {
      if (auto* w = stack->tracer(); w && w->is_open())
        w->write("tx", "udp", sa_str(h.local), sa_str(dst), bytes);
    } catch (...) {
    }
    // Queued during a burst, and behind what still waits for the socket to be writable;
    // one descriptor per queue (a datagram from a dual socket's other family goes at once).
    if (h.tx && fd == h.fd && (in_burst || !h.tx->empty())) {
      try {
        bool queued = h.tx->push(dst, bytes);
        if (!queued) { // full: what is there goes first
          flush(h);
          queued = h.tx->push(dst, bytes);
        }
        if (queued) {
          ++sent;
          if (!in_burst)
            flush(h);
          return 0;
        }
      } catch (const std::bad_alloc&) {
      }
    }
    if (::sendto(fd, bytes.data(), bytes.size(), 0, &dst.u.sa, dst.len) < 0)
      return errno;
    ++sent;
    return 0;
  }

  // The end of a burst (or of the outermost Stack::Batch): what it queued goes, from
  // whichever socket.
  void end_burst() noexcept
  {
    if (in_burst && --in_burst)
      return;
    for (auto& h : hooked)
      if (h->tx && !h->tx->empty())
        flush(*h);
  }

  // Send what `h` queued; when the kernel's buffer is full, the rest waits for the socket to
  // be writable (drain_h with FD_WRITE).
  void flush(Hooked& h) noexcept
  {
    if (!h.tx || h.fd < 0)
      return;
    rt::DatagramQueue::Flushed f;
    try {
      f = h.tx->flush(h.fd, [&h](int err, const struct sa& dst) { refused(h, err, dst); });
    } catch (...) {
    }
    if (f.blocked != h.watching_write &&
        fd_listen(h.fd, FD_READ | (f.blocked ? FD_WRITE : 0), drain_h, &h) == 0)
      h.watching_write = f.blocked;
  }

  // A queued datagram the kernel refused: said once per kind, as an owned socket does.
  static void refused(const Hooked& h, int err, const struct sa& dst) noexcept
  {
    try {
      rt::say_send_error_once({}, sa_str(h.local), err, dst);
    } catch (...) {
    }
  }

  // What no tap claims goes to libre's receive handler (its SIP transport), in an mbuf of
  // its own as libre's reader would give it.
  static void to_libre(Hooked& h, const struct sa& src, std::string_view data) noexcept
  {
    const auto& m = h.libre();
    struct mbuf* mb = mbuf_alloc(data.size());
    if (!mb)
      return;
    (void)mbuf_write_mem(mb, reinterpret_cast<const uint8_t*>(data.data()), data.size());
    mb->pos = 0;
    m.rh(&src, mb, m.arg);
    mem_deref(mb);
  }

  static void drain_h(int flags, void* arg) noexcept
  {
    auto& h = *static_cast<Hooked*>(arg);
    auto& t = *h.taps;
    if (flags & FD_WRITE)
      t.flush(h);
    if (!(flags & FD_READ))
      return;
    for (unsigned b = 0; b < k_bursts_per_wakeup && !stopping(); ++b) {
      for (unsigned i = 0; i < k_burst; ++i)
        t.rx_msgs[i].msg_hdr.msg_namelen = sizeof t.rx_src[i].u;
      int n = recvmmsg(h.fd, t.rx_msgs.data(), k_burst, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          break;
        // An error an ICMP message left on the socket (ECONNREFUSED), consumed by this call:
        // libre's reader tells the socket's error handler; read again, within the bound.
        if (errno != EINTR && h.libre().eh)
          h.libre().eh(errno, h.libre().arg);
        continue;
      }
      ++t.in_burst;
      for (int i = 0; i < n; ++i) { // every one read is served, stopping or not
        struct sa& src = t.rx_src[size_t(i)];
        src.len = t.rx_msgs[size_t(i)].msg_hdr.msg_namelen;
        std::string_view data(static_cast<const char*>(t.rx_iov[size_t(i)].iov_base),
                              t.rx_msgs[size_t(i)].msg_len);
        ++t.drained;
        if (!t.offer(h, src, data))
          to_libre(h, src, data);
      }
      t.end_burst();
      heap::grown();
      if (unsigned(n) < k_burst)
        break; // drained
    }
  }
};

uint64_t Stack::add_udp_tap(UdpTap tap)
{
  uint64_t id = ++m_taps->next_id;
  m_taps->taps.emplace_back(id, std::make_shared<const UdpTap>(std::move(tap)));
  return id;
}

void Stack::remove_udp_tap(uint64_t id)
{
  auto& v = m_taps->taps;
  v.erase(std::remove_if(v.begin(), v.end(), [id](const auto& e) { return e.first == id; }),
          v.end());
}

uint64_t Stack::tapped() const
{
  return m_taps->taken;
}

uint64_t Stack::drained() const
{
  return m_taps->drained;
}

int Stack::send_udp(void* sock, const struct ::sa& dst, std::string_view bytes)
{
  if (auto* h = m_taps->sender(m_sip.get(), sock, dst))
    return m_taps->send_direct(*h, dst, bytes);
  auto mb = mbuf_copy(bytes);
  return mb ? sip_send(m_sip.get(), sock, SIP_TRANSP_UDP, &dst, mb.get()) : ENOMEM;
}

uint64_t Stack::sent_direct() const
{
  return m_taps->sent;
}

Stack::Batch::Batch(Stack& stack) : m_stack(stack)
{
  ++m_stack.m_taps->in_burst;
}

Stack::Batch::~Batch()
{
  m_stack.m_taps->end_burst();
}

Result<std::unique_ptr<Stack>> Stack::create(const std::vector<std::string>& listen,
                                             const std::string& software, trace::Writer* trace,
                                             const std::string& dns, const config::TlsSettings& tls,
                                             const StackOptions& options)
{
  std::unique_ptr<Stack> s(new Stack());
  s->m_trace = trace;
  s->m_software = software;
  s->m_udp_max = udp_max_for(options.path_mtu);
  if (listen.empty())
    return fail("no --listen address given");
  if (auto d = make_dnsc(dns, s->m_dnsc, s->m_dns_servers); !d)
    return tl::unexpected(d.error());
  int err = sip_alloc(re_out(s->m_sip), s->m_dnsc.get(), 16384, 16384, 4096, software.c_str(),
                      exit_h, s.get());
  if (err)
    return fail(fmt::format("cannot create SIP stack: {}", std::strerror(err)), 3);
  // First among the listeners: they learn libre's UDP sockets for the taps (add_udp_tap).
  s->m_taps = std::make_unique<Taps>();
  s->m_taps->stack = s.get();
  err = sip_listen(s->m_taps->req_lsnr.out(), s->m_sip.get(), true, Taps::seen, s->m_taps.get());
  if (!err)
    err =
        sip_listen(s->m_taps->resp_lsnr.out(), s->m_sip.get(), false, Taps::seen, s->m_taps.get());
  if (err)
    return fail(fmt::format("cannot create SIP stack: {}", std::strerror(err)), 3);
  std::string prog = software.substr(0, software.find(' '));
  for (const auto& text : listen) {
    auto spec = parse_listen(text);
    if (!spec)
      return tl::unexpected(spec.error());
    struct sa sa;
    sa_set_str(&sa, spec->host.c_str(), spec->port);
    auto tp = spec->transport == "tcp"   ? SIP_TRANSP_TCP
              : spec->transport == "tls" ? SIP_TRANSP_TLS
                                         : SIP_TRANSP_UDP;
    if (tp == SIP_TRANSP_TLS && !s->m_tls) {
      auto ctx = TlsContext::create(tls);
      if (!ctx)
        return tl::unexpected(ctx.error());
      s->m_tls = std::move(*ctx);
      // Every refused certificate is said on stderr as it happens: the request that waited
      // for the connection only learns "connection closed".
      s->m_tls->on_refusal([prog](const std::string& why) {
        std::fprintf(stderr, "%s: %s\n", prog.c_str(), why.c_str());
      });
    }
    if (tp == SIP_TRANSP_UDP && options.own_udp) {
      if (auto e = s->add_own_udp(*spec, sa, options.udp, prog); !e)
        return tl::unexpected(e.error());
      continue;
    }
    if (tp == SIP_TRANSP_TCP && options.own_tcp) {
      if (auto e = s->add_own_tcp(*spec, sa, options.tcp, prog); !e)
        return tl::unexpected(e.error());
      continue;
    }
    err = tp == SIP_TRANSP_TLS ? sip_transp_add(s->m_sip.get(), tp, &sa, s->m_tls->get())
                               : sip_transp_add(s->m_sip.get(), tp, &sa);
    if (err)
      return fail(fmt::format("cannot listen on {}: {}", text, std::strerror(err)), 3);
    struct sa bound;
    if (sip_transp_laddr(s->m_sip.get(), &bound, tp, &sa) == 0 && sa_port(&bound)) {
      spec->port = sa_port(&bound);
      if (tp == SIP_TRANSP_UDP)
        grow_libre_udp(bound, options.udp);
    }
    s->m_specs.push_back(*spec);
    s->m_bound.push_back(format_listen(*spec));
  }
  if (trace && trace->is_open())
    sip_set_trace_handler(s->m_sip.get(), trace_h);
  return s;
}

namespace {

// A socket of our own traces to the stack's writer and says its diagnostics prefixed by
// the program's name, unless its options say otherwise.
template <class Options>
Options with_stack_defaults(Options o, trace::Writer* trace, const std::string& prog)
{
  if (!o.trace)
    o.trace = trace;
  if (!o.diag)
    o.diag = [prog](const std::string& line) {
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), line.c_str());
    };
  return o;
}

} // namespace

// Beside a socket of our own on `addr`: libre's transport of the same kind on its IP at
// port 0, for what libre sends itself (its Via names that port), kept in
// m_libre_ephemeral as `spec` at that port; `bound` gets that address when libre says it.
Result<void> Stack::add_libre_ephemeral(bool tcp, const Hop& spec, const struct sa& addr,
                                        std::optional<struct sa>& bound)
{
  const enum sip_transp tp = tcp ? SIP_TRANSP_TCP : SIP_TRANSP_UDP;
  struct sa ephemeral = addr;
  sa_set_port(&ephemeral, 0);
  if (int err = sip_transp_add(m_sip.get(), tp, &ephemeral); err)
    return fail(fmt::format("cannot listen on {}:{}: {}", tcp ? "tcp" : "udp", sa_str(ephemeral),
                            std::strerror(err)),
                3);
  Hop theirs = spec;
  struct sa b;
  if (sip_transp_laddr(m_sip.get(), &b, tp, &ephemeral) == 0) {
    theirs.port = sa_port(&b);
    bound = b;
  }
  m_libre_ephemeral.push_back(theirs);
  return {};
}

// The socket of a "udp:" listen address is ours; libre gets the same IP at port 0 for the
// client transactions it runs itself.
Result<void> Stack::add_own_udp(Hop spec, const struct sa& addr, const rt::UdpOptions& udp,
                                const std::string& prog)
{
  auto sock = rt::UdpSocket::open(addr, with_stack_defaults(udp, m_trace, prog));
  if (!sock)
    return tl::unexpected(sock.error());
  spec.port = (*sock)->port();
  std::optional<struct sa> bound;
  if (auto e = add_libre_ephemeral(false, spec, addr, bound); !e)
    return e;
  if (bound)
    grow_libre_udp(*bound, udp);
  m_own_udp.push_back(std::move(*sock));
  m_specs.push_back(spec);
  m_bound.push_back(format_listen(spec));
  return {};
}

// The listener of a "tcp:" listen address is ours (its outgoing connections bound to that
// IP); libre's TCP transport listens on the same IP at port 0, for what it sends itself.
Result<void> Stack::add_own_tcp(Hop spec, const struct sa& addr, const rt::TcpOptions& tcp,
                                const std::string& prog)
{
  auto lsn = rt::SipTcp::open(addr, with_stack_defaults(tcp, m_trace, prog));
  if (!lsn)
    return tl::unexpected(lsn.error());
  spec.port = (*lsn)->port();
  std::optional<struct sa> bound;
  if (auto e = add_libre_ephemeral(true, spec, addr, bound); !e)
    return e;
  m_own_tcp.push_back(std::move(*lsn));
  m_specs.push_back(spec);
  m_bound.push_back(format_listen(spec));
  return {};
}

std::vector<rt::SipTcp*> Stack::own_tcp() const
{
  std::vector<rt::SipTcp*> out;
  for (const auto& t : m_own_tcp)
    out.push_back(t.get());
  return out;
}

std::vector<rt::UdpSocket*> Stack::own_udp() const
{
  std::vector<rt::UdpSocket*> out;
  for (const auto& u : m_own_udp)
    out.push_back(u.get());
  return out;
}

Stack::~Stack()
{
  m_taps.reset(); // its helpers leave libre's sockets, its listeners the stack
  if (m_sip)
    sip_close(m_sip.get(), true);
}

std::string Stack::uri() const
{
  if (m_specs.empty())
    return {};
  return m_specs.front().uri();
}

void Stack::report_ready(int fd) const
{
  if (fd < 0)
    return;
  std::string line;
  for (const auto& b : m_bound)
    line += (line.empty() ? "" : " ") + b;
  line += "\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    p += n;
    left -= size_t(n);
  }
  ::close(fd);
}

bool Stack::is_local(std::string_view host, uint16_t port) const
{
  struct sa want;
  std::string h(host);
  if (!h.empty() && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  if (sa_set_str(&want, h.c_str(), port ? port : 5060)) {
    // A name: ours when it is one of our names, at one of our ports or none (RFC 3263 found
    // us by its SRV or its default port).
    bool named = std::any_of(m_names.begin(), m_names.end(),
                             [&](const std::string& n) { return text::iequals(n, h); });
    auto at_port = [&](const Hop& l) { return l.port == port; };
    return named && (port == 0 || std::any_of(m_specs.begin(), m_specs.end(), at_port) ||
                     std::any_of(m_libre_ephemeral.begin(), m_libre_ephemeral.end(), at_port));
  }
  auto is_want = [&](const Hop& l) {
    struct sa have;
    sa_set_str(&have, l.host.c_str(), l.port);
    return sa_cmp(&want, &have, SA_ALL);
  };
  return std::any_of(m_specs.begin(), m_specs.end(), is_want) ||
         std::any_of(m_libre_ephemeral.begin(), m_libre_ephemeral.end(), is_want);
}

void Stack::expect_tls_peer(const Hop& hop)
{
  if (m_tls && hop.transport == "tls")
    m_tls->expect_peer(hop.host);
}

std::string errno_text(int err)
{
  if (err == EDESTADDRREQ)
    return "not found in DNS (no SRV, A or AAAA record)";
  return std::strerror(err);
}

std::string Stack::send_error(const Hop& hop, int err) const
{
  if (hop.transport == "tls" && !m_tls)
    return fmt::format("cannot reach {}: no tls: listen address to send over TLS from", hop.uri());
  if (hop.transport == "tls" && m_tls && !m_tls->last_refusal().empty())
    return fmt::format("cannot reach {}: {}", hop.uri(), m_tls->last_refusal());
  if (hop.is_name() && m_dns_servers.empty())
    return fmt::format("cannot resolve '{}': no DNS server (give --dns HOST:PORT, the node's "
                       "dns key, or a nameserver in /etc/resolv.conf)",
                       hop.host);
  if (hop.is_name())
    return fmt::format("cannot reach {} (DNS {}): {}", hop.uri(), m_dns_servers, errno_text(err));
  return fmt::format("cannot reach {}: {}", hop.uri(), std::strerror(err));
}

sip::Request to_request(const struct ::sip_msg* msg, const Stack* self)
{
  sip::Request r;
  r.method = pl_string(msg->met);
  r.ruri = pl_string(msg->ruri);
  r.from_uri = pl_string(msg->from.auri);
  r.to_uri = pl_string(msg->to.auri);
  r.source = fmt::format("{}:{}", tp_name(msg->tp), sa_str(msg->src));
  bool leading = true;
  for (struct le* le = msg->hdrl.head; le; le = le->next) {
    auto* h = static_cast<struct sip_hdr*>(le->data);
    std::string name(long_name(std::string_view(h->name.p, h->name.l)));
    std::string value = pl_string(h->val);
    if (h->id == SIP_HDR_ROUTE) {
      struct sip_addr addr;
      bool ours = false;
      if (leading && self && sip_addr_decode(&addr, &h->val) == 0) {
        std::string host = pl_string(addr.uri.host);
        uint16_t port = addr.uri.port;
        if (self->is_local(host, port)) {
          ours = true;
          if (r.own_route_params.empty())
            r.own_route_params = pl_string(addr.uri.params);
          struct pl odi;
          if (msg_param_decode(&addr.uri.params, "odi", &odi) == 0)
            r.odi = pl_string(odi);
        }
      }
      if (!ours) {
        leading = false;
        r.routes.push_back(value);
      }
    } else if (h->id == SIP_HDR_P_ASSERTED_IDENTITY && r.asserted.empty()) {
      struct sip_addr addr;
      if (sip_addr_decode(&addr, &h->val) == 0)
        r.asserted = pl_string(addr.auri);
    }
    r.headers.push_back({std::move(name), std::move(value)});
  }
  size_t left = msg->mb ? mbuf_get_left(msg->mb) : 0;
  if (pl_isset(&msg->clen)) {
    size_t clen = pl_u32(&msg->clen);
    r.body_size = clen < left ? clen : left;
  } else {
    r.body_size = left;
  }
  return r;
}

} // namespace cpm::sip
