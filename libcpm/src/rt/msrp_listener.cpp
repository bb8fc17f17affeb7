// MSRP's public face: a Listener (a TCP listening socket that serves many sessions) and
// its Sessions.
#include "cpm/rt/msrp_detail.hpp"

#include <cstring>
#include <fmt/format.h>

#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"

namespace cpm::msrp {

using detail::Conn;

Listener::Impl::~Impl()
{
  for (auto& c : pending)
    c->destroy();
  pending.clear();
}

void Listener::Impl::forget(Conn* c)
{
  pending.remove_if([c](const std::shared_ptr<Conn>& p) { return p.get() == c; });
}

// ---- Listener --------------------------------------------------------------------------------

void Listener::Impl::conn_h(const struct sa* peer, void* arg) noexcept
{
  auto* l = static_cast<Listener::Impl*>(arg);
  try {
    auto c = std::make_shared<Conn>();
    c->lst = l;
    int err = tcp_accept(re_out(c->tc), l->ts.get(), &Conn::estab_h, &Conn::recv_h, &Conn::close_h,
                         c.get());
    if (err) {
      tcp_reject(l->ts.get());
      return;
    }
    c->addresses();
    if (c->peer.empty())
      c->peer = sa_str(*peer);
    l->pending.push_back(std::move(c));
  } catch (...) {
    tcp_reject(l->ts.get());
  }
}

Result<std::unique_ptr<Listener>> Listener::create(const std::string& host, uint16_t port,
                                                   trace::Writer* trace)
{
  struct sa laddr;
  if (sa_set_str(&laddr, host.c_str(), port))
    return fail(fmt::format("msrp: bad listen address '{}'", host), 2);
  std::unique_ptr<Listener> l(new Listener());
  l->m = std::make_unique<Impl>();
  l->m->host = host;
  l->m->trace = trace;
  int err = tcp_listen(re_out(l->m->ts), &laddr, &Impl::conn_h, l->m.get());
  if (err)
    return fail(fmt::format("msrp: cannot listen on {}:{}: {}", host, port, std::strerror(err)), 3);
  struct sa bound;
  if (tcp_sock_local_get(l->m->ts.get(), &bound) == 0)
    l->m->port = sa_port(&bound);
  return l;
}

Listener::~Listener() = default;

uint16_t Listener::port() const
{
  return m->port;
}

const std::string& Listener::host() const
{
  return m->host;
}

std::unique_ptr<Session> Listener::session(Callbacks cb)
{
  std::unique_ptr<Session> s(new Session());
  s->m = std::make_unique<Session::Impl>();
  auto& core = *s->m;
  core.lst = m.get();
  core.cb = std::move(cb);
  core.local.host = m->host;
  core.local.port = m->port;
  do
    core.local.session_id = random_id(16);
  while (m->sessions.count(core.local.session_id));
  core.local_s = format_uri(core.local);
  m->sessions.emplace(core.local.session_id, &core);
  return s;
}

// ---- Session -----------------------------------------------------------------------------------

Session::~Session()
{
  if (!m)
    return;
  m->detach();
  if (m->lst)
    m->lst->sessions.erase(m->local.session_id);
}

const Uri& Session::local() const
{
  return m->local;
}

void Session::set_remote(std::vector<Uri> path)
{
  m->remote = std::move(path);
  m->remote_s = format_path(m->remote);
}

const std::vector<Uri>& Session::remote() const
{
  return m->remote;
}

Result<void> Session::connect()
{
  if (m->remote.empty())
    return fail("msrp: no remote path to connect to");
  if (m->conn)
    return {};
  const Uri& hop = m->remote.front();
  struct sa peer, laddr;
  if (sa_set_str(&peer, hop.host.c_str(), hop.port))
    return fail(fmt::format("msrp: cannot connect to '{}': not an IP address", hop.host), 3);
  auto c = std::make_shared<Conn>();
  c->lst = m->lst;
  c->session = m.get();
  int err = 0;
  if (m->lst && sa_set_str(&laddr, m->lst->host.c_str(), 0) == 0 && sa_af(&laddr) == sa_af(&peer) &&
      !sa_is_any(&laddr))
    err = tcp_connect_bind(re_out(c->tc), &peer, &Conn::estab_h, &Conn::recv_h, &Conn::close_h,
                           &laddr, c.get());
  else
    err = tcp_connect(re_out(c->tc), &peer, &Conn::estab_h, &Conn::recv_h, &Conn::close_h, c.get());
  if (err)
    return fail(fmt::format("msrp: cannot connect to {}: {}", format_uri(hop), std::strerror(err)),
                3);
  c->peer = sa_str(peer);
  m->conn = std::move(c);
  m->bind_tid = "pending"; // replaced by the binding SEND's tid once connected
  return {};
}

bool Session::connected() const
{
  return m->conn && m->bound;
}

std::string Session::send(Message msg)
{
  if (msg.message_id.empty())
    msg.message_id = random_id(16);
  std::string id = msg.message_id;
  m->out_bytes += msg.body.size();
  m->out.push_back({std::move(msg), 0});
  if (m->conn)
    m->conn->pump_soon();
  return id;
}

size_t Session::backlog() const
{
  size_t n = m->out_bytes;
  if (m->conn) {
    for (auto& f : m->conn->ctl)
      n += f.size();
    if (m->conn->tc)
      n += tcp_conn_txqsz(m->conn->tc.get());
  }
  return n;
}

void Session::set_transaction_timeout(uint32_t ms)
{
  m->txn_timeout_ms = ms == 0 ? 30000 : ms;
}

void Session::close()
{
  m->detach();
}

} // namespace cpm::msrp
