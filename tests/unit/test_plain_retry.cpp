// ua::plain_retry: does a 415 allow a text/plain resend (RFC 3261 §8.1.3.5), and the
// text/plain form of a CPIM message.
#include <doctest/doctest.h>

#include "cpm/codec/cpim.hpp"
#include "cpm/ua/plain_retry.hpp"

namespace ua = cpm::ua;

TEST_SUITE_BEGIN("ua");

TEST_CASE("ua::accepts_plain reads an Accept value")
{
  SUBCASE("text/plain, text/* and */* take it")
  {
    CHECK(ua::accepts_plain("text/plain"));
    CHECK(ua::accepts_plain("TEXT/Plain"));
    CHECK(ua::accepts_plain("text/plain;charset=utf-8"));
    CHECK(ua::accepts_plain("application/im-iscomposing+xml, text/plain"));
    CHECK(ua::accepts_plain("text/*"));
    CHECK(ua::accepts_plain("*/*"));
    CHECK(ua::accepts_plain(" message/cpim ,text/plain ; q=0.5"));
  }
  SUBCASE("other types, nothing, or garbage do not")
  {
    CHECK_FALSE(ua::accepts_plain(""));
    CHECK_FALSE(ua::accepts_plain("message/cpim"));
    CHECK_FALSE(ua::accepts_plain("text/html, application/sdp"));
    CHECK_FALSE(ua::accepts_plain("text/plainer"));
    CHECK_FALSE(ua::accepts_plain("text"));
    CHECK_FALSE(ua::accepts_plain(",,;"));
    CHECK_FALSE(ua::accepts_plain("\"text/plain\""));
  }
  SUBCASE("q=0 refuses, and the most specific range decides")
  {
    CHECK_FALSE(ua::accepts_plain("text/plain;q=0"));
    CHECK_FALSE(ua::accepts_plain("text/plain;q=0.000"));
    CHECK(ua::accepts_plain("text/plain;q=0.001"));
    CHECK_FALSE(ua::accepts_plain("*/*, text/plain;q=0"));
    CHECK_FALSE(ua::accepts_plain("text/*;q=0, */*"));
    CHECK(ua::accepts_plain("text/*;q=0, text/plain"));
    CHECK(ua::accepts_plain("*/*;q=0, text/*;q=0.2"));
  }
}

TEST_CASE("ua::plain_retry_allowed only for a 415 that takes text/plain")
{
  CHECK(ua::plain_retry_allowed(415, "text/plain"));
  CHECK_FALSE(ua::plain_retry_allowed(415, "message/cpim"));
  CHECK_FALSE(ua::plain_retry_allowed(415, ""));
  CHECK_FALSE(ua::plain_retry_allowed(488, "text/plain"));
  CHECK_FALSE(ua::plain_retry_allowed(200, "text/plain"));
}

TEST_CASE("ua::plain_of_cpim takes the text of a CPIM message")
{
  cpm::cpim::Outgoing o;
  o.from = "sip:alice@a.example";
  o.to = "sip:bob@b.example";
  o.message_id = "m1";
  o.notification = "positive-delivery";
  o.body = "hello\r\nworld";
  SUBCASE("text/plain with its charset")
  {
    auto p = ua::plain_of_cpim(cpm::cpim::encode(cpm::cpim::make(o)));
    REQUIRE(p);
    CHECK(p->content_type == "text/plain;charset=utf-8");
    CHECK(p->text == "hello\r\nworld");
  }
  SUBCASE("not text/plain")
  {
    o.content_type = "text/html";
    CHECK_FALSE(ua::plain_of_cpim(cpm::cpim::encode(cpm::cpim::make(o))));
  }
  SUBCASE("malformed CPIM")
  {
    CHECK_FALSE(ua::plain_of_cpim("From: <sip:a@x>\r\nno blank line"));
    CHECK_FALSE(ua::plain_of_cpim(""));
  }
}

TEST_SUITE_END();
