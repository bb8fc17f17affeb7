// SMPP connections and listeners on libre's TCP.
#include "cpm/rt/smpp_conn.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "cpm/base/trace.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/smpp/describe.hpp"
#include "cpm/smpp/framer.hpp"

namespace cpm::smpp {

struct Connection::Impl {
  re_ptr<struct tcp_conn> tc;
  Callbacks cb;
  trace::Writer* trace = nullptr;
  Framer framer;
  std::string local, peer;
  bool up = false;      // established
  bool closing = false; // close() asked: no more reading, close once written
  bool closed = false;  // the socket is gone
  sip::Timer later;     // on_closed on the loop, not inside the caller's stack
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  ~Impl()
  {
    *alive = false;
    drop();
  }

  void drop()
  {
    if (tc) {
      tcp_set_handlers(tc.get(), nullptr, nullptr, nullptr, nullptr);
      tcp_set_send(tc.get(), nullptr);
      tc.reset();
    }
    closed = true;
    up = false;
  }

  void addresses()
  {
    struct sa a;
    if (tc && !tcp_conn_local_get(tc.get(), &a))
      local = sa_str(a);
    if (tc && !tcp_conn_peer_get(tc.get(), &a))
      peer = sa_str(a);
  }

  // `line` describes the PDU; `wire` is its bytes (for --pcap).
  void write_trace(const char* dir, std::string_view line, std::string_view wire) const
  {
    if (trace && trace->is_open())
      trace->write(dir, "smpp", local, peer, line, wire);
  }

  // The socket is gone: tell the owner once, on the loop.
  void ended(int err)
  {
    drop();
    later.start(0, [this, err] {
      if (cb.on_closed)
        cb.on_closed(err);
    });
  }

  Result<void> send(const Pdu& pdu)
  {
    if (!tc || closed || closing)
      return fail(
          fmt::format("smpp: {} to {}: the connection is closed", command_name(pdu.command), peer),
          3);
    auto bytes = pack(pdu);
    if (!bytes)
      return fail(fmt::format("smpp: {}", bytes.error().message), 2);
    struct mbuf mb {};
    mb.buf = reinterpret_cast<uint8_t*>(bytes->data());
    mb.size = bytes->size();
    mb.end = bytes->size();
    // Traced before the send, as the SIP stack does: on loopback the peer may read, trace and
    // answer before tcp_send returns, and the ladder orders hops by these times.
    write_trace("tx", describe(pdu), *bytes);
    if (int err = tcp_send(tc.get(), &mb)) {
      ended(err);
      return fail(
          fmt::format("smpp: {} to {}: {}", command_name(pdu.command), peer, std::strerror(err)),
          3);
    }
    return {};
  }

  // generic_nack (§4.3) for what could not be read.
  void nack(std::string_view bytes, const DecodeError& e, bool closing_after)
  {
    write_trace("rx", describe(bytes, e), bytes);
    (void)send(generic_nack(e.sequence, e.status));
    auto flag = alive;
    if (cb.on_bad)
      cb.on_bad(e, closing_after);
    if (*flag && closing_after)
      close();
  }

  void on_data(std::string_view data)
  {
    if (closing || closed)
      return;
    framer.feed(data);
    auto flag = alive;
    while (*flag && !closing && !closed) {
      auto next = framer.next();
      if (!next)
        return;
      if (!*next) {
        nack(data, next->error(), true);
        return;
      }
      const std::string& bytes = **next;
      auto pdu = unpack(bytes);
      if (!pdu) {
        nack(bytes, pdu.error(), false);
        continue;
      }
      write_trace("rx", describe(*pdu), bytes);
      if (cb.on_pdu)
        cb.on_pdu(*pdu);
    }
  }

  void close()
  {
    if (closed || closing)
      return;
    closing = true;
    if (!tc || tcp_conn_txqsz(tc.get()) == 0) {
      ended(0);
      return;
    }
    tcp_set_send(tc.get(), &Impl::send_h);
  }

  static void estab_h(void* arg) noexcept
  {
    auto* m = static_cast<Impl*>(arg);
    sip::guarded({}, "the SMPP connect handler", [m] {
      m->up = true;
      m->addresses();
      if (m->cb.on_connected)
        m->cb.on_connected();
    });
  }

  static void recv_h(struct mbuf* mb, void* arg) noexcept
  {
    auto* m = static_cast<Impl*>(arg);
    sip::guarded({}, "the SMPP receive handler", [m, mb] {
      m->on_data(std::string_view(reinterpret_cast<const char*>(mbuf_buf(mb)), mbuf_get_left(mb)));
    });
  }

  static void close_h(int err, void* arg) noexcept
  {
    auto* m = static_cast<Impl*>(arg);
    sip::guarded({}, "the SMPP close handler", [m, err] { m->ended(err); });
  }

  static void send_h(void* arg) noexcept
  {
    auto* m = static_cast<Impl*>(arg);
    sip::guarded({}, "the SMPP send handler", [m] {
      if (m->closing && m->tc && tcp_conn_txqsz(m->tc.get()) == 0)
        m->ended(0);
    });
  }
};

Connection::Connection(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}

Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Connection::connect(const std::string& host, uint16_t port,
                                                        const std::string& local_host, Callbacks cb,
                                                        trace::Writer* trace)
{
  struct sa peer, laddr;
  if (sa_set_str(&peer, host.c_str(), port))
    return fail(fmt::format("smpp: cannot connect to '{}': not an IP address", host), 2);
  auto impl = std::make_unique<Impl>();
  impl->cb = std::move(cb);
  impl->trace = trace;
  impl->peer = sa_str(peer);
  int err = 0;
  if (!local_host.empty() && sa_set_str(&laddr, local_host.c_str(), 0) == 0 &&
      sa_af(&laddr) == sa_af(&peer))
    err = tcp_connect_bind(re_out(impl->tc), &peer, &Impl::estab_h, &Impl::recv_h, &Impl::close_h,
                           &laddr, impl.get());
  else
    err = tcp_connect(re_out(impl->tc), &peer, &Impl::estab_h, &Impl::recv_h, &Impl::close_h,
                      impl.get());
  if (err)
    return fail(fmt::format("smpp: cannot connect to {}: {}", impl->peer, std::strerror(err)), 3);
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

void Connection::set_callbacks(Callbacks cb)
{
  m->cb = std::move(cb);
}

Result<void> Connection::send(const Pdu& pdu)
{
  return m->send(pdu);
}

void Connection::close()
{
  m->close();
}

bool Connection::is_open() const
{
  return m->tc && !m->closed && !m->closing;
}

const std::string& Connection::local() const
{
  return m->local;
}

const std::string& Connection::peer() const
{
  return m->peer;
}

size_t Connection::backlog() const
{
  return m->tc ? tcp_conn_txqsz(m->tc.get()) : 0;
}

// ---- Listener --------------------------------------------------------------------------

struct Listener::Impl {
  re_ptr<struct tcp_sock> ts;
  std::string host;
  uint16_t port = 0;
  trace::Writer* trace = nullptr;
  std::function<void(std::unique_ptr<Connection>)> on_accept;

  static void conn_h(const struct sa* peer, void* arg) noexcept
  {
    auto* l = static_cast<Listener::Impl*>(arg);
    sip::guarded({}, "the SMPP accept handler", [l, peer] {
      auto impl = std::make_unique<Connection::Impl>();
      impl->trace = l->trace;
      int err = tcp_accept(re_out(impl->tc), l->ts.get(), &Connection::Impl::estab_h,
                           &Connection::Impl::recv_h, &Connection::Impl::close_h, impl.get());
      if (err) {
        tcp_reject(l->ts.get());
        return;
      }
      impl->up = true;
      impl->addresses();
      if (impl->peer.empty())
        impl->peer = sa_str(*peer);
      std::unique_ptr<Connection> c(new Connection(std::move(impl)));
      if (l->on_accept)
        l->on_accept(std::move(c));
    });
  }
};

Listener::~Listener() = default;

Result<std::unique_ptr<Listener>>
Listener::listen(const std::string& host, uint16_t port,
                 std::function<void(std::unique_ptr<Connection>)> on_accept, trace::Writer* trace)
{
  struct sa laddr;
  if (sa_set_str(&laddr, host.c_str(), port))
    return fail(fmt::format("smpp: bad listen address '{}'", host), 2);
  std::unique_ptr<Listener> l(new Listener());
  l->m = std::make_unique<Impl>();
  l->m->host = host;
  l->m->trace = trace;
  l->m->on_accept = std::move(on_accept);
  int err = tcp_listen(re_out(l->m->ts), &laddr, &Impl::conn_h, l->m.get());
  if (err)
    return fail(fmt::format("smpp: cannot listen on {}: {}", sa_str(laddr), std::strerror(err)), 3);
  struct sa bound;
  l->m->port = port;
  if (tcp_sock_local_get(l->m->ts.get(), &bound) == 0)
    l->m->port = sa_port(&bound);
  return l;
}

const std::string& Listener::host() const
{
  return m->host;
}

uint16_t Listener::port() const
{
  return m->port;
}

} // namespace cpm::smpp
