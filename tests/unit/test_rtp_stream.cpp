#include <doctest/doctest.h>

#include <vector>

#include "cpm/media/audio.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/media_clock.hpp"
#include "cpm/rt/rtp_stream.hpp"

#include "cpm/rt/re.hpp"

using namespace cpm::media;

TEST_SUITE_BEGIN("media");

TEST_CASE("media::RtpStream carries a tone between two streams on 127.0.0.1")
{
  cpm::sip::Library lib;
  for (Codec codec : {Codec::Pcmu, Codec::Pcma, Codec::Opus}) {
    CAPTURE(name(codec));
    auto a = RtpStream::open("127.0.0.1");
    auto b = RtpStream::open("127.0.0.1");
    REQUIRE(a);
    REQUIRE(b);
    CHECK((*a)->port() % 2 == 0);
    CHECK((*a)->port() >= 20000);
    CHECK((*a)->port() != (*b)->port());
    REQUIRE((*a)->connect("127.0.0.1", (*b)->port(), codec));
    REQUIRE((*b)->connect("127.0.0.1", (*a)->port(), codec));

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
    // From the fifth frame on (Opus's look-ahead delays the first ones).
    const size_t skip = 5 * k_samples;
    CHECK(tone_level(heard.data() + skip, heard.size() - skip, 440) > 0.22);
    CHECK(tone_level(heard.data() + skip, heard.size() - skip, 1000) < 0.02);
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

namespace {

// What a plain libre RTP socket received.
struct Received {
  std::vector<uint8_t> pts;
  std::vector<uint32_t> timestamps;
  std::vector<bool> markers;
  std::vector<size_t> sizes;
};

void on_raw_rtp(const struct sa*, const struct rtp_header* hdr, struct mbuf* mb, void* arg) noexcept
{
  auto& r = *static_cast<Received*>(arg);
  r.pts.push_back(hdr->pt);
  r.timestamps.push_back(hdr->ts);
  r.markers.push_back(hdr->m);
  r.sizes.push_back(mbuf_get_left(mb));
  if (r.pts.size() == 10)
    cpm::sip::stop(0);
}

} // namespace

TEST_CASE("media::RtpStream sends Opus at the negotiated payload type on a 48 kHz clock")
{
  cpm::sip::Library lib;
  Received got;
  struct sa local;
  sa_set_str(&local, "127.0.0.1", 0);
  struct rtp_sock* raw = nullptr;
  REQUIRE(rtp_listen(&raw, IPPROTO_UDP, &local, 41000, 42998, true, on_raw_rtp, nullptr, &got) ==
          0);
  auto a = RtpStream::open("127.0.0.1");
  REQUIRE(a);
  // A peer that numbered Opus 96 in its SDP: we send with its number.
  REQUIRE((*a)->connect("127.0.0.1", sa_port(rtp_local(raw)), Format{Codec::Opus, 96}));
  CHECK((*a)->format() == Format{Codec::Opus, 96});
  uint64_t n = 0;
  Ticker ticker([&] {
    Frame f;
    tone(f, 440, 0.3, n++ * k_samples);
    CHECK((*a)->send(f));
  });
  cpm::sip::Timer guard;
  guard.start(5000, [] { cpm::sip::stop(99); });
  CHECK(cpm::sip::run() == 0);
  ticker.stop();
  mem_deref(raw);
  REQUIRE(got.pts.size() == 10);
  for (size_t i = 0; i < got.pts.size(); ++i) {
    CAPTURE(i);
    CHECK(got.pts[i] == 96);
    CHECK(got.markers[i] == (i == 0));
    CHECK(got.sizes[i] > 0);
    CHECK(got.sizes[i] < k_samples);
    if (i > 0)
      CHECK(got.timestamps[i] - got.timestamps[i - 1] == 960); // RFC 7587 §4.1
  }
}

TEST_CASE("media::RtpStream decodes Opus only at its payload type")
{
  cpm::sip::Library lib;
  auto a = RtpStream::open("127.0.0.1");
  auto b = RtpStream::open("127.0.0.1");
  REQUIRE(a);
  REQUIRE(b);
  // a sends Opus as 111, b expects it as 96: nothing b can decode (counted bad).
  REQUIRE((*a)->connect("127.0.0.1", (*b)->port(), Format{Codec::Opus, 111}));
  REQUIRE((*b)->connect("127.0.0.1", (*a)->port(), Format{Codec::Opus, 96}));
  size_t frames = 0;
  (*b)->on_frame([&](uint16_t, const Frame&) { ++frames; });
  Ticker ticker([&] {
    Frame f{};
    CHECK((*a)->send(f));
    if ((*b)->counters().bad >= 5)
      cpm::sip::stop(0);
  });
  cpm::sip::Timer guard;
  guard.start(5000, [] { cpm::sip::stop(99); });
  CHECK(cpm::sip::run() == 0);
  ticker.stop();
  CHECK(frames == 0);
  CHECK((*b)->counters().received == 0);
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
