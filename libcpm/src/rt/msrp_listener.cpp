// MSRP's public face: a Listener (a TCP listening socket that serves many sessions, and a
// second one for msrps: sessions when it has a TLS context) and its Sessions.
#include "cpm/rt/msrp_detail.hpp"

#include <cstring>
#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/tls.hpp"

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

void Listener::Impl::accept(const struct sa* peer, bool secure)
{
  struct tcp_sock* sock = secure ? tls_ts.get() : ts.get();
  try {
    auto c = std::make_shared<Conn>();
    c->lst = this;
    int err =
        tcp_accept(re_out(c->tc), sock, &Conn::estab_h, &Conn::recv_h, &Conn::close_h, c.get());
    if (err) {
      tcp_reject(sock);
      return;
    }
    // RFC 4975 §14: an msrps: connection is TLS from its first byte; libre's TLS calls
    // estab_h once the handshake is done.
    if (secure && tls_start_tcp(re_out(c->tls), tls->get(), c->tc.get(), 0) != 0)
      return; // c goes, and the connection with it
    if (secure)
      c->set_txq_limit(c->txq_max);
    c->addresses();
    if (c->peer.empty())
      c->peer = sa_str(*peer);
    pending.push_back(std::move(c));
  } catch (...) {
    tcp_reject(sock);
  }
}

void Listener::Impl::conn_h(const struct sa* peer, void* arg) noexcept
{
  static_cast<Listener::Impl*>(arg)->accept(peer, false);
}

void Listener::Impl::tls_conn_h(const struct sa* peer, void* arg) noexcept
{
  static_cast<Listener::Impl*>(arg)->accept(peer, true);
}

Result<std::unique_ptr<Listener>> Listener::create(const std::string& host, uint16_t port,
                                                   trace::Writer* trace, const sip::TlsContext* tls)
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
  l->m->tls = tls;
  if (tls && !tls->settings().cert.empty()) {
    sa_set_port(&laddr, 0);
    err = tcp_listen(re_out(l->m->tls_ts), &laddr, &Impl::tls_conn_h, l->m.get());
    if (err)
      return fail(fmt::format("msrp: cannot listen for TLS on {}: {}", host, std::strerror(err)),
                  3);
    if (tcp_sock_local_get(l->m->tls_ts.get(), &bound) == 0)
      l->m->tls_port = sa_port(&bound);
  }
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

bool Listener::has_tls() const
{
  return m->tls_ts != nullptr;
}

uint16_t Listener::tls_port() const
{
  return m->tls_port;
}

std::unique_ptr<Session> Listener::session(Callbacks cb, bool secure)
{
  std::unique_ptr<Session> s(new Session());
  s->m = std::make_unique<Session::Impl>();
  auto& core = *s->m;
  core.lst = m.get();
  core.cb = std::move(cb);
  core.local.host = m->host;
  core.local.secure = secure && m->tls_ts;
  core.local.port = core.local.secure ? m->tls_port : m->port;
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
  if (hop.secure && !(m->lst && m->lst->tls))
    return fail(fmt::format("msrp: cannot connect to {}: MSRP over TLS needs the node's TLS "
                            "settings (tls_cert, tls_ca)",
                            format_uri(hop)),
                3);
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
  if (!err && hop.secure) {
    // RFC 4975 §14.2: TLS from the first byte; the connecting side checks the certificate of
    // the one it reaches against the URI's host. libre's TLS calls estab_h once the
    // handshake is done.
    err = tls_start_tcp(re_out(c->tls), m->lst->tls->get(), c->tc.get(), 0);
    if (!err) {
      c->set_txq_limit(c->txq_max);
      c->verifying = m->lst->tls->verify();
      if (auto v = m->lst->tls->verify_host(c->tls.get(), hop.host); !v)
        return fail(
            fmt::format("msrp: cannot connect to {}: {}", format_uri(hop), v.error().message), 3);
    }
  }
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

bool offer_tls(bool msrp_tls, std::string_view target, std::string_view first_hop_transport)
{
  if (msrp_tls || text::iequals(first_hop_transport, "tls"))
    return true;
  if (target.size() >= 5 && text::iequals(target.substr(0, 5), "sips:"))
    return true;
  // A ;transport=tls parameter of the target (its headers after '?' are not parameters).
  std::string uri = text::lower(target.substr(0, target.find('?')));
  constexpr std::string_view k_param = ";transport=tls";
  auto at = uri.find(k_param);
  if (at == std::string::npos)
    return false;
  auto end = at + k_param.size();
  return end == uri.size() || uri[end] == ';' || uri[end] == '>';
}

} // namespace cpm::msrp
