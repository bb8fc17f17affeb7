#include <doctest/doctest.h>

#include <string>

#include "cpm/config/config.hpp"
#include "cpm/core/interwork.hpp"

using namespace cpm;

namespace {

// The interworking keys of cpm.toml(5) on a small lab: csA with an IWF, alice and bob with
// numbers, alice with SMS fallback.
const char* const k_lab = R"(
[[node]]
name = "coreA"
role = "core"
domain = "a.example"
listen = ["udp:127.0.1.1:5060"]

[[node]]
name = "csA"
role = "conversation-server"
domain = "a.example"
listen = ["udp:127.0.1.2:5060"]
proxy = "coreA"
iwf = "iwf"
non_cpm_domains = ["sms.example"]

[[node]]
name = "iwf"
role = "iwf"
domain = "a.example"
listen = ["udp:127.0.1.3:5060"]

[[user]]
uri = "sip:alice@a.example"
tel = "+15550102"
sms_fallback = true

[[user]]
uri = "sip:bob@b.example"
tel = "+15550101"

[[user]]
uri = "sip:carol@b.example"
)";

config::File lab()
{
  auto f = config::parse(k_lab, "lab.toml");
  REQUIRE_MESSAGE(f, (f ? "" : f.error().message));
  return *f;
}

std::string error_of(const std::string& text)
{
  auto f = config::parse(text, "lab.toml");
  return f ? std::string() : f.error().message;
}

sip::Request message(std::string from, std::string to, std::string method = "MESSAGE")
{
  sip::Request r;
  r.method = std::move(method);
  r.from_uri = std::move(from);
  r.ruri = std::move(to);
  r.routes = {"<sip:127.0.1.1:5060;lr;odi=o.0.0123456789>"};
  return r;
}

} // namespace

TEST_SUITE_BEGIN("interwork");

TEST_CASE("config reads tel, sms_fallback, iwf and non_cpm_domains")
{
  config::File f = lab();
  const config::Node* cs = f.find_node("csA");
  REQUIRE(cs);
  CHECK(cs->iwf == "sip:127.0.1.3:5060"); // a node name becomes its URI
  CHECK(cs->non_cpm_domains == std::vector<std::string>{"sms.example"});
  const config::User* alice = f.find_user("sip:alice@a.example");
  REQUIRE(alice);
  CHECK(alice->tel == "+15550102");
  CHECK(alice->sms_fallback);
  const config::User* bob = f.find_user_by_tel("+15550101");
  REQUIRE(bob);
  CHECK(bob->uri == "sip:bob@b.example");
  CHECK_FALSE(bob->sms_fallback); // the default
  CHECK_FALSE(f.find_user_by_tel("+15550100"));
  CHECK_FALSE(f.find_user_by_tel(""));

  SUBCASE("bad values")
  {
    CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\ntel = \"5550100\"\n") ==
          "lab.toml:3: user 'sip:a@a.example': key 'tel' '5550100' is not an E.164 number (+ "
          "and 1 to 15 digits)");
    CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\ntel = \"+1-555\"\n").find("E.164") !=
          std::string::npos);
    CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\ntel = \"+1234567890123456\"\n")
              .find("E.164") != std::string::npos);
    CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\nsms_fallback = \"yes\"\n") ==
          "lab.toml:3: user 'sip:a@a.example': key 'sms_fallback' must be a boolean, not a "
          "string");
    CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\ntel = \"+1555\"\n[[user]]\nuri = "
                   "\"sip:b@a.example\"\ntel = \"+1555\"\n") ==
          "lab.toml:4: user 'sip:b@a.example': tel '+1555' is also user 'sip:a@a.example''s "
          "(line 1)");
    CHECK(error_of("[[node]]\nname = \"c\"\nrole = \"core\"\ndomain = \"a.example\"\niwf = "
                   "\"sip:127.0.0.1\"\n") ==
          "lab.toml:5: node 'c': iwf belongs to a conversation-server");
    CHECK(error_of("[[node]]\nname = \"c\"\nrole = \"conversation-server\"\niwf = \"nope\"\n") ==
          "lab.toml:4: node 'c': iwf: no node named 'nope' (want a node name, a SIP URI or "
          "udp:HOST:PORT)");
    CHECK(error_of("[[node]]\nname = \"c\"\nrole = \"conversation-server\"\nnon_cpm_domains = "
                   "[\"a b\"]\n") == "lab.toml:4: node 'c': bad domain 'a b'");
  }
}

TEST_CASE("interwork::number_of reads global numbers of tel: and user=phone URIs")
{
  CHECK(interwork::number_of("tel:+15550100") == "+15550100");
  CHECK(interwork::number_of("tel:+1-555-(010).0") == "+15550100");
  CHECK(interwork::number_of("<tel:+15550100;phone-context=x>") == "+15550100");
  CHECK(interwork::number_of("sip:+15550100@a.example;user=phone") == "+15550100");
  CHECK(interwork::number_of("sip:+15550100;isub=12@a.example;user=phone") == "+15550100");
  CHECK(interwork::number_of("sip:+15550100@a.example;user=PHONE") == "+15550100");
  SUBCASE("no global number")
  {
    CHECK(interwork::number_of("sip:+15550100@a.example") == ""); // no user=phone
    CHECK(interwork::number_of("tel:5550100;phone-context=a.example") == "");
    CHECK(interwork::number_of("tel:+") == "");
    CHECK(interwork::number_of("tel:+1555x") == "");
    CHECK(interwork::number_of("tel:+12345678901234567") == "");
    CHECK(interwork::number_of("sip:alice@a.example") == "");
    CHECK(interwork::number_of("not a uri") == "");
  }
}

TEST_CASE("interwork::decide: CPM users, their numbers, and the rest by the IWF")
{
  config::File f = lab();
  const config::Node& cs = *f.find_node("csA");
  SUBCASE("a CPM user's URI is routed as usual")
  {
    auto d = interwork::decide(f, cs, message("sip:alice@a.example", "sip:bob@b.example"));
    CHECK(d.kind == interwork::Kind::Cpm);
    CHECK(d.why.empty());
  }
  SUBCASE("a CPM user's number becomes the user, for any method")
  {
    for (const char* m : {"MESSAGE", "INVITE"}) {
      auto d = interwork::decide(f, cs, message("sip:alice@a.example", "tel:+15550101", m));
      CHECK(d.kind == interwork::Kind::Translate);
      CHECK(d.ruri == "sip:bob@b.example");
    }
    auto d = interwork::decide(
        f, cs, message("sip:alice@a.example", "sip:+1-555-0101@a.example;user=phone"));
    CHECK(d.kind == interwork::Kind::Translate);
    CHECK(d.ruri == "sip:bob@b.example");
  }
  SUBCASE("a number of no CPM user is interworked (Figure 7)")
  {
    auto d = interwork::decide(f, cs, message("sip:alice@a.example", "tel:+15550100"));
    CHECK(d.kind == interwork::Kind::Interwork);
    CHECK(d.why == "+15550100 is no CPM user's number: interworked through sip:127.0.1.3:5060");
    d = interwork::decide(f, cs,
                          message("sip:alice@a.example", "sip:+15550100@b.example;user=phone"));
    CHECK(d.kind == interwork::Kind::Interwork);
  }
  SUBCASE("a non-CPM domain is interworked")
  {
    auto d = interwork::decide(f, cs, message("sip:alice@a.example", "sip:dave@SMS.example"));
    CHECK(d.kind == interwork::Kind::Interwork);
    CHECK(d.why.find("sms.example is a non-CPM domain") == 0);
  }
  SUBCASE("only messages are interworked: a session goes on as routed")
  {
    auto d = interwork::decide(f, cs, message("sip:alice@a.example", "tel:+15550100", "INVITE"));
    CHECK(d.kind == interwork::Kind::Cpm);
  }
  SUBCASE("without an IWF: 404")
  {
    config::Node no_iwf = cs;
    no_iwf.iwf.clear();
    auto d = interwork::decide(f, no_iwf, message("sip:alice@a.example", "tel:+15550100"));
    CHECK(d.kind == interwork::Kind::Refuse);
    CHECK(d.status == 404);
    CHECK(d.why == "+15550100 is no CPM user's number, and no iwf is configured to reach it");
  }
}

TEST_CASE("interwork::routes_to_iwf: the core's Routes, then the IWF")
{
  config::File f = lab();
  const config::Node& cs = *f.find_node("csA");
  CHECK(interwork::routes_to_iwf(cs, {"<sip:127.0.1.1:5060;lr;odi=o.0.X>"}) ==
        std::vector<std::string>{"<sip:127.0.1.1:5060;lr;odi=o.0.X>", "<sip:127.0.1.3:5060;lr>"});
  CHECK(interwork::routes_to_iwf(cs, {}) ==
        std::vector<std::string>{"<sip:127.0.1.1:5060;lr>", "<sip:127.0.1.3:5060;lr>"});
  config::Node tcp = cs;
  tcp.iwf = "tcp:127.0.1.3:5060";
  CHECK(interwork::routes_to_iwf(tcp, {}).back() == "<sip:127.0.1.3:5060;transport=tcp;lr>");
  config::Node alone = cs;
  alone.proxy.clear();
  CHECK(interwork::routes_to_iwf(alone, {}).empty());
  alone.iwf.clear();
  CHECK(interwork::routes_to_iwf(alone, {"<sip:127.0.1.1:5060;lr>"}).empty());
}

TEST_CASE("interwork::fallback_target: the recipient's number when the sender allows it")
{
  config::File f = lab();
  const config::Node& cs = *f.find_node("csA");
  const char* alice = "sip:alice@a.example";
  CHECK(interwork::fallback_target(f, cs, alice, "sip:bob@b.example", "sip:bob@b.example") ==
        "tel:+15550101");
  // Addressed by number: that number.
  CHECK(interwork::fallback_target(f, cs, alice, "sip:bob@b.example", "tel:+1-555-0101") ==
        "tel:+15550101");
  SUBCASE("none")
  {
    // carol has no number; nobody is no user.
    CHECK(interwork::fallback_target(f, cs, alice, "sip:carol@b.example", "sip:carol@b.example") ==
          "");
    CHECK(interwork::fallback_target(f, cs, alice, "sip:nobody@b.example",
                                     "sip:nobody@b.example") == "");
    // bob's sms_fallback is off (the default), and an unknown sender has none.
    CHECK(interwork::fallback_target(f, cs, "sip:bob@b.example", "sip:alice@a.example",
                                     "sip:alice@a.example") == "");
    CHECK(interwork::fallback_target(f, cs, "sip:eve@a.example", "sip:bob@b.example",
                                     "sip:bob@b.example") == "");
    config::Node no_iwf = cs;
    no_iwf.iwf.clear();
    CHECK(interwork::fallback_target(f, no_iwf, alice, "sip:bob@b.example", "sip:bob@b.example") ==
          "");
  }
  CHECK(interwork::falls_back(404));
  CHECK(interwork::falls_back(480));
  CHECK_FALSE(interwork::falls_back(408));
  CHECK_FALSE(interwork::falls_back(486));
}

TEST_SUITE_END();
