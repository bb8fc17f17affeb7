#include <doctest/doctest.h>

#include <string>
#include <vector>
#include <zlib.h>

#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/ua/incoming.hpp"

using namespace cpm::ua;

TEST_SUITE_BEGIN("ua");

// A delivery notification as liblinphone 5.1 writes it (inflated).
const std::string linphone_imdn =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?>"
    "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\"><message-id>PucnJ5JUHkLNreF1</message-id>"
    "<datetime>2026-11-29T13:59:41Z</datetime><delivery-notification><status><delivered/>"
    "</status></delivery-notification></imdn>";

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
    // (a one-letter literal here trips a false -Wrestrict of GCC 12 at -O3, the release preset)
    n.datetime = "2026-11-29T12:00:00Z";
    o.content_type = "message/imdn+xml";
    o.notification.clear();
    o.body = cpm::imdn::encode(n);
    auto nin = interpret("message/CPIM", cpm::cpim::encode(cpm::cpim::make(o)), "", "");
    REQUIRE(nin);
    CHECK(nin->notification);
    CHECK(nin->kind == "delivery");
    CHECK(nin->status == "delivered");
    // Bare, without CPIM: read all the same, from the SIP From.
    auto bare = interpret("message/imdn+xml", o.body, "sip:bob@b.example", "sip:x@y");
    REQUIRE(bare);
    CHECK(bare->notification);
    CHECK(bare->from == "sip:bob@b.example");
    CHECK(bare->message_id == "abcdEFGH1234");
    CHECK(bare->status == "delivered");
    CHECK_FALSE(interpret("message/imdn+xml", "<imdn/>", "", ""));
  }
  SUBCASE("a bare notification (liblinphone without CPIM)")
  {
    auto bare =
        interpret("message/imdn+xml", linphone_imdn, "sip:bob@b.example", "sip:alice@a.example");
    REQUIRE(bare);
    CHECK(bare->notification);
    CHECK(bare->from == "sip:bob@b.example");
    CHECK(bare->to == "sip:alice@a.example");
    CHECK(bare->message_id == "PucnJ5JUHkLNreF1");
    CHECK(bare->kind == "delivery");
    CHECK(bare->status == "delivered");
    auto broken = interpret("message/imdn+xml", "<imdn/>", "sip:bob@b.example", "");
    REQUIRE_FALSE(broken);
    CHECK(broken.error().code == 400);
  }
  SUBCASE("liblinphone's CPIM notification (no NS, a Content-Disposition)")
  {
    std::string body = "From: <sip:bob@b.example>\r\nTo: <sip:alice@a.example>\r\n"
                       "DateTime: 2026-11-29T13:59:41Z\r\n\r\n"
                       "Content-Disposition: notification\r\n"
                       "Content-Type: message/imdn+xml\r\n"
                       "Content-Length: " +
                       std::to_string(linphone_imdn.size()) + "\r\n\r\n" + linphone_imdn;
    auto lin = interpret("message/cpim", body, "sip:bob@b.example", "sip:alice@a.example");
    REQUIRE(lin);
    CHECK(lin->notification);
    CHECK(lin->from == "sip:bob@b.example");
    CHECK(lin->message_id == "PucnJ5JUHkLNreF1");
    CHECK(lin->status == "delivered");
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
    CHECK(type.error().headers == std::vector<std::string>{"Accept: message/cpim, text/plain"});
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

TEST_CASE("ua::decode_body answers what it cannot inflate as RFC 3261 says")
{
  std::string text = "hello deflate";
  std::string z(compressBound(static_cast<uLong>(text.size())), '\0');
  uLongf zlen = static_cast<uLongf>(z.size());
  REQUIRE(compress(reinterpret_cast<Bytef*>(z.data()), &zlen,
                   reinterpret_cast<const Bytef*>(text.data()),
                   static_cast<uLong>(text.size())) == Z_OK);
  z.resize(zlen);
  CHECK(decode_body("deflate", z).value_or("") == text);
  CHECK(decode_body("", "as it is").value_or("") == "as it is");

  auto unknown = decode_body("br", "x");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == 415);
  CHECK(unknown.error().headers == std::vector<std::string>{"Accept-Encoding: gzip, deflate"});

  std::string zeros(2 << 20, '\0');
  std::string bomb(compressBound(static_cast<uLong>(zeros.size())), '\0');
  uLongf blen = static_cast<uLongf>(bomb.size());
  REQUIRE(compress(reinterpret_cast<Bytef*>(bomb.data()), &blen,
                   reinterpret_cast<const Bytef*>(zeros.data()),
                   static_cast<uLong>(zeros.size())) == Z_OK);
  bomb.resize(blen);
  auto big = decode_body("deflate", bomb);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == 413);
  CHECK(big.error().headers.empty());

  auto broken = decode_body("gzip", "not gzip");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().code == 400);
  CHECK(broken.error().reason == "Bad Content-Encoding");
}

TEST_CASE("ua::Seen shows a message once per sender and Message-ID, remembering the last N")
{
  cpm::ua::Seen seen(2);
  auto msg = [](std::string from, std::string id) {
    cpm::ua::Incoming in;
    in.from = std::move(from);
    in.message_id = std::move(id);
    return in;
  };
  CHECK(seen.first(msg("sip:alice@a.example", "m1")));
  CHECK_FALSE(seen.first(msg("sip:alice@a.example", "m1"))); // the same message again
  CHECK(seen.first(msg("sip:dave@a.example", "m1")));        // another sender's ID
  CHECK(seen.first(msg("sip:alice@a.example", "")));         // no ID: always new
  CHECK(seen.first(msg("sip:alice@a.example", "")));
  CHECK(seen.first(msg("sip:alice@a.example", "m2"))); // pushes m1 of alice out
  CHECK(seen.first(msg("sip:alice@a.example", "m1")));
  CHECK_FALSE(seen.first(msg("sip:alice@a.example", "m2")));
}

TEST_SUITE_END();
