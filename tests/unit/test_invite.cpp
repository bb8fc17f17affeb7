#include <doctest/doctest.h>

#include "cpm-invite/invite.hpp"

namespace inv = cpm::invite;

TEST_SUITE_BEGIN("invite");

TEST_CASE("invite::wrap and unwrap round trip a chat line in CPIM")
{
  inv::Chat c;
  c.from = "sip:alice@a.example";
  c.to = "sip:bob@b.example";
  c.message_id = "abc123XYZ";
  c.text = "hello bob";
  auto body = inv::wrap(c);
  CHECK(body.find("From: <sip:alice@a.example>\r\n") != std::string::npos);
  CHECK(body.find("imdn.Message-ID: abc123XYZ\r\n") != std::string::npos);
  CHECK(body.find("Content-Type: text/plain") != std::string::npos);
  auto back = inv::unwrap("message/cpim", body);
  REQUIRE(back);
  CHECK(back->from == c.from);
  CHECK(back->to == c.to);
  CHECK(back->message_id == c.message_id);
  CHECK(back->text == "hello bob");
  CHECK_FALSE(back->datetime.empty());
  CHECK(inv::chat_line(*back) == "sip:alice@a.example: hello bob\n");
  auto e = inv::chat_event(*back);
  CHECK(e["event"] == "message");
  CHECK(e["from"] == "sip:alice@a.example");
  CHECK(e["text"] == "hello bob");
  CHECK(e["message_id"] == "abc123XYZ");

  inv::Chat fresh;
  fresh.from = "sip:alice@a.example";
  fresh.to = "sip:bob@b.example";
  fresh.text = "x";
  auto f = inv::unwrap("Message/CPIM; x=y", inv::wrap(fresh));
  REQUIRE(f);
  CHECK(f->message_id.size() >= 8); // a fresh id when none was given
  // CPIM needs a From: a chat without one does not come back.
  inv::Chat anonymous;
  anonymous.text = "x";
  CHECK_FALSE(inv::unwrap("message/cpim", inv::wrap(anonymous)));
}

TEST_CASE("invite::unwrap refuses what it cannot print")
{
  CHECK(inv::unwrap("text/plain", "raw")->text == "raw");
  auto html = inv::unwrap("text/html", "<b>");
  REQUIRE_FALSE(html);
  CHECK(html.error().code == 415);
  auto bad = inv::unwrap("message/cpim", "not cpim");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == 400);
  inv::Chat png;
  png.from = "sip:a@b";
  png.to = "sip:c@d";
  png.text = "x";
  auto body = inv::wrap(png);
  auto at = body.find("text/plain");
  REQUIRE(at != std::string::npos);
  body.replace(at, 10, "image/png");
  auto inner = inv::unwrap("message/cpim", body);
  REQUIRE_FALSE(inner);
  CHECK(inner.error().code == 415);
}

TEST_CASE("invite::chat_line, refused, is_focus")
{
  inv::Chat c;
  c.text = "line\r\n";
  CHECK(inv::chat_line(c) == "-: line\n");
  CHECK(inv::refused("sip:friends@x.example", 403, "Forbidden") ==
        "sip:friends@x.example refused the session: 403 Forbidden");
  CHECK(inv::is_focus("<sip:friends@x.example;transport=udp>;isfocus"));
  CHECK(inv::is_focus("<sip:f@x>;expires=3;ISFOCUS;+g.x=\"y\""));
  CHECK_FALSE(inv::is_focus("<sip:isfocus@x.example>"));
  CHECK_FALSE(inv::is_focus("<sip:a@x>;+g.3gpp.icsi-ref=\"isfocus\""));
  CHECK_FALSE(inv::is_focus(""));
}

TEST_CASE("invite::validate")
{
  inv::Options o;
  CHECK_FALSE(inv::validate(o)); // no TO, no --answer
  o.to = "sip:bob@127.0.0.1:5070";
  CHECK(inv::validate(o));
  o.to = "tel:+123";
  CHECK_FALSE(inv::validate(o));
  o.to = "sip:bob@b.example"; // a name needs --proxy
  CHECK_FALSE(inv::validate(o));
  o.common.proxy = "udp:127.0.0.1:5060";
  CHECK(inv::validate(o));
  o.decline = 486;
  CHECK_FALSE(inv::validate(o)); // --decline needs --answer
  o = {};
  o.answer = true;
  CHECK(inv::validate(o));
  o.decline = 200;
  CHECK_FALSE(inv::validate(o));
  o.decline = 603;
  CHECK(inv::validate(o));
  o.common.proxy = "udp:127.0.0.1:5060";
  CHECK_FALSE(inv::validate(o)); // registering needs --from
  o.common.from = "sip:bob@b.example";
  CHECK(inv::validate(o));
  o.to = "sip:x@127.0.0.1";
  CHECK_FALSE(inv::validate(o)); // --answer takes no TO
  o.to.clear();
  o.count = -1;
  CHECK_FALSE(inv::validate(o));
  o.count = 0;
  o.timeout = 0;
  CHECK_FALSE(inv::validate(o));
  o.timeout = 32;
  o.send = {"two\nlines"};
  CHECK_FALSE(inv::validate(o));
}

TEST_SUITE_END();
