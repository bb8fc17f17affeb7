#include <doctest/doctest.h>

#include "cpm/core/policy.hpp"

using namespace cpm;

namespace {

config::File make_file()
{
  config::File f;
  config::Node cs;
  cs.name = "csA";
  cs.role = config::Role::ConversationServer;
  cs.domains = {"a.example"};
  cs.max_message_size = 1000;
  f.nodes.push_back(cs);
  config::User alice;
  alice.uri = "sip:alice@a.example";
  alice.policy.block_to = {"sip:eve@b.example"};
  alice.policy.block_from = {"*@spam.example"};
  f.users.push_back(alice);
  config::User mallory;
  mallory.uri = "sip:mallory@a.example";
  mallory.policy.barred = true;
  f.users.push_back(mallory);
  config::User carol;
  carol.uri = "sip:carol@a.example";
  carol.policy.allow_to = {"*@a.example"};
  carol.policy.allow_from = {"sip:alice@a.example"};
  carol.policy.max_message_size = 10;
  f.users.push_back(carol);
  return f;
}

sip::Request message(std::string from, std::string to, size_t size = 5)
{
  sip::Request r;
  r.method = "MESSAGE";
  r.from_uri = std::move(from);
  r.ruri = std::move(to);
  r.body_size = size;
  return r;
}

policy::ServedUser orig(std::string aor)
{
  return {std::move(aor), config::SessionCase::Originating};
}
policy::ServedUser term(std::string aor)
{
  return {std::move(aor), config::SessionCase::Terminating};
}

} // namespace

TEST_SUITE_BEGIN("policy");

TEST_CASE("policy::parse_served_user reads RFC 5502 values")
{
  policy::ServedUser s;
  REQUIRE(policy::parse_served_user("<sip:alice@A.Example>;sescase=term;regstate=reg", s));
  CHECK(s.aor == "sip:alice@a.example");
  CHECK(s.session_case == config::SessionCase::Terminating);
  REQUIRE(policy::parse_served_user("<sip:bob@b.example>", s));
  CHECK(s.session_case == config::SessionCase::Originating);
  REQUIRE(policy::parse_served_user("sip:bob@b.example;sescase=orig", s));
  CHECK(s.aor == "sip:bob@b.example");
  SUBCASE("malformed")
  {
    CHECK_FALSE(policy::parse_served_user("", s));
    CHECK_FALSE(policy::parse_served_user("<sip:bob@b.example", s));
    CHECK_FALSE(policy::parse_served_user("<sip:bob@b.example>;sescase=sideways", s));
    CHECK_FALSE(policy::parse_served_user("garbage", s));
  }
}

TEST_CASE("policy::matches exact, domain and wildcard patterns")
{
  CHECK(policy::matches("sip:bob@b.example", "sip:bob@B.example:5060;transport=tcp"));
  CHECK(policy::matches("*@b.example", "sip:anyone@b.example"));
  CHECK(policy::matches("*", "sip:x@y.example"));
  CHECK_FALSE(policy::matches("sip:bob@b.example", "sip:bobby@b.example"));
  CHECK_FALSE(policy::matches("*@b.example", "sip:bob@a.example"));
}

TEST_CASE("policy::check applies originating and terminating control")
{
  auto f = make_file();
  const auto& node = f.nodes.front();
  SUBCASE("allowed")
  {
    CHECK(policy::check(f, node, orig("sip:alice@a.example"),
                        message("sip:alice@a.example", "sip:bob@b.example"))
              .allowed());
  }
  SUBCASE("barred sender")
  {
    auto v = policy::check(f, node, orig("sip:mallory@a.example"),
                           message("sip:mallory@a.example", "sip:bob@b.example"));
    CHECK(v.status == 403);
    CHECK(v.why.find("barred") != std::string::npos);
  }
  SUBCASE("block_to")
  {
    CHECK(policy::check(f, node, orig("sip:alice@a.example"),
                        message("sip:alice@a.example", "sip:eve@b.example"))
              .status == 403);
  }
  SUBCASE("allow_to")
  {
    CHECK(policy::check(f, node, orig("sip:carol@a.example"),
                        message("sip:carol@a.example", "sip:bob@b.example"))
              .status == 403);
    CHECK(policy::check(f, node, orig("sip:carol@a.example"),
                        message("sip:carol@a.example", "sip:alice@a.example"))
              .allowed());
  }
  SUBCASE("block_from and allow_from on the terminating side")
  {
    CHECK(policy::check(f, node, term("sip:alice@a.example"),
                        message("sip:x@spam.example", "sip:alice@a.example"))
              .status == 403);
    CHECK(policy::check(f, node, term("sip:carol@a.example"),
                        message("sip:bob@b.example", "sip:carol@a.example"))
              .status == 403);
    CHECK(policy::check(f, node, term("sip:carol@a.example"),
                        message("sip:alice@a.example", "sip:carol@a.example"))
              .allowed());
  }
  SUBCASE("size limits: user's own, then the node's")
  {
    auto v = policy::check(f, node, term("sip:carol@a.example"),
                           message("sip:alice@a.example", "sip:carol@a.example", 11));
    CHECK(v.status == 413);
    CHECK(policy::check(f, node, orig("sip:alice@a.example"),
                        message("sip:alice@a.example", "sip:bob@b.example", 1001))
              .status == 413);
    CHECK(policy::check(f, node, orig("sip:alice@a.example"),
                        message("sip:alice@a.example", "sip:bob@b.example", 1000))
              .allowed());
  }
  SUBCASE("unknown served user gets the node defaults")
  {
    CHECK(policy::check(f, node, orig("sip:nobody@a.example"),
                        message("sip:nobody@a.example", "sip:bob@b.example"))
              .allowed());
    CHECK(policy::check(f, node, orig("sip:nobody@a.example"),
                        message("sip:nobody@a.example", "sip:bob@b.example", 5000))
              .status == 413);
  }
}

TEST_CASE("policy::warning quotes the rule")
{
  CHECK(policy::warning("csA", "sip:alice@a.example may not use audio (media = [\"message\"])") ==
        "Warning: 399 csA \"sip:alice@a.example may not use audio (media = [\\\"message\\\"])\"");
  CHECK(policy::warning("", "a\\b\r\nc") == "Warning: 399 - \"a\\\\bc\"");
}

TEST_CASE("policy::route_params round trip: whose side an in-dialog request is on")
{
  policy::ServedUser alice{"sip:alice@a.example", config::SessionCase::Originating};
  auto p = policy::route_params(alice);
  CHECK(p == ";cpm-served=sip:alice%40a.example;cpm-case=orig");
  policy::ServedUser back;
  REQUIRE(policy::served_from_route(";lr" + p, back));
  CHECK(back.aor == "sip:alice@a.example");
  CHECK(back.session_case == config::SessionCase::Originating);

  policy::ServedUser odd{"sip:b;ob@b.example", config::SessionCase::Terminating};
  CHECK(policy::route_params(odd) == ";cpm-served=sip:b%3Bob%40b.example;cpm-case=term");
  policy::ServedUser bob{"sip:bob@b.example", config::SessionCase::Terminating};
  REQUIRE(policy::served_from_route(policy::route_params(bob) + ";lr", back));
  CHECK(back.aor == "sip:bob@b.example");
  CHECK(back.session_case == config::SessionCase::Terminating);

  policy::ServedUser none;
  CHECK_FALSE(policy::served_from_route(";lr", none));
  CHECK_FALSE(policy::served_from_route(";lr;cpm-served=sip:a%40b.example", none));
  CHECK_FALSE(policy::served_from_route(";cpm-served=sip:a%40b.example;cpm-case=both", none));
  CHECK_FALSE(policy::served_from_route(";cpm-served=;cpm-case=orig", none));
  CHECK_FALSE(policy::served_from_route(";cpm-served=nonsense;cpm-case=orig", none));
  CHECK(none.aor.empty());
}

TEST_CASE("policy::route_params signed: another served user, case or dialog does not verify")
{
  policy::ServedUser alice{"sip:alice@a.example", config::SessionCase::Originating};
  auto p = ";lr" + policy::route_params(alice, "key", "call-1");
  CHECK(p.find(";cpm-sig=") != std::string::npos);
  policy::ServedUser back;
  REQUIRE(policy::served_from_route(p, back));
  CHECK(policy::route_params_signed(p, back, "key", "call-1"));
  CHECK_FALSE(policy::route_params_signed(p, back, "other key", "call-1"));
  CHECK_FALSE(policy::route_params_signed(p, back, "key", "call-2"));
  // A client that writes another user (or the other case) into its Route set.
  auto forged = p;
  forged.replace(forged.find("alice"), 5, "carol");
  REQUIRE(policy::served_from_route(forged, back));
  CHECK_FALSE(policy::route_params_signed(forged, back, "key", "call-1"));
  auto other_case = p;
  other_case.replace(other_case.find("cpm-case=orig"), 13, "cpm-case=term");
  REQUIRE(policy::served_from_route(other_case, back));
  CHECK_FALSE(policy::route_params_signed(other_case, back, "key", "call-1"));
  // Unsigned parameters do not verify with a key.
  auto bare = ";lr" + policy::route_params(alice);
  REQUIRE(policy::served_from_route(bare, back));
  CHECK_FALSE(policy::route_params_signed(bare, back, "key", "call-1"));
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("policy");

TEST_CASE("policy::participate takes the served user from P-Served-User or derives it")
{
  auto f = make_file();
  const auto& node = f.nodes.front();
  SUBCASE("header, terminating side")
  {
    auto r = message("sip:bob@b.example", "sip:alice@a.example");
    r.headers.push_back({"P-Served-User", "<sip:alice@a.example>;sescase=term"});
    auto p = policy::participate(f, node, r);
    CHECK(p.served_from_header);
    CHECK(p.served.aor == "sip:alice@a.example");
    CHECK(p.served.session_case == config::SessionCase::Terminating);
    CHECK(p.verdict.allowed());
    CHECK(p.remove_headers == std::vector<std::string>{"P-Served-User"});
  }
  SUBCASE("derived: our sender is originating")
  {
    auto p = policy::participate(f, node, message("sip:mallory@a.example", "sip:bob@b.example"));
    CHECK_FALSE(p.served_from_header);
    CHECK(p.served.session_case == config::SessionCase::Originating);
    CHECK(p.verdict.status == 403);
    CHECK(p.add_headers.empty());
  }
  SUBCASE("derived: a foreign sender is terminating for the request URI")
  {
    auto p = policy::participate(f, node, message("sip:x@spam.example", "sip:alice@a.example"));
    CHECK(p.served.aor == "sip:alice@a.example");
    CHECK(p.served.session_case == config::SessionCase::Terminating);
    CHECK(p.verdict.status == 403);
  }
  SUBCASE("malformed P-Served-User is a 400")
  {
    auto r = message("sip:bob@b.example", "sip:alice@a.example");
    r.headers.push_back({"P-Served-User", "<sip:alice@a.example"});
    CHECK(policy::participate(f, node, r).verdict.status == 400);
  }
}

TEST_CASE("policy::participate adds the CPM enabler usage indication once")
{
  auto f = make_file();
  const auto& node = f.nodes.front();
  auto plain = policy::participate(f, node, message("sip:alice@a.example", "sip:bob@b.example"));
  REQUIRE(plain.add_headers.size() == 2);
  CHECK(plain.add_headers[0].rfind("Accept-Contact: ", 0) == 0);
  CHECK(plain.add_headers[0].find("urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg") !=
        std::string::npos);
  CHECK(plain.add_headers[1] == "P-Preferred-Service: urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg");

  auto invite = message("sip:alice@a.example", "sip:bob@b.example");
  invite.method = "INVITE";
  auto inv = policy::participate(f, node, invite);
  REQUIRE(inv.add_headers.size() == 2);
  CHECK(inv.add_headers[1].find("oma.cpm.session") != std::string::npos);

  auto tagged = message("sip:alice@a.example", "sip:bob@b.example");
  tagged.headers.push_back(
      {"Accept-Contact", "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\""});
  CHECK(policy::participate(f, node, tagged).add_headers.empty());
}

TEST_CASE("session media: the user's list, else the node's, empty allows all")
{
  config::File f;
  config::User u;
  u.uri = "sip:alice@a.example";
  u.policy.media = {"message"};
  f.users.push_back(u);
  config::Node n;
  n.name = "csA";
  policy::ServedUser alice{"sip:alice@a.example", config::SessionCase::Originating};
  policy::ServedUser bob{"sip:bob@a.example", config::SessionCase::Terminating};
  CHECK(policy::check_media(f, n, alice, {"message"}).allowed());
  auto v = policy::check_media(f, n, alice, {"message", "audio"});
  CHECK(v.status == 488);
  CHECK(v.why == "sip:alice@a.example may not use audio (media = [\"message\"])");
  CHECK(policy::check_media(f, n, bob, {"audio"}).allowed());
  n.media = {"message", "audio"};
  CHECK(policy::check_media(f, n, bob, {"audio"}).allowed());
  CHECK(policy::check_media(f, n, bob, {"video"}).status == 488);
}

TEST_SUITE_END();
