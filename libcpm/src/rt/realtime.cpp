// SCHED_FIFO for the process.
#include "cpm/rt/realtime.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sched.h>

namespace cpm::rt {

Result<void> set_realtime_priority(int priority)
{
  if (priority == 0)
    return {};
  if (priority < 0 || priority > k_max_realtime_priority)
    return fail(
        fmt::format("real-time priority {} is not in 1..{}", priority, k_max_realtime_priority), 2);
  struct sched_param param = {};
  param.sched_priority = priority;
  if (::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0)
    return {};
  const int err = errno;
  std::string why = std::strerror(err);
  if (err == EPERM)
    why += " (it needs root, CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least the priority: "
           "ulimit -r, limits.conf(5) rtprio)";
  return fail(fmt::format("cannot take real-time priority {}: {}", priority, why), 1);
}

} // namespace cpm::rt
