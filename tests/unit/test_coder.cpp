#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "cpm/media/audio.hpp"
#include "cpm/media/coder.hpp"

using namespace cpm::media;

namespace {

// `frames` frames of a `freq` Hz tone through an encoder and a decoder of `c`; the decoded
// audio, and the largest payload in `max_bytes`.
std::vector<int16_t> round_trip(Codec c, double freq, size_t frames, size_t& max_bytes)
{
  auto enc = Encoder::create(c);
  auto dec = Decoder::create(c);
  REQUIRE(enc);
  REQUIRE(dec);
  std::vector<int16_t> out;
  std::vector<uint8_t> payload(k_max_payload);
  max_bytes = 0;
  for (uint64_t n = 0; n < frames; ++n) {
    Frame f, back;
    tone(f, freq, 0.3, n * k_samples);
    auto bytes = enc->encode(f, payload.data());
    REQUIRE(bytes);
    max_bytes = std::max(max_bytes, *bytes);
    REQUIRE(dec->decode(payload.data(), *bytes, back));
    out.insert(out.end(), back.begin(), back.end());
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("media");

TEST_CASE("media::Encoder and Decoder: an Opus round trip keeps a tone")
{
  for (double freq : {440.0, 1000.0}) {
    CAPTURE(freq);
    size_t max_bytes = 0;
    auto heard = round_trip(Codec::Opus, freq, 50, max_bytes);
    REQUIRE(heard.size() == 50 * k_samples);
    // The encoder's look-ahead delays the first frames: measure from the tenth on.
    const int16_t* s = heard.data() + 10 * k_samples;
    const size_t n = heard.size() - 10 * k_samples;
    const double other = freq == 440 ? 1000 : 440;
    CHECK(tone_level(s, n, freq) > 0.2);
    CHECK(tone_level(s, n, freq) < 0.4);
    CHECK(tone_level(s, n, other) < 0.02);
    // Compressed: far less than G.711's 160 bytes a frame.
    CHECK(max_bytes < 100);
    CHECK(max_bytes > 0);
  }
}

TEST_CASE("media::Encoder and Decoder: G.711 as media::encode and decode")
{
  size_t max_bytes = 0;
  auto heard = round_trip(Codec::Pcma, 440, 10, max_bytes);
  CHECK(max_bytes == k_samples);
  CHECK(tone_level(heard.data(), heard.size(), 440) > 0.28);
  auto dec = Decoder::create(Codec::Pcmu);
  REQUIRE(dec);
  // A short payload is padded with silence.
  const uint8_t loud[] = {0x80, 0x80};
  Frame f;
  f.fill(1);
  REQUIRE(dec->decode(loud, 2, f));
  CHECK(f[1] == 32124);
  CHECK(f[2] == 0);
  CHECK(f[k_samples - 1] == 0);
}

TEST_CASE("media::Decoder: Opus loss concealment and a bad packet")
{
  auto dec = Decoder::create(Codec::Opus);
  REQUIRE(dec);
  Frame f;
  // An empty payload is a lost packet: libopus conceals one frame.
  CHECK(dec->decode(nullptr, 0, f));
  // RFC 6716 §3.2.5: code 3 with a frame count of 0 is not a packet.
  const uint8_t bad[] = {0x03, 0x00};
  auto r = dec->decode(bad, sizeof bad, f);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("Opus decoder") != std::string::npos);
  // The decoder goes on after it.
  auto enc = Encoder::create(Codec::Opus);
  REQUIRE(enc);
  std::vector<uint8_t> payload(k_max_payload);
  Frame in{};
  auto bytes = enc->encode(in, payload.data());
  REQUIRE(bytes);
  CHECK(dec->decode(payload.data(), *bytes, f));
}

TEST_CASE("media::Encoder keeps its state per stream")
{
  // Two encoders fed the same audio write the same bytes; one fed other audio first does
  // not (Opus predicts from what it coded before).
  auto a = Encoder::create(Codec::Opus), b = Encoder::create(Codec::Opus),
       c = Encoder::create(Codec::Opus);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  std::vector<uint8_t> pa(k_max_payload), pb(k_max_payload), pc(k_max_payload);
  Frame f;
  tone(f, 1000, 0.5, 0);
  REQUIRE(c->encode(f, pc.data()));
  tone(f, 440, 0.3, 0);
  auto na = a->encode(f, pa.data()), nb = b->encode(f, pb.data()), nc = c->encode(f, pc.data());
  REQUIRE(na);
  REQUIRE(nb);
  REQUIRE(nc);
  CHECK(std::vector<uint8_t>(pa.begin(), pa.begin() + long(*na)) ==
        std::vector<uint8_t>(pb.begin(), pb.begin() + long(*nb)));
  CHECK(std::vector<uint8_t>(pa.begin(), pa.begin() + long(*na)) !=
        std::vector<uint8_t>(pc.begin(), pc.begin() + long(*nc)));
}

TEST_SUITE_END();
