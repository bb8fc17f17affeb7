#include <doctest/doctest.h>

#include <map>

#include "cpm/media/mixer.hpp"

using namespace cpm::media;

namespace {

Frame constant(int16_t v)
{
  Frame f;
  f.fill(v);
  return f;
}

// One tick; what each input got (its first sample: the frames are constant).
std::map<Mixer::Id, int> tick(Mixer& m)
{
  std::map<Mixer::Id, int> got;
  m.tick([&](Mixer::Id id, const Frame& f) {
    for (auto s : f)
      REQUIRE(s == f[0]);
    got[id] = f[0];
  });
  return got;
}

} // namespace

TEST_SUITE_BEGIN("media");

TEST_CASE("media::Mixer gives each input the sum of the others")
{
  Mixer m(1);
  auto a = m.add(), b = m.add(), c = m.add();
  CHECK(m.size() == 3);
  REQUIRE(m.put(a, 10, constant(100)));
  REQUIRE(m.put(b, 500, constant(20)));
  REQUIRE(m.put(c, 65535, constant(3)));
  auto got = tick(m);
  CHECK(got[a] == 23);
  CHECK(got[b] == 103);
  CHECK(got[c] == 120);
  CHECK(m.active(a));
  CHECK(m.stats(a).played == 1);

  SUBCASE("a missing frame is silence, counted")
  {
    m.put(a, 11, constant(100));
    m.put(c, 0, constant(3)); // c's sequence wraps
    got = tick(m);
    CHECK(got[a] == 3);
    CHECK(got[b] == 103);
    CHECK(got[c] == 100);
    CHECK(m.stats(b).missing == 1);
    CHECK_FALSE(m.active(b));
    CHECK(m.stats(c).played == 2);
  }
  SUBCASE("a removed input leaves the mix")
  {
    m.remove(b);
    CHECK_FALSE(m.contains(b));
    m.put(a, 11, constant(100));
    m.put(c, 0, constant(3));
    got = tick(m);
    CHECK(got.size() == 2);
    CHECK(got[a] == 3);
    CHECK(got[c] == 100);
    CHECK_FALSE(m.put(b, 501, constant(1)));
    CHECK(m.stats(b).in == 0);
  }
}

TEST_CASE("media::Mixer saturates instead of wrapping")
{
  Mixer m(1);
  auto a = m.add(), b = m.add(), c = m.add(), d = m.add();
  m.put(a, 1, constant(30000));
  m.put(b, 1, constant(30000));
  m.put(c, 1, constant(-32768));
  m.put(d, 1, constant(-32768));
  auto got = tick(m);
  // a hears b + c + d = 30000 - 65536 = -35536: clipped to -32768, not wrapped to +30000.
  CHECK(got[a] == -32768);
  // c hears a + b + d = 60000 - 32768 = 27232: in range.
  CHECK(got[c] == 27232);

  Mixer loud(1);
  auto x = loud.add(), y = loud.add(), z = loud.add();
  loud.put(x, 1, constant(20000));
  loud.put(y, 1, constant(20000));
  loud.put(z, 1, constant(0));
  got = tick(loud);
  CHECK(got[z] == 32767); // 40000 clipped
  CHECK(got[x] == 20000);
}

TEST_CASE("media::Mixer jitter buffer orders frames, drops late and duplicate ones")
{
  Mixer m(2);
  auto a = m.add(), b = m.add();
  // b only listens; a's frames arrive out of order.
  m.put(a, 101, constant(2));
  CHECK(tick(m)[b] == 0); // one frame buffered: still filling (depth 2)
  CHECK(m.stats(a).missing == 0);
  m.put(a, 100, constant(1));
  CHECK_FALSE(m.put(a, 100, constant(9))); // duplicate
  CHECK(m.stats(a).duplicate == 1);
  CHECK(tick(m)[b] == 1); // 100 first
  m.put(a, 103, constant(4));
  CHECK(tick(m)[b] == 2);
  CHECK(tick(m)[b] == 0); // 102 not there in time: silence
  CHECK(m.stats(a).missing == 1);
  // It comes one tick late: played next, and the buffer is one frame deeper from now on.
  CHECK(m.put(a, 102, constant(3)));
  CHECK(m.stats(a).slipped == 1);
  CHECK(tick(m)[b] == 3);
  CHECK(tick(m)[b] == 4);
  // A frame whose slot was played with a frame is late for good.
  CHECK_FALSE(m.put(a, 101, constant(2)));
  CHECK(m.stats(a).late == 1);
  CHECK(m.stats(a).in == 4);
  CHECK(m.stats(a).played == 4);
}

TEST_CASE("media::Mixer shrinks a buffer that stays too deep")
{
  Mixer m(1);
  auto a = m.add(), b = m.add();
  uint16_t seq = 0;
  for (; seq < 4; ++seq)
    m.put(a, seq, constant(static_cast<int16_t>(seq)));
  // One frame in per tick: three stay buffered, one more than depth + 1.
  int last = -1;
  for (uint32_t i = 0; i < Mixer::k_shrink_ticks; ++i) {
    last = tick(m)[b];
    m.put(a, seq, constant(static_cast<int16_t>(seq)));
    ++seq;
  }
  CHECK(m.stats(a).skipped == 1);
  CHECK(last == static_cast<int>(Mixer::k_shrink_ticks) - 1);
  CHECK(tick(m)[b] == static_cast<int>(Mixer::k_shrink_ticks) + 1); // one frame skipped
  CHECK(m.stats(a).missing == 0);
}

TEST_CASE("media::Mixer buffer overrun, idle sender and a restarted sequence")
{
  Mixer m(1);
  auto a = m.add(), b = m.add();
  // A burst longer than the buffer: the oldest frames go.
  for (uint16_t s = 0; s < Mixer::k_capacity + 3; ++s)
    m.put(a, s, constant(static_cast<int16_t>(s)));
  CHECK(m.stats(a).overrun == 3);
  CHECK(tick(m)[b] == 3);

  // The sender stops: its buffer drains, then it is idle (no more missing counted).
  for (int i = 0; i < 100; ++i)
    tick(m);
  const auto missing = m.stats(a).missing;
  CHECK(missing == Mixer::k_idle_ticks);
  // It comes back with a sequence far away (a new stream after a re-INVITE).
  CHECK(m.put(a, 40000, constant(77)));
  CHECK(tick(m)[b] == 77);
  CHECK(m.stats(a).missing == missing);
}

TEST_CASE("media::tone makes a continuous sine")
{
  Frame f1, f2;
  tone(f1, 1000, 0.5, 0);
  tone(f2, 1000, 0.5, k_samples);
  CHECK(f1[0] == 0);
  CHECK(f1[2] == 16384); // 1 kHz at 8 kHz: a quarter period is 2 samples
  CHECK(f2[2] == 16384); // 160 samples = 20 whole periods
  CHECK(saturate(40000) == 32767);
  CHECK(saturate(-40000) == -32768);
  CHECK(saturate(-5) == -5);
}

TEST_SUITE_END();
