#pragma once
// The focus's N-1 audio mixer: each input's 20 ms frames wait in a small jitter buffer
// ordered by RTP sequence number (adaptive: a frame that comes just after its slot was
// played as silence is played next and the buffer grows by that much; a buffer that stays
// deeper than needed for a second drops a frame); every tick takes one frame from each input, sums
// them all once into 32 bits and gives each input the sum minus its own frame, saturated to 16
// bits. O(N) per tick (librem's aumix is O(N^2) and wraps: HACKING.md "why not aumix").
#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "cpm/media/audio.hpp"

namespace cpm::media {

// What one input's jitter buffer saw.
struct InputStats {
  uint64_t in = 0;        // frames put and kept
  uint64_t played = 0;    // frames taken by a tick
  uint64_t missing = 0;   // ticks with no frame while the input was playing (silence)
  uint64_t late = 0;      // frames whose tick had passed (dropped)
  uint64_t duplicate = 0; // frames already buffered (dropped)
  uint64_t overrun = 0;   // frames dropped because the buffer was full (sender too fast)
  uint64_t slipped = 0;   // late frames played after all: the buffer grew by their delay
  uint64_t skipped = 0;   // frames dropped to shrink a buffer that stayed too deep
};

class Mixer {
public:
  using Id = uint32_t;
  // Frames an input holds at most.
  static constexpr size_t k_capacity = 8;
  // Frames an input buffers before it starts to play (40 ms of jitter absorbed).
  static constexpr size_t k_default_depth = 2;
  // Ticks without a frame after which a playing input waits to refill (the sender stopped).
  static constexpr uint32_t k_idle_ticks = 25;
  // Ticks a buffer holds more than depth + 1 frames before one frame is dropped (1 s).
  static constexpr uint32_t k_shrink_ticks = 50;

  explicit Mixer(size_t depth = k_default_depth);

  // A new input (empty, silent until its first frames).
  Id add();
  // Forget an input: it leaves the mix and gets no more output.
  void remove(Id id);
  bool contains(Id id) const { return m_index.count(id) != 0; }
  size_t size() const { return m_inputs.size(); }
  // A frame for input `id` with its RTP sequence number; false when dropped (unknown input,
  // late, duplicate).
  bool put(Id id, uint16_t rtp_seq, const Frame& frame);
  // One 20 ms step: one frame from each input (silence where none), then `out(id, mix)`
  // for every input with the saturated sum of all the others.
  void tick(const std::function<void(Id, const Frame&)>& out);
  // The counters of an input (zeros for an unknown one).
  InputStats stats(Id id) const;
  // Whether the input had a frame in the last tick (it is talking).
  bool active(Id id) const;

private:
  struct Slot {
    uint16_t seq = 0;
    bool full = false;
    Frame frame{};
  };
  struct Input {
    Id id = 0;
    std::array<Slot, k_capacity> ring{};
    size_t count = 0;     // full slots
    bool playing = false; // started (depth reached), next_seq meaningful
    bool primed = false;  // some frame arrived since it last went idle
    uint16_t next_seq = 0;
    uint32_t empty_ticks = 0;
    uint32_t missing_run = 0; // consecutive ticks without a frame while playing
    uint32_t deep_ticks = 0;  // consecutive ticks with more than depth + 1 frames left
    bool had_frame = false;   // in the last tick
    Frame current{};
    InputStats stats;
  };
  // Take this tick's frame of `in` into in.current; true when it had one.
  bool take(Input& in);
  // Whether a frame `ahead` (< 0) of next_seq fits in the ring with what is buffered.
  static bool fits_before(const Input& in, int ahead);
  // After a frame was played: drop one when the buffer stayed deeper than needed.
  void shrink(Input& in);
  // Skip the slot of next_seq: its frame, when buffered, is dropped and counted in `counter`.
  static void drop_head(Input& in, uint64_t InputStats::*counter);

  size_t m_depth;
  Id m_next_id = 1;
  std::vector<Input> m_inputs;
  std::unordered_map<Id, size_t> m_index;
  std::vector<int32_t> m_sum;
};

// Saturate a 32-bit sum to a 16-bit sample.
inline int16_t saturate(int32_t v)
{
  return static_cast<int16_t>(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
}

} // namespace cpm::media
