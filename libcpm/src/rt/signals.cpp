// Signals delivered on the libre loop through a self-pipe per Signals.
#include "cpm/rt/signals.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdexcept>
#include <unistd.h>

#include "cpm/rt/guard.hpp"
#include "cpm/rt/re.hpp"

namespace cpm::sip {

namespace {
// For each signal, one plus the write end of the pipe of the Signals that holds it (0: none,
// as the static array starts). The handler reads it: a lock-free atomic is async-signal-safe.
std::atomic<int> g_sig_fd[NSIG];
static_assert(std::atomic<int>::is_always_lock_free);

// The write end for `sig`, or -1 when no live Signals holds it.
int fd_of(int sig) noexcept
{
  return sig > 0 && sig < NSIG ? g_sig_fd[sig].load() - 1 : -1;
}

extern "C" void sig_handler(int sig)
{
  int saved = errno;
  auto c = static_cast<unsigned char>(sig);
  int fd = fd_of(sig);
  if (fd >= 0)
    (void)!::write(fd, &c, 1);
  errno = saved;
}
} // namespace

Signals::Signals(std::vector<int> signals, std::function<void(int)> fn)
    : m_signals(std::move(signals)), m_fn(std::move(fn))
{
  for (int s : m_signals)
    if (s <= 0 || s >= NSIG || s > 255 || fd_of(s) >= 0) // one byte per signal in the pipe
      throw std::logic_error(fmt::format("signal {} is not free for sip::Signals", s));
  // Close-on-exec is a descriptor flag, given at creation (F_SETFL would ignore it).
  if (::pipe2(m_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    m_pipe[0] = m_pipe[1] = -1;
    return;
  }
  fd_listen(m_pipe[0], FD_READ, on_read, this);
  struct sigaction sa = {};
  sa.sa_handler = sig_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : m_signals) {
    g_sig_fd[s].store(m_pipe[1] + 1);
    ::sigaction(s, &sa, nullptr);
  }
}

Signals::~Signals()
{
  if (m_pipe[0] < 0)
    return;
  for (int s : m_signals) {
    std::signal(s, SIG_DFL);
    g_sig_fd[s].store(0);
  }
  fd_close(m_pipe[0]);
  ::close(m_pipe[0]);
  ::close(m_pipe[1]);
}

void Signals::on_read(int, void* arg) noexcept
{
  auto* self = static_cast<Signals*>(arg);
  unsigned char buf[16];
  ssize_t n;
  while ((n = ::read(self->m_pipe[0], buf, sizeof(buf))) > 0)
    for (ssize_t i = 0; i < n; ++i)
      guarded({}, "a signal handler", [self, sig = buf[i]] {
        if (self->m_fn)
          self->m_fn(sig);
      });
}

} // namespace cpm::sip
