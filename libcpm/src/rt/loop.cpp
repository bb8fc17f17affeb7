// libre's main loop: the library's life, run/stop, one-shot timers, and what a callback
// reports of an exception.
#include "cpm/rt/loop.hpp"

#include <cerrno>
#include <fmt/format.h>

#include "cpm/base/events.hpp"
#include "cpm/base/heap.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/re.hpp"
#define DEBUG_MODULE "cpm"
#define DEBUG_LEVEL 0
#include <re_dbg.h>

namespace cpm::sip {

namespace {

// State of the one main loop of the process.
struct LoopState {
  bool running = false;
  bool pending = false;
  bool stopping = false; // stop() was called while the loop ran
  int code = 0;
  std::function<void(int)> on_signal;
};
LoopState g_loop;

// events::written() while the loop runs: one 0 ms timer flushes the pending streams. libre's
// re_main calls tmr_poll after fd_poll has run the pass's descriptor handlers, and a 0 ms
// timer started there is due in that tmr_poll; one started from a timer handler is run by
// the same tmr_poll or, if the clock ticked, makes the next poll wait at most 1 ms.
struct tmr g_flush;

void flush_h(void*) noexcept
{
  events::flush_pending();
}

void arm_flush()
{
  tmr_start(&g_flush, 0, flush_h, nullptr);
}

// The flusher for one run(): set when it starts, and when it returns (stop() or an error)
// the timer is cancelled and whatever is pending flushed.
class DeferFlushes {
public:
  DeferFlushes() : m_prev(events::set_flusher(arm_flush)) {}
  ~DeferFlushes()
  {
    tmr_cancel(&g_flush);
    events::set_flusher(m_prev);
  }
  DeferFlushes(const DeferFlushes&) = delete;
  DeferFlushes& operator=(const DeferFlushes&) = delete;

private:
  events::Flusher m_prev;
};

void signal_h(int sig) noexcept
{
  if (g_loop.on_signal) {
    try {
      g_loop.on_signal(sig);
    } catch (...) {
      stop(1);
    }
  } else {
    stop(0);
  }
}

} // namespace

Library::Library()
{
  heap::prepare(); // every program that runs libre's loop may serve: heap.hpp
  libre_init();
  dbg_init(DBG_WARNING, DBG_NONE);
}

Library::~Library()
{
  libre_close();
}

int run(std::function<void(int sig)> on_signal)
{
  g_loop.on_signal = std::move(on_signal);
  if (g_loop.pending) {
    g_loop.pending = false;
    return g_loop.code;
  }
  g_loop.running = true;
  g_loop.stopping = false;
  g_loop.code = 0;
  int err;
  {
    DeferFlushes defer;
    err = re_main(signal_h);
  }
  g_loop.running = false;
  g_loop.pending = false;
  if (err && err != EALREADY)
    return g_loop.code ? g_loop.code : 3;
  return g_loop.code;
}

bool stopping()
{
  return g_loop.running && g_loop.stopping;
}

void stop(int code)
{
  g_loop.code = code;
  if (g_loop.running) {
    g_loop.stopping = true;
    re_cancel();
  } else
    g_loop.pending = true;
}

struct Timer::Impl {
  struct tmr t;
  std::function<void()> fn;
  static void h(void* arg) noexcept
  {
    auto* self = static_cast<Impl*>(arg);
    auto fn = std::move(self->fn);
    self->fn = nullptr;
    try {
      if (fn)
        fn();
    } catch (const std::exception& e) {
      internal_error({}, "timer", e.what());
      stop(1);
    } catch (...) {
      internal_error({}, "timer", "unknown exception");
      stop(1);
    }
  }
};

Timer::Timer() : m(std::make_unique<Impl>())
{
  tmr_init(&m->t);
}
Timer::~Timer()
{
  tmr_cancel(&m->t);
}
void Timer::start(uint64_t ms, std::function<void()> fn)
{
  m->fn = std::move(fn);
  tmr_start(&m->t, ms, Impl::h, m.get());
}
void Timer::cancel()
{
  tmr_cancel(&m->t);
  m->fn = nullptr;
}
bool Timer::active() const
{
  return tmr_isrunning(&m->t);
}

void internal_error(const Diag& diag, const char* where, const char* what) noexcept
{
  try {
    auto line = fmt::format("internal error in {}: {}", where, what);
    if (diag)
      diag(line);
    else
      fmt::print(stderr, "cpm: {}\n", line);
  } catch (...) {
  }
}

int set_max_fds(int n)
{
  (void)fd_setsize(0); // forget the default poll set
  return fd_setsize(n);
}

uint64_t jiffies()
{
  return tmr_jiffies();
}

} // namespace cpm::sip
