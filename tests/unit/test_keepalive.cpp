#include <doctest/doctest.h>

#include "cpm/core/route.hpp"

using cpm::route::addresses_node;

TEST_CASE("route::addresses_node: an OPTIONS ping to the core, not to one of its users")
{
  cpm::config::Node n;
  n.name = "coreB";
  n.domains = {"b.example"};
  const char* self = "sip:127.0.2.1:5060";
  CHECK(addresses_node("sip:b.example", n, self));
  CHECK(addresses_node("sip:B.Example;transport=udp", n, self));
  CHECK(addresses_node("sip:127.0.2.1:5060", n, self));
  CHECK(addresses_node("sip:127.0.2.1:5060;transport=tcp", n, self));
  CHECK_FALSE(addresses_node("sip:bob@b.example", n, self)); // a user: routed
  CHECK_FALSE(addresses_node("sip:bob@127.0.2.1:5060", n, self));
  CHECK_FALSE(addresses_node("sip:a.example", n, self));      // another domain
  CHECK_FALSE(addresses_node("sip:127.0.2.1:5070", n, self)); // another port
  CHECK_FALSE(addresses_node("sip:127.0.2.9:5060", n, self)); // another host
  CHECK_FALSE(addresses_node("tel:+15550101", n, self));
  CHECK_FALSE(addresses_node("not a uri", n, self));
}
