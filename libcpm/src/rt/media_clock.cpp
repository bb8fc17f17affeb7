#include "cpm/rt/media_clock.hpp"

#include <chrono>

#include "cpm/rt/guard.hpp"
#include "cpm/rt/re.hpp"

namespace cpm::media {

namespace {

uint64_t now_us()
{
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}

// At most this many overdue ticks in one wake-up, so that the loop serves its sockets.
constexpr uint64_t k_max_burst = 10;

} // namespace

struct Ticker::Impl {
  std::function<void()> fn;
  uint64_t period_us = 20000;
  uint64_t start_us = 0;
  uint64_t next = 0; // index of the next tick
  uint64_t late = 0;
  uint64_t max_delay_us = 0;
  uint64_t lag_us = 0;
  struct tmr t;

  void schedule()
  {
    const uint64_t due = start_us + next * period_us;
    const uint64_t now = now_us();
    const uint64_t wait_ms = due > now ? (due - now + 999) / 1000 : 0;
    tmr_start(&t, wait_ms, on_timer, this);
  }

  static void on_timer(void* arg) noexcept
  {
    auto& self = *static_cast<Impl*>(arg);
    for (uint64_t n = 0; n < k_max_burst; ++n) {
      const uint64_t due = self.start_us + self.next * self.period_us;
      const uint64_t now = now_us();
      if (now < due)
        break;
      const uint64_t delay = now - due;
      self.lag_us = delay;
      if (delay > self.max_delay_us)
        self.max_delay_us = delay;
      if (delay > self.period_us)
        ++self.late;
      ++self.next;
      sip::guarded({}, "media clock", [&] { self.fn(); });
    }
    self.schedule();
  }
};

Ticker::Ticker(std::function<void()> fn, uint32_t period_ms) : m(std::make_unique<Impl>())
{
  m->fn = std::move(fn);
  m->period_us = uint64_t{period_ms} * 1000;
  tmr_init(&m->t);
  // The first tick is one period from now: by then a frame has arrived.
  m->start_us = now_us() + m->period_us;
  m->schedule();
}

Ticker::~Ticker()
{
  tmr_cancel(&m->t);
}

void Ticker::stop()
{
  tmr_cancel(&m->t);
}

uint64_t Ticker::ticks() const
{
  return m->next;
}

uint64_t Ticker::late() const
{
  return m->late;
}

uint64_t Ticker::lag_us() const
{
  return m->lag_us;
}

uint64_t Ticker::max_delay_us() const
{
  return m->max_delay_us;
}

} // namespace cpm::media
