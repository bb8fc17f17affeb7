#pragma once
// Ownership of libre's reference-counted objects: re_ptr<T> is a unique_ptr whose deleter
// is mem_deref, so a libre object is released exactly once, when its owner goes away.
#include <memory>

extern "C" void* mem_deref(void* data);

namespace cpm {

struct ReDeref {
  void operator()(void* p) const noexcept { mem_deref(p); }
};

template <typename T> using re_ptr = std::unique_ptr<T, ReDeref>;

// Take ownership of a reference libre handed out (an allocator's out-parameter).
template <typename T> re_ptr<T> re_adopt(T* p) noexcept
{
  return re_ptr<T>(p);
}

} // namespace cpm
