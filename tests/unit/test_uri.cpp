#include <doctest/doctest.h>

#include <string>

#include "cpm/grammar/uri.hpp"

using cpm::sip::canonical_aor;
using cpm::sip::parse_uri;

TEST_SUITE_BEGIN("uri");

TEST_CASE("sip::canonical_aor keeps scheme, user and lower-cased host")
{
  CHECK(canonical_aor("sip:Bob@B.Example:5060;transport=udp") == "sip:Bob@b.example");
  CHECK(canonical_aor("\"Bob B\" <sip:bob@b.example;transport=tcp>;tag=x") == "sip:bob@b.example");
  CHECK(canonical_aor("<sips:bob@B.EXAMPLE>") == "sips:bob@b.example");
  CHECK(canonical_aor("SIP:bob@b.example") == "sip:bob@b.example");
  CHECK(canonical_aor("sip:b.example") == "sip:b.example");
  CHECK(canonical_aor("sip:bob:secret@b.example") == "sip:bob@b.example");
  CHECK(canonical_aor("sip:bob@[2001:DB8::1]:5060") == "sip:bob@[2001:db8::1]");
  CHECK(canonical_aor("sip:bob@b.example?Subject=hi") == "sip:bob@b.example");
  CHECK(canonical_aor("tel:+15550100;phone-context=x") == "tel:+15550100");
  CHECK(canonical_aor("TEL:+15550100") == "tel:+15550100");
  CHECK(canonical_aor("\"a <odd> name\" <sip:x@y.example>") == "sip:x@y.example");
  SUBCASE("malformed URIs give an empty AOR")
  {
    CHECK(canonical_aor("") == "");
    CHECK(canonical_aor("bob@b.example") == "");
    CHECK(canonical_aor("sip:") == "");
    CHECK(canonical_aor("sip:bob@") == "");
    CHECK(canonical_aor("sip:bob@[::1") == "");
    CHECK(canonical_aor("sip:bob@b.example:port") == "");
    CHECK(canonical_aor("sip:bob@b.example:123456") == "");
    CHECK(canonical_aor("<sip:bob@b.example") == "sip:bob@b.example");
    CHECK(canonical_aor("tel:") == "");
    CHECK(canonical_aor(":x") == "");
    CHECK(canonical_aor("s p:bob@b.example") == "");
    // Found by fuzzing: controls in a host, delimiters in a user part.
    CHECK(canonical_aor("sip:bob@b.example\r;x") == "");
    CHECK(canonical_aor("sip:b\x01b@b.example") == "");
    CHECK(canonical_aor("\"Bob\" <tel:+155bob<t1") == "");
    CHECK(canonical_aor("sip:bob@b_example!") == "");
  }
}

TEST_CASE("sip::canonical_aor keeps a user part holding ';' and '?' (RFC 4475 intmeth)")
{
  CHECK(canonical_aor(
            "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
            "(doesn't-it)@Example.COM") ==
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
  CHECK(canonical_aor("sip:bob@b.example?Subject=hi") == "sip:bob@b.example");
  CHECK(canonical_aor("sip:b.example;transport=tcp?x=y") == "sip:b.example");
}

TEST_CASE("sip::parse_uri gives the parts of sip and tel URIs")
{
  auto p = parse_uri("<sip:bob@127.0.2.10:5555;transport=tcp>");
  REQUIRE(p);
  CHECK(p->scheme == "sip");
  CHECK(p->user == "bob");
  CHECK(p->host == "127.0.2.10");
  CHECK(p->port == "5555");
  CHECK(p->params == ";transport=tcp");
  CHECK(p->str() == "sip:bob@127.0.2.10:5555;transport=tcp");
  CHECK(p->aor() == "sip:bob@127.0.2.10");
  auto t = parse_uri("tel:+15550100;phone-context=a.example");
  REQUIRE(t);
  CHECK(t->user == "+15550100");
  CHECK(t->host == "");
  CHECK(t->str() == "tel:+15550100;phone-context=a.example");
  CHECK(t->aor() == "tel:+15550100");
  auto v6 = parse_uri("\"Bob\" <SIPS:Bob:pw@[2001:DB8::1]?Subject=x>;tag=1");
  REQUIRE(v6);
  CHECK(v6->scheme == "sips");
  CHECK(v6->user == "Bob");
  CHECK(v6->host == "[2001:db8::1]");
  CHECK(v6->port == "");
  CHECK(v6->str() == "sips:Bob@[2001:db8::1]");
  SUBCASE("malformed")
  {
    CHECK_FALSE(parse_uri("sip:bob@b.example garbage"));
    CHECK_FALSE(parse_uri(""));
    CHECK_FALSE(parse_uri("sip:"));
    CHECK_FALSE(parse_uri("sip:bob@b.example:"));
    CHECK_FALSE(parse_uri("sip:bob@b.example:12x"));
    CHECK_FALSE(parse_uri("sip:bob@[::1"));
    CHECK_FALSE(parse_uri("s!p:bob@b.example"));
    CHECK_FALSE(parse_uri("tel:;x"));
    CHECK(parse_uri("nope").error().message.find("not a sip:") != std::string::npos);
  }
}

TEST_CASE("sip::Uri::param finds URI parameters case-insensitively")
{
  auto u = parse_uri("sip:127.0.0.1:5060;LR;transport=TCP;maddr=\"x;y\"");
  REQUIRE(u);
  REQUIRE(u->param("lr"));
  CHECK(u->param("lr")->empty());
  CHECK(u->param("Transport") == "TCP");
  CHECK(u->param("maddr") == "\"x;y\"");
  CHECK_FALSE(u->param("ttl"));
  CHECK_FALSE(parse_uri("sip:h")->param("lr"));
}

TEST_CASE("sip::uri_host and uri_user handle sip, sips, tel and name-addrs")
{
  using cpm::sip::uri_host;
  using cpm::sip::uri_user;
  CHECK(uri_host("sip:bob@B.Example") == "b.example");
  CHECK(uri_user("sip:bob@B.Example") == "bob");
  CHECK(uri_host("\"Bob\" <sips:bob@b.example:5061;transport=tls>;tag=1") == "b.example");
  CHECK(uri_user("\"Bob\" <sips:bob@b.example:5061;transport=tls>;tag=1") == "bob");
  CHECK(uri_host("sip:[::1]:5060") == "[::1]");
  CHECK(uri_user("sip:[::1]:5060") == "");
  CHECK(uri_host("sip:127.0.1.1;lr") == "127.0.1.1");
  CHECK(uri_host("tel:+15550100") == "");
  CHECK(uri_user("tel:+15550100;phone-context=a.example") == "+15550100");
  SUBCASE("malformed")
  {
    CHECK(uri_host("") == "");
    CHECK(uri_host("bob@b.example") == "");
    CHECK(uri_user("sip:@") == "");
    CHECK(uri_host("sip:bob@[::1") == "");
    CHECK(uri_host("<>") == "");
  }
}

TEST_CASE("sip::to_sip_uri turns listen addresses into SIP URIs")
{
  using cpm::sip::to_sip_uri;
  CHECK(to_sip_uri("udp:127.0.0.1:5060") == "sip:127.0.0.1:5060");
  CHECK(to_sip_uri("tcp:127.0.0.1:5060") == "sip:127.0.0.1:5060;transport=tcp");
  CHECK(to_sip_uri("tls:127.0.0.1:5061") == "sip:127.0.0.1:5061;transport=tls");
  CHECK(to_sip_uri("udp:[::1]:5060") == "sip:[::1]:5060");
  CHECK(to_sip_uri("sip:127.0.0.1:5060;transport=tcp") == "sip:127.0.0.1:5060;transport=tcp");
  CHECK(to_sip_uri("sips:h.example") == "sips:h.example");
  CHECK(to_sip_uri("<sip:127.0.0.1:5060;lr>") == "sip:127.0.0.1:5060;lr");
  CHECK(to_sip_uri("127.0.0.1:5060") == "sip:127.0.0.1:5060");
  CHECK(to_sip_uri(" udp:127.0.0.1:5060 ") == "sip:127.0.0.1:5060");
}

TEST_CASE("sip::same_aor compares canonical AORs in place, as canonical_aor would")
{
  using cpm::sip::same_aor;
  CHECK(same_aor("sip:Bob@B.Example:5060;transport=udp", "<sip:Bob@b.example>;tag=x"));
  CHECK(same_aor("SIP:bob@b.example", "sip:bob@B.EXAMPLE"));
  CHECK(same_aor("tel:+15550100;phone-context=x", "TEL:+15550100"));
  CHECK(same_aor("sip:b.example", "sip:B.example:5070"));
  CHECK_FALSE(same_aor("sip:Bob@b.example", "sip:bob@b.example")); // the user as written
  CHECK_FALSE(same_aor("sips:bob@b.example", "sip:bob@b.example"));
  CHECK_FALSE(same_aor("sip:bob@b.example", "sip:bob@c.example"));
  CHECK_FALSE(same_aor("sip:b.example", "sip:bob@b.example"));
  CHECK_FALSE(same_aor("tel:+15550100", "sip:+15550100@b.example"));
  CHECK_FALSE(same_aor("bob@b.example", "bob@b.example")); // malformed: never the same
  CHECK_FALSE(same_aor("", ""));
}

TEST_CASE("sip::canonical_aor and to_sip_uri into a string overwrite what it held")
{
  std::string out = "sip:a-much-longer-address-of-record@somewhere.example";
  cpm::sip::canonical_aor("sip:Bob@B.Example:5060", out);
  CHECK(out == "sip:Bob@b.example");
  cpm::sip::canonical_aor("bob@b.example", out);
  CHECK(out.empty());
  cpm::sip::to_sip_uri("tcp:127.0.0.1:5060", out);
  CHECK(out == "sip:127.0.0.1:5060;transport=tcp");
  cpm::sip::to_sip_uri("udp:127.0.0.1:5060", out);
  CHECK(out == "sip:127.0.0.1:5060");
  cpm::sip::to_sip_uri("<sips:b.example>", out);
  CHECK(out == "sips:b.example");
}

TEST_CASE("sip::split_uri gives the parts as written")
{
  cpm::sip::UriParts p;
  REQUIRE(cpm::sip::split_uri("\"B\" <SIP:bob@B.Example:5070;lr>", p));
  CHECK(p.scheme == "SIP");
  CHECK(p.user == "bob");
  CHECK(p.host == "B.Example");
  CHECK(p.port == "5070");
  CHECK(p.params == ";lr");
  CHECK_FALSE(p.tel);
  REQUIRE(cpm::sip::split_uri("tel:+15550100", p));
  CHECK(p.tel);
  CHECK(p.user == "+15550100");
  CHECK_FALSE(cpm::sip::split_uri("sip:bob@", p));
}

TEST_SUITE_END();
