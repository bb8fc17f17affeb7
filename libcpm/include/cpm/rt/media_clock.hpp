#pragma once
// The 20 ms clock of mixed audio on libre's timers: a tick per frame slot since start,
// catching up when the loop was late instead of drifting.
#include <cstdint>
#include <functional>
#include <memory>

namespace cpm::media {

class Ticker {
public:
  // Call `fn` once every `period_ms` (k_ptime_ms) from now on, on the libre loop.
  explicit Ticker(std::function<void()> fn, uint32_t period_ms = 20);
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;
  void stop();
  // Ticks run so far.
  uint64_t ticks() const;
  // Ticks that ran after their slot had ended (more than one period after it began).
  uint64_t late() const;
  // Inside the callback: how far the running tick started behind its slot, microseconds.
  uint64_t lag_us() const;
  // The largest delay of a tick behind the start of its slot, in microseconds.
  uint64_t max_delay_us() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

} // namespace cpm::media
