// The proxy's flood limits on a fake clock: rate per source, the block, sizes, exemptions.
#include <doctest/doctest.h>

#include "cpm/config/config.hpp"
#include "cpm/proxy/flood.hpp"

#include <algorithm>
#include <string>

using namespace cpm::proxy;
using V = FloodLimiter::Verdict;

namespace {

FloodLimits ten_per_second()
{
  FloodLimits l;
  l.max_requests = 10;
  l.window_ms = 1000;
  l.block_s = 60;
  return l;
}

bool has(const std::vector<std::string>& v, const std::string& s)
{
  return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

TEST_SUITE_BEGIN("flood");

TEST_CASE("flood: the request over the limit is refused once, then the source is silent")
{
  FloodLimiter f(ten_per_second());
  uint64_t now = 5000;
  for (int i = 0; i < 10; ++i)
    CHECK(f.check("127.0.1.66", now).verdict == V::Pass);
  auto d = f.check("127.0.1.66", now);
  CHECK(d.verdict == V::Refuse);
  CHECK(d.count == 11);
  CHECK(f.retry_after_s() == 60);
  for (int i = 0; i < 100; ++i)
    CHECK(f.check("127.0.1.66", now + 10 * uint64_t(i)).verdict == V::Drop);
  SUBCASE("other sources are served meanwhile")
  {
    for (int i = 0; i < 10; ++i)
      CHECK(f.check("127.0.1.10", now + 100 * uint64_t(i)).verdict == V::Pass);
  }
  SUBCASE("still blocked a moment before the block time, served after it")
  {
    CHECK(f.check("127.0.1.66", now + 59999).verdict == V::Drop);
    auto after = f.check("127.0.1.66", now + 60000);
    CHECK(after.verdict == V::Pass);
    CHECK(after.dropped == 101); // the 100 above and the one a moment before
    // Counted afresh: a second flood is refused again, once.
    for (int i = 0; i < 9; ++i)
      CHECK(f.check("127.0.1.66", now + 60000).verdict == V::Pass);
    CHECK(f.check("127.0.1.66", now + 60000).verdict == V::Refuse);
    CHECK(f.check("127.0.1.66", now + 60001).verdict == V::Drop);
  }
}

TEST_CASE("flood: a steady rate under the limit is never refused")
{
  FloodLimiter f(ten_per_second());
  // 8 a second, evenly, for a minute.
  for (uint64_t t = 0; t < 60000; t += 125)
    REQUIRE(f.check("127.0.1.10", 1000 + t).verdict == V::Pass);
}

TEST_CASE("flood: the window slides over the previous one")
{
  SUBCASE("a burst straddling two windows is seen")
  {
    FloodLimiter f(ten_per_second());
    for (int i = 0; i < 10; ++i)
      CHECK(f.check("b", 1000).verdict == V::Pass); // the window starts with its first request
    // 50 ms into the next window, 95 % of the previous one still counts: 9 + 1, then 9 + 2.
    CHECK(f.check("b", 2050).verdict == V::Pass);
    CHECK(f.check("b", 2050).verdict == V::Refuse);
  }
  SUBCASE("a window with nothing in it forgets the one before")
  {
    FloodLimiter f(ten_per_second());
    for (int i = 0; i < 10; ++i)
      CHECK(f.check("b", 1000).verdict == V::Pass);
    for (int i = 0; i < 10; ++i)
      CHECK(f.check("b", 3500).verdict == V::Pass);
  }
}

TEST_CASE("flood: no limit, and exempt sources")
{
  SUBCASE("max_requests 0 limits nothing")
  {
    FloodLimiter f(FloodLimits{});
    CHECK_FALSE(f.limits_rate());
    for (int i = 0; i < 100000; ++i)
      REQUIRE(f.check("127.0.1.66", 1000).verdict == V::Pass);
    CHECK(f.tracked() == 0);
  }
  SUBCASE("an exempt address is never counted")
  {
    auto l = ten_per_second();
    l.exempt = {"127.0.1.2", "::1"};
    FloodLimiter f(l);
    for (int i = 0; i < 1000; ++i) {
      REQUIRE(f.check("127.0.1.2", 1000).verdict == V::Pass);
      REQUIRE(f.check("::1", 1000).verdict == V::Pass);
    }
    CHECK(f.tracked() == 0);
    for (int i = 0; i < 10; ++i)
      CHECK(f.check("127.0.1.3", 1000).verdict == V::Pass);
    CHECK(f.check("127.0.1.3", 1000).verdict == V::Refuse);
  }
  SUBCASE("a loopback connection whose top Via names an exempt node")
  {
    auto l = ten_per_second();
    l.exempt = {"127.0.1.2"};
    FloodLimiter f(l);
    for (int i = 0; i < 100; ++i)
      REQUIRE(f.check("127.0.0.1", 1000, "127.0.1.2").verdict == V::Pass);
    // Another top Via, or a source that is not loopback, is counted.
    for (int i = 0; i < 10; ++i)
      CHECK(f.check("127.0.0.1", 1000, "127.0.1.66").verdict == V::Pass);
    CHECK(f.check("127.0.0.1", 1000, "127.0.1.66").verdict == V::Refuse);
    for (int i = 0; i < 10; ++i)
      CHECK(f.check("10.0.0.5", 1000, "127.0.1.2").verdict == V::Pass);
    CHECK(f.check("10.0.0.5", 1000, "127.0.1.2").verdict == V::Refuse);
  }
}

TEST_CASE("flood: idle sources are forgotten, blocked ones kept, the table bounded")
{
  FloodLimiter f(ten_per_second());
  for (int i = 0; i < 11; ++i)
    (void)f.check("flooder", 1000);
  (void)f.check("quiet", 1000);
  CHECK(f.tracked() == 2);
  (void)f.check("other", 4000); // two windows later: "quiet" leaves, "flooder" stays blocked
  CHECK(f.tracked() == 2);
  CHECK(f.check("flooder", 4000).verdict == V::Drop);

  FloodLimiter g(ten_per_second());
  for (size_t i = 0; i < k_max_sources; ++i)
    (void)g.check(std::to_string(i), 1000);
  CHECK(g.tracked() == k_max_sources);
  CHECK(g.check("one more", 1000).verdict == V::Pass);
  CHECK(g.untracked() == 1);
  (void)g.check("later", 3000); // the idle ones leave, room again
  CHECK(g.tracked() == 1);
}

TEST_CASE("flood: sizes")
{
  FloodLimits l;
  FloodLimiter f(l);
  CHECK(f.too_large(k_max_request_size, false).empty());
  CHECK(f.too_large(k_max_request_size + 1, false) ==
        "32769 bytes is over max_request_size (32768)");
  CHECK(f.too_large(8191, true).empty());
  CHECK(f.too_large(8192, true).find("UDP datagram") != std::string::npos);
  l.max_request_size = 0;
  FloodLimiter off(l);
  CHECK(off.too_large(60000, false).empty());
  CHECK_FALSE(off.too_large(9000, true).empty()); // a cut datagram is never served
  l.max_request_size = 2000;
  FloodLimiter small(l);
  CHECK(small.too_large(2000, true).empty());
  CHECK(small.too_large(2001, true) == "2001 bytes is over max_request_size (2000)");
}

TEST_CASE("flood: a node's limits from the config")
{
  auto f = cpm::config::parse(R"(
[[node]]
name = "core"
role = "core"
domain = "a.example"
listen = ["udp:127.0.1.1:5060", "tcp:127.0.1.1:5060"]
peers = { "b.example" = "udp:127.0.2.1:5060", "c.example" = "sip:core.c.example" }
flood_limit = 50
flood_window_ms = 1000
flood_block_s = 30
max_request_size = 4096
flood_exempt = ["127.0.9.9", "::1"]
trusted = ["gw", "127.0.7.7"]

[[node]]
name = "csA"
role = "conversation-server"
domain = "a.example"
listen = ["udp:127.0.1.2:5060"]
proxy = "udp:127.0.1.1:5060"

[[node]]
name = "gw"
role = "client"
from = "sip:gw@a.example"
listen = ["udp:127.0.8.8:5060"]
proxy = "udp:127.0.1.1:5060"

[[node]]
name = "alice"
role = "client"
from = "sip:alice@a.example"
listen = ["udp:127.0.1.10:5060"]
proxy = "udp:127.0.1.1:5060"
)",
                              "lab.toml");
  if (!f)
    FAIL(f.error().message);
  auto l = flood_limits(*f, *f->find_node("core"));
  CHECK(l.max_requests == 50);
  CHECK(l.window_ms == 1000);
  CHECK(l.block_s == 30);
  CHECK(l.max_request_size == 4096);
  CHECK(has(l.exempt, "127.0.1.1"));            // itself
  CHECK(has(l.exempt, "127.0.1.2"));            // its conversation server
  CHECK(has(l.exempt, "127.0.2.1"));            // a peer core
  CHECK(has(l.exempt, "127.0.9.9"));            // flood_exempt
  CHECK(has(l.exempt, "::1"));                  // flood_exempt
  CHECK(has(l.exempt, "127.0.8.8"));            // trusted by node name
  CHECK(has(l.exempt, "127.0.7.7"));            // trusted by address
  CHECK_FALSE(has(l.exempt, "127.0.1.10"));     // a client
  CHECK_FALSE(has(l.exempt, "core.c.example")); // a name: list its address in flood_exempt

  auto d = flood_limits(*f, *f->find_node("csA"));
  CHECK(d.max_requests == 0); // off unless set
  CHECK(d.window_ms == 2000);
  CHECK(d.block_s == 300);
  CHECK(d.max_request_size == k_max_request_size);

  SUBCASE("bad values are refused")
  {
    auto bad = [](const std::string& line) {
      auto r =
          cpm::config::parse("[[node]]\nname = \"c\"\nrole = \"core\"\n" + line + "\n", "x.toml");
      REQUIRE_FALSE(r);
      return r.error().message;
    };
    CHECK(bad("max_request_size = 70000").find("65536") != std::string::npos);
    CHECK(bad("flood_exempt = [\"core.example\"]").find("not an IP address") != std::string::npos);
    CHECK(bad("flood_block_s = 0").find("flood_block_s") != std::string::npos);
  }
}

TEST_SUITE_END();
