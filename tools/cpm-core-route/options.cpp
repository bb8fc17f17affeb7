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
  app.add_option("--flood-limit", opt.flood_limit,
                 "Requests per --flood-window from one source address before it gets 503, then "
                 "silence (0: no limit, the default)")
      ->check(CLI::Range(0LL, 4294967295LL));
  app.add_option("--flood-window", opt.flood_window_ms,
                 "The window of --flood-limit in MS milliseconds (default 2000)")
      ->check(CLI::Range(10, 3600000));
  app.add_option("--flood-block", opt.flood_block_s,
                 "Ignore a source over --flood-limit for S seconds (default 300)")
      ->check(CLI::Range(1, 86400));
  app.add_option("--max-request-size", opt.max_request_size,
                 "Answer 513 to requests longer than BYTES (default 32768; 0: no limit)")
      ->check(CLI::Range(0, 65536));
  app.add_option("--explain", opt.explain,
                 "Print the routing decision for the SIP request in FILE ('-': stdin) and exit");
  app.add_option("--name", opt.name, "Node name in traces (default: --node, else cpm-core-route)");
}

void apply_flood_options(const Options& opt, config::Node& node)
{
  if (opt.flood_limit >= 0)
    node.flood_limit = uint32_t(opt.flood_limit);
  if (opt.flood_window_ms >= 0)
    node.flood_window_ms = uint32_t(opt.flood_window_ms);
  if (opt.flood_block_s >= 0)
    node.flood_block_s = uint32_t(opt.flood_block_s);
  if (opt.max_request_size >= 0)
    node.max_request_size = uint64_t(opt.max_request_size);
}

} // namespace cpm::core_route
