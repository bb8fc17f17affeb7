#include <doctest/doctest.h>

#include <string>

#include "cpm/grammar/request.hpp"

using cpm::sip::Request;

namespace {

const std::string k_accept_cpm =
    "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\"";

} // namespace

TEST_SUITE_BEGIN("request");

TEST_CASE("sip::Request::values matches names case-insensitively and splits lists")
{
  Request r;
  r.headers = {{"accept-contact", "*;+g.a=\"x,y\";require, *;+g.b"},
               {"Accept-Contact", k_accept_cpm},
               {"a", "*;+g.c"},
               {"P-Preferred-Service", "urn:a, urn:b"},
               {"Subject", "hello, world"},
               {"X-Empty", ""}};
  auto ac = r.values("ACCEPT-CONTACT");
  REQUIRE(ac.size() == 4);
  CHECK(ac[0] == "*;+g.a=\"x,y\";require");
  CHECK(ac[1] == "*;+g.b");
  CHECK(ac[2] == k_accept_cpm);
  CHECK(ac[3] == "*;+g.c");
  auto pps = r.values("p-preferred-service");
  REQUIRE(pps.size() == 2);
  CHECK(pps[1] == "urn:b");
  // Headers that are not lists keep their commas.
  REQUIRE(r.values("subject").size() == 1);
  CHECK(r.values("subject")[0] == "hello, world");
  CHECK(r.values("X-Empty").size() == 1);
  CHECK(r.values("Nope").empty());
  SUBCASE("malformed list values do not crash")
  {
    Request m;
    m.headers = {{"Accept-Contact", "\"unterminated, *;+g.x"}, {"Accept-Contact", ",,<a,b"}};
    auto v = m.values("Accept-Contact");
    REQUIRE(v.size() == 2);
    CHECK(v[0] == "\"unterminated, *;+g.x");
    CHECK(v[1] == "<a,b");
  }
}

TEST_CASE("sip::Request::value gives the first value, not split")
{
  Request r;
  r.headers = {{"i", " abc@h "}, {"Call-ID", "second"}, {"Route", "<sip:a;lr>, <sip:b;lr>"}};
  CHECK(r.value("call-id") == "abc@h");
  CHECK(r.value("i") == "abc@h");
  CHECK(r.value("Route") == "<sip:a;lr>, <sip:b;lr>");
  CHECK(r.value("CSeq").empty());
  CHECK(Request{}.value("To").empty());
}

TEST_SUITE_END();
