#pragma once
// Signals a program acts on (SIGUSR1, SIGUSR2) delivered on the libre loop through a
// self-pipe, never in signal context.
#include <functional>
#include <vector>

namespace cpm::sip {

class Signals {
public:
  // While alive, each of `signals` calls `fn(signal)` on the loop. One at a time per process.
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

} // namespace cpm::sip
