// SIP over TCP of our own on libre's TCP: a listener, connections accepted and opened
// from our own address, each stream framed by rt::SipFramer, every message traced.
#include "cpm/rt/sip_tcp.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <sys/socket.h>
#include <unordered_map>
#include <vector>

#include "cpm/base/heap.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/sip_framer.hpp"

namespace cpm::rt {

namespace wire = sip::wire;

namespace {

// After a refused stream's answer, how long the peer has to close its end before we do.
constexpr uint64_t k_linger_ms = 2000;

void say(const sip::Diag& diag, const std::string& line)
{
  if (diag)
    diag(line);
  else
    fmt::print(stderr, "cpm: {}\n", line);
}

// An address as a map key: family, port and the address's bytes.
struct Key {
  int af = 0;
  uint16_t port = 0;
  std::array<uint8_t, 16> addr{};
  auto operator<=>(const Key&) const = default;
};

Key key_of(const struct sa& a)
{
  Key k;
  k.af = sa_af(&a);
  k.port = sa_port(&a);
  if (k.af == AF_INET)
    std::memcpy(k.addr.data(), &a.u.in.sin_addr, 4);
  else if (k.af == AF_INET6)
    std::memcpy(k.addr.data(), &a.u.in6.sin6_addr, 16);
  return k;
}

// The answer to a request that broke its stream, when it is cheap: its Via, From, To,
// Call-ID and CSeq as received (a To tag added, RFC 3261 §8.2.6.2), no body. Empty when
// the request was not read far enough to answer it.
std::string refusal(const wire::Message& m, int status, std::string_view why)
{
  if (!m.request || m.head.empty() || m.via.sent_by.empty() || m.method == "ACK")
    return {};
  const wire::Field *from = m.find(wire::Hdr::From), *to = m.find(wire::Hdr::To),
                    *call_id = m.find(wire::Hdr::CallId), *cseq = m.find(wire::Hdr::CSeq);
  if (!from || !to || !call_id || !cseq)
    return {};
  std::string out = fmt::format("SIP/2.0 {} {}\r\n", status, why);
  for (const auto& f : m.fields)
    if (f.id == wire::Hdr::Via)
      out += f.line;
  out += from->line;
  if (m.to_tag().empty())
    out += fmt::format("To: {};tag=cpm-tcp\r\n", to->value);
  else
    out += to->line;
  out += call_id->line;
  out += cseq->line;
  out += "Content-Length: 0\r\n\r\n";
  return out;
}

} // namespace

struct SipTcp::Impl {
  struct Conn {
    Impl* owner = nullptr;
    ConnId id = 0;
    re_ptr<struct tcp_conn> tc;
    struct sa peer {};
    struct sa local {};
    std::string peer_text, local_text;
    SipFramer framer;
    bool up = false;      // accepted, or connected
    bool closing = false; // refused framing: our answer written, waiting for the peer's end
    bool gone = false;    // out of the maps; freed on the loop's next turn
    int close_err = 0;    // told to the close handler when a closing connection ends
    uint64_t last_active = 0;
    uint64_t closing_since = 0;
    std::string pending; // written by the owner before an outgoing connection was up
    // Where each of those messages ends in `pending`: traced once the connection is up (with
    // its real local address), never when it does not come up, since they were not sent.
    std::vector<size_t> pending_ends;

    explicit Conn(FramerLimits limits) : framer(limits) {}
  };

  re_ptr<struct tcp_sock> ts;
  struct sa local {};
  std::string local_text;
  struct sa connect_from {};
  TcpOptions opt;
  Handler handler;
  CloseHandler on_close;
  Stats stats;
  ConnId next_id = 1;
  std::unordered_map<ConnId, std::unique_ptr<Conn>> conns;
  std::map<Key, ConnId> by_peer;
  std::vector<std::unique_ptr<Conn>> graveyard; // closed inside their own callbacks
  sip::Timer reap;
  sip::Timer sweep;

  ~Impl()
  {
    for (auto& [id, c] : conns)
      release(*c);
  }

  bool tracing() const { return opt.trace && opt.trace->is_open(); }

  void trace(const char* dir, const Conn& c, std::string_view bytes)
  {
    if (tracing())
      sip::guarded(opt.diag, "tcp trace",
                   [&] { opt.trace->write(dir, "tcp", c.local_text, c.peer_text, bytes); });
  }

  static void release(Conn& c)
  {
    if (c.tc) {
      tcp_set_handlers(c.tc.get(), nullptr, nullptr, nullptr, nullptr);
      tcp_set_send(c.tc.get(), nullptr);
      c.tc.reset();
    }
  }

  FramerLimits limits() const
  {
    FramerLimits l;
    l.max_message = opt.max_message;
    l.require_content_length = opt.require_content_length;
    return l;
  }

  Conn& add(std::unique_ptr<Conn> c)
  {
    c->owner = this;
    c->id = next_id++;
    c->last_active = sip::jiffies();
    auto& ref = *c;
    by_peer[key_of(ref.peer)] = ref.id;
    conns.emplace(ref.id, std::move(c));
    if (!sweep.active())
      arm_sweep();
    return ref;
  }

  Conn* get(ConnId id) const
  {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : it->second.get();
  }

  // Take `c` out of the maps and free it on the loop's next turn (it may be the connection
  // whose callback is running); the owner is told.
  void end(Conn& c, int err)
  {
    if (c.gone)
      return;
    c.gone = true;
    release(c);
    auto k = by_peer.find(key_of(c.peer));
    if (k != by_peer.end() && k->second == c.id)
      by_peer.erase(k);
    auto it = conns.find(c.id);
    ConnId id = c.id;
    graveyard.push_back(std::move(it->second));
    conns.erase(it);
    if (!reap.active())
      reap.start(0, [this] { graveyard.clear(); });
    if (on_close)
      sip::guarded(opt.diag, "tcp close handler", [&] { on_close(id, err); });
  }

  // The idle timeout, and the linger of refused streams, checked a few times per timeout.
  void arm_sweep()
  {
    uint64_t every = std::clamp<uint64_t>(std::min(opt.idle_ms, k_linger_ms) / 4, 5, 1000);
    sweep.start(every, [this] {
      uint64_t now = sip::jiffies();
      std::vector<std::pair<ConnId, bool>> expired; // id, idle (else a linger)
      for (auto& [id, c] : conns) {
        if (c->closing && now - c->closing_since >= k_linger_ms)
          expired.emplace_back(id, false);
        else if (!c->closing && now - c->last_active >= opt.idle_ms)
          expired.emplace_back(id, true);
      }
      for (auto [id, idle] : expired) {
        if (Conn* c = get(id)) {
          if (idle)
            ++stats.idle_closed;
          end(*c, idle ? ETIMEDOUT : c->close_err);
        }
      }
      if (!conns.empty())
        arm_sweep();
    });
  }

  int write(Conn& c, std::string_view bytes)
  {
    if (!c.up) {
      if (c.pending.size() + bytes.size() > opt.max_send_queue)
        return ENOSPC;
      c.pending.append(bytes);
      return 0;
    }
    struct mbuf mb {};
    mb.buf = reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data()));
    mb.size = bytes.size();
    mb.end = bytes.size();
    int err = tcp_send(c.tc.get(), &mb);
    if (err && err != ENOSPC)
      end(c, err);
    return err;
  }

  int send(Conn& c, std::string_view bytes)
  {
    if (c.gone || c.closing)
      return ENOTCONN;
    if (bytes.empty())
      return 0;
    c.last_active = sip::jiffies();
    // Traced before it is written, as the SIP stack does: on loopback the peer may read,
    // trace and answer before tcp_send returns, and the ladder orders hops by these times.
    // A message kept until its connection is up is traced then.
    if (c.up)
      trace("tx", c, bytes);
    int err = write(c, bytes);
    if (!err) {
      ++stats.sent;
      if (!c.up && tracing())
        c.pending_ends.push_back(c.pending.size());
    }
    return err;
  }

  // A stream that cannot be framed any more: say so, answer a request that can be
  // answered, stop writing, and let the peer close its end (closing at once with its
  // bytes unread would send a reset, which can destroy our answer before it is read).
  void refuse(Conn& c)
  {
    auto& f = c.framer;
    ++stats.broken;
    say(opt.diag, fmt::format("closing the TCP connection from {}: {}", c.peer_text, f.why()));
    if (auto answer = refusal(f.message(), f.status(), f.why()); !answer.empty()) {
      trace("tx", c, answer);
      if (write(c, answer) != 0 && c.gone)
        return;
    }
    c.closing = true;
    c.closing_since = sip::jiffies();
    c.close_err = f.status() == 513 ? EMSGSIZE : EBADMSG;
    if (tcp_conn_txqsz(c.tc.get()) == 0)
      (void)::shutdown(tcp_conn_fd(c.tc.get()), SHUT_WR);
    else
      tcp_set_send(c.tc.get(), &Impl::drained_h);
  }

  void on_data(Conn& c, std::string_view data)
  {
    ++stats.segments;
    stats.bytes_in += data.size();
    if (c.closing)
      return; // what a refused peer still sends is read and dropped
    c.last_active = sip::jiffies();
    c.framer.feed(data);
    while (!c.gone && !c.closing) {
      switch (c.framer.next()) {
      case SipFramer::Event::None:
        return;
      case SipFramer::Event::Ping: {
        ++stats.pings;
        (void)write(c, "\r\n"); // RFC 5626 §3.5.1: the pong
        break;
      }
      case SipFramer::Event::Error:
        refuse(c);
        return;
      case SipFramer::Event::Message: {
        auto bytes = c.framer.bytes();
        trace("rx", c, bytes);
        ++stats.received;
        if (handler) {
          Received r{c.id, bytes, c.peer, c.local, c.framer.message(), c.framer.parsed()};
          sip::guarded(opt.diag, "tcp handler", [&] { handler(r); });
        }
        break;
      }
      }
    }
  }

  void addresses(Conn& c)
  {
    struct sa a;
    if (c.tc && tcp_conn_local_get(c.tc.get(), &a) == 0)
      c.local = a;
    c.local_text = sa_str(c.local);
    c.peer_text = sa_str(c.peer);
  }

  static void estab_h(void* arg) noexcept
  {
    auto* c = static_cast<Conn*>(arg);
    sip::guarded(c->owner->opt.diag, "tcp connect handler", [c] {
      c->up = true;
      c->owner->addresses(*c);
      std::string pending;
      pending.swap(c->pending);
      std::vector<size_t> ends;
      ends.swap(c->pending_ends);
      size_t from = 0;
      for (size_t end : ends) {
        c->owner->trace("tx", *c, std::string_view(pending).substr(from, end - from));
        from = end;
      }
      if (!pending.empty())
        (void)c->owner->write(*c, pending);
    });
  }

  static void recv_h(struct mbuf* mb, void* arg) noexcept
  {
    auto* c = static_cast<Conn*>(arg);
    sip::guarded(c->owner->opt.diag, "tcp receive handler", [c, mb] {
      c->owner->on_data(
          *c, std::string_view(reinterpret_cast<const char*>(mbuf_buf(mb)), mbuf_get_left(mb)));
    });
    heap::grown();
  }

  static void close_h(int err, void* arg) noexcept
  {
    auto* c = static_cast<Conn*>(arg);
    sip::guarded(c->owner->opt.diag, "tcp close handler",
                 [c, err] { c->owner->end(*c, c->closing ? c->close_err : err); });
  }

  // A refused stream's answer has left our send queue: stop writing.
  static void drained_h(void* arg) noexcept
  {
    auto* c = static_cast<Conn*>(arg);
    if (c->tc && tcp_conn_txqsz(c->tc.get()) == 0) {
      tcp_set_send(c->tc.get(), nullptr);
      (void)::shutdown(tcp_conn_fd(c->tc.get()), SHUT_WR);
    }
  }

  static void conn_h(const struct sa* peer, void* arg) noexcept
  {
    auto* self = static_cast<Impl*>(arg);
    sip::guarded(self->opt.diag, "tcp accept handler", [self, peer] {
      if (self->conns.size() >= self->opt.max_connections) {
        ++self->stats.refused;
        tcp_reject(self->ts.get());
        return;
      }
      auto c = std::make_unique<Conn>(self->limits());
      c->owner = self;
      if (tcp_accept(re_out(c->tc), self->ts.get(), &estab_h, &recv_h, &close_h, c.get()) != 0) {
        tcp_reject(self->ts.get());
        return;
      }
      tcp_conn_txqsz_set(c->tc.get(), self->opt.max_send_queue);
      c->peer = *peer;
      c->up = true;
      self->addresses(*c);
      ++self->stats.accepted;
      self->add(std::move(c));
    });
  }

  int connect(const struct sa& dst, Conn** out)
  {
    if (conns.size() >= opt.max_connections)
      return EMFILE;
    auto c = std::make_unique<Conn>(limits());
    c->owner = this;
    c->peer = dst;
    c->local = connect_from;
    int err = tcp_conn_alloc(re_out(c->tc), &dst, &estab_h, &recv_h, &close_h, c.get());
    if (!err)
      err = tcp_conn_bind(c->tc.get(), &connect_from);
    if (!err) {
      addresses(*c); // bound: its port is known now
      err = tcp_conn_connect(c->tc.get(), &dst);
    }
    if (err) {
      release(*c);
      return err;
    }
    tcp_conn_txqsz_set(c->tc.get(), opt.max_send_queue);
    ++stats.connected;
    *out = &add(std::move(c));
    return 0;
  }
};

SipTcp::SipTcp(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
SipTcp::~SipTcp() = default;

Result<std::unique_ptr<SipTcp>> SipTcp::open(std::string_view host, uint16_t port,
                                             const TcpOptions& options)
{
  std::string h(host);
  if (h.size() > 1 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  struct sa local;
  if (sa_set_str(&local, h.c_str(), port) != 0)
    return fail(fmt::format("cannot listen on tcp:{}:{}: not an IP address", host, port));
  return open(local, options);
}

Result<std::unique_ptr<SipTcp>> SipTcp::open(const struct sa& local, const TcpOptions& options)
{
  auto m = std::make_unique<Impl>();
  m->opt = options;
  m->opt.max_connections = std::max<size_t>(1, options.max_connections);
  m->opt.idle_ms = std::max<uint64_t>(1, options.idle_ms);
  m->local = local;
  if (int err = tcp_listen(re_out(m->ts), &local, &Impl::conn_h, m.get()))
    return fail(fmt::format("cannot listen on tcp:{}: {}", sa_str(local), std::strerror(err)), 3);
  struct sa bound;
  if (tcp_sock_local_get(m->ts.get(), &bound) == 0)
    m->local = bound;
  m->local_text = sa_str(m->local);
  // Our connections come from the listen address's IP, or the one given (TcpOptions says
  // why not from the listen port).
  m->connect_from = m->local;
  if (!options.connect_from.empty()) {
    std::string h = options.connect_from;
    if (h.size() > 1 && h.front() == '[' && h.back() == ']')
      h = h.substr(1, h.size() - 2);
    if (sa_set_str(&m->connect_from, h.c_str(), 0) != 0 ||
        sa_af(&m->connect_from) != sa_af(&m->local))
      return fail(fmt::format("cannot connect from '{}': not an IP address of the family of {}",
                              options.connect_from, m->local_text),
                  2);
  }
  sa_set_port(&m->connect_from, 0);
  return std::unique_ptr<SipTcp>(new SipTcp(std::move(m)));
}

void SipTcp::set_handler(Handler h)
{
  m->handler = std::move(h);
}
void SipTcp::set_close_handler(CloseHandler h)
{
  m->on_close = std::move(h);
}
void SipTcp::set_trace(trace::Writer* trace)
{
  m->opt.trace = trace;
}
const struct sa& SipTcp::local() const
{
  return m->local;
}
uint16_t SipTcp::port() const
{
  return sa_port(&m->local);
}
const std::string& SipTcp::local_text() const
{
  return m->local_text;
}

int SipTcp::send(ConnId conn, std::string_view bytes)
{
  auto* c = m->get(conn);
  return c ? m->send(*c, bytes) : ENOTCONN;
}

int SipTcp::send_to(const struct sa& dst, std::string_view bytes, ConnId* conn)
{
  if (sa_af(&dst) != sa_af(&m->local))
    return EAFNOSUPPORT;
  Impl::Conn* c = nullptr;
  if (auto it = m->by_peer.find(key_of(dst)); it != m->by_peer.end())
    c = m->get(it->second);
  if (c && c->closing)
    c = nullptr;
  if (!c) {
    if (int err = m->connect(dst, &c))
      return err;
  }
  if (conn)
    *conn = c->id;
  return m->send(*c, bytes);
}

void SipTcp::close(ConnId conn)
{
  if (auto* c = m->get(conn))
    m->end(*c, 0);
}

SipTcp::ConnId SipTcp::find(const struct sa& peer) const
{
  auto it = m->by_peer.find(key_of(peer));
  return it == m->by_peer.end() ? 0 : it->second;
}

const struct sa* SipTcp::peer(ConnId conn) const
{
  auto* c = m->get(conn);
  return c ? &c->peer : nullptr;
}

const struct sa* SipTcp::local(ConnId conn) const
{
  auto* c = m->get(conn);
  return c ? &c->local : nullptr;
}

size_t SipTcp::connections() const
{
  return m->conns.size();
}

const SipTcp::Stats& SipTcp::stats() const
{
  return m->stats;
}

} // namespace cpm::rt
