// cpm-ladder: options and the work behind them.
#include "options.hpp"

#include <fmt/format.h>

#include "cpm/config/config.hpp"
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
  auto* svg = app.add_flag("--svg", opt.svg, "Write an SVG image of the ladder");
  auto* det = app.add_option("--detail", opt.detail,
                             "Print hop N (as the ladder numbers it) in full, with its notes")
                  ->check(CLI::PositiveNumber);
  cols->excludes(mer)->excludes(svg)->excludes(det);
  mer->excludes(svg)->excludes(det);
  svg->excludes(det);
  app.add_flag("--plain", opt.plain,
               "No notes (what each message is, why it goes there) and no step column");
  app.add_option("--config", opt.config,
                 "Take the nodes' roles from this config file (cpm.toml(5)) for the notes")
      ->check(CLI::ExistingFile);
  app.add_option("--pcap", opt.pcap, "Also write the run's messages to OUT as one pcap file");
  app.add_option("--nodes", opt.nodes, "Column order, comma-separated node names");
  app.add_flag("--all", opt.all, "Also show 100 Trying, REGISTER and ACK");
  app.add_option("--hide", opt.hide,
                 "Also hide this method or status code (repeatable, e.g. OPTIONS, 180)")
      ->allow_extra_args(false);
  cpm::cli::add_common(app, opt.common, 0);
}

namespace {

const std::string k_prog = "cpm-ladder";

// The ladder of `shown` in the format the options ask for.
std::string draw(const Options& opt, const std::vector<cpm::ladder::Arrow>& shown)
{
  std::vector<std::string> order;
  for (auto p = opt.nodes.begin(); p != opt.nodes.end();) {
    auto q = std::find(p, opt.nodes.end(), ',');
    if (q != p)
      order.emplace_back(p, q);
    p = q == opt.nodes.end() ? q : q + 1;
  }
  if (opt.columns)
    return cpm::ladder::format_columns(shown, order);
  if (opt.mermaid)
    return cpm::ladder::format_mermaid(shown, order);
  if (opt.svg)
    return cpm::ladder::format_svg(shown, order);
  return cpm::ladder::format_lines(shown);
}

// --detail N of `shown`: 0, or 2 when there is no hop N.
int detail(const Options& opt, const std::vector<cpm::ladder::Arrow>& shown)
{
  auto text = cpm::ladder::format_detail(shown, static_cast<size_t>(opt.detail));
  if (text.empty()) {
    cpm::cli::diag(k_prog,
                   fmt::format("--detail {}: the ladder has {} hops", opt.detail, shown.size()));
    return 2;
  }
  fmt::print("{}", text);
  return 0;
}

// --check: the run's ladder with the expected steps beside its hops, then the comparison.
int check(const Options& opt, std::vector<cpm::ladder::Arrow> hs)
{
  auto want = cpm::ladder::read_expected(opt.check);
  if (!want) {
    cpm::cli::diag(k_prog, want.error().message);
    return 2;
  }
  // --hide leaves hops out of the comparison too (e.g. BYE when a ladder shows setup only).
  auto run = opt.hide.empty() ? std::move(hs)
                              : cpm::ladder::filter(hs, {false, false, false, opt.hide, false});
  auto res = cpm::ladder::check(*want, run);
  if (!opt.plain)
    for (size_t i = 0; i < run.size(); ++i)
      run[i].step = res.steps[i];
  // Drawn as without --check (--all shows everything), and the REGISTER hops a
  // registration ladder compared are shown.
  auto f = opt.all ? cpm::ladder::Filter::none() : cpm::ladder::Filter{};
  for (const auto& h : run)
    if (h.method == "REGISTER" && !h.step.empty() && h.step != "+")
      f.register_ = false;
  auto shown = cpm::ladder::filter(run, f);
  // A document on stdout (Mermaid, SVG, one hop) keeps the report to stderr.
  bool document = opt.mermaid || opt.svg || opt.detail > 0;
  if (opt.detail > 0) {
    if (auto rc = detail(opt, shown))
      return rc;
  } else if (!res.ok || !opt.common.quiet || document) {
    if (res.ok || document)
      fmt::print("{}", draw(opt, shown));
  }
  if (!res.ok) {
    if (document) {
      fmt::print(stderr, "{}", res.report);
    } else {
      fmt::print("{}the run's ladder:\n{}", res.report, draw(opt, shown));
    }
    cpm::cli::diag(k_prog, opt.check + ": the run does not match");
    return 1;
  }
  if (!opt.common.quiet && !document)
    fmt::print("\n{}", res.report);
  return 0;
}

} // namespace

int run(const Options& opt)
{
  if (!opt.pcap.empty())
    if (int rc = write_capture(opt.pcap, opt.files))
      return rc;
  auto hs = cpm::ladder::read_arrows(opt.files);
  if (!hs) {
    cpm::cli::diag(k_prog, hs.error().message);
    return 2;
  }
  if (!opt.plain) {
    cpm::ladder::Roles roles;
    if (!opt.config.empty()) {
      auto file = cpm::config::load(opt.config);
      if (!file) {
        cpm::cli::diag(k_prog, file.error().message);
        return 2;
      }
      for (const auto& n : file->nodes)
        roles[n.name] = cpm::config::to_string(n.role);
    }
    cpm::ladder::annotate(*hs, roles);
  }
  if (!opt.check.empty())
    return check(opt, std::move(*hs));
  auto f = opt.all ? cpm::ladder::Filter::none() : cpm::ladder::Filter{};
  f.more = opt.hide;
  auto shown = cpm::ladder::filter(*hs, f);
  if (opt.detail > 0)
    return detail(opt, shown);
  fmt::print("{}", draw(opt, shown));
  return 0;
}

} // namespace cpm::ladder_tool
