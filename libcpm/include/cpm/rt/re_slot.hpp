#pragma once
// A libre object whose allocator keeps the address of the caller's pointer, to null it when
// the object ends (sip_listen, sip_request, dnsc_query): that pointer must never move, so
// it cannot be a re_ptr (and re_out's temporary would be written to after it is gone).
// ReSlot<T> is that pointer, and releases the object when it goes away.
#include "cpm/rt/re_ptr.hpp"

namespace cpm {

template <typename T> class ReSlot {
public:
  ReSlot() = default;
  ~ReSlot() { reset(); }
  ReSlot(const ReSlot&) = delete;
  ReSlot& operator=(const ReSlot&) = delete;

  // The out-parameter for the allocator (libre keeps it: the slot must stay where it is).
  T** out() noexcept { return &m_p; }
  T* get() const noexcept { return m_p; }
  explicit operator bool() const noexcept { return m_p != nullptr; }
  // Release the object now (libre nulls the slot itself when the object ends first).
  void reset() noexcept { m_p = static_cast<T*>(mem_deref(m_p)); }

private:
  T* m_p = nullptr;
};

} // namespace cpm
