// rt::TimerQueue on a fake clock.
#include <doctest/doctest.h>

#include "cpm/rt/timer_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

class FakeTimers final : public cpm::rt::TimerQueue {
public:
  uint64_t t = 0;
  std::vector<uint64_t> wakes;
  uint64_t now() const override { return t; }

protected:
  void wake_at(uint64_t at) override { wakes.push_back(at); }
};

struct Log {
  std::vector<std::string> fired;
  FakeTimers* q = nullptr;
  cpm::rt::TimerQueue::Timer again;
};

void fire_a(void* arg) noexcept
{
  static_cast<Log*>(arg)->fired.push_back("a");
}
void fire_b(void* arg) noexcept
{
  static_cast<Log*>(arg)->fired.push_back("b");
}
// Starts `again` for now: it runs in the same run_due().
void fire_restart(void* arg) noexcept
{
  auto& log = *static_cast<Log*>(arg);
  log.fired.push_back("restart");
  log.q->start(log.again, 0, fire_a, arg);
}

} // namespace

TEST_SUITE_BEGIN("timer_queue");

TEST_CASE("rt::TimerQueue fires due timers in expiry order")
{
  FakeTimers q;
  Log log;
  log.q = &q;
  cpm::rt::TimerQueue::Timer a, b;
  q.start(a, 20, fire_a, &log);
  q.start(b, 10, fire_b, &log);
  CHECK(q.wakes == std::vector<uint64_t>{20, 10});
  CHECK(q.next_due() == 10);
  q.t = 15;
  q.run_due();
  CHECK(log.fired == std::vector<std::string>{"b"});
  CHECK_FALSE(b.armed());
  CHECK(a.armed());
  CHECK(q.wakes.back() == 20);
  q.t = 20;
  q.run_due();
  CHECK(log.fired == std::vector<std::string>{"b", "a"});
  CHECK(q.size() == 0);
  CHECK_FALSE(q.next_due());
}

TEST_CASE("rt::TimerQueue: restart, cancel, destruction")
{
  FakeTimers q;
  Log log;
  log.q = &q;
  SUBCASE("starting again moves the timer")
  {
    cpm::rt::TimerQueue::Timer a;
    q.start(a, 10, fire_a, &log);
    q.start(a, 30, fire_a, &log);
    CHECK(q.size() == 1);
    q.t = 20;
    q.run_due();
    CHECK(log.fired.empty());
  }
  SUBCASE("a cancelled or destroyed timer never fires")
  {
    cpm::rt::TimerQueue::Timer a;
    q.start(a, 10, fire_a, &log);
    a.cancel();
    {
      cpm::rt::TimerQueue::Timer b;
      q.start(b, 10, fire_b, &log);
    }
    q.t = 10;
    q.run_due();
    CHECK(log.fired.empty());
    CHECK(q.size() == 0);
  }
  SUBCASE("a handler may start a timer that is already due")
  {
    cpm::rt::TimerQueue::Timer r;
    q.start(r, 5, fire_restart, &log);
    q.t = 5;
    q.run_due();
    CHECK(log.fired == std::vector<std::string>{"restart", "a"});
  }
  SUBCASE("a timer outliving its queue is disarmed")
  {
    cpm::rt::TimerQueue::Timer a;
    {
      FakeTimers q2;
      q2.start(a, 10, fire_a, &log);
    }
    CHECK_FALSE(a.armed());
  }
}

TEST_CASE("rt::TimerQueue: a timer that fired or was cancelled starts again in order")
{
  // Each keeps its queue node between starts (no allocation per start): the node must
  // come back with its new expiry, in the right place, also into another queue.
  FakeTimers q;
  Log log;
  cpm::rt::TimerQueue::Timer a, b;
  q.start(a, 10, fire_a, &log);
  q.start(b, 30, fire_b, &log);
  q.t = 10;
  q.run_due(); // a fires: its node is kept
  CHECK(log.fired == std::vector<std::string>{"a"});
  CHECK(q.size() == 1);
  q.start(a, 10, fire_a, &log); // at 20, before b
  CHECK(q.size() == 2);
  CHECK(q.next_due() == 20);
  b.cancel(); // b keeps its node too
  CHECK(q.size() == 1);
  q.start(b, 5, fire_b, &log); // at 15, now before a
  CHECK(q.next_due() == 15);
  q.t = 30;
  q.run_due();
  CHECK(log.fired == std::vector<std::string>{"a", "b", "a"});
  FakeTimers other; // a node from one queue serves in another
  q.start(a, 1, fire_a, &log);
  other.start(a, 7, fire_b, &log);
  CHECK(q.size() == 0);
  CHECK(other.next_due() == 7);
  other.t = 7;
  other.run_due();
  CHECK(log.fired.back() == "b");
  CHECK(q.next_due() == std::nullopt);
}

namespace {

struct Numbered {
  std::vector<int>* fired = nullptr;
  int id = 0;
};
void fire_numbered(void* arg) noexcept
{
  auto& n = *static_cast<Numbered*>(arg);
  n.fired->push_back(n.id);
}

} // namespace

TEST_CASE("rt::TimerQueue: equal expiries of different durations run in start order")
{
  FakeTimers q;
  std::vector<int> fired;
  cpm::rt::TimerQueue::Timer t[3];
  Numbered n[3] = {{&fired, 0}, {&fired, 1}, {&fired, 2}};
  q.start(t[0], 30, fire_numbered, &n[0]); // at 30
  q.t = 10;
  q.start(t[1], 20, fire_numbered, &n[1]); // at 30, started later, another lane
  q.t = 25;
  q.start(t[2], 5, fire_numbered, &n[2]); // at 30, a third lane
  q.t = 30;
  q.run_due();
  CHECK(fired == std::vector<int>{0, 1, 2});
}

TEST_CASE("rt::TimerQueue against a sorted model: many durations, cancels, a clock that "
          "stands still")
{
  // More distinct durations than the queue has lanes (they then share one), restarts,
  // cancels and destruction at random: every run_due() must fire exactly the timers due,
  // by expiry and then start order, as a sorted (expiry, start) model says.
  FakeTimers q;
  std::vector<int> fired;
  constexpr int k_n = 300;
  auto timers = std::make_unique<cpm::rt::TimerQueue::Timer[]>(k_n);
  std::vector<Numbered> nums(k_n);
  for (int i = 0; i < k_n; ++i)
    nums[size_t(i)] = {&fired, i};
  std::map<int, std::pair<uint64_t, uint64_t>> model; // id -> (at, start order)
  uint64_t order = 0;
  uint32_t seed = 12345;
  auto rnd = [&seed](uint32_t m) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % m;
  };
  for (int step = 0; step < 20000; ++step) {
    int id = int(rnd(k_n));
    switch (rnd(10)) {
    case 0:
      timers[size_t(id)].cancel();
      model.erase(id);
      break;
    case 1:
    case 2: { // advance the clock (or not) and run what is due
      q.t += rnd(4) * rnd(40);
      std::vector<std::pair<std::pair<uint64_t, uint64_t>, int>> due;
      for (auto& [i, key] : model)
        if (key.first <= q.t)
          due.push_back({key, i});
      std::sort(due.begin(), due.end());
      std::vector<int> want;
      for (auto& d : due) {
        want.push_back(d.second);
        model.erase(d.second);
      }
      fired.clear();
      q.run_due();
      REQUIRE(fired == want);
      break;
    }
    default: { // start (or restart) with one of 40 durations
      uint64_t ms = 5 * (1 + rnd(40));
      q.start(timers[size_t(id)], ms, fire_numbered, &nums[size_t(id)]);
      model[id] = {q.t + ms, ++order};
    }
    }
    REQUIRE(q.size() == model.size());
    if (model.empty())
      REQUIRE_FALSE(q.next_due());
    else {
      uint64_t first = UINT64_MAX;
      for (auto& [i, key] : model)
        first = std::min(first, key.first);
      REQUIRE(q.next_due() == first);
    }
    REQUIRE(timers[size_t(id)].armed() == (model.count(id) == 1));
  }
}

TEST_SUITE_END();
