#pragma once
// cpm-ladder: command line and run.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cpm/config/cli.hpp"

namespace cpm::ladder_tool {

struct Options {
  cpm::cli::Common common;
  std::vector<std::string> files;
  std::string check;
  bool columns = false;
  bool mermaid = false;
  bool svg = false;
  bool plain = false; // no notes, no step column
  int detail = 0;     // hop to print in full (1-based), 0: none
  std::string config; // the nodes' roles
  bool all = false;
  std::vector<std::string> hide;
  std::string nodes;
  std::string pcap; // --pcap OUT: the run's messages as one capture file
};

// Build the CLI of cpm-ladder.
void add_options(CLI::App& app, Options& opt);
// 0 printed or matched, 1 mismatch, 2 bad input (or no such --detail hop).
int run(const Options& opt);
// --pcap OUT: write the messages of the trace `files` as one capture file (capture.cpp);
// 0, or 2 with a diagnostic.
int write_capture(const std::string& out, const std::vector<std::string>& files);

} // namespace cpm::ladder_tool
