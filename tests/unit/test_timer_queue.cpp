// rt::TimerQueue on a fake clock.
#include <doctest/doctest.h>

#include "cpm/rt/timer_queue.hpp"

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

TEST_SUITE_END();
