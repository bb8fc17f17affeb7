// Command-line helpers shared by every program.
#include "cpm/config/cli.hpp"

#include <fmt/format.h>

#include "cpm/config/config.hpp"

namespace cpm::cli {

void add_common(CLI::App& app, Common& c, unsigned which)
{
  if (which & k_config) {
    app.add_option("--config", c.config, "Read settings from this TOML file (cpm.toml(5))");
    app.add_option("--node", c.node, "Take this node's settings from the config file");
    app.add_flag("--list-nodes", c.list_nodes, "List the node names of --config and exit");
  }
  // Repeatable options take one value per occurrence, so that a positional argument after
  // them ("--listen udp:127.0.0.1:0 sip:bob@b.example") stays positional.
  if (which & k_listen)
    app.add_option("--listen", c.listen, "Listen on udp:HOST:PORT or tcp:HOST:PORT (repeatable)")
        ->allow_extra_args(false);
  if (which & k_domain)
    app.add_option("--domain", c.domains, "A domain this node serves (repeatable)")
        ->allow_extra_args(false);
  if (which & k_proxy)
    app.add_option("--proxy", c.proxy, "Outbound proxy (SIP/IP Core) URI");
  if (which & k_from)
    app.add_option("--from", c.from, "Own address of record, e.g. sip:alice@a.example");
  if (which & k_json)
    app.add_flag("--json", c.json, "Write JSON Lines on stdout");
  if (which & k_trace) {
    app.add_option("--trace", c.trace, "Append every message sent/received to FILE (JSON Lines)");
    app.add_option("--pcap", c.pcap,
                   "Append every message sent/received to FILE as packets (pcap, Wireshark)");
    app.add_option("--hep", c.hep,
                   "Send every SIP message sent/received as HEP v3 to udp:HOST:PORT");
    app.add_option("--hep-id", c.hep_id, "HEP capture agent id (default 1)")
        ->check(CLI::Range(int64_t{0}, int64_t{UINT32_MAX}));
  }
  if (which & k_dns)
    app.add_option("--dns", c.dns,
                   "Resolve names (RFC 3263) on this DNS server, HOST[:PORT]; default: the "
                   "system's");
  if (which & k_tls) {
    app.add_option("--tls-cert", c.tls.cert,
                   "PEM certificate chain (and key) of this node for SIP over TLS");
    app.add_option("--tls-key", c.tls.key, "PEM private key of --tls-cert; default: in its file");
    app.add_option("--tls-ca", c.tls.ca,
                   "PEM file of the CAs whose certificates to trust; default: the system's");
    app.add_flag("--no-tls-verify{false}", c.tls.verify,
                 "Do not verify the TLS peers' certificates (tests only)");
  }
  if (which & k_ready_fd)
    app.add_option("--ready-fd", c.ready_fd,
                   "Once ready, write the bound addresses to file descriptor N and close it");
  app.add_flag("-v,--verbose", c.verbose, "More diagnostics on stderr");
  app.add_flag("-q,--quiet", c.quiet, "Fewer diagnostics on stderr");
  app.set_version_flag("--version", std::string("cpm toolkit ") + CPM_VERSION);
}

std::optional<int> parse(CLI::App& app, int argc, char** argv)
{
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "{}: {}\n", app.get_name(), e.what());
    fmt::print(stderr, "Try '{} --help' for more information.\n", app.get_name());
    return 2;
  }
  return std::nullopt;
}

int list_nodes(const std::string& prog, const std::string& config)
{
  if (config.empty()) {
    diag(prog, "--list-nodes needs --config");
    return 2;
  }
  auto f = config::load(config);
  if (!f) {
    diag(prog, f.error().message);
    return 2;
  }
  for (const auto& n : f->nodes)
    fmt::print("{}\n", n.name);
  return 0;
}

void diag(const std::string& prog, const std::string& message)
{
  fmt::print(stderr, "{}: {}\n", prog, message);
}

Result<const config::Node*> apply_client_node(Common& c, std::string& password,
                                              const config::File& file)
{
  if (c.node.empty())
    return fail(fmt::format("{}: --node NAME is needed with --config", file.path));
  const config::Node* node = file.find_node(c.node);
  if (!node)
    return fail(fmt::format("{}: no node named '{}'", file.path, c.node));
  if (node->role != config::Role::Client)
    return fail(fmt::format("{}:{}: node '{}' is not a client (role = \"client\")", file.path,
                            node->line, node->name));
  if (c.from.empty())
    c.from = node->from;
  if (c.proxy.empty())
    c.proxy = node->proxy;
  if (c.listen.empty())
    c.listen = node->listen;
  if (c.trace.empty())
    c.trace = node->trace;
  if (c.pcap.empty())
    c.pcap = node->pcap;
  if (c.hep.empty())
    c.hep = node->hep;
  if (c.hep_id < 0)
    c.hep_id = node->hep_id;
  c.hep_node = node->hep_node;
  c.hep_key = node->hep_key;
  if (c.dns.empty())
    c.dns = node->dns;
  c.path_mtu = node->path_mtu;
  config::merge(c.tls, node->tls);
  if (password.empty())
    password = node->password;
  if (password.empty() && !c.from.empty())
    for (const auto& u : file.users)
      if (u.uri == c.from)
        password = u.password;
  return node;
}

} // namespace cpm::cli
