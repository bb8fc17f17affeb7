#pragma once
// cpm-send: the Pager Mode CPM client (send, --lines, --register, --receive). main.cpp only
// calls add_options() and run(); the pure helpers below are unit tested.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/config/cli.hpp"
#include "cpm/config/config.hpp"

namespace cpm::send {

// Everything the command line (and the config file) can set.
struct Options {
  cli::Common common;
  std::string name;              // --name: trace node name when there is no --node
  std::string to;                // TO (positional)
  std::vector<std::string> text; // TEXT... (positional)
  std::string file;              // --file F ('-' = stdin)
  std::string content_type;      // --content-type
  bool plain = false;            // --plain: the content bare, no CPIM (no notifications)
  bool lines = false;            // --lines
  double rate = 0;               // --rate N (messages per second; 0: one after the other)
  std::string notify;            // --notify delivery[,display]
  bool wait = false;             // --wait
  int recipients = 1;            // --recipients N: notifications from N distinct recipients
  double timeout = 10;           // --timeout SECONDS
  bool no_service_indication = false;
  bool do_register = false; // --register
  std::string password;     // --password
  uint32_t expires = 3600;  // --expires
  bool receive = false;     // --receive
  int count = 0;            // --count N (receive: stop after N messages)
  bool display = false;     // --display (receive: also send display notifications)
};

// Add every option and positional of cpm-send to `app`.
void add_options(CLI::App& app, Options& opt);
// Run the program; returns the exit status (0, 1, 2, 3; see cpm-send(1)).
int run(Options& opt);

// Take from/proxy/listen/password from the [[node]] (role client) and [[user]] sections of
// `file` for `node`; options already set on the command line win.
Result<void> apply_config(Options& opt, const config::File& file);
// Check the options after merging (TO given when sending, --rate >= 0, ...).
Result<void> validate(const Options& opt);
// A guess at the content type of a file from its name (text/plain by default).
std::string guess_content_type(std::string_view path);

// Latencies of --lines and the summary line printed on stderr.
struct Stats {
  size_t sent = 0;
  size_t ok = 0;        // 2xx
  size_t failed = 0;    // >= 300
  size_t no_answer = 0; // timeout or network error
  std::vector<double> latency_ms;
  // Nearest-rank percentile (p in 0..100) of latency_ms; 0 when empty.
  double percentile(double p) const;
  std::string summary() const;
  // 1 if any final response >= 300, else 3 if any went unanswered, else 0.
  int exit_status() const;
};

} // namespace cpm::send
