// cpm-ladder: options and the work behind them.
#include "options.hpp"

#include <fmt/format.h>

#include "cpm/ladder/ladder.hpp"

namespace cpm::ladder_tool {

void add_options(CLI::App& app, Options& opt)
{
  app.add_option("files", opt.files, "Trace files written by --trace (JSON Lines)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--check", opt.check,
                 "Compare the run with this expected ladder; exit 1 with a diff on mismatch")
      ->check(CLI::ExistingFile);
  auto* cols = app.add_flag("--columns", opt.columns, "Draw one column per node");
  auto* mer = app.add_flag("--mermaid", opt.mermaid, "Write a Mermaid sequenceDiagram");
  cols->excludes(mer);
  app.add_option("--nodes", opt.nodes, "Column order, comma-separated node names");
  app.add_option("--pcap", opt.pcap, "Also write the run's messages to OUT as one pcap file");
  app.add_flag("--all", opt.all, "Also show 100 Trying, REGISTER and ACK");
  app.add_option("--hide", opt.hide,
                 "Also hide this method or status code (repeatable, e.g. OPTIONS, 180)")
      ->allow_extra_args(false);
  cpm::cli::add_common(app, opt.common, 0);
}

int run(const Options& opt)
{
  const std::string prog = "cpm-ladder";
  if (!opt.pcap.empty())
    if (int rc = write_capture(opt.pcap, opt.files))
      return rc;
  auto hs = cpm::ladder::read_arrows(opt.files);
  if (!hs) {
    cpm::cli::diag(prog, hs.error().message);
    return 2;
  }
  if (!opt.check.empty()) {
    auto want = cpm::ladder::read_expected(opt.check);
    if (!want) {
      cpm::cli::diag(prog, want.error().message);
      return 2;
    }
    // --hide leaves hops out of the comparison too (e.g. BYE when a ladder shows setup only).
    auto res = cpm::ladder::check(
        *want,
        opt.hide.empty() ? *hs : cpm::ladder::filter(*hs, {false, false, false, opt.hide, false}));
    if (!res.ok) {
      fmt::print("{}the run's ladder:\n{}", res.report,
                 cpm::ladder::format_lines(cpm::ladder::filter(*hs, {})));
      cpm::cli::diag(prog, opt.check + ": the run does not match");
      return 1;
    }
    if (!opt.common.quiet)
      fmt::print("{}", res.report);
    return 0;
  }
  auto f = opt.all ? cpm::ladder::Filter::none() : cpm::ladder::Filter{};
  f.more = opt.hide;
  auto shown = cpm::ladder::filter(*hs, f);
  std::vector<std::string> order;
  for (auto p = opt.nodes.begin(); p != opt.nodes.end();) {
    auto q = std::find(p, opt.nodes.end(), ',');
    if (q != p)
      order.emplace_back(p, q);
    p = q == opt.nodes.end() ? q : q + 1;
  }
  if (opt.columns)
    fmt::print("{}", cpm::ladder::format_columns(shown, order));
  else if (opt.mermaid)
    fmt::print("{}", cpm::ladder::format_mermaid(shown, order));
  else
    fmt::print("{}", cpm::ladder::format_lines(shown));
  return 0;
}

} // namespace cpm::ladder_tool
