// Branches of the requests the proxy forwards: a keyed hash of the incoming transaction.
#include "cpm/proxy/branch.hpp"

#include <cerrno>
#include <cstring>
#include <random>
#include <sys/random.h>

#define XXH_STATIC_LINKING_ONLY // XXH3_state_t on the stack, XXH3_generateSecret
#include <xxhash.h>

namespace cpm::proxy {

namespace {

constexpr std::string_view k_magic = "z9hG4bK"; // RFC 3261 §8.1.1.7
constexpr size_t k_digits = 16;
static_assert(sizeof(std::array<unsigned char, 192>) >= XXH3_SECRET_SIZE_MIN);

} // namespace

BranchGenerator::BranchGenerator(std::string_view seed)
{
  // XXH3's own stretching of a seed of any length into a secret of the size it wants.
  (void)XXH3_generateSecret(m_secret.data(), m_secret.size(), seed.data(), seed.size());
}

std::string BranchGenerator::random_seed()
{
  std::array<unsigned char, 32> seed{};
  size_t got = 0;
  while (got < seed.size()) {
    ssize_t n = ::getrandom(seed.data() + got, seed.size() - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += size_t(n);
  }
  if (got < seed.size()) { // no getrandom (an old kernel, a seccomp filter)
    std::random_device rd;
    for (auto& b : seed)
      b = static_cast<unsigned char>(rd());
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : seed)
    s.append(1, k_hex[b >> 4]).append(1, k_hex[b & 0xf]);
  return s;
}

BranchGenerator BranchGenerator::random()
{
  return BranchGenerator(random_seed());
}

uint64_t BranchGenerator::derive(std::string_view txn_key, uint32_t target) const
{
  XXH3_state_t st;
  (void)XXH3_64bits_reset_withSecret(&st, m_secret.data(), m_secret.size());
  (void)XXH3_64bits_update(&st, txn_key.data(), txn_key.size());
  unsigned char index[4] = {
      static_cast<unsigned char>(target), static_cast<unsigned char>(target >> 8),
      static_cast<unsigned char>(target >> 16), static_cast<unsigned char>(target >> 24)};
  (void)XXH3_64bits_update(&st, index, sizeof index);
  uint64_t h = XXH3_64bits_digest(&st);
  return h ? h : 1; // 0 means "not ours" to parse()
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
