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
  o.to = "sip:bob@b.example"; // a name: RFC 3263 without --proxy
  CHECK(inv::validate(o));
  o.to = "sip:bob@b_c.example"; // not a host name
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
  o.send.clear();
  CHECK(inv::validate(o));
  o.accept_media = "audio";
  CHECK_FALSE(inv::validate(o)); // the chat must be taken
  o.accept_media = "audio, message";
  CHECK(inv::validate(o));
  o.codec = "g722";
  CHECK_FALSE(inv::validate(o));
  o.codec = "opus";
  CHECK(inv::validate(o));
  o.codec = "PCMA";
  CHECK(inv::validate(o));
  o.audio_once = true;
  CHECK_FALSE(inv::validate(o)); // --audio-once needs --audio-in
  o.audio_in = "tone.wav";
  CHECK(inv::validate(o));
  o.add_audio_after = 1e9;
  CHECK_FALSE(inv::validate(o));
  o.add_audio_after = -1;
  o.offer_audio = true; // --audio with --answer: the answering side takes what is offered
  CHECK_FALSE(inv::validate(o));
  o.answer = false;
  o.count = 1;
  o.decline = 0;
  o.to = "sip:friends@x.example";
  CHECK(inv::validate(o));
}

TEST_CASE("invite::parse_command: commands, chat and the // escape")
{
  using K = inv::Command::Kind;
  CHECK(inv::parse_command("hello").kind == K::Chat);
  CHECK(inv::parse_command("hello").text == "hello");
  CHECK(inv::parse_command("").kind == K::Chat);
  CHECK(inv::parse_command("/audio").kind == K::AudioOn);
  CHECK(inv::parse_command("/audio off").kind == K::AudioOff);
  CHECK(inv::parse_command("/AUDIO  Off").kind == K::AudioOff);
  CHECK(inv::parse_command("/hold").kind == K::Hold);
  CHECK(inv::parse_command("/resume").kind == K::Resume);
  CHECK(inv::parse_command("/codec pcma").kind == K::Codec);
  CHECK(inv::parse_command("/codec PCMU").text == "pcmu");
  CHECK(inv::parse_command("/codec Opus").kind == K::Codec);
  CHECK(inv::parse_command("/codec Opus").text == "opus");
  CHECK(inv::parse_command("/help").kind == K::Help);
  SUBCASE("the escape sends the line without its first slash")
  {
    auto c = inv::parse_command("//etc/passwd");
    CHECK(c.kind == K::Chat);
    CHECK(c.text == "/etc/passwd");
    CHECK(inv::parse_command("//").text == "/");
  }
  SUBCASE("anything else that begins with / is unknown, not chat")
  {
    CHECK(inv::parse_command("/").kind == K::Unknown);
    CHECK(inv::parse_command("/codec g722").kind == K::Unknown);
    CHECK(inv::parse_command("/audio loud").kind == K::Unknown);
    CHECK(inv::parse_command("/hold on").kind == K::Unknown);
    CHECK(inv::parse_command("/etc/passwd").kind == K::Unknown);
    CHECK(inv::parse_command("/etc/passwd").text == "/etc/passwd");
  }
}

TEST_CASE("invite::accepts_audio and media_event")
{
  CHECK(*inv::accepts_audio("all"));
  CHECK(*inv::accepts_audio("message,audio"));
  CHECK_FALSE(*inv::accepts_audio("message"));
  CHECK_FALSE(inv::accepts_audio("video,message"));
  CHECK_FALSE(inv::accepts_audio(""));
  auto e = inv::media_event("refused", "audio", 488, "399 csA \"no\"");
  CHECK(e["event"] == "media");
  CHECK(e["action"] == "refused");
  CHECK(e["status"] == 488);
  CHECK(e["warning"] == "399 csA \"no\"");
  auto a = inv::media_event("added", "audio");
  CHECK_FALSE(a.contains("status"));
  CHECK_FALSE(a.contains("warning"));
}

TEST_SUITE_END();
