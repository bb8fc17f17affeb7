#pragma once
// Lines of a file descriptor (stdin) read on the loop: a pipe, socket or terminal is
// watched, a regular file (or /dev/null, which epoll refuses) is read at once. The
// descriptor is non-blocking while it is read; its flags come back when this goes.
#include <functional>
#include <string>

#include "cpm/ua/log.hpp"

namespace cpm::ua {

class LineInput {
public:
  // `on_line` gets each line without its CR LF, `on_end` comes once at the end of input
  // (after the unterminated rest went to on_line). A read error is an end (diagnosed).
  LineInput(int fd, const Log& log, std::function<void(const std::string&)> on_line,
            std::function<void()> on_end);
  ~LineInput();
  LineInput(const LineInput&) = delete;
  LineInput& operator=(const LineInput&) = delete;

  // Start reading (a regular file is read to its end before this returns).
  void start();
  // Stop watching (start() resumes, unless the end came).
  void stop();
  bool ended() const { return m_eof; }

private:
  void read_some();
  static void fd_h(int flags, void* arg) noexcept;

  int m_fd;
  Log m_log;
  std::function<void(const std::string&)> m_on_line;
  std::function<void()> m_on_end;
  bool m_eof = false;
  bool m_watching = false;
  int m_flags = -1;
  std::string m_buf;
};

} // namespace cpm::ua
