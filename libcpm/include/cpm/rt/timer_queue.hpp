#pragma once
// One-shot timers by expiry, for owners of many timers (a proxy keeps one or two per
// transaction). libre 1.1 keeps its timers in one sorted list, so each tmr_start walks
// past every earlier timer; here a start costs O(log n), and the loop wakes once per 10 ms
// slot from one timerfd instead of once per timer.
//
// The queue does not know what time it is: a subclass says (now) and is told when to wake
// (wake_at). LoopTimerQueue runs on libre's loop; a unit test subclasses it with a fake
// clock and calls run_due() itself.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "cpm/base/error.hpp"

namespace cpm::rt {

class TimerQueue {
public:
  // Called on the loop when a timer expires (never while start() or cancel() runs).
  using Handler = void (*)(void* arg) noexcept;

  // A timer's place in one queue: a member of the object it times, so that starting it
  // allocates nothing but the queue's node, and that only the first time: a timer that
  // fires or is cancelled keeps its node for its next start (a proxy's pooled
  // transactions start theirs per message). Destroying it cancels it.
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
    std::multimap<uint64_t, Timer*>::iterator m_at;
    std::multimap<uint64_t, Timer*>::node_type m_node; // kept while not armed
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
  size_t size() const { return m_timers.size(); }

  // Milliseconds of a monotonic clock.
  virtual uint64_t now() const = 0;

protected:
  // The earliest expiry is now `at`: call run_due() then (or a little later).
  virtual void wake_at(uint64_t at) = 0;

private:
  std::multimap<uint64_t, Timer*> m_timers;
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
