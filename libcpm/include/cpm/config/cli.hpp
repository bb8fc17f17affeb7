#pragma once
// Command-line helpers shared by every program.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/config/tls_settings.hpp"

namespace cpm::config {
struct File;
struct Node;
} // namespace cpm::config

namespace cpm::cli {

// Options every program shares (DESIGN.md "Options every program shares").
struct Common {
  std::string config;
  std::string node;
  std::vector<std::string> listen;
  std::vector<std::string> domains;
  std::string proxy;
  std::string from;
  bool json = false;
  std::string trace;
  std::string pcap;
  std::string hep;      // --hep udp:HOST:PORT
  int64_t hep_id = -1;  // --hep-id N; -1: the node's hep_id, else 1
  std::string hep_node; // the node's hep_node (no option)
  std::string hep_key;  // the node's hep_key (no option: a secret stays off command lines)
  std::string dns;
  uint32_t path_mtu = 0; // the node's path_mtu (no option)
  // --tls-cert, --tls-key, --tls-ca, --no-tls-verify (the node's tls_* keys fill the rest).
  config::TlsSettings tls;
  int ready_fd = -1;
  int verbose = 0;
  bool quiet = false;
  bool list_nodes = false;
};

// Which of the shared options a program offers.
enum Shared : unsigned {
  k_config = 1u << 0,
  k_listen = 1u << 1,
  k_domain = 1u << 2,
  k_proxy = 1u << 3,
  k_from = 1u << 4,
  k_json = 1u << 5,
  k_trace = 1u << 6, // --trace, --pcap, --hep and --hep-id
  k_ready_fd = 1u << 7,
  k_dns = 1u << 8, // --dns
  k_tls = 1u << 9, // --tls-cert, --tls-key, --tls-ca, --no-tls-verify
};

// Add the shared options selected by `which` (plus -v, -q, --version) to `app`.
void add_common(CLI::App& app, Common& c, unsigned which);

// Parse argv; returns an exit code to return from main (0 after --help/--version, 2 on a
// usage error) or nullopt to go on. Replaces CLI11_PARSE, whose codes are 100 and up.
std::optional<int> parse(CLI::App& app, int argc, char** argv);

// --list-nodes: print the node names of `config` one per line (for completions); returns
// the exit status (2 without a config or when it does not load).
int list_nodes(const std::string& prog, const std::string& config);

// A client program's --node from `file`: it must exist and be a client. Its from, proxy,
// listen, trace, pcap and hep keys fill what the command line left empty; `password` too
// (the node's, else the [[user]] password of the from address). Returns the node (for settings of
// its own).
Result<const config::Node*> apply_client_node(Common& c, std::string& password,
                                              const config::File& file);

// Print "prog: message" on stderr.
void diag(const std::string& prog, const std::string& message);

} // namespace cpm::cli
