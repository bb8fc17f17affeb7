// One-shot timers by expiry on a multimap, and the timerfd that runs them on libre's loop.
#include "cpm/rt/timer_queue.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cpm/rt/re.hpp"

namespace cpm::rt {

void TimerQueue::Timer::cancel() noexcept
{
  if (!m_queue)
    return;
  m_node = m_queue->m_timers.extract(m_at);
  m_queue = nullptr; // a timerfd set for it may wake the loop once for nothing: harmless
}

TimerQueue::~TimerQueue()
{
  for (auto& [at, t] : m_timers)
    t->m_queue = nullptr;
}

void TimerQueue::start(Timer& t, uint64_t ms, Handler h, void* arg)
{
  t.cancel();
  // The node of its last start, if any: no allocation (extract and insert move it).
  if (t.m_node) {
    t.m_node.key() = now() + ms;
    t.m_at = m_timers.insert(std::move(t.m_node));
  } else {
    t.m_at = m_timers.emplace(now() + ms, &t);
  }
  t.m_queue = this;
  t.m_handler = h;
  t.m_arg = arg;
  wake_at(m_timers.begin()->first);
}

void TimerQueue::run_due()
{
  uint64_t t_now = now();
  while (!m_timers.empty() && m_timers.begin()->first <= t_now) {
    Timer& t = *m_timers.begin()->second;
    t.m_node = m_timers.extract(m_timers.begin());
    t.m_queue = nullptr;
    t.m_handler(t.m_arg); // may destroy t
  }
  if (!m_timers.empty())
    wake_at(m_timers.begin()->first);
}

std::optional<uint64_t> TimerQueue::next_due() const
{
  if (m_timers.empty())
    return std::nullopt;
  return m_timers.begin()->first;
}

Result<std::unique_ptr<LoopTimerQueue>> LoopTimerQueue::create()
{
  std::unique_ptr<LoopTimerQueue> q(new LoopTimerQueue());
  q->m_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (q->m_fd < 0)
    return fail(fmt::format("cannot create a timer: {}", std::strerror(errno)), 3);
  if (int err = fd_listen(q->m_fd, FD_READ, on_fd, q.get()); err)
    return fail(fmt::format("cannot watch a timer: {}", std::strerror(err)), 3);
  return q;
}

LoopTimerQueue::~LoopTimerQueue()
{
  if (m_fd >= 0) {
    fd_close(m_fd);
    ::close(m_fd);
  }
}

uint64_t LoopTimerQueue::now() const
{
  return tmr_jiffies();
}

void LoopTimerQueue::wake_at(uint64_t at)
{
  uint64_t slot = (at + 9) / 10 * 10;
  if (m_armed_for && m_armed_for <= slot)
    return;
  m_armed_for = slot;
  uint64_t t_now = now();
  uint64_t d = slot > t_now ? slot - t_now : 0;
  struct itimerspec its {};
  its.it_value.tv_sec = time_t(d / 1000);
  its.it_value.tv_nsec = d ? long(d % 1000) * 1000000L : 1; // 0 would disarm it
  (void)timerfd_settime(m_fd, 0, &its, nullptr);
}

void LoopTimerQueue::on_fd(int, void* arg) noexcept
{
  auto& self = *static_cast<LoopTimerQueue*>(arg);
  uint64_t n;
  while (::read(self.m_fd, &n, sizeof(n)) > 0) {
  }
  self.m_armed_for = 0;
  self.run_due();
}

} // namespace cpm::rt
