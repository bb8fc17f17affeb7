#pragma once
// cpm-core-route: the SIP/IP Core (registrar, location service, trigger-driven proxy).
#include <string>
#include <vector>

#include "cpm/config/cli.hpp"

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
  std::string explain; // FILE or "-"
  std::string name;
};

// Build the command line.
void add_options(CLI::App& app, Options& opt);
// Run the core until SIGINT/SIGTERM; returns the exit status (DESIGN.md).
int run(Options& opt);

} // namespace cpm::core_route
