#include <doctest/doctest.h>

#include <string>

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

TEST_SUITE_END();
