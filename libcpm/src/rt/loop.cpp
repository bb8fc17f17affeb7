// libre's main loop: the library's life, run/stop, one-shot timers, SIGHUP on the loop,
// and what a callback reports of an exception.
#include "cpm/rt/loop.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

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
  int code = 0;
  std::function<void(int)> on_signal;
};
LoopState g_loop;

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
  g_loop.code = 0;
  int err = re_main(signal_h);
  g_loop.running = false;
  g_loop.pending = false;
  if (err && err != EALREADY)
    return g_loop.code ? g_loop.code : 3;
  return g_loop.code;
}

void stop(int code)
{
  g_loop.code = code;
  if (g_loop.running)
    re_cancel();
  else
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

namespace {
// The write end of the current Hangup's pipe, for the signal handler.
volatile int g_hup_fd = -1;

extern "C" void hup_handler(int)
{
  int saved = errno;
  char c = 'h';
  if (g_hup_fd >= 0)
    (void)!::write(g_hup_fd, &c, 1);
  errno = saved;
}
} // namespace

Hangup::Hangup(std::function<void()> fn) : m_fn(std::move(fn))
{
  if (::pipe(m_pipe) != 0) {
    m_pipe[0] = m_pipe[1] = -1;
    return;
  }
  for (int fd : m_pipe)
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK | O_CLOEXEC);
  fd_listen(m_pipe[0], FD_READ, on_read, this);
  g_hup_fd = m_pipe[1];
  struct sigaction sa = {};
  sa.sa_handler = hup_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGHUP, &sa, nullptr);
}

Hangup::~Hangup()
{
  if (m_pipe[0] < 0)
    return;
  std::signal(SIGHUP, SIG_DFL);
  g_hup_fd = -1;
  fd_close(m_pipe[0]);
  ::close(m_pipe[0]);
  ::close(m_pipe[1]);
}

void Hangup::on_read(int, void* arg) noexcept
{
  auto* self = static_cast<Hangup*>(arg);
  char buf[16];
  while (::read(self->m_pipe[0], buf, sizeof(buf)) > 0) {
  }
  guarded({}, "the SIGHUP handler", [self] {
    if (self->m_fn)
      self->m_fn();
  });
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
