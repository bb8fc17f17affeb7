// Branches of our own client transactions.
#include "cpm/proxy/branch.hpp"

#include <cstring>

namespace cpm::proxy {

namespace {

constexpr std::string_view k_magic = "z9hG4bK"; // RFC 3261 §8.1.1.7
constexpr size_t k_digits = 16;

} // namespace

uint64_t BranchGenerator::next()
{
  // splitmix64's finalizer over key + seq * golden ratio: a bijection of the counter.
  for (;;) {
    uint64_t z = m_key + 0x9e3779b97f4a7c15ULL * ++m_seq;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    if (z) // 0 means "not ours" to parse()
      return z;
  }
}

std::array<char, 24> BranchGenerator::format(uint64_t number)
{
  static constexpr char k_hex[] = "0123456789abcdef";
  std::array<char, 24> b{};
  std::memcpy(b.data(), k_magic.data(), k_magic.size());
  for (size_t i = 0; i < k_digits; ++i)
    b[k_magic.size() + i] = k_hex[(number >> (4 * (k_digits - 1 - i))) & 0xf];
  b[k_magic.size() + k_digits] = '\0';
  return b;
}

uint64_t BranchGenerator::parse(std::string_view branch)
{
  if (branch.size() != k_magic.size() + k_digits || branch.substr(0, k_magic.size()) != k_magic)
    return 0;
  uint64_t n = 0;
  for (char c : branch.substr(k_magic.size())) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0)
      return 0;
    n = n << 4 | uint64_t(v);
  }
  return n;
}

} // namespace cpm::proxy
