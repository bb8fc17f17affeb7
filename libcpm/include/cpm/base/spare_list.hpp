#pragma once
// Objects a hot path is done with, kept for its next use so that steady state allocates
// nothing (a map node, a transaction, a string's buffer). A bounded stack whose room is
// reserved up front, so that giving one back never allocates either; beyond the bound a
// given object is left to its owner, which frees it.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace cpm {

template <class T> class SpareList {
public:
  // Enough for the transactions that complete and leave within one 10 ms timer slot at
  // 100,000/s; beyond, they are freed (after a burst, memory goes back).
  static constexpr size_t k_default_bound = 4096;

  explicit SpareList(size_t bound = k_default_bound) { m_items.reserve(bound); }

  bool empty() const noexcept { return m_items.empty(); }
  size_t size() const noexcept { return m_items.size(); }

  // Move the last spare into `out`; false, `out` untouched, when there is none.
  bool take(T& out) noexcept
  {
    if (m_items.empty())
      return false;
    out = std::move(m_items.back());
    m_items.pop_back();
    return true;
  }

  // Keep `v` when there is room (true); otherwise `v` is not moved from.
  bool give(T& v) noexcept
  {
    if (m_items.size() == m_items.capacity())
      return false;
    m_items.push_back(std::move(v)); // within the reserved room: no allocation
    return true;
  }

  void clear() noexcept { m_items.clear(); }

private:
  std::vector<T> m_items;
};

// Keep `s`'s buffer, emptied, when it is bigger than the short-string buffer and there is
// room; `s` is left empty and without a buffer of its own either way.
inline void give_buffer(SpareList<std::string>& spares, std::string& s) noexcept
{
  if (s.capacity() > std::string().capacity()) {
    s.clear();
    (void)spares.give(s);
  }
  std::string().swap(s); // moved from, or its buffer freed
}

} // namespace cpm
