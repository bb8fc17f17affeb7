// Lines of a file descriptor read on libre's loop.
#include "cpm/ua/line_input.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cpm/rt/sip.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::ua {

namespace {

// Largest line buffered: a longer one goes out in pieces.
constexpr size_t k_max_line = 1 << 20;

// Whether epoll takes `fd` (a pipe, socket or terminal; not a regular file or /dev/null),
// asked quietly: libre's fd_listen prints a warning when it does not.
bool pollable(int fd)
{
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    return false;
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  bool ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
  ::close(ep);
  return ok;
}

} // namespace

LineInput::LineInput(int fd, const Log& log, std::function<void(const std::string&)> on_line,
                     std::function<void()> on_end)
    : m_fd(fd), m_log(log), m_on_line(std::move(on_line)), m_on_end(std::move(on_end))
{
}

LineInput::~LineInput()
{
  stop();
  if (m_flags >= 0)
    (void)fcntl(m_fd, F_SETFL, m_flags);
}

void LineInput::start()
{
  if (m_watching || m_eof)
    return;
  if (m_flags < 0)
    m_flags = fcntl(m_fd, F_GETFL);
  if (m_flags >= 0)
    (void)fcntl(m_fd, F_SETFL, m_flags | O_NONBLOCK);
  if (pollable(m_fd) && fd_listen(m_fd, FD_READ, fd_h, this) == 0) {
    m_watching = true;
    return;
  }
  // A regular file (or /dev/null) cannot be polled: it is all there, read it now.
  while (!m_eof)
    read_some();
}

void LineInput::stop()
{
  if (m_watching)
    fd_close(m_fd);
  m_watching = false;
}

void LineInput::read_some()
{
  char buf[4096];
  ssize_t n = ::read(m_fd, buf, sizeof(buf));
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR)
      return;
    m_log.diag(fmt::format("stdin: {}", std::strerror(errno)));
    n = 0;
  }
  if (n == 0) {
    m_eof = true;
    stop();
    if (!m_buf.empty()) {
      std::string rest = std::move(m_buf);
      m_buf.clear();
      m_on_line(rest);
    }
    m_on_end();
    return;
  }
  m_buf.append(buf, static_cast<size_t>(n));
  size_t nl;
  while ((nl = m_buf.find('\n')) != std::string::npos) {
    std::string line = m_buf.substr(0, nl);
    m_buf.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    m_on_line(line);
  }
  if (m_buf.size() > k_max_line) {
    std::string piece = std::move(m_buf);
    m_buf.clear();
    m_on_line(piece);
  }
}

void LineInput::fd_h(int flags, void* arg) noexcept
{
  (void)flags;
  auto* self = static_cast<LineInput*>(arg);
  sip::guarded(self->m_log.fatal(), "the stdin handler", [&] { self->read_some(); });
}

} // namespace cpm::ua
