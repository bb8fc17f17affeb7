#pragma once
// Via branches for the proxy's own client transactions: "z9hG4bK" and 16 lower-case hex
// digits of a keyed bijection of a counter, so they never repeat within a process and
// need no random draw per request (libre's rand_u64 per request went through OpenSSL's
// RAND_bytes: 13% of the core's CPU).
#include <array>
#include <cstdint>
#include <string_view>

namespace cpm::proxy {

class BranchGenerator {
public:
  // `key` (random, drawn once) keeps one process's branches from predicting another's.
  explicit BranchGenerator(uint64_t key) : m_key(key) {}
  // The next number: never 0, never one returned before.
  uint64_t next();

  // The branch text of a number, NUL-terminated.
  static std::array<char, 24> format(uint64_t number);
  // The number of one of our branches, else 0.
  static uint64_t parse(std::string_view branch);

private:
  uint64_t m_key;
  uint64_t m_seq = 0;
};

} // namespace cpm::proxy
