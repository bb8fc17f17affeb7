#pragma once
// cpm-iwf: the Interworking Function (FLOWS.md Figures 7 and 8): CPM Messages to numbers
// become SMS, SMS to CPM users become CPM Messages, and delivery notifications map both
// ways; the SMS side is an SMSC over SMPP 3.4, or JSON lines on stdin/stdout (--pipe).
#include <string>

#include "cpm/config/cli.hpp"

namespace cpm::iwf {

struct Options {
  cli::Common common;
  std::string name;
  std::string db;        // --db: the SQLite store (overrides iwf_db)
  bool pipe = false;     // --pipe: the SMS side is stdin/stdout
  std::string smsc;      // --smsc HOST:PORT (overrides smsc)
  std::string system_id; // --system-id
  std::string password;  // --password
  int timeout_ms = 0;
  int reassembly_ms = 60000; // --reassembly-timeout: an incomplete SMS is delivered as it is
};

void add_options(CLI::App& app, Options& opt);
// Serve until SIGINT/SIGTERM; the exit status (DESIGN.md).
int run(Options& opt);

} // namespace cpm::iwf
