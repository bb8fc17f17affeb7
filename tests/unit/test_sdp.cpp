#include <doctest/doctest.h>

#include "cpm/codec/sdp.hpp"

namespace sdp = cpm::sdp;

namespace {
// RFC 4975 §8.1-style offer, LF line ends, with an audio line in front.
const char* k_offer = "v=0\n"
                      "o=alice 2890844526 2890844527 IN IP4 alice.example.com\n"
                      "s= \n"
                      "c=IN IP4 192.0.2.1\n"
                      "t=0 0\n"
                      "m=audio 49170 RTP/AVP 0 8\n"
                      "a=rtpmap:0 PCMU/8000\n"
                      "m=message 7654 TCP/MSRP *\n"
                      "c=IN IP4 192.0.2.5/127\n"
                      "a=accept-types:message/cpim text/plain\n"
                      "a=accept-wrapped-types:text/plain  message/imdn+xml\n"
                      "a=path:msrp://192.0.2.5:7654/jshA7weztas;tcp\n"
                      "a=setup:ACTPASS\n"
                      "a=sendonly\n";

cpm::msrp::Uri local_uri()
{
  cpm::msrp::Uri u;
  u.host = "127.0.0.1";
  u.port = 40000;
  u.session_id = "s3ss10n";
  return u;
}
} // namespace

TEST_SUITE_BEGIN("sdp");

TEST_CASE("sdp::parse reads session and media lines")
{
  auto d = sdp::parse(k_offer);
  REQUIRE(d);
  CHECK(d->origin == "alice 2890844526 2890844527 IN IP4 alice.example.com");
  CHECK(d->connection == "192.0.2.1");
  REQUIRE(d->media.size() == 2);
  CHECK(d->media[0].type == "audio");
  CHECK(d->media[0].port == 49170);
  CHECK(d->media[0].proto == "RTP/AVP");
  CHECK(d->media[0].formats == std::vector<std::string>{"0", "8"});
  CHECK(d->media[0].attribute("rtpmap") == "0 PCMU/8000");
  CHECK(d->media[1].connection == "192.0.2.5");
  CHECK(d->media[1].formats == std::vector<std::string>{"*"});
  CHECK(d->media[1].has_attribute("SENDONLY"));
  CHECK_FALSE(d->media[1].has_attribute("recvonly"));
  CHECK(d->media[1].attribute("missing").empty());
  CHECK(sdp::media_types(*d) == std::vector<std::string>{"audio", "message"});
}

TEST_CASE("sdp::msrp_media finds the MSRP line")
{
  auto d = sdp::parse(k_offer);
  REQUIRE(d);
  auto m = sdp::msrp_media(*d);
  REQUIRE(m);
  REQUIRE(m->path.size() == 1);
  CHECK(m->path[0].host == "192.0.2.5");
  CHECK(m->path[0].port == 7654);
  CHECK(m->path[0].session_id == "jshA7weztas");
  CHECK(m->setup == "actpass");
  CHECK(m->accept_types == std::vector<std::string>{"message/cpim", "text/plain"});
  CHECK(m->accept_wrapped_types == std::vector<std::string>{"text/plain", "message/imdn+xml"});

  SUBCASE("a rejected MSRP line does not count")
  {
    d->media[1].port = 0;
    auto none = sdp::msrp_media(*d);
    REQUIRE_FALSE(none);
    CHECK(none.error().code == 488);
    CHECK(sdp::media_types(*d) == std::vector<std::string>{"audio"});
  }
  SUBCASE("no a=path")
  {
    d->media[1].attributes.erase(d->media[1].attributes.begin() + 2);
    auto none = sdp::msrp_media(*d);
    REQUIRE_FALSE(none);
    CHECK(none.error().message.find("a=path") != std::string::npos);
  }
  SUBCASE("bad a=path")
  {
    d->media[1].attributes[2].second = "http://x/";
    CHECK_FALSE(sdp::msrp_media(*d));
  }
}

TEST_CASE("sdp::format writes CRLF lines that parse back")
{
  auto d = sdp::parse(k_offer);
  REQUIRE(d);
  auto text = sdp::format(*d);
  CHECK(text.rfind("v=0\r\no=alice 2890844526", 0) == 0);
  CHECK(text.find("t=0 0\r\n") != std::string::npos);
  CHECK(text.find("m=message 7654 TCP/MSRP *\r\nc=IN IP4 192.0.2.5\r\n") != std::string::npos);
  CHECK(text.find("a=sendonly\r\n") != std::string::npos);
  CHECK(text.find("\n\n") == std::string::npos);
  auto again = sdp::parse(text);
  REQUIRE(again);
  CHECK(again->media.size() == 2);
  CHECK(again->media[1].attributes == d->media[1].attributes);
  CHECK(sdp::format(*again) == text);

  sdp::Description v6;
  v6.connection = "::1";
  CHECK(sdp::format(v6).find("c=IN IP6 ::1\r\n") != std::string::npos);
}

TEST_CASE("sdp::msrp_offer builds CPM's MSRP offer")
{
  auto text = sdp::format(sdp::msrp_offer(local_uri()));
  CHECK(text.find("c=IN IP4 127.0.0.1\r\n") != std::string::npos);
  CHECK(text.find("m=message 40000 TCP/MSRP *\r\n") != std::string::npos);
  CHECK(text.find("a=accept-types:message/cpim\r\n") != std::string::npos);
  CHECK(text.find("a=accept-wrapped-types:text/plain message/imdn+xml\r\n") != std::string::npos);
  CHECK(text.find("a=path:msrp://127.0.0.1:40000/s3ss10n;tcp\r\n") != std::string::npos);
  CHECK(text.find("a=setup:active\r\n") != std::string::npos);
  CHECK(text.find("a=sendrecv\r\n") != std::string::npos);
  auto d = sdp::parse(text);
  REQUIRE(d);
  auto m = sdp::msrp_media(*d);
  REQUIRE(m);
  CHECK(cpm::msrp::same_uri(m->path.at(0), local_uri()));
  CHECK(m->setup == "active");

  auto passive = sdp::format(sdp::msrp_offer(local_uri(), "actpass"));
  CHECK(passive.find("a=setup:actpass\r\n") != std::string::npos);
}

TEST_CASE("sdp::msrp_answer answers the MSRP line and rejects the others")
{
  auto offer = sdp::parse(k_offer);
  REQUIRE(offer);
  auto a = sdp::msrp_answer(*offer, local_uri());
  REQUIRE(a);
  REQUIRE(a->media.size() == 2);
  CHECK(a->media[0].type == "audio");
  CHECK(a->media[0].port == 0);
  CHECK(a->media[0].formats == std::vector<std::string>{"0", "8"});
  CHECK(a->media[1].port == 40000);
  CHECK(a->media[1].formats == std::vector<std::string>{"*"});
  CHECK(a->media[1].attribute("path") == "msrp://127.0.0.1:40000/s3ss10n;tcp");
  CHECK(a->media[1].attribute("setup") == "passive"); // actpass offered
  CHECK(a->media[1].has_attribute("recvonly"));       // mirrors sendonly
  CHECK(a->connection == "127.0.0.1");
  CHECK(sdp::parse(sdp::format(*a)));

  SUBCASE("setup per RFC 6135")
  {
    offer->media[1].attributes[3].second = "passive";
    CHECK(sdp::msrp_answer(*offer, local_uri())->media[1].attribute("setup") == "active");
    offer->media[1].attributes[3].second = "active";
    CHECK(sdp::msrp_answer(*offer, local_uri())->media[1].attribute("setup") == "passive");
    offer->media[1].attributes.erase(offer->media[1].attributes.begin() + 3);
    CHECK(sdp::msrp_answer(*offer, local_uri())->media[1].attribute("setup") == "passive");
  }
  SUBCASE("no MSRP line: 488")
  {
    offer->media.pop_back();
    auto r = sdp::msrp_answer(*offer, local_uri());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == 488);
  }
}

TEST_CASE("sdp: MSRP over TLS (TCP/TLS/MSRP, msrps:) offered and answered")
{
  auto secure = local_uri();
  secure.secure = true;
  auto offer = sdp::msrp_offer(secure);
  auto text = sdp::format(offer);
  CHECK(text.find("m=message 40000 TCP/TLS/MSRP *\r\n") != std::string::npos);
  CHECK(text.find("a=path:msrps://127.0.0.1:40000/s3ss10n;tcp\r\n") != std::string::npos);
  auto d = sdp::parse(text);
  REQUIRE(d);
  auto m = sdp::msrp_media(*d);
  REQUIRE(m);
  CHECK(m->tls);
  CHECK(m->path.at(0).secure);
  CHECK_FALSE(sdp::msrp_media(*sdp::parse(k_offer))->tls);

  auto them = local_uri();
  them.secure = true;
  them.port = 50000;
  them.session_id = "th3m";
  auto a = sdp::msrp_answer(*d, them);
  REQUIRE(a);
  CHECK(a->media.at(0).proto == "TCP/TLS/MSRP");
  CHECK(a->media.at(0).attribute("path") == "msrps://127.0.0.1:50000/th3m;tcp");
  CHECK(a->media.at(0).attribute("setup") == "passive");

  SUBCASE("an answerer without TLS refuses a TLS offer: 488")
  {
    auto r = sdp::msrp_answer(*d, local_uri());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == 488);
    CHECK(r.error().message.find("TLS") != std::string::npos);
  }
  SUBCASE("an msrps: URI does not answer a TCP/MSRP offer")
  {
    auto plain = sdp::parse(k_offer);
    REQUIRE(plain);
    CHECK_FALSE(sdp::msrp_answer(*plain, them));
    CHECK(sdp::msrp_answer(*plain, local_uri()));
  }
  SUBCASE("with audio and chat optional, a TLS offer we cannot take leaves the audio")
  {
    auto with_audio = sdp::add_media(*d, sdp::audio("127.0.0.1", 40002));
    auto r =
        sdp::answer(with_audio, local_uri(), sdp::audio("127.0.0.1", 40004), sdp::Chat::Optional);
    REQUIRE(r);
    CHECK(r->media.at(0).port == 0);
    CHECK(r->media.at(1).port == 40004);
  }
  SUBCASE("the protocol and the path's scheme must agree")
  {
    d->media[0].proto = "TCP/MSRP";
    auto r = sdp::msrp_media(*d);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == 488);
    CHECK(r.error().message.find("msrps") != std::string::npos);
    auto plain = sdp::parse(k_offer);
    plain->media[1].proto = "TCP/TLS/MSRP";
    CHECK_FALSE(sdp::msrp_media(*plain));
  }
}

TEST_CASE("sdp::audio writes CPM's audio line and audio_of reads it back")
{
  auto m = sdp::audio("127.0.0.2", 20000);
  CHECK(m.type == "audio");
  CHECK(m.proto == "RTP/AVP");
  CHECK(m.formats == std::vector<std::string>{"0", "8"});
  sdp::Description d = sdp::msrp_offer(local_uri());
  d.media.push_back(m);
  auto text = sdp::format(d);
  CHECK(text.find("m=audio 20000 RTP/AVP 0 8\r\nc=IN IP4 127.0.0.2\r\n"
                  "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\n"
                  "a=sendrecv\r\n") != std::string::npos);
  auto back = sdp::parse(text);
  REQUIRE(back);
  auto a = sdp::audio_of(*back);
  REQUIRE(a);
  CHECK(a->host == "127.0.0.2");
  CHECK(a->port == 20000);
  CHECK(a->payload_types == std::vector<uint8_t>{0, 8});
  CHECK(a->direction == sdp::Direction::SendRecv);

  SUBCASE("session-level c= and no direction attribute")
  {
    auto offer = sdp::parse(k_offer);
    REQUIRE(offer);
    auto o = sdp::audio_of(*offer);
    REQUIRE(o);
    CHECK(o->host == "192.0.2.1");
    CHECK(o->port == 49170);
    CHECK(o->direction == sdp::Direction::SendRecv);
  }
  SUBCASE("a port-0 or non-RTP/AVP line is no audio")
  {
    back->media[1].port = 0;
    CHECK_FALSE(sdp::audio_of(*back));
    back->media[1].port = 20000;
    back->media[1].proto = "RTP/SAVP";
    CHECK_FALSE(sdp::audio_of(*back));
    CHECK_FALSE(sdp::audio_of(sdp::msrp_offer(local_uri())));
  }
  SUBCASE("one payload type, on hold")
  {
    auto pcma = sdp::audio("::1", 30000, {8}, sdp::Direction::SendOnly);
    d.media[1] = pcma;
    auto t = sdp::format(d);
    CHECK(t.find("a=rtpmap:0") == std::string::npos);
    CHECK(t.find("c=IN IP6 ::1\r\n") != std::string::npos);
    auto r = sdp::audio_of(*sdp::parse(t));
    REQUIRE(r);
    CHECK(r->payload_types == std::vector<uint8_t>{8});
    CHECK(r->direction == sdp::Direction::SendOnly);
  }
}

TEST_CASE("sdp::parse_rtpmap reads a payload format")
{
  auto o = sdp::parse_rtpmap("96 opus/48000/2");
  REQUIRE(o);
  CHECK(o->pt == 96);
  CHECK(o->encoding == "opus");
  CHECK(o->clock_rate == 48000);
  CHECK(o->channels == 2);
  CHECK(o->rtpmap() == "opus/48000/2");
  auto u = sdp::parse_rtpmap("0  PCMU/8000 ");
  REQUIRE(u);
  CHECK(u->channels == 1);
  CHECK(u->rtpmap() == "PCMU/8000");
  CHECK(o->same_codec(*sdp::parse_rtpmap("111 OPUS/48000/2")));
  CHECK_FALSE(o->same_codec(*sdp::parse_rtpmap("111 opus/48000")));
  CHECK_FALSE(o->same_codec(*u));
  for (const char* bad :
       {"", "96", "96 opus", "96 /48000", "x opus/48000", "128 opus/48000", "96 opus/0",
        "96 opus/48000/", "96 opus/48000/0", "96 opus/48k", "96 opus/48000/2 extra"}) {
    CAPTURE(bad);
    CHECK_FALSE(sdp::parse_rtpmap(bad));
  }
}

TEST_CASE("sdp::audio_line writes dynamic formats with rtpmap and fmtp")
{
  sdp::PayloadFormat opus{111, "opus", 48000, 2, "maxplaybackrate=8000"};
  sdp::PayloadFormat pcmu{0, "PCMU", 8000, 1, {}};
  sdp::Description d = sdp::msrp_offer(local_uri());
  d.media.push_back(sdp::audio_line("127.0.0.2", 20000, {pcmu, opus}));
  auto text = sdp::format(d);
  CHECK(text.find("m=audio 20000 RTP/AVP 0 111\r\nc=IN IP4 127.0.0.2\r\n"
                  "a=rtpmap:0 PCMU/8000\r\na=rtpmap:111 opus/48000/2\r\n"
                  "a=fmtp:111 maxplaybackrate=8000\r\na=ptime:20\r\n") != std::string::npos);
  auto a = sdp::audio_of(*sdp::parse(text));
  REQUIRE(a);
  CHECK(a->payload_types == std::vector<uint8_t>{0, 111});
  REQUIRE(a->formats.size() == 2);
  CHECK(a->formats[0].encoding == "PCMU");
  CHECK(a->formats[1].encoding == "opus");
  CHECK(a->formats[1].channels == 2);
  CHECK(a->formats[1].fmtp == "maxplaybackrate=8000");

  SUBCASE("a static type without rtpmap is the table's; a dynamic one is unknown")
  {
    auto offer = sdp::parse(std::string(k_offer) + "m=audio 5 RTP/AVP 8 97\n");
    REQUIRE(offer);
    offer->media.erase(offer->media.begin()); // the first audio line
    auto b = sdp::audio_of(*offer);
    REQUIRE(b);
    REQUIRE(b->formats.size() == 2);
    CHECK(b->formats[0].encoding == "PCMA");
    CHECK(b->formats[0].clock_rate == 8000);
    CHECK(b->formats[1].pt == 97);
    CHECK(b->formats[1].encoding.empty());
    CHECK_FALSE(b->formats[1].same_codec(b->formats[1]));
  }
  SUBCASE("common_format: the first of theirs that mine lists, at their number")
  {
    sdp::AudioMedia mine, theirs;
    mine.formats = {pcmu, opus};
    theirs.formats = {sdp::PayloadFormat{96, "OPUS", 48000, 2, {}}, pcmu};
    auto c = sdp::common_format(mine, theirs);
    REQUIRE(c);
    CHECK(c->pt == 96);
    theirs.formats = {sdp::PayloadFormat{8, "PCMA", 8000, 1, {}}};
    CHECK_FALSE(sdp::common_format(mine, theirs));
  }
}

TEST_CASE("sdp::answer takes Opus at the offerer's dynamic payload type")
{
  sdp::PayloadFormat opus{111, "opus", 48000, 2, "maxplaybackrate=8000"};
  sdp::PayloadFormat pcmu{0, "PCMU", 8000, 1, {}};
  auto ours = sdp::audio_line("127.0.0.9", 30000, {pcmu, opus});
  auto offer = sdp::parse("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                          "t=0 0\r\nm=message 7654 TCP/MSRP *\r\n"
                          "a=path:msrp://192.0.2.1:7654/x;tcp\r\n"
                          "m=audio 49170 RTP/AVP 96 0\r\na=rtpmap:96 opus/48000/2\r\n"
                          "a=fmtp:96 useinbandfec=1\r\n");
  REQUIRE(offer);
  auto a = sdp::answer(*offer, local_uri(), ours);
  REQUIRE(a);
  REQUIRE(a->media.size() == 2);
  const auto& m = a->media[1];
  CHECK(m.port == 30000);
  CHECK(m.formats == std::vector<std::string>{"96"});
  CHECK(m.attribute("rtpmap") == "96 opus/48000/2");
  CHECK(m.attribute("fmtp") == "96 maxplaybackrate=8000");

  SUBCASE("PCMU first in the offer: PCMU, no fmtp")
  {
    offer->media[1].formats = {"0", "96"};
    auto b = sdp::answer(*offer, local_uri(), ours);
    REQUIRE(b);
    CHECK(b->media[1].formats == std::vector<std::string>{"0"});
    CHECK(b->media[1].attribute("rtpmap") == "0 PCMU/8000");
    CHECK_FALSE(b->media[1].has_attribute("fmtp"));
  }
  SUBCASE("the offer's 96 is another codec: not ours, PCMU taken")
  {
    offer->media[1].attributes = {{"rtpmap", "96 G7221/16000"}};
    auto b = sdp::answer(*offer, local_uri(), ours);
    REQUIRE(b);
    CHECK(b->media[1].formats == std::vector<std::string>{"0"});
  }
  SUBCASE("a G.711-only answerer takes PCMU")
  {
    auto b = sdp::answer(*offer, local_uri(), sdp::audio("127.0.0.9", 30000));
    REQUIRE(b);
    CHECK(b->media[1].formats == std::vector<std::string>{"0"});
  }
}

TEST_CASE("sdp directions")
{
  using sdp::Direction;
  CHECK(sdp::mirror(Direction::SendRecv) == Direction::SendRecv);
  CHECK(sdp::mirror(Direction::SendOnly) == Direction::RecvOnly);
  CHECK(sdp::mirror(Direction::RecvOnly) == Direction::SendOnly);
  CHECK(sdp::mirror(Direction::Inactive) == Direction::Inactive);
  CHECK(sdp::direction_by_name("SENDONLY") == Direction::SendOnly);
  CHECK_FALSE(sdp::direction_by_name("setup"));
  CHECK(sdp::name(Direction::Inactive) == "inactive");
  auto m = sdp::audio("127.0.0.1", 20000);
  sdp::set_direction(m, Direction::Inactive);
  CHECK(sdp::direction_of(m) == Direction::Inactive);
  CHECK_FALSE(m.has_attribute("sendrecv"));
}

TEST_CASE("sdp::add_media, remove_media, replace_media build RFC 3264 §8 offers")
{
  auto chat = sdp::msrp_offer(local_uri());
  chat.origin = "- 42 1 IN IP4 127.0.0.1";

  auto added = sdp::add_media(chat, sdp::audio("127.0.0.1", 20000));
  CHECK(added.origin == "- 42 2 IN IP4 127.0.0.1");
  REQUIRE(added.media.size() == 2);
  CHECK(added.media[0].type == "message"); // kept, same place
  CHECK(added.media[0].port == 40000);
  CHECK(added.media[1].type == "audio");
  CHECK(added.media[1].port == 20000);
  auto d = sdp::diff(chat, added);
  CHECK(d.added == std::vector<std::string>{"audio"});
  CHECK(d.removed.empty());
  CHECK(d.modified.empty());

  auto removed = sdp::remove_media(added, "audio");
  CHECK(removed.origin == "- 42 3 IN IP4 127.0.0.1");
  REQUIRE(removed.media.size() == 2); // the line stays
  CHECK(removed.media[1].port == 0);
  CHECK_FALSE(removed.media[1].formats.empty());
  CHECK_FALSE(sdp::audio_of(removed));
  CHECK(sdp::parse(sdp::format(removed)));
  d = sdp::diff(added, removed);
  CHECK(d.removed == std::vector<std::string>{"audio"});
  CHECK(d.added.empty());

  SUBCASE("adding again reuses the port-0 line")
  {
    auto again = sdp::add_media(removed, sdp::audio("127.0.0.1", 20002));
    REQUIRE(again.media.size() == 2);
    CHECK(again.media[1].port == 20002);
    CHECK(sdp::diff(removed, again).added == std::vector<std::string>{"audio"});
  }
  SUBCASE("a port-0 line of another type is not reused")
  {
    auto v = sdp::add_media(sdp::remove_media(added, "audio"), sdp::audio("127.0.0.1", 2, {0}));
    auto video = v;
    video.media[1].type = "video";
    video.media[1].port = 0;
    auto w = sdp::add_media(video, sdp::audio("127.0.0.1", 20004));
    CHECK(w.media.size() == 3);
  }
  SUBCASE("replace: another codec, on hold")
  {
    auto pcma = sdp::replace_media(added, sdp::audio("127.0.0.1", 20000, {8}));
    REQUIRE(pcma.media.size() == 2);
    CHECK(pcma.media[1].formats == std::vector<std::string>{"8"});
    d = sdp::diff(added, pcma);
    CHECK(d.modified == std::vector<std::string>{"audio"});
    CHECK(d.added.empty());
    auto hold =
        sdp::replace_media(added, sdp::audio("127.0.0.1", 20000, {0, 8}, sdp::Direction::SendOnly));
    CHECK(sdp::diff(added, hold).modified == std::vector<std::string>{"audio"});
    CHECK(sdp::diff(added, added).empty());
    // Nothing to replace: added.
    auto fresh = sdp::replace_media(chat, sdp::audio("127.0.0.1", 20000));
    CHECK(sdp::diff(chat, fresh).added == std::vector<std::string>{"audio"});
  }
  SUBCASE("an o= with a non-numeric version is kept")
  {
    chat.origin = "- 42 x IN IP4 127.0.0.1";
    CHECK(sdp::add_media(chat, sdp::audio("127.0.0.1", 1)).origin == chat.origin);
    CHECK(sdp::next_version(chat).origin == chat.origin);
    chat.origin = "- 42 3724394400123 IN IP4 127.0.0.1";
    CHECK(sdp::next_version(chat).origin == "- 42 3724394400124 IN IP4 127.0.0.1");
  }
}

TEST_CASE("sdp::answer answers message and audio with the same m-lines")
{
  auto ours = sdp::audio("127.0.0.9", 30000, {8, 0});
  auto offer = sdp::parse(k_offer); // audio PCMU PCMA (no direction), message sendonly
  REQUIRE(offer);

  SUBCASE("audio taken: the first of the offer's payload types we support")
  {
    auto a = sdp::answer(*offer, local_uri(), ours);
    REQUIRE(a);
    REQUIRE(a->media.size() == 2);
    CHECK(a->media[0].type == "audio");
    CHECK(a->media[0].port == 30000);
    CHECK(a->media[0].connection == "127.0.0.9");
    CHECK(a->media[0].formats == std::vector<std::string>{"0"});
    CHECK(a->media[0].attribute("rtpmap") == "0 PCMU/8000");
    CHECK(sdp::direction_of(a->media[0]) == sdp::Direction::SendRecv);
    CHECK(a->media[1].port == 40000);
    CHECK(a->media[1].has_attribute("recvonly"));
    auto au = sdp::audio_of(*sdp::parse(sdp::format(*a)));
    REQUIRE(au);
    CHECK(au->payload_types == std::vector<uint8_t>{0});
  }
  SUBCASE("no audio of ours: refused by port 0")
  {
    auto a = sdp::answer(*offer, local_uri());
    REQUIRE(a);
    CHECK(a->media[0].port == 0);
    CHECK(a->media[1].port == 40000);
  }
  SUBCASE("no payload type in common: port 0")
  {
    offer->media[0].formats = {"3"};
    auto a = sdp::answer(*offer, local_uri(), ours);
    REQUIRE(a);
    CHECK(a->media[0].port == 0);
    CHECK(a->media[0].formats == std::vector<std::string>{"3"});
  }
  SUBCASE("direction mirrored and limited to ours")
  {
    sdp::set_direction(offer->media[0], sdp::Direction::SendOnly);
    CHECK(sdp::direction_of(sdp::answer(*offer, local_uri(), ours)->media[0]) ==
          sdp::Direction::RecvOnly);
    sdp::set_direction(offer->media[0], sdp::Direction::RecvOnly);
    CHECK(sdp::direction_of(sdp::answer(*offer, local_uri(), ours)->media[0]) ==
          sdp::Direction::SendOnly);
    sdp::set_direction(offer->media[0], sdp::Direction::Inactive);
    CHECK(sdp::direction_of(sdp::answer(*offer, local_uri(), ours)->media[0]) ==
          sdp::Direction::Inactive);
    sdp::set_direction(offer->media[0], sdp::Direction::SendRecv);
    auto listener = sdp::audio("127.0.0.9", 30000, {0}, sdp::Direction::RecvOnly);
    CHECK(sdp::direction_of(sdp::answer(*offer, local_uri(), listener)->media[0]) ==
          sdp::Direction::RecvOnly);
  }
  SUBCASE("a removed (port 0) audio line stays port 0; a second audio line is refused")
  {
    auto two = *offer;
    two.media.push_back(two.media[0]);
    auto a = sdp::answer(two, local_uri(), ours);
    REQUIRE(a);
    REQUIRE(a->media.size() == 3);
    CHECK(a->media[0].port == 30000);
    CHECK(a->media[2].port == 0);
    two.media[0].port = 0;
    a = sdp::answer(two, local_uri(), ours);
    CHECK(a->media[0].port == 0);
    CHECK(a->media[2].port == 30000);
  }
  SUBCASE("no MSRP line: 488")
  {
    offer->media.pop_back();
    auto r = sdp::answer(*offer, local_uri(), ours);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == 488);
  }
  SUBCASE("chat optional: audio alone is answered, with our address")
  {
    offer->media.pop_back();
    auto a = sdp::answer(*offer, local_uri(), ours, sdp::Chat::Optional);
    REQUIRE(a);
    REQUIRE(a->media.size() == 1);
    CHECK(a->media[0].port == 30000);
    CHECK(a->connection == local_uri().host);
    // Nothing taken at all is still 488: no audio in common, or no audio of ours.
    offer->media[0].formats = {"3"};
    auto r = sdp::answer(*offer, local_uri(), ours, sdp::Chat::Optional);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == 488);
    offer->media[0].formats = {"0"};
    CHECK_FALSE(sdp::answer(*offer, local_uri(), std::nullopt, sdp::Chat::Optional));
  }
  SUBCASE("chat optional: an offer with MSRP is answered as with chat required")
  {
    auto a = sdp::answer(*offer, local_uri(), ours, sdp::Chat::Optional);
    auto b = sdp::answer(*offer, local_uri(), ours);
    REQUIRE(a);
    REQUIRE(b);
    b->origin = a->origin; // a new session id each time
    CHECK(sdp::format(*a) == sdp::format(*b));
  }
}

TEST_CASE("sdp::diff by m-line position")
{
  auto before = sdp::parse(k_offer);
  REQUIRE(before);
  auto after = *before;
  CHECK(sdp::diff(*before, after).empty());
  after.media[0].connection = "192.0.2.9"; // the stream moved
  CHECK(sdp::diff(*before, after).modified == std::vector<std::string>{"audio"});
  after = *before;
  after.media.pop_back(); // a vanished line is removed
  CHECK(sdp::diff(*before, after).removed == std::vector<std::string>{"message"});
  after = *before;
  after.media[0].type = "video"; // another type in the same place
  auto d = sdp::diff(*before, after);
  CHECK(d.removed == std::vector<std::string>{"audio"});
  CHECK(d.added == std::vector<std::string>{"video"});
}

TEST_CASE("sdp::we_connect")
{
  CHECK(sdp::we_connect("passive", true));
  CHECK(sdp::we_connect("passive", false));
  CHECK_FALSE(sdp::we_connect("active", true));
  CHECK_FALSE(sdp::we_connect("active", false));
  CHECK(sdp::we_connect("", true));
  CHECK_FALSE(sdp::we_connect("", false));
  CHECK_FALSE(sdp::we_connect("actpass", false));
  CHECK(sdp::we_connect("PASSIVE", false));
}

TEST_CASE("sdp::parse refuses malformed descriptions")
{
  const char* bad[] = {
      "",
      "\r\n",
      "o=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\n",                                      // no v=
      "v=1\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\n",                               // version
      "v=0\r\ns=-\r\n",                                                         // no o=
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\n",                                      // no s=
      "v=0\r\no=- 0 0 IN IP4\r\ns=-\r\n",                                       // o= fields
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nX=y\r\n",                        // upper-case type
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nline\r\n",                       // no '='
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP5 x\r\n",                 // addrtype
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4\r\n",                   // no address
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nm=message 70000 TCP/MSRP *\r\n", // port
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nm=message x TCP/MSRP *\r\n",
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nm=message 1/x TCP/MSRP *\r\n",
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nm=message 1 TCP/MSRP\r\n", // no format
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nm=message 1 TCP/MSRP *\r\na=\r\n",
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\n\r\nm=message 1 TCP/MSRP *\r\n", // empty line
      "v=0\r\nv=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\n",
      "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nm=a 1 b c\r\no=- 0 0 IN IP4 1.2.3.4\r\n",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    auto d = sdp::parse(text);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == 400);
    CHECK(d.error().message.rfind("SDP", 0) == 0);
  }
  std::string nul = "v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\na=x\0y\r\n";
  nul[nul.size() - 4] = '\0';
  CHECK_FALSE(sdp::parse(nul));
  auto named = sdp::parse("v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP7 x\r\n");
  REQUIRE_FALSE(named);
  CHECK(named.error().message.find("line 4") != std::string::npos);
}

TEST_CASE("sdp::parse is lenient where real offers differ")
{
  // No final line end, a trailing empty line, session-level attributes, unknown types.
  auto d = sdp::parse("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=x\r\na=tool:y\r\nb=AS:64\r\nt=0 0\r\n"
                      "m=message 9 TCP/TLS/MSRP *\r\na=path:msrps://[::1]:9/a;tcp\r\n\r\n");
  REQUIRE(d);
  REQUIRE(d->media.size() == 1);
  auto m = sdp::msrp_media(*d);
  REQUIRE(m);
  CHECK(m->path.at(0).secure);
  CHECK(m->setup.empty());
  CHECK(sdp::parse("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=x"));
}

TEST_SUITE_END();
