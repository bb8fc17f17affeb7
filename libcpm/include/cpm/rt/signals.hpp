#pragma once
// Signals a program acts on (SIGHUP, SIGUSR1, SIGUSR2) delivered on the libre loop through a
// self-pipe, never in signal context.
#include <csignal>
#include <functional>
#include <vector>

namespace cpm::sip {

class Signals {
public:
  // While alive, each of `signals` calls `fn(signal)` on the loop. Several may be alive at
  // once, each with its own signals: a signal another live Signals holds is a programming
  // error (std::logic_error).
  Signals(std::vector<int> signals, std::function<void(int)> fn);
  ~Signals();
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;

private:
  static void on_read(int flags, void* arg) noexcept;
  std::vector<int> m_signals;
  std::function<void(int)> m_fn;
  int m_pipe[2] = {-1, -1};
};

// While alive, SIGHUP calls `fn` on the loop (daemons reload their config).
class Hangup {
public:
  explicit Hangup(std::function<void()> fn)
      : m_signals({SIGHUP}, [fn = std::move(fn)](int) { fn(); })
  {
  }

private:
  Signals m_signals;
};

} // namespace cpm::sip
