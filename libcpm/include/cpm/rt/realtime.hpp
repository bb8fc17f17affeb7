#pragma once
// Real-time scheduling for a process whose 20 ms media clock must not wait behind others'
// work (a focus mixing hundreds of participants: BENCHMARKS.md, bench/mix.sh).
#include "cpm/base/error.hpp"

namespace cpm::rt {

// The highest SCHED_FIFO priority Linux gives (sched_get_priority_max).
constexpr int k_max_realtime_priority = 99;

// Run the process (libre's loop is its one thread) under SCHED_FIFO at `priority`
// (1..k_max_realtime_priority; 0 leaves it alone), not inherited by children
// (SCHED_RESET_ON_FORK). The error (code 1) says why, as "cannot take real-time priority N:
// ..." (EPERM: not permitted without CAP_SYS_NICE or an RLIMIT_RTPRIO of N).
Result<void> set_realtime_priority(int priority);

} // namespace cpm::rt
