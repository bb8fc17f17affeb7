#include <doctest/doctest.h>

#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/ua/incoming.hpp"
#include "cpm/ua/notification.hpp"

using namespace cpm::ua;

TEST_SUITE_BEGIN("ua");

TEST_CASE("ua::Awaited counts distinct recipients")
{
  SUBCASE("one recipient, as before --recipients")
  {
    Awaited a(true, false, 1);
    CHECK_FALSE(a.complete());
    CHECK(a.missing() == "delivery");
    a.add("sip:bob@b.example", "delivery", true);
    CHECK(a.complete());
    CHECK_FALSE(a.negative());
  }
  SUBCASE("a group: the same recipient twice counts once")
  {
    Awaited a(true, false, 2);
    a.add("<sip:bob@b.example>", "delivery", true);
    a.add("Bob <sip:bob@b.example>", "delivery", true);
    CHECK_FALSE(a.complete());
    CHECK(a.count("delivery") == 1);
    a.add("sip:carol@b.example", "delivery", true);
    CHECK(a.complete());
    CHECK_FALSE(a.negative());
  }
  SUBCASE("a negative notification answers for its recipient")
  {
    Awaited a(true, true, 2);
    a.add("sip:carol@b.example", "delivery", false);
    CHECK(a.negative());
    CHECK_FALSE(a.complete());
    a.add("sip:bob@b.example", "delivery", true);
    CHECK(a.missing() == "display");
    a.add("sip:bob@b.example", "display", true);
    CHECK(a.complete());
    CHECK(a.negative());
  }
  SUBCASE("display is awaited per recipient too")
  {
    Awaited a(true, true, 1);
    a.add("sip:bob@b.example", "delivery", true);
    CHECK_FALSE(a.complete());
    a.add("sip:bob@b.example", "display", true);
    CHECK(a.complete());
  }
  SUBCASE("nothing requested: complete at once")
  {
    Awaited a(false, false, 3);
    CHECK(a.complete());
  }
}

TEST_CASE("ua::requested_kinds, positive and notification_body answer a message")
{
  Incoming in;
  in.from = "sip:alice@a.example";
  in.message_id = "abcdEFGH1234";
  in.datetime = "2024-01-02T03:04:05.000Z";
  in.requested = "positive-delivery, display";
  auto kinds = requested_kinds(in, false);
  REQUIRE(kinds.size() == 1);
  CHECK(kinds[0] == cpm::imdn::Kind::Delivery);
  CHECK(requested_kinds(in, true).size() == 2);
  in.requested = "sometimes";
  CHECK(requested_kinds(in, true).empty());
  in.requested.clear();
  CHECK(requested_kinds(in, true).empty());

  auto n = positive(in, "sip:bob@b.example", cpm::imdn::Kind::Display);
  CHECK(n.status == cpm::imdn::Status::Displayed);
  CHECK(n.message_id == "abcdEFGH1234");
  auto body = notification_body(n, in.from);
  auto back = interpret("message/cpim", body, "", "");
  REQUIRE(back);
  CHECK(back->notification);
  CHECK(back->from == "sip:bob@b.example");
  CHECK(back->to == "sip:alice@a.example");
  CHECK(back->message_id == "abcdEFGH1234");
  CHECK(back->kind == "display");
  CHECK(back->status == "displayed");
}

TEST_SUITE_END();
