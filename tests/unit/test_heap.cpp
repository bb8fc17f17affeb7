#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "cpm/base/heap.hpp"

using namespace cpm;

namespace {

// The "THPeligible:" line of the mapping in /proc/self/smaps that holds `p`; -1 if none.
int thp_eligible(const void* p)
{
  auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= at && at < hi;
      continue;
    }
    if (inside && line.rfind("THPeligible:", 0) == 0)
      return std::stoi(line.substr(12));
  }
  return -1;
}

} // namespace

TEST_SUITE_BEGIN("heap");

TEST_CASE("heap::grown advises the stretch the heap grew by, and nothing when it did not")
{
  heap::prepare();
  heap::prepare(); // idempotent
  if (!heap::huge_pages()) {
    MESSAGE("transparent huge pages are not on offer here: nothing to advise");
    return;
  }
  heap::grown();
  size_t a0 = heap::advised();
  heap::grown();
  CHECK(heap::advised() == a0); // no growth, no advice

  // 1 KB pieces until the break has moved by more than two 16 MiB steps (whatever free
  // memory earlier tests left is used up first), at most 400 MB.
  auto* brk0 = static_cast<char*>(sbrk(0));
  std::vector<std::unique_ptr<char[]>> keep;
  while (static_cast<char*>(sbrk(0)) - brk0 < (36 << 20) && keep.size() < 400000) {
    keep.emplace_back(new char[1000]);
    keep.back()[0] = char(keep.size());
  }
  if (static_cast<char*>(sbrk(0)) - brk0 < (36 << 20)) {
    MESSAGE("this heap does not grow by brk (a sanitizer's allocator): nothing to advise");
    return;
  }
  heap::grown();
  CHECK(heap::advised() >= a0 + (32u << 20));
  CHECK(thp_eligible(keep.back().get()) == 1);
}

TEST_SUITE_END();
