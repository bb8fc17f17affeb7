#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cpm/grammar/address.hpp"

using namespace cpm::sip;

TEST_SUITE_BEGIN("address");

TEST_CASE("sip::parse_proxy accepts udp, tcp and sip forms")
{
  auto u = parse_proxy("udp:127.0.1.1:5060");
  REQUIRE(u);
  CHECK(u->transport == "udp");
  CHECK(u->host == "127.0.1.1");
  CHECK(u->port == 5060);
  CHECK(u->uri() == "sip:127.0.1.1:5060");
  auto t = parse_proxy("tcp:[::1]:5070");
  REQUIRE(t);
  CHECK(t->host == "::1");
  CHECK(t->uri() == "sip:[::1]:5070;transport=tcp");
  auto s = parse_proxy("sip:127.0.0.2:5062;transport=TCP");
  REQUIRE(s);
  CHECK(s->transport == "tcp");
  CHECK(s->port == 5062);
  auto d = parse_proxy("sip:127.0.0.2");
  REQUIRE(d);
  CHECK(d->port == 5060);
  SUBCASE("malformed")
  {
    CHECK_FALSE(parse_proxy(""));
    CHECK_FALSE(parse_proxy("127.0.0.1:5060"));
    CHECK_FALSE(parse_proxy("udp:core_1.example:5060"));
    CHECK_FALSE(parse_proxy("udp:-core.example:5060"));
    CHECK_FALSE(parse_proxy("udp:127.0.0.1:"));
    CHECK_FALSE(parse_proxy("udp:127.0.0.1:99999"));
    CHECK_FALSE(parse_proxy("udp:127.0.0.1:0"));
    CHECK_FALSE(parse_proxy("tcp:[::1"));
    CHECK_FALSE(parse_proxy("tls:127.0.0.1:0"));
    CHECK_FALSE(parse_proxy("sipx:127.0.0.1"));
  }
}

TEST_CASE("sip::parse_proxy takes TLS as tls:, sips: and transport=tls, port 5061 by default")
{
  auto a = parse_proxy("tls:127.0.0.1");
  REQUIRE(a);
  CHECK(a->transport == "tls");
  CHECK(a->port == 5061);
  CHECK(a->uri() == "sip:127.0.0.1:5061;transport=tls");
  auto b = parse_proxy("sips:127.0.0.1");
  REQUIRE(b);
  CHECK(b->transport == "tls");
  CHECK(b->uri() == "sip:127.0.0.1:5061;transport=tls");
  auto c = parse_proxy("sip:127.0.0.1;transport=tls");
  REQUIRE(c);
  CHECK(c->uri() == "sip:127.0.0.1:5061;transport=tls");
  auto d = parse_proxy("sips:core.a.example;transport=tcp"); // sips: is TLS whatever it says
  REQUIRE(d);
  CHECK(d->uri() == "sip:core.a.example;transport=tls");
  auto e = parse_proxy("tls:127.0.0.1:5071");
  REQUIRE(e);
  CHECK(e->over_tcp().uri() == "sip:127.0.0.1:5071;transport=tls");
  auto l = parse_listen("tls:127.0.0.1:0");
  REQUIRE(l);
  CHECK(format_listen(*l) == "tls:127.0.0.1:0");
}

TEST_CASE("sip::hop_of_uri takes the host of TO")
{
  auto h = hop_of_uri("sip:bob@127.0.2.10:5062");
  REQUIRE(h);
  CHECK(h->host == "127.0.2.10");
  CHECK(h->port == 5062);
  CHECK(h->over_tcp().uri() == "sip:127.0.2.10:5062;transport=tcp");
  CHECK_FALSE(h->is_name());
  CHECK_FALSE(hop_of_uri("tel:+123"));
}

TEST_CASE("sip::hop_of_uri keeps a domain name for RFC 3263")
{
  SUBCASE("no port, no transport: NAPTR first")
  {
    auto h = hop_of_uri("sip:bob@B.Example");
    REQUIRE(h);
    CHECK(h->is_name());
    CHECK(h->host == "b.example");
    CHECK_FALSE(h->port_named);
    CHECK(h->uri() == "sip:b.example");
    // Moved to TCP by its size: the name's _sip._tcp SRV records.
    CHECK(h->over_tcp().uri() == "sip:b.example;transport=tcp");
  }
  SUBCASE("a transport: its SRV records")
  {
    CHECK(hop_of_uri("sip:bob@b.example;transport=tcp")->uri() == "sip:b.example;transport=tcp");
    CHECK(hop_of_uri("sip:bob@b.example;transport=udp")->uri() == "sip:b.example;transport=udp");
    CHECK(parse_proxy("udp:core.a.example")->uri() == "sip:core.a.example;transport=udp");
    CHECK(parse_proxy("tcp:core.a.example")->uri() == "sip:core.a.example;transport=tcp");
  }
  SUBCASE("a port: A/AAAA only")
  {
    auto h = hop_of_uri("sip:bob@b.example:5070");
    REQUIRE(h);
    CHECK(h->port == 5070);
    CHECK(h->port_named);
    CHECK(h->uri() == "sip:b.example:5070");
    CHECK(parse_proxy("tcp:core.a.example:5080")->uri() == "sip:core.a.example:5080;transport=tcp");
  }
  SUBCASE("an IP literal is written as before")
  {
    CHECK(parse_proxy("udp:127.0.0.1:5060")->uri() == "sip:127.0.0.1:5060");
    CHECK(hop_of_uri("sip:127.0.0.1")->uri() == "sip:127.0.0.1:5060");
  }
}

TEST_CASE("sip::is_host_name follows RFC 3261 hostname")
{
  for (const char* ok :
       {"b.example", "B.Example", "core-1.a.example", "localhost", "a.example.", "x1.y2.example"})
    CHECK_MESSAGE(is_host_name(ok), ok);
  std::string long_label(64, 'a');
  std::string long_name;
  for (int i = 0; i < 64; ++i)
    long_name += "abc.";
  long_name += "example";
  for (std::string bad :
       {std::string(""), std::string("."), std::string("a..example"), std::string("-a.example"),
        std::string("a-.example"), std::string("a_b.example"), std::string("1.2.3"),
        std::string("a.example.."), std::string("a b.example"), std::string("b.123"),
        long_label + ".example", long_name})
    CHECK_FALSE_MESSAGE(is_host_name(bad), bad);
}

TEST_CASE("sip::parse_dns_server takes an IP and a port")
{
  auto a = parse_dns_server("127.0.0.53");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.53");
  CHECK(a->port == 53);
  auto b = parse_dns_server("127.0.4.53:5353");
  REQUIRE(b);
  CHECK(b->port == 5353);
  auto c = parse_dns_server("[::1]:5300");
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(c->port == 5300);
  CHECK(parse_dns_server("::1")->host == "::1");
  SUBCASE("malformed")
  {
    CHECK_FALSE(parse_dns_server(""));
    CHECK_FALSE(parse_dns_server("ns.example:53"));
    CHECK_FALSE(parse_dns_server("127.0.0.1:0"));
    CHECK_FALSE(parse_dns_server("127.0.0.1:70000"));
    CHECK_FALSE(parse_dns_server("udp:127.0.0.1:53"));
    CHECK_FALSE(parse_dns_server("[::1"));
  }
}

TEST_CASE("sip::default_listen follows the peer")
{
  CHECK(default_listen("127.0.1.1") ==
        std::vector<std::string>{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"});
  CHECK(default_listen("192.0.2.1").front() == "udp:0.0.0.0:0");
  CHECK(default_listen("::1").front() == "udp:[::1]:0");
  CHECK(is_loopback("127.9.9.9"));
  CHECK_FALSE(is_loopback("128.0.0.1"));
}

TEST_CASE("sip::parse_listen accepts udp and tcp addresses")
{
  auto l = parse_listen("udp:127.0.0.1:5060");
  REQUIRE(l);
  CHECK(l->transport == "udp");
  CHECK(l->host == "127.0.0.1");
  CHECK(l->port == 5060);
  auto v6 = parse_listen("tcp:[::1]:0");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(format_listen(*v6) == "tcp:[::1]:0");
  SUBCASE("malformed")
  {
    CHECK_FALSE(parse_listen("127.0.0.1:5060"));
    CHECK_FALSE(parse_listen("sctp:127.0.0.1:5060"));
    CHECK_FALSE(parse_listen("udp:127.0.0.1"));
    CHECK_FALSE(parse_listen("udp:127.0.0.1:99999"));
    CHECK_FALSE(parse_listen("udp:example.com:5060"));
    CHECK_FALSE(parse_listen("udp:[::1:5060"));
  }
}

TEST_CASE("sip::hop_of converts a parsed sip: URI")
{
  auto u = parse_uri("<sip:alice@[::1]:5070;transport=tcp>");
  REQUIRE(u);
  auto h = hop_of(*u);
  REQUIRE(h);
  CHECK(h->host == "::1");
  CHECK(h->port == 5070);
  CHECK(h->transport == "tcp");
  CHECK(h->uri() == "sip:[::1]:5070;transport=tcp");
  SUBCASE("a named udp stays named (never moved to TCP by size)")
  {
    auto v = hop_of_uri("sip:bob@127.0.0.1:5062;Transport=UDP");
    REQUIRE(v);
    CHECK(v->transport == "udp");
    CHECK(v->transport_named);
    CHECK(v->uri() == "sip:127.0.0.1:5062;transport=udp");
    CHECK_FALSE(hop_of_uri("sip:127.0.0.1:5062")->transport_named);
    CHECK_FALSE(parse_proxy("udp:127.0.0.1:5062")->transport_named);
  }
  SUBCASE("malformed")
  {
    CHECK_FALSE(hop_of(*parse_uri("tel:+15550101")));
    CHECK_FALSE(hop_of(*parse_uri("sip:bob@b_c.example")));
    CHECK_FALSE(hop_of(*parse_uri("sip:127.0.0.1:0")));
    CHECK_FALSE(hop_of(*parse_uri("sip:127.0.0.1:70000")));
    CHECK_FALSE(hop_of_uri("sip:127.0.0.1:5060 junk"));
    CHECK_FALSE(hop_of_uri(""));
  }
}

TEST_CASE("sip::address_of reads every address form and keeps host names")
{
  auto l = address_of("udp:127.0.0.1:5070");
  REQUIRE(l);
  CHECK(l->transport == "udp");
  CHECK(l->host == "127.0.0.1");
  CHECK(l->port == 5070);
  auto t = address_of("tcp:[::1]:5061");
  REQUIRE(t);
  CHECK(t->transport == "tcp");
  CHECK(t->host == "::1");
  auto u = address_of("<sip:Core.B.Example;lr>");
  REQUIRE(u);
  CHECK(u->host == "core.b.example");
  CHECK(u->port == 5060);
  auto bare = address_of("127.0.2.1:5060");
  REQUIRE(bare);
  CHECK(same_host_port(*bare, *address_of("sip:127.0.2.1;transport=tcp")));
  CHECK_FALSE(same_host_port(*bare, *address_of("udp:127.0.2.1:5061")));
  SUBCASE("malformed")
  {
    CHECK_FALSE(address_of(""));
    CHECK_FALSE(address_of("tel:+1555"));
    CHECK_FALSE(address_of("udp:127.0.0.1:99999"));
    CHECK_FALSE(address_of("udp:[::1"));
    CHECK_FALSE(address_of("udp:a b:5060"));
  }
}

TEST_CASE("sip::format_listen writes what parse_listen reads")
{
  for (const char* s : {"udp:127.0.0.1:5060", "tcp:[::1]:0", "tcp:0.0.0.0:65535"}) {
    auto l = parse_listen(s);
    REQUIRE(l);
    CHECK(format_listen(*l) == s);
  }
  CHECK(format_listen(Hop{"tcp", "::1", 0}) == "tcp:[::1]:0");
}

TEST_SUITE_END();
