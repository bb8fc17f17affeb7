// See heap.hpp: glibc's heap in large steps, advised for transparent huge pages as it grows.
#include "cpm/base/heap.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 // Linux 6.1's value; glibc 2.36's headers predate it
#endif

namespace cpm::heap {

namespace {

constexpr uintptr_t k_huge = uintptr_t(2) << 20; // x86-64's (and arm64's 4 KiB-granule) PMD size

struct State {
  bool prepared = false;
  bool huge = false;
  uintptr_t advised_from = 0; // where the advised stretch starts (2 MiB-aligned)
  uintptr_t advised_to = 0;   // and ends: nothing past it is advised yet
};
State g_state;

uintptr_t align_up(uintptr_t v)
{
  return (v + k_huge - 1) & ~(k_huge - 1);
}

bool thp_on_request()
{
  std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
  if (!f)
    return false;
  char line[128] = {};
  bool ok = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  // "always [madvise] never": the bracketed word is the setting.
  return ok && (std::strstr(line, "[always]") || std::strstr(line, "[madvise]"));
}

} // namespace

void prepare() noexcept
{
  if (g_state.prepared)
    return;
  g_state.prepared = true;
  mallopt(M_TOP_PAD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  g_state.huge = thp_on_request();
  g_state.advised_from = g_state.advised_to = align_up(reinterpret_cast<uintptr_t>(sbrk(0)));
}

void grown() noexcept
{
  if (!g_state.huge)
    return;
  uintptr_t end = reinterpret_cast<uintptr_t>(sbrk(0)) & ~(k_huge - 1);
  if (end == g_state.advised_to)
    return;
  if (end < g_state.advised_to) { // the heap shrank: advise again from there when it grows
    g_state.advised_to = end < g_state.advised_from ? g_state.advised_from : end;
    return;
  }
  // Errors are left alone: an address the heap no longer maps (ENOMEM) is advised next time
  // from where the heap stands; a kernel without THP said so through the file above.
  auto* from = reinterpret_cast<void*>(g_state.advised_to);
  (void)madvise(from, end - g_state.advised_to, MADV_HUGEPAGE);
  // The first 2 MiB of the stretch held the heap's old top, touched in 4 KiB pages before
  // it could be advised, so the rest of it would still fault page by page (one 2 MiB range
  // in each 16 MiB step): make it one huge page now (Linux 6.1; EINVAL before, left alone).
  (void)madvise(from, k_huge, MADV_COLLAPSE);
  g_state.advised_to = end;
}

size_t advised() noexcept
{
  return g_state.advised_to - g_state.advised_from;
}

bool huge_pages() noexcept
{
  return g_state.huge;
}

} // namespace cpm::heap
