#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "cpm/rt/daemon.hpp"

// Not `daemon`: unistd.h declares daemon().
namespace dm = cpm::daemon;
using cpm::config::Role;

TEST_SUITE_BEGIN("daemon");

namespace {

// A role that records the node the runner gave it and serves nothing (no sockets).
struct Probe final : dm::Role {
  int configured = 0;
  bool throws = false;
  cpm::Result<void> refusal; // what configure() returns
  std::optional<int> once = 7;
  cpm::config::Node seen;

  cpm::Result<void> configure(dm::Runner& d) override
  {
    ++configured;
    seen = d.node();
    if (throws)
      throw std::runtime_error("probe");
    return refusal;
  }
  std::optional<int> instead_of_serving(dm::Runner&) override { return once; }
  cpm::Result<void> start(dm::Runner&) override { return cpm::fail("not in a unit test", 3); }
  std::string reloaded(dm::Runner&) override { return {}; }
  void stop(dm::Runner&) override {}
};

// A lab config in a temporary file, removed with the object.
struct Lab {
  std::string path;
  Lab()
  {
    char name[] = "/tmp/test_daemon_XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    std::ofstream(path) << R"([[node]]
name = "csA"
role = "conversation-server"
domain = "a.example"
listen = "tcp:127.0.1.2:5062"
proxy = "udp:127.0.1.1:5060"
trace = "csA.jsonl"
)";
  }
  ~Lab() { std::remove(path.c_str()); }
};

dm::Spec groupd_like(std::string name = {})
{
  return {"cpm-test", Role::ConversationServer, std::move(name), {"udp:127.0.0.1:0"}};
}

} // namespace

TEST_CASE("dm::Runner picks the node and merges the shared options over it")
{
  Lab lab;
  cpm::cli::Common c;
  c.config = lab.path;
  c.node = "csA";
  Probe p;
  SUBCASE("the config's node")
  {
    dm::Runner r(groupd_like(), c);
    CHECK(r.run(p) == 7);
    CHECK(p.configured == 1);
    CHECK(p.seen.name == "csA");
    CHECK(p.seen.listen == std::vector<std::string>{"tcp:127.0.1.2:5062"});
    CHECK(p.seen.domains == std::vector<std::string>{"a.example"});
    CHECK(p.seen.trace == "csA.jsonl");
  }
  SUBCASE("flags win")
  {
    c.listen = {"udp:127.0.0.1:0"};
    c.domains = {"z.example"};
    c.proxy = "udp:127.0.9.1:5060";
    c.trace = "other.jsonl";
    dm::Runner r(groupd_like(), c);
    CHECK(r.run(p) == 7);
    CHECK(p.seen.listen == c.listen);
    CHECK(p.seen.domains == c.domains);
    CHECK(p.seen.proxy == c.proxy);
    CHECK(p.seen.trace == "other.jsonl");
  }
  SUBCASE("a node of another role is a config error")
  {
    dm::Runner r({"cpm-test", Role::Core, {}, {}}, c);
    CHECK(r.run(p) == 2);
    CHECK(p.configured == 0);
  }
  SUBCASE("the role's own refusal and exceptions")
  {
    p.refusal = cpm::fail("bad --peer 'x': want DOMAIN=URI");
    dm::Runner r(groupd_like(), c);
    CHECK(r.run(p) == 2);
    p.refusal = {};
    p.throws = true;
    CHECK(r.run(p) == 3);
  }
}

TEST_CASE("dm::Runner without a config")
{
  cpm::cli::Common c;
  Probe p;
  SUBCASE("the default listen address and --name")
  {
    dm::Runner r(groupd_like("cs9"), c);
    CHECK(r.run(p) == 7);
    CHECK(p.seen.name == "cs9");
    CHECK(p.seen.listen == std::vector<std::string>{"udp:127.0.0.1:0"});
  }
  SUBCASE("the program's name")
  {
    dm::Runner r(groupd_like(), c);
    CHECK(r.run(p) == 7);
    CHECK(p.seen.name == "cpm-test");
  }
  SUBCASE("--node needs --config")
  {
    c.node = "csA";
    dm::Runner r(groupd_like(), c);
    CHECK(r.run(p) == 2);
  }
  SUBCASE("--list-nodes needs --config")
  {
    c.list_nodes = true;
    dm::Runner r(groupd_like(), c);
    CHECK(r.run(p) == 2);
    CHECK(p.configured == 0);
  }
  SUBCASE("nowhere to listen is a usage error, before any socket")
  {
    p.once = std::nullopt;
    dm::Runner r({"cpm-test", Role::Core, {}, {}}, c);
    CHECK(r.run(p) == 2);
    CHECK(p.configured == 1);
  }
}

TEST_SUITE_END();
