// cpm-groupd's command line: --realtime-priority, and what set_realtime_priority refuses.
#include <doctest/doctest.h>

#include "cpm-groupd/groupd.hpp"
#include "cpm/rt/realtime.hpp"

namespace {

// Parse `args` after "cpm-groupd"; false when CLI11 refuses them.
bool parse(cpm::groupd::Options& opt, std::vector<const char*> args)
{
  CLI::App app{"t", "cpm-groupd"};
  cpm::groupd::add_options(app, opt);
  args.insert(args.begin(), "cpm-groupd");
  try {
    app.parse(static_cast<int>(args.size()), const_cast<char**>(args.data()));
    return true;
  } catch (const CLI::ParseError&) {
    return false;
  }
}

} // namespace

TEST_SUITE_BEGIN("groupd");

TEST_CASE("groupd options: --realtime-priority")
{
  cpm::groupd::Options opt;
  REQUIRE(parse(opt, {}));
  CHECK(opt.realtime_priority == -1); // the config's realtime_priority applies
  REQUIRE(parse(opt, {"--realtime-priority", "10"}));
  CHECK(opt.realtime_priority == 10);
  REQUIRE(parse(opt, {"--realtime-priority", "0"}));
  CHECK(opt.realtime_priority == 0);
  cpm::groupd::Options bad;
  CHECK_FALSE(parse(bad, {"--realtime-priority", "100"}));
  CHECK_FALSE(parse(bad, {"--realtime-priority", "-1"}));
  CHECK_FALSE(parse(bad, {"--realtime-priority", "high"}));
}

TEST_CASE("rt::set_realtime_priority: 0 leaves the scheduler alone, out of range is refused")
{
  CHECK(cpm::rt::set_realtime_priority(0));
  auto r = cpm::rt::set_realtime_priority(100);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "real-time priority 100 is not in 1..99");
  CHECK_FALSE(cpm::rt::set_realtime_priority(-1));
}

TEST_SUITE_END();
