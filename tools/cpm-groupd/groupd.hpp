#pragma once
// cpm-groupd: the CPM Conversation Server (participating function for Pager Mode messages).
#include <string>
#include <vector>

#include "cpm/config/cli.hpp"

namespace cpm::groupd {

struct Options {
  cli::Common common;
  long long max_message_size = -1; // -1: from the config
  int timeout_ms = 0;
  std::string name;
  std::string outbox;         // SQLite file of the group pager's outbox (overrides outbox_db)
  int realtime_priority = -1; // SCHED_FIFO priority (0: none); -1: from the config
  bool msrp_tls = false;      // --msrp-tls: offer members the chat over TLS (or msrp_tls)
};

// Build the command line.
void add_options(CLI::App& app, Options& opt);
// Serve until SIGINT/SIGTERM; returns the exit status (DESIGN.md).
int run(Options& opt);

} // namespace cpm::groupd
