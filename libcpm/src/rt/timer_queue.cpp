// One-shot timers by expiry in lanes of one duration each, and the timerfd that runs them on
// libre's loop.
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
  TimerQueue::unlink(*this);
  // a timerfd set for it may wake the loop once for nothing: harmless
}

TimerQueue::~TimerQueue()
{
  for (auto& lane : m_lanes)
    for (Timer* t = lane->head; t; t = t->m_next)
      t->m_queue = nullptr;
}

TimerQueue::Lane& TimerQueue::lane_for(uint64_t ms)
{
  for (auto& lane : m_lanes)
    if (lane->ms == ms)
      return *lane;
  if (m_lanes.size() < k_max_lanes) {
    m_lanes.push_back(std::make_unique<Lane>());
    m_lanes.back()->ms = ms;
    return *m_lanes.back();
  }
  return *m_lanes.back(); // shared: link() inserts in order
}

// In expiry order, after any equal expiry (start order): from the tail, where a timer of the
// lane's own duration always goes.
void TimerQueue::link(Lane& lane, Timer& t) noexcept
{
  Timer* after = lane.tail;
  while (after && after->m_at > t.m_at)
    after = after->m_prev;
  t.m_lane = &lane;
  t.m_prev = after;
  t.m_next = after ? after->m_next : lane.head;
  (t.m_next ? t.m_next->m_prev : lane.tail) = &t;
  (after ? after->m_next : lane.head) = &t;
  t.m_queue = this;
  ++m_size;
}

void TimerQueue::unlink(Timer& t) noexcept
{
  Lane& lane = *t.m_lane;
  (t.m_prev ? t.m_prev->m_next : lane.head) = t.m_next;
  (t.m_next ? t.m_next->m_prev : lane.tail) = t.m_prev;
  t.m_prev = t.m_next = nullptr;
  t.m_lane = nullptr;
  --t.m_queue->m_size;
  t.m_queue = nullptr;
}

TimerQueue::Timer* TimerQueue::earliest() const noexcept
{
  Timer* best = nullptr;
  for (const auto& lane : m_lanes) {
    Timer* h = lane->head;
    if (h && (!best || h->m_at < best->m_at || (h->m_at == best->m_at && h->m_seq < best->m_seq)))
      best = h;
  }
  return best;
}

void TimerQueue::start(Timer& t, uint64_t ms, Handler h, void* arg)
{
  t.cancel();
  t.m_at = now() + ms;
  t.m_seq = ++m_seq;
  t.m_handler = h;
  t.m_arg = arg;
  link(lane_for(ms), t);
  wake_at(earliest()->m_at);
}

void TimerQueue::run_due()
{
  uint64_t t_now = now();
  for (Timer* t = earliest(); t && t->m_at <= t_now; t = earliest()) {
    unlink(*t);
    t->m_handler(t->m_arg); // may destroy t
  }
  if (Timer* t = earliest())
    wake_at(t->m_at);
}

std::optional<uint64_t> TimerQueue::next_due() const
{
  if (Timer* t = earliest())
    return t->m_at;
  return std::nullopt;
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
