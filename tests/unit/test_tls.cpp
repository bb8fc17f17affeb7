#include <doctest/doctest.h>

#include <string>

#include "cpm/config/config.hpp"
#include "cpm/rt/tls.hpp"

using cpm::config::TlsSettings;
using cpm::sip::TlsContext;

TEST_SUITE_BEGIN("tls");

namespace {

std::string data(const std::string& name)
{
  return std::string(CPM_DATA_DIR) + "/tls/" + name;
}

} // namespace

TEST_CASE("tls::TlsContext loads a chain with its key in the same file")
{
  auto t = TlsContext::create({data("node.pem"), "", data("ca.pem"), true});
  REQUIRE(t);
  CHECK((*t)->get() != nullptr);
  CHECK((*t)->verify());
  CHECK((*t)->last_refusal().empty());
}

TEST_CASE("tls::TlsContext loads a key from a file of its own")
{
  auto t = TlsContext::create({data("node.pem"), data("node.key"), data("ca.pem"), true});
  CHECK(t);
}

TEST_CASE("tls::TlsContext without a certificate is a client on the system's CAs")
{
  auto t = TlsContext::create({});
  CHECK(t);
}

TEST_CASE("tls::TlsContext names the file and the key of what it cannot use")
{
  SUBCASE("no such certificate")
  {
    auto t = TlsContext::create({data("nope.pem"), "", "", true});
    REQUIRE(!t);
    CHECK(t.error().message.find("tls_cert '") == 0);
    CHECK(t.error().message.find("nope.pem': No such file") != std::string::npos);
    CHECK(t.error().code == 2);
  }
  SUBCASE("a key that is not the certificate's")
  {
    auto t = TlsContext::create({data("node.pem"), data("rogue.key"), "", true});
    REQUIRE(!t);
    CHECK(t.error().message.find("tls_key '") == 0);
    CHECK(t.error().message.find("does not match") != std::string::npos);
  }
  SUBCASE("a CA file that is no PEM")
  {
    auto t = TlsContext::create({"", "", data("README"), true});
    REQUIRE(!t);
    CHECK(t.error().message.find("tls_ca '") == 0);
  }
  SUBCASE("a key without a certificate")
  {
    auto t = TlsContext::create({"", data("node.key"), "", true});
    REQUIRE(!t);
    CHECK(t.error().message.find("without tls_cert") != std::string::npos);
  }
}

TEST_CASE("tls::TlsContext keeps each expected peer once, lower case, unbracketed")
{
  auto t = TlsContext::create({});
  REQUIRE(t);
  (*t)->expect_peer("Core-A.test");
  (*t)->expect_peer("core-a.test");
  (*t)->expect_peer("[::1]");
  (*t)->expect_peer("");
  CHECK((*t)->expected_peers() == std::vector<std::string>{"core-a.test", "::1"});
}

TEST_CASE("tls::node keys are read beside the config file, tls_verify true by default")
{
  auto f = cpm::config::parse(R"([[node]]
name = "coreA"
role = "core"
domain = "a.example"
listen = ["tls:127.0.1.1:5061"]
tls_cert = "tls/coreA.pem"
tls_ca = "/etc/cpm/ca.pem"

[[node]]
name = "alice"
role = "client"
proxy = "coreA"
tls_verify = false
)",
                              "/lab/lab.toml");
  REQUIRE(f);
  const auto* core = f->find_node("coreA");
  REQUIRE(core);
  CHECK(core->tls.cert == "/lab/tls/coreA.pem");
  CHECK(core->tls.key.empty());
  CHECK(core->tls.ca == "/etc/cpm/ca.pem");
  CHECK(core->tls.verify);
  const auto* alice = f->find_node("alice");
  REQUIRE(alice);
  CHECK_FALSE(alice->tls.verify);
  // A node name whose first listen address is tls: is a TLS address.
  CHECK(alice->proxy == "sip:127.0.1.1:5061;transport=tls");
}

TEST_CASE("tls::merge: the command line wins, either side turns verification off")
{
  TlsSettings cli{"", "", "/cli/ca.pem", true};
  cpm::config::merge(cli, {"/node/cert.pem", "", "/node/ca.pem", false});
  CHECK(cli.cert == "/node/cert.pem");
  CHECK(cli.ca == "/cli/ca.pem");
  CHECK_FALSE(cli.verify);
}

TEST_SUITE_END();
