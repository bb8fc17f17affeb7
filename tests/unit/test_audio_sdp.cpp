#include <doctest/doctest.h>

#include "cpm/rt/audio_sdp.hpp"

using namespace cpm;
using media::Codec;
using media::Format;

TEST_SUITE_BEGIN("media");

TEST_CASE("media::audio_line offers the codecs; RFC 7587's rtpmap and fmtp for Opus")
{
  CHECK(media::preferring(Codec::Pcmu) ==
        std::vector<Codec>{Codec::Pcmu, Codec::Pcma, Codec::Opus});
  CHECK(media::preferring(Codec::Opus) ==
        std::vector<Codec>{Codec::Opus, Codec::Pcmu, Codec::Pcma});
  auto m = media::audio_line("127.0.0.1", 20000, media::preferring(Codec::Opus));
  CHECK(m.formats == std::vector<std::string>{"111", "0", "8"});
  sdp::Description d;
  d.media.push_back(m);
  auto text = sdp::format(d);
  CHECK(text.find("a=rtpmap:111 opus/48000/2\r\n") != std::string::npos);
  CHECK(text.find("a=fmtp:111 maxplaybackrate=8000;sprop-maxcapturerate=8000\r\n") !=
        std::string::npos);
  CHECK(text.find("a=rtpmap:0 PCMU/8000\r\n") != std::string::npos);
  // The default keeps G.711 first: "RTP/AVP 0 8 111".
  auto g = media::audio_line("127.0.0.1", 20000, media::preferring(Codec::Pcmu));
  CHECK(g.formats == std::vector<std::string>{"0", "8", "111"});
}

TEST_CASE("media::format_of and negotiated")
{
  CHECK(media::format_of({96, "opus", 48000, 2, {}}) == Format{Codec::Opus, 96});
  CHECK(media::format_of({0, "pcmu", 8000, 1, {}}) == Format{Codec::Pcmu, 0});
  CHECK_FALSE(media::format_of({96, "PCMU", 8000, 1, {}}));  // G.711 only at its static type
  CHECK_FALSE(media::format_of({96, "opus", 48000, 1, {}})); // RFC 7587: always /2
  CHECK_FALSE(media::format_of({9, "G722", 8000, 1, {}}));

  auto mine = sdp::audio_of(*sdp::parse(sdp::format(
      sdp::Description{"- 1 1 IN IP4 127.0.0.1",
                       "-",
                       "127.0.0.1",
                       {media::audio_line("127.0.0.1", 2, media::preferring(Codec::Opus))}})));
  REQUIRE(mine);
  SUBCASE("their answer numbered Opus 96: sent as 96")
  {
    sdp::AudioMedia theirs;
    theirs.formats = {{96, "opus", 48000, 2, {}}};
    CHECK(media::negotiated(*mine, theirs) == Format{Codec::Opus, 96});
  }
  SUBCASE("their offer: its first that we code")
  {
    sdp::AudioMedia theirs;
    theirs.formats = {{9, "G722", 8000, 1, {}}, {8, "PCMA", 8000, 1, {}}, {0, "PCMU", 8000, 1, {}}};
    CHECK(media::negotiated(*mine, theirs) == Format{Codec::Pcma, 8});
    theirs.formats.resize(1);
    CHECK_FALSE(media::negotiated(*mine, theirs));
  }
}

TEST_SUITE_END();
