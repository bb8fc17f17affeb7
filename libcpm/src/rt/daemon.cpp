// The life of a daemon: config, stack, readiness, SIGHUP, SIGINT/SIGTERM, exit status.
#include "cpm/rt/daemon.hpp"

#include <exception>
#include <fmt/format.h>

#include "cpm/base/hep.hpp"
#include "cpm/rt/signals.hpp"

namespace cpm::daemon {

Runner::Runner(Spec spec, const cli::Common& common) : m_spec(std::move(spec)), m_common(common) {}

Runner::~Runner() = default;

void Runner::diag(const std::string& line) const
{
  if (!m_common.quiet)
    cli::diag(m_spec.prog, line);
}

void Runner::verbose(const std::string& line) const
{
  if (m_common.verbose)
    diag(line);
}

int Runner::run(Role& role)
{
  try {
    if (m_common.list_nodes)
      return cli::list_nodes(m_spec.prog, m_common.config);
    if (auto r = configure(role); !r) {
      cli::diag(m_spec.prog, r.error().message);
      return r.error().code;
    }
    if (auto rc = role.instead_of_serving(*this))
      return *rc;
    return serve(role);
  } catch (const std::exception& e) {
    cli::diag(m_spec.prog, fmt::format("internal error: {}", e.what()));
    return 3;
  } catch (...) {
    cli::diag(m_spec.prog, "internal error: unknown exception");
    return 3;
  }
}

// The node of the config file (or a default one), the shared options over it, then the
// program's own.
Result<void> Runner::configure(Role& role)
{
  auto sel = config::load_node(m_common.config, m_common.node, m_spec.role,
                               m_spec.name.empty() ? m_spec.prog : m_spec.name);
  if (!sel)
    return tl::unexpected(sel.error());
  m_file = std::move(sel->file);
  m_node = std::move(sel->node);
  if (!m_common.listen.empty())
    m_node.listen = m_common.listen;
  if (m_node.listen.empty())
    m_node.listen = m_spec.default_listen;
  if (!m_common.domains.empty())
    m_node.domains = m_common.domains;
  if (!m_common.proxy.empty())
    m_node.proxy = m_common.proxy;
  if (!m_common.trace.empty())
    m_node.trace = m_common.trace;
  if (!m_common.pcap.empty())
    m_node.pcap = m_common.pcap;
  if (!m_common.hep.empty())
    m_node.hep = m_common.hep;
  if (m_common.hep_id >= 0)
    m_node.hep_id = m_common.hep_id;
  if (!m_common.dns.empty())
    m_node.dns = m_common.dns;
  config::TlsSettings tls = m_common.tls;
  config::merge(tls, m_node.tls);
  m_node.tls = tls;
  return role.configure(*this);
}

int Runner::serve(Role& role)
{
  if (m_node.listen.empty()) {
    cli::diag(m_spec.prog, "no --listen address (give --listen or --config with --node)");
    return 2;
  }
  if (!m_node.trace.empty()) {
    auto r = m_tracer.open(m_node.trace, m_spec.name.empty() ? m_node.name : m_spec.name);
    if (!r) {
      cli::diag(m_spec.prog, r.error().message);
      return 2;
    }
  }
  if (!m_node.pcap.empty()) {
    if (auto r = m_tracer.open_pcap(m_node.pcap); !r) {
      cli::diag(m_spec.prog, r.error().message);
      return 2;
    }
  }
  if (!m_node.hep.empty()) {
    hep::Options o{m_node.hep, m_node.hep_id < 0 ? 1 : static_cast<uint32_t>(m_node.hep_id),
                   m_node.hep_node, m_node.hep_key};
    if (o.node_name.empty())
      o.node_name = m_spec.name.empty() ? m_node.name : m_spec.name;
    if (auto r = m_tracer.open_hep(o, m_spec.prog); !r) {
      cli::diag(m_spec.prog, r.error().message);
      return r.error().code;
    }
  }
  sip::Library lib;
  // A core reads its UDP and TCP listen sockets itself (the proxy's receive path, issue
  // 13); the servers keep libre's, whose sipsess takes the requests their proxy passes on.
  sip::StackOptions so;
  so.own_udp = m_spec.role == config::Role::Core;
  so.own_tcp = so.own_udp;
  so.path_mtu = m_node.path_mtu;
  auto st =
      sip::Stack::create(m_node.listen, fmt::format("{} {}", m_spec.prog, CPM_VERSION),
                         m_tracer.is_open() ? &m_tracer : nullptr, m_node.dns, m_node.tls, so);
  if (!st) {
    cli::diag(m_spec.prog, st.error().message);
    return st.error().code;
  }
  m_stack = std::move(*st);
  expect_tls_peers();
  // A core is what "sip:DOMAIN" finds by DNS (a client's proxy): a Route naming one of its
  // domains is its own. Not a conversation server, which serves the same domains. Any node's
  // aliases are its own names (a server a core's trigger names by DNS).
  std::vector<std::string> names = m_node.aliases;
  if (m_spec.role == config::Role::Core)
    names.insert(names.end(), m_node.domains.begin(), m_node.domains.end());
  m_stack->set_names(std::move(names));
  int rc = listen(role);
  role.stop(*this);
  m_stack.reset();
  return rc;
}

void Runner::expect_tls_peers()
{
  auto expect = [this](const std::string& addr) {
    if (auto h = sip::parse_proxy(addr); h)
      m_stack->expect_tls_peer(*h);
  };
  expect(m_node.proxy);
  expect(m_node.iwf);
  for (const auto& [_, addr] : m_node.peers)
    expect(addr);
  for (const auto& [_, addr] : m_node.psi)
    expect(addr);
  for (const auto* t : m_file.triggers_of(m_node.name))
    expect(t->server);
}

// Serve on the stack until SIGINT/SIGTERM (or sip::stop()).
int Runner::listen(Role& role)
{
  if (auto r = role.start(*this); !r) {
    cli::diag(m_spec.prog, r.error().message);
    return r.error().code;
  }
  sip::Hangup hangup([this, &role] { reload(role); });
  std::string bound;
  for (const auto& b : m_stack->bound())
    bound += (bound.empty() ? "" : " ") + b;
  m_stack->report_ready(m_common.ready_fd);
  diag(fmt::format("ready on {}", bound));
  return sip::run([](int) { sip::stop(0); });
}

std::unique_ptr<sip::NameWatch> Runner::watch_trust_names(std::vector<std::string> names,
                                                          sip::NameWatch::OnAddresses on_addresses)
{
  return std::make_unique<sip::NameWatch>(
      m_stack->dnsc(), std::move(names), sip::NameWatch::k_every_ms, std::move(on_addresses),
      [this](const std::string& l) { diag("trust domain: " + l); });
}

// SIGHUP: the config file again; the node (addresses, domains, peers) stays.
void Runner::reload(Role& role)
{
  if (m_common.config.empty()) {
    diag("SIGHUP: no --config to reload");
    return;
  }
  auto f = config::load(m_common.config);
  if (!f) {
    diag(fmt::format("SIGHUP: keeping the old config: {}", f.error().message));
    return;
  }
  m_file = std::move(*f);
  diag(fmt::format("reloaded {} {}", m_common.config, role.reloaded(*this)));
}

} // namespace cpm::daemon
