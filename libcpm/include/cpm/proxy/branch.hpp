#pragma once
// Via branches of the requests the proxy forwards: "z9hG4bK" and 16 lower-case hex digits of
// a keyed hash (XXH3 with a per-node secret) of the incoming request's transaction key (its
// top Via branch and sent-by, or the RFC 2543 match) and the index of the target it goes
// to. RFC 3261 §16.11 shows the idea: a late retransmission that finds its server
// transaction gone is forwarded again with the same branch, so the next hop absorbs it
// (with its cached answer) instead of taking it for a merged request (482). No random
// draw per request either (libre's went through OpenSSL's RAND_bytes: 13% of the core's CPU).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace cpm::proxy {

class BranchGenerator {
public:
  // The hash secret is stretched from `seed` (any bytes; the same seed, the same branches).
  explicit BranchGenerator(std::string_view seed);
  // A generator with a seed from the kernel's random source (getrandom), once per process.
  static BranchGenerator random();
  // 32 bytes from the kernel's random source as 64 hex digits: a seed to keep.
  static std::string random_seed();

  // The branch number of the request whose server transaction has key `txn_key`, sent to
  // its `target`-th destination (0 first, 1 the fallback after a refused connection...):
  // the same for the same arguments, never 0.
  uint64_t derive(std::string_view txn_key, uint32_t target) const;

  // The branch text of a number, NUL-terminated.
  static std::array<char, 24> format(uint64_t number);
  // The number of one of our branches, else 0.
  static uint64_t parse(std::string_view branch);

private:
  alignas(64) std::array<unsigned char, 192> m_secret{};
};

} // namespace cpm::proxy
