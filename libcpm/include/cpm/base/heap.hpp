#pragma once
// The heap of a program that serves: grown in large steps, kept once grown, and backed by
// transparent huge pages where the kernel offers them on request.
//
// A proxy's heap grows for as long as its transactions linger (Timer J keeps each
// completed UDP transaction for 32 s), so for the first half minute under load nearly
// every transaction lands on memory never touched before. With 4 KiB pages that is a page
// fault per page: about two per Figure 5+6 message at each core, a tenth of its CPU on a
// paravirtualised machine (BENCHMARKS.md, "huge pages for the heap"). glibc can ask for
// huge pages itself (its tunable glibc.malloc.hugetlb=1), but only when the environment
// says so at exec; this does the same from inside: it advises the kernel (MADV_HUGEPAGE) of
// each new stretch of the heap as the heap grows, so that the next touch of it faults in
// 2 MiB at once.
#include <cstddef>

namespace cpm::heap {

// At the start of a program: glibc grows the heap (brk) in steps of 16 MiB, keeps up to
// 64 MiB of free memory at the top instead of handing it back, and serves allocations up to
// 4 MiB from the heap instead of a mapping each. Whether the kernel's transparent huge
// pages are "always" or "madvise" (/sys/kernel/mm/transparent_hugepage/enabled) is read
// once; with "never", or where the file is missing, grown() does nothing. Idempotent.
void prepare() noexcept;

// Called after work that may have grown the heap (a burst of datagrams): advise the kernel
// of the 2 MiB-aligned stretch the heap has grown by since the last call. Costs a pointer
// comparison when the heap has not grown (sbrk(0) is glibc's cached break).
void grown() noexcept;

// Bytes of heap advised so far (tests).
size_t advised() noexcept;

// Whether prepare() found huge pages on offer.
bool huge_pages() noexcept;

} // namespace cpm::heap
