// A client's SIP endpoint on libre.
#include "cpm/ua/endpoint.hpp"

#include <cstring>
#include <fmt/format.h>

#include "cpm/rt/re.hpp"

namespace cpm::ua {

namespace {

// How long the end of a run may wait for an unregister or a last transaction's answer.
constexpr uint64_t k_drain_ms = 2000;

// The listen addresses: --listen (with a tcp one added when `need_tcp`), else udp+tcp on
// loopback or any address, as the peer (the proxy, else the URI's host) needs.
Result<std::vector<std::string>> listen_addresses(const Settings& s,
                                                  const std::optional<sip::Hop>& proxy)
{
  auto listen = s.listen;
  sip::Hop peer_hop;
  if (proxy)
    peer_hop = *proxy;
  else if (!s.peer.empty())
    peer_hop = sip::hop_of_uri(s.peer).value_or(sip::Hop{});
  if (listen.empty()) {
    listen = sip::default_listen(peer_hop.host.empty() ? "127.0.0.1" : peer_hop.host);
    if (peer_hop.transport != "tls")
      return listen;
  }
  bool tcp = false, tls = false;
  for (const auto& l : listen) {
    tcp = tcp || l.rfind("tcp:", 0) == 0;
    tls = tls || l.rfind("tls:", 0) == 0;
  }
  auto first = sip::parse_listen(listen.front());
  if (!first)
    return tl::unexpected(first.error());
  if (!tcp && s.need_tcp) // bodies over 1300 bytes go over TCP, which needs a TCP transport
    listen.push_back(sip::format_listen({"tcp", first->host, 0}));
  // libre opens TLS connections from its TLS transport only.
  if (!tls && peer_hop.transport == "tls")
    listen.push_back(sip::format_listen({"tls", first->host, 0}));
  return listen;
}

} // namespace

Settings settings_of(const Log& log, const cli::Common& c, const std::string& name,
                     const std::string& password)
{
  Settings s;
  s.log = log;
  s.listen = c.listen;
  s.proxy = c.proxy;
  s.from = c.from;
  s.password = password;
  s.trace = c.trace;
  s.pcap = c.pcap;
  s.dns = c.dns;
  s.path_mtu = c.path_mtu;
  s.tls = c.tls;
  s.trace_node = !c.node.empty() ? c.node : !name.empty() ? name : log.prog;
  s.hep.target = c.hep;
  s.hep.capture_id = c.hep_id < 0 ? 1 : static_cast<uint32_t>(c.hep_id);
  s.hep.node_name = !c.hep_node.empty() ? c.hep_node : s.trace_node;
  s.hep.auth_key = c.hep_key;
  return s;
}

Result<std::unique_ptr<Endpoint>> Endpoint::create(const Settings& s)
{
  std::unique_ptr<Endpoint> e(new Endpoint());
  e->m_log = s.log;
  if (!s.proxy.empty()) {
    auto p = sip::parse_proxy(s.proxy);
    if (!p)
      return tl::unexpected(p.error());
    e->m_proxy = *p;
  }
  auto listen = listen_addresses(s, e->m_proxy);
  if (!listen)
    return tl::unexpected(listen.error());
  if (!s.trace.empty())
    if (auto t = e->m_trace.open(s.trace, s.trace_node); !t)
      return tl::unexpected(t.error());
  if (!s.pcap.empty())
    if (auto t = e->m_trace.open_pcap(s.pcap); !t)
      return tl::unexpected(t.error());
  if (!s.hep.target.empty())
    if (auto t = e->m_trace.open_hep(s.hep, s.log.prog); !t)
      return tl::unexpected(t.error());
  sip::StackOptions so;
  so.path_mtu = s.path_mtu;
  auto stack = sip::Stack::create(*listen, s.log.prog, &e->m_trace, s.dns, s.tls, so);
  if (!stack)
    return tl::unexpected(stack.error());
  e->m_stack = std::move(*stack);
  if (e->m_proxy)
    e->m_stack->expect_tls_peer(*e->m_proxy);
  else if (auto h = sip::hop_of_uri(s.peer); h)
    e->m_stack->expect_tls_peer(*h);
  e->m_from = s.from;
  if (e->m_from.empty()) {
    auto u = e->m_stack->uri();
    auto semi = u.find(';');
    e->m_from = fmt::format("sip:{}@{}", s.log.prog,
                            u.substr(4, semi == std::string::npos ? u.npos : semi - 4));
  }
  e->m_digest = make_digest({e->m_from, s.password, s.missing_password, s.log});
  return e;
}

Endpoint::~Endpoint() = default;

Result<sip::Hop> Endpoint::hop_to(std::string_view uri) const
{
  if (m_proxy)
    return *m_proxy;
  return sip::hop_of_uri(uri);
}

Result<void> Endpoint::start(const std::optional<Registering>& reg, int ready_fd,
                             std::function<void()> on_ready, std::function<void(int)> on_fail)
{
  m_base_refs = mem_nrefs(m_stack->get());
  m_ready_fd = ready_fd;
  m_on_ready = std::move(on_ready);
  m_on_fail = std::move(on_fail);
  if (!reg) {
    ready();
    return {};
  }
  if (!m_proxy)
    return fail("--register needs --proxy");
  Registration::Params p;
  p.aor = m_from;
  p.route = m_proxy->uri();
  p.icsi = reg->icsi;
  p.contact_user = user_of(m_from, m_log.prog);
  p.expires = reg->expires;
  auto r = Registration::start(
      *m_stack, p, *m_digest, m_log,
      [this](int err, int status, const std::string& reason) { on_register(err, status, reason); });
  if (!r)
    return tl::unexpected(r.error());
  m_reg = std::move(*r);
  m_reg_timeout = reg->timeout_s;
  m_deadline.start(static_cast<uint64_t>(reg->timeout_s * 1000), [this] {
    if (m_registered || m_finishing)
      return;
    m_log.diag(fmt::format("no answer to REGISTER within {} s", m_reg_timeout));
    m_on_fail(3);
  });
  return {};
}

void Endpoint::on_register(int err, int status, const std::string& reason)
{
  if (m_finishing)
    return;
  if (err) {
    m_log.diag(fmt::format("REGISTER: {}", std::strerror(err)));
    if (!m_registered)
      m_on_fail(3);
    return;
  }
  if (status >= 300) {
    m_log.diag(fmt::format("REGISTER: SIP/2.0 {} {}", status, reason));
    if (!m_registered)
      m_on_fail(1);
    return;
  }
  if (!m_registered) {
    m_registered = true;
    m_deadline.cancel();
    m_log.note(fmt::format("registered {} with {}", m_from, m_proxy->uri()));
    ready();
  }
}

void Endpoint::ready()
{
  m_stack->report_ready(m_ready_fd);
  m_ready_fd = -1;
  m_on_ready();
}

void Endpoint::finish(int code, std::function<bool()> busy)
{
  if (m_finishing)
    return;
  m_finishing = true;
  m_exit = code;
  m_busy = std::move(busy);
  m_deadline.cancel();
  m_reg.reset(); // libre's sipreg sends REGISTER with Expires 0 when released
  m_drain_until = sip::jiffies() + k_drain_ms;
  check_drained();
}

void Endpoint::check_drained()
{
  bool idle = mem_nrefs(m_stack->get()) <= m_base_refs && !(m_busy && m_busy());
  if (idle || sip::jiffies() >= m_drain_until) {
    sip::stop(m_exit);
    return;
  }
  m_drain.start(5, [this] { check_drained(); });
}

} // namespace cpm::ua
