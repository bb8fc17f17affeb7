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
};

// Build the CLI of cpm-ladder.
void add_options(CLI::App& app, Options& opt);
// 0 printed or matched, 1 mismatch, 2 bad input (or no such --detail hop).
int run(const Options& opt);

} // namespace cpm::ladder_tool
