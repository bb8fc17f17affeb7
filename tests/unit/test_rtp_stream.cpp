#include <doctest/doctest.h>

#include <vector>

#include "cpm/media/audio.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/media_clock.hpp"
#include "cpm/rt/rtp_stream.hpp"

using namespace cpm::media;

TEST_SUITE_BEGIN("media");

TEST_CASE("media::RtpStream carries a tone between two streams on 127.0.0.1")
{
  cpm::sip::Library lib;
  for (Codec codec : {Codec::Pcmu, Codec::Pcma}) {
    CAPTURE(name(codec));
    auto a = RtpStream::open("127.0.0.1");
    auto b = RtpStream::open("127.0.0.1");
    REQUIRE(a);
    REQUIRE(b);
    CHECK((*a)->port() % 2 == 0);
    CHECK((*a)->port() >= 20000);
    CHECK((*a)->port() != (*b)->port());
    REQUIRE((*a)->connect("127.0.0.1", (*b)->port(), codec));
    REQUIRE((*b)->connect("127.0.0.1", (*a)->port(), Codec::Pcmu));

    constexpr size_t k_frames = 25;
    std::vector<int16_t> heard;
    std::vector<uint16_t> seqs;
    (*b)->on_frame([&](uint16_t seq, const Frame& f) {
      seqs.push_back(seq);
      heard.insert(heard.end(), f.begin(), f.end());
      if (seqs.size() == k_frames)
        cpm::sip::stop(0);
    });
    uint64_t n = 0;
    Ticker ticker([&] {
      Frame f;
      tone(f, 440, 0.3, n * k_samples);
      ++n;
      CHECK((*a)->send(f));
    });
    cpm::sip::Timer guard;
    guard.start(5000, [] { cpm::sip::stop(99); });
    REQUIRE(cpm::sip::run() == 0);
    ticker.stop();

    CHECK((*a)->counters().sent >= k_frames);
    CHECK((*b)->counters().received == k_frames);
    CHECK((*b)->counters().last_rx_ms > 0);
    for (size_t i = 1; i < seqs.size(); ++i)
      CHECK(static_cast<uint16_t>(seqs[i] - seqs[i - 1]) == 1);
    CHECK(tone_level(heard.data(), heard.size(), 440) > 0.25);
    CHECK(tone_level(heard.data(), heard.size(), 1000) < 0.01);
    CHECK(ticker.ticks() >= k_frames);
  }
}

TEST_CASE("media::RtpStream refuses a bad address and sends nothing unconnected")
{
  cpm::sip::Library lib;
  CHECK_FALSE(RtpStream::open("not-an-ip"));
  CHECK_FALSE(RtpStream::open("127.0.0.1", 30000, 30000));
  auto s = RtpStream::open("127.0.0.1", 40000, 50000);
  REQUIRE(s);
  Frame f{};
  CHECK((*s)->send(f));
  CHECK((*s)->counters().sent == 0);
  CHECK_FALSE((*s)->connect("127.0.0.1", 0, Codec::Pcmu));
  (*s)->stop();
  CHECK_FALSE((*s)->connect("127.0.0.1", 20000, Codec::Pcmu));
}

TEST_CASE("media::Ticker keeps 20 ms slots")
{
  cpm::sip::Library lib;
  auto start = cpm::sip::jiffies();
  std::unique_ptr<Ticker> t;
  t = std::make_unique<Ticker>([&] {
    if (t && t->ticks() == 10)
      cpm::sip::stop(0);
  });
  cpm::sip::Timer guard;
  guard.start(5000, [] { cpm::sip::stop(99); });
  REQUIRE(cpm::sip::run() == 0);
  const auto elapsed = cpm::sip::jiffies() - start;
  // Ten ticks: the first one period after start, the tenth 200 ms after it.
  CHECK(elapsed >= 199);
  CHECK(elapsed < 1000);
  CHECK(t->ticks() == 10);
}

TEST_SUITE_END();
