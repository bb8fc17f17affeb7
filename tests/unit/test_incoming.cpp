#include <doctest/doctest.h>

#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/ua/incoming.hpp"

using namespace cpm::ua;

TEST_SUITE_BEGIN("ua");

TEST_CASE("ua::interpret classifies bodies")
{
  cpm::cpim::Outgoing o;
  o.from = "sip:alice@a.example";
  o.to = "sip:bob@b.example";
  o.message_id = "abcdEFGH1234";
  o.notification = "positive-delivery";
  o.body = "hi";
  auto in = interpret("message/cpim", cpm::cpim::encode(cpm::cpim::make(o)), "sip:x@y", "sip:z@w");
  REQUIRE(in);
  CHECK_FALSE(in->notification);
  CHECK(in->from == "sip:alice@a.example");
  CHECK(in->message_id == "abcdEFGH1234");
  CHECK(in->requested == "positive-delivery");
  CHECK(in->text == "hi");

  SUBCASE("a notification")
  {
    cpm::imdn::Notification n;
    n.message_id = "abcdEFGH1234";
    n.datetime = "t";
    o.content_type = "message/imdn+xml";
    o.notification.clear();
    o.body = cpm::imdn::encode(n);
    auto nin = interpret("message/CPIM", cpm::cpim::encode(cpm::cpim::make(o)), "", "");
    REQUIRE(nin);
    CHECK(nin->notification);
    CHECK(nin->kind == "delivery");
    CHECK(nin->status == "delivered");
  }
  SUBCASE("text/plain")
  {
    auto p = interpret("text/plain; charset=utf-8", "plain", "sip:x@y", "sip:z@w");
    REQUIRE(p);
    CHECK(p->from == "sip:x@y");
    CHECK(p->text == "plain");
  }
  SUBCASE("malformed")
  {
    auto bad = interpret("message/cpim", "From: <sip:a@b>\r\n", "", "");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == 400);
    auto type = interpret("application/octet-stream", "x", "", "");
    REQUIRE_FALSE(type);
    CHECK(type.error().code == 415);
    o.content_type = "message/imdn+xml";
    o.body = "<imdn/>";
    auto imdn = interpret("message/cpim", cpm::cpim::encode(cpm::cpim::make(o)), "", "");
    REQUIRE_FALSE(imdn);
    CHECK(imdn.error().code == 400);
    o.content_type = "text/plain";
    o.notification = "sometimes";
    auto disp = interpret("message/cpim", cpm::cpim::encode(cpm::cpim::make(o)), "", "");
    REQUIRE_FALSE(disp);
    CHECK(disp.error().code == 400);
  }
}

TEST_SUITE_END();
