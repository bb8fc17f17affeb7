#pragma once
// libre's main loop: the library's life, run until stop() or a signal, one-shot timers.
#include <cstdint>
#include <functional>
#include <memory>

namespace cpm::sip {

// libre_init()/libre_close() for the life of a process (or a test).
class Library {
public:
  Library();
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

// Run libre's main loop until stop() or SIGINT/SIGTERM. `on_signal` is called from the loop
// (not from signal context) for SIGINT/SIGTERM; when empty, a signal stops the loop with 0.
// Returns the code given to stop().
int run(std::function<void(int sig)> on_signal = {});
// Ask run() to return `code` (safe from any libre callback; a stop before run() is kept).
void stop(int code);
// Whether stop() was called while run() runs: a reader that drains a socket leaves the rest
// of it, as libre's loop would, once the program has said it is done.
bool stopping();
// Call `fn` after `ms` milliseconds on the loop (one-shot). The returned handle cancels on
// destruction.
class Timer {
public:
  Timer();
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void start(uint64_t ms, std::function<void()> fn);
  void cancel();
  bool active() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m;
};
// Let libre's loop watch file descriptors up to `n` (libre_init allows 1024: a focus with
// hundreds of RTP streams, two sockets each, needs more). Call before any socket is open.
int set_max_fds(int n);

// Milliseconds of a monotonic clock (libre's tmr_jiffies).
uint64_t jiffies();

} // namespace cpm::sip
