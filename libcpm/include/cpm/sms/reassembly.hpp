#pragma once
// Concatenated short messages put back together (3GPP TS 23.040 §9.2.3.24.1): parts in any
// order, repeated parts dropped, a message whose parts stop coming given up after a timeout
// measured on the caller's clock (milliseconds, any epoch), so that tests need no clock.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cpm/sms/coding.hpp"
#include "cpm/sms/segment.hpp"

namespace cpm::sms {

// One received part: who sent it to whom, where it belongs, and its payload.
struct Fragment {
  std::string from;
  std::string to;
  Concat concat;
  Coding coding = Coding::Gsm7;
  std::vector<uint8_t> payload; // Gsm7 septets unpacked, or the octets of its coding
};

// A message put together, whole or (after its timeout) with parts missing.
struct Assembled {
  std::string from;
  std::string to;
  uint16_t reference = 0;
  uint8_t total = 0;
  std::vector<uint8_t> sequences; // the parts it holds, ascending
  // The text of the parts in order; each run of missing parts shows as U+2026 (…). Parts of
  // one coding are joined before decoding, so an escape or a surrogate pair that a sender
  // split between parts reads whole.
  std::string text;
  int64_t first_ms = 0; // when its first part came
  bool complete() const { return sequences.size() == total; }
};

// What add() made of a part.
enum class Added {
  Stored,    // kept, more parts to come
  Duplicate, // a part already held (or of a message completed within the timeout): dropped
  Complete,  // the message's last part: the message is returned
};

class Reassembly {
public:
  // Give up a message whose parts stop coming `timeout_ms` after its first part, and
  // remember a completed message's key as long, so that a late copy of a part is dropped.
  explicit Reassembly(int64_t timeout_ms = 60'000) : m_timeout_ms(timeout_ms) {}

  // Add a part received at `now_ms`. A part without concatenation (total 1) is complete.
  Added add(Fragment part, int64_t now_ms, Assembled* done = nullptr);

  // The incomplete messages whose timeout has passed at `now_ms`, oldest first, removed
  // (the caller delivers or reports them: its choice); completed keys past it forgotten.
  std::vector<Assembled> expire(int64_t now_ms);

  // When the next incomplete message times out, if any is held.
  std::optional<int64_t> next_deadline() const;

  // Incomplete messages held.
  size_t pending() const { return m_pending.size(); }

private:
  struct Key {
    std::string from;
    std::string to;
    uint16_t reference;
    uint8_t total;
    auto operator<=>(const Key&) const = default;
  };
  struct Pending {
    int64_t first_ms = 0;
    std::map<uint8_t, std::pair<Coding, std::vector<uint8_t>>> parts; // by sequence
  };
  Assembled assemble(const Key& key, const Pending& p) const;

  int64_t m_timeout_ms;
  std::map<Key, Pending> m_pending;
  std::map<Key, int64_t> m_completed; // key -> when it completed
};

} // namespace cpm::sms
