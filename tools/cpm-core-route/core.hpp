#pragma once
// cpm-core-route: the SIP/IP Core (registrar, location service, trigger-driven proxy).
#include <string>
#include <vector>

#include "cpm/config/cli.hpp"
#include "cpm/config/config.hpp"

namespace cpm::core_route {

struct Options {
  cli::Common common;
  std::vector<std::string> peers; // DOMAIN=URI
  std::vector<std::string> psi;   // URI=ADDR
  std::string db;
  bool auth = false;
  bool dns_peers = false; // --dns-peers
  std::string realm;
  int timeout_ms = 0;
  // Flood limits over the node's keys (-1: the config's): flood_limit, flood_window_ms,
  // flood_block_s, max_request_size.
  long long flood_limit = -1;
  long long flood_window_ms = -1;
  long long flood_block_s = -1;
  long long max_request_size = -1;
  std::string explain; // FILE or "-"
  std::string name;
};

// Build the command line.
void add_options(CLI::App& app, Options& opt);
// The flood options given on the command line over the node's keys.
void apply_flood_options(const Options& opt, config::Node& node);
// Run the core until SIGINT/SIGTERM; returns the exit status (DESIGN.md).
int run(Options& opt);

} // namespace cpm::core_route
