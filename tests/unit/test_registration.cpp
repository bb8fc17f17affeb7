#include <doctest/doctest.h>

#include "cpm/config/cli.hpp"
#include "cpm/ua/program.hpp"
#include "cpm/ua/registration.hpp"

using namespace cpm::ua;

TEST_SUITE_BEGIN("ua");

TEST_CASE("ua::registrar_of and user_of read an address of record")
{
  CHECK(registrar_of("sip:alice@a.example") == "sip:a.example");
  CHECK(registrar_of("sip:alice@a.example;transport=tcp") == "sip:a.example");
  CHECK(registrar_of("<sip:alice@a.example>") == "sip:a.example");
  CHECK(registrar_of("sip:a.example") == "sip:a.example");
  CHECK(user_of("sip:alice@a.example", "x") == "alice");
  CHECK(user_of("sip:a.example", "cpm-send") == "cpm-send");
  CHECK(registrar_of("sip:alice@[::1]:5070") == "sip:[::1]:5070");
  SUBCASE("malformed")
  {
    CHECK(registrar_of("alice@a.example") == "");
    CHECK(registrar_of("sip:alice@") == "");
    CHECK(user_of("not a uri", "x") == "x");
  }
}

TEST_CASE("ua::check_addresses: what every client checks of its addresses")
{
  cpm::cli::Common c;
  CHECK(check_addresses(c, false, false, "sip:bob@127.0.0.1:5060"));
  CHECK(check_addresses(c, false, false, "sip:bob@b.example"));        // a name: RFC 3263
  CHECK_FALSE(check_addresses(c, false, false, "sip:bob@-b.example")); // not a host name
  CHECK_FALSE(check_addresses(c, false, false, "tel:+123"));
  CHECK(check_addresses(c, false, true, ""));                        // waiting needs no TO
  CHECK_FALSE(check_addresses(c, true, false, "sip:bob@127.0.0.1")); // --register, no --proxy
  c.proxy = "udp:127.0.0.1:5060";
  CHECK(check_addresses(c, false, false, "sip:bob@b.example"));
  CHECK(check_addresses(c, false, false, "tel:+15550100")); // the proxy routes a number
  CHECK_FALSE(check_addresses(c, false, false, "mailto:bob@b.example"));
  CHECK_FALSE(check_addresses(c, true, false, "sip:bob@b.example")); // no --from
  CHECK_FALSE(check_addresses(c, false, true, ""));                  // waiting registers
  c.from = "sip:alice@a.example";
  CHECK(check_addresses(c, true, true, ""));
  c.from = "alice@a.example";
  CHECK_FALSE(check_addresses(c, true, true, ""));
  c.from = "sip:alice@a.example";
  c.proxy = "udp:core.example:5060";
  CHECK(check_addresses(c, false, false, "sip:bob@b.example"));
  c.proxy = "udp:core..example:5060";
  CHECK_FALSE(check_addresses(c, false, false, "sip:bob@b.example"));
}

TEST_SUITE_END();
