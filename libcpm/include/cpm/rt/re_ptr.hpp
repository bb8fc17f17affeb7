#pragma once
// Ownership of libre's reference-counted objects: re_ptr<T> is a unique_ptr whose deleter
// is mem_deref, so a libre object is released exactly once, when its owner goes away.
#include <memory>
#include <type_traits>

extern "C" void* mem_deref(void* data);
extern "C" void* mem_ref(void* data);

namespace cpm {

struct ReDeref {
  void operator()(const void* p) const noexcept { mem_deref(const_cast<void*>(p)); }
};

template <typename T> using re_ptr = std::unique_ptr<T, ReDeref>;

// Take ownership of a reference libre handed out (an allocator's out-parameter).
template <typename T> re_ptr<T> re_adopt(T* p) noexcept
{
  return re_ptr<T>(p);
}

// A reference of our own to an object libre lends to a callback (mem_ref): a request kept
// to be answered later.
template <typename T> re_ptr<T> re_ref(T* p) noexcept
{
  return re_ptr<T>(static_cast<T*>(mem_ref(const_cast<std::remove_const_t<T>*>(p))));
}

// An allocator's out-parameter: in `err = tcp_connect(re_out(m_tc), ...)` m_tc first lets
// go of what it held, and owns what libre allocated once the call's full expression ends.
// Not for an allocator that keeps the out-pointer's address to clear it later (sip_listen,
// sip_request, dnsc_query): the temporary is gone by then; use re_slot for those.
template <typename T> class ReOut {
public:
  explicit ReOut(re_ptr<T>& owner) noexcept : m_owner(owner) { owner.reset(); }
  ~ReOut() { m_owner.reset(m_raw); }
  ReOut(const ReOut&) = delete;
  ReOut& operator=(const ReOut&) = delete;
  operator T**() noexcept { return &m_raw; }

private:
  re_ptr<T>& m_owner;
  T* m_raw = nullptr;
};

// See ReOut.
template <typename T> ReOut<T> re_out(re_ptr<T>& owner) noexcept
{
  return ReOut<T>(owner);
}

// A libre object whose allocator keeps the address of the caller's pointer and clears it
// when the object ends by itself (sip_request's `reqp`): unlike re_ptr it never moves, so
// that address stays valid; whatever is still there when the owner goes is released.
template <typename T> class re_slot {
public:
  re_slot() = default;
  ~re_slot() { reset(); }
  re_slot(const re_slot&) = delete;
  re_slot& operator=(const re_slot&) = delete;

  // The address to give libre's allocator.
  T** out() noexcept { return &m_p; }
  T* get() const noexcept { return m_p; }
  explicit operator bool() const noexcept { return m_p != nullptr; }
  // Release it now (for a request still in flight: abandon it).
  void reset() noexcept
  {
    T* p = m_p;
    m_p = nullptr;
    if (p)
      mem_deref(p);
  }

private:
  T* m_p = nullptr;
};

} // namespace cpm
