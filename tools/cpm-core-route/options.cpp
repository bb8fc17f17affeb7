// The command line of cpm-core-route.
#include "core.hpp"

namespace cpm::core_route {

void add_options(CLI::App& app, Options& opt)
{
  cli::add_common(app, opt.common,
                  cli::k_config | cli::k_listen | cli::k_domain | cli::k_trace | cli::k_ready_fd |
                      cli::k_dns | cli::k_tls);
  app.add_option("--peer", opt.peers, "Route DOMAIN to the core at URI: DOMAIN=URI (repeatable)");
  app.add_option("--psi", opt.psi,
                 "Route the public service identity URI to the server ADDR: URI=ADDR (repeatable)");
  app.add_flag("--dns-peers", opt.dns_peers,
               "Route a domain no --peer names by its DNS records (RFC 3263) instead of 404");
  app.add_option("--db", opt.db, "Keep registrations in this SQLite FILE across restarts");
  app.add_flag("--auth", opt.auth, "Require digest authentication for REGISTER");
  app.add_option("--realm", opt.realm, "Digest realm (default: the first domain)");
  app.add_option("--timeout", opt.timeout_ms,
                 "Answer 408 when the next hop gives no final answer within MS milliseconds")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--explain", opt.explain,
                 "Print the routing decision for the SIP request in FILE ('-': stdin) and exit");
  app.add_option("--name", opt.name, "Node name in traces (default: --node, else cpm-core-route)");
}

} // namespace cpm::core_route
