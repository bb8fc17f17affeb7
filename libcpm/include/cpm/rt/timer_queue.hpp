#pragma once
// One-shot timers by expiry, for owners of many timers (a proxy keeps one or two per
// transaction). libre 1.1 keeps its timers in one sorted list, so each tmr_start walks
// past every earlier timer. Here the timers wait in lanes, one per duration: a proxy starts
// thousands of timers a second but of a handful of durations (Timer E's steps, F, J, K, a
// linger), and timers of one duration started on a monotonic clock expire in the order
// they started, so each lane is a list kept in order by appending. A start or a cancel is
// O(1) and allocates nothing; the earliest timer is the earliest of the lanes' heads. The
// loop wakes once per 10 ms slot from one timerfd instead of once per timer.
//
// The queue does not know what time it is: a subclass says (now) and is told when to wake
// (wake_at). LoopTimerQueue runs on libre's loop; a unit test subclasses it with a fake
// clock and calls run_due() itself.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "cpm/base/error.hpp"

namespace cpm::rt {

class TimerQueue {
  struct Lane;

public:
  // Called on the loop when a timer expires (never while start() or cancel() runs).
  using Handler = void (*)(void* arg) noexcept;

  // A timer's place in one queue: a member of the object it times, linked into its lane
  // in place, so that starting it allocates nothing. Destroying it cancels it.
  class Timer {
  public:
    Timer() = default;
    ~Timer() { cancel(); }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
    bool armed() const { return m_queue != nullptr; }
    void cancel() noexcept;

  private:
    friend class TimerQueue;
    TimerQueue* m_queue = nullptr; // set while armed
    Lane* m_lane = nullptr;
    Timer* m_prev = nullptr; // in the lane, earlier
    Timer* m_next = nullptr; // later
    uint64_t m_at = 0;
    uint64_t m_seq = 0; // start order: equal expiries run in it
    Handler m_handler = nullptr;
    void* m_arg = nullptr;
  };

  TimerQueue() = default;
  virtual ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // (Re)start `t` to call `h(arg)` `ms` milliseconds from now().
  void start(Timer& t, uint64_t ms, Handler h, void* arg);
  // Run the handler of every timer due by now(), earliest first; a handler may start or
  // cancel timers (a timer it starts for now() or earlier runs in this call too).
  void run_due();
  // The expiry of the earliest armed timer, if any.
  std::optional<uint64_t> next_due() const;
  size_t size() const { return m_size; }

  // Milliseconds of a monotonic clock.
  virtual uint64_t now() const = 0;

protected:
  // The earliest expiry is now `at`: call run_due() then (or a little later).
  virtual void wake_at(uint64_t at) = 0;

private:
  // Timers of one duration in expiry order. A duration beyond the lanes' bound shares the
  // last lane, which then keeps its order by inserting from the tail.
  struct Lane {
    uint64_t ms = 0;
    Timer* head = nullptr;
    Timer* tail = nullptr;
  };
  static constexpr size_t k_max_lanes = 32;
  Lane& lane_for(uint64_t ms);
  void link(Lane& lane, Timer& t) noexcept;
  static void unlink(Timer& t) noexcept;
  Timer* earliest() const noexcept;

  std::vector<std::unique_ptr<Lane>> m_lanes;
  size_t m_size = 0;
  uint64_t m_seq = 0;
};

// A TimerQueue on libre's loop: tmr_jiffies() and one timerfd read by libre's fd loop,
// set to 10 ms boundaries (one wake-up for every timer due in that slot: a timer fires
// at most 10 ms late).
class LoopTimerQueue final : public TimerQueue {
public:
  static Result<std::unique_ptr<LoopTimerQueue>> create();
  ~LoopTimerQueue() override;

  uint64_t now() const override;

protected:
  void wake_at(uint64_t at) override;

private:
  LoopTimerQueue() = default;
  static void on_fd(int flags, void* arg) noexcept;
  int m_fd = -1;
  uint64_t m_armed_for = 0; // the expiry the timerfd is set for, 0: none
};

} // namespace cpm::rt
