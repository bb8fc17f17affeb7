// Signals delivered on the libre loop through a self-pipe.
#include "cpm/rt/signals.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

#include "cpm/rt/guard.hpp"
#include "cpm/rt/re.hpp"

namespace cpm::sip {

namespace {
// The write end of the current Signals' pipe, for the signal handler.
volatile int g_sig_fd = -1;

extern "C" void sig_handler(int sig)
{
  int saved = errno;
  auto c = static_cast<unsigned char>(sig);
  if (g_sig_fd >= 0)
    (void)!::write(g_sig_fd, &c, 1);
  errno = saved;
}
} // namespace

Signals::Signals(std::vector<int> signals, std::function<void(int)> fn)
    : m_signals(std::move(signals)), m_fn(std::move(fn))
{
  if (::pipe(m_pipe) != 0) {
    m_pipe[0] = m_pipe[1] = -1;
    return;
  }
  for (int fd : m_pipe)
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK | O_CLOEXEC);
  fd_listen(m_pipe[0], FD_READ, on_read, this);
  g_sig_fd = m_pipe[1];
  struct sigaction sa = {};
  sa.sa_handler = sig_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : m_signals)
    ::sigaction(s, &sa, nullptr);
}

Signals::~Signals()
{
  if (m_pipe[0] < 0)
    return;
  for (int s : m_signals)
    std::signal(s, SIG_DFL);
  g_sig_fd = -1;
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
