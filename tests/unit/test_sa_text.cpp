// cpm::SaText: the kept text of recently seen addresses is what libre's %j and %J write,
// for IPv4 and IPv6, and stays right when more addresses than it keeps go through it.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <string>
#include <vector>

#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"

namespace {

struct sa addr(const std::string& ip, uint16_t port)
{
  struct sa a;
  REQUIRE(sa_set_str(&a, ip.c_str(), port) == 0);
  return a;
}

std::string libre(const char* fmt, const struct sa& a)
{
  char buf[64];
  (void)re_snprintf(buf, sizeof buf, fmt, &a);
  return buf;
}

} // namespace

TEST_SUITE_BEGIN("sa_text");

TEST_CASE("SaText writes what libre's %j and %J write")
{
  cpm::SaText t;
  for (const auto& a : {addr("127.0.0.1", 5060), addr("10.1.2.3", 1), addr("::1", 5061),
                        addr("2001:db8::7", 65535)}) {
    CHECK(t.host(a) == libre("%j", a));
    CHECK(t.host_port(a) == libre("%J", a));
    CHECK(t.host_port(a) == cpm::sa_str(a));
    CHECK(t.host(a) == libre("%j", a)); // kept: asked again
  }
  // The same address at another port is another entry.
  CHECK(t.host_port(addr("127.0.0.1", 5070)) == "127.0.0.1:5070");
  CHECK(t.host_port(addr("127.0.0.1", 5060)) == "127.0.0.1:5060");
}

TEST_CASE("SaText stays right past what it keeps")
{
  cpm::SaText t;
  std::vector<struct sa> all;
  for (int i = 0; i < 40; ++i)
    all.push_back(addr(fmt::format("127.0.{}.{}", i / 7, i % 7 + 1), uint16_t(5000 + i)));
  for (int round = 0; round < 3; ++round)
    for (const auto& a : all) {
      CHECK(t.host_port(a) == libre("%J", a));
      CHECK(t.host(a) == libre("%j", a));
    }
}

TEST_SUITE_END();
