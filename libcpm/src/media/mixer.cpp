#include "cpm/media/mixer.hpp"

#include <algorithm>

namespace cpm::media {

namespace {

// RFC 3550 sequence arithmetic: a - b as a signed distance modulo 2^16.
int16_t seq_diff(uint16_t a, uint16_t b)
{
  return static_cast<int16_t>(static_cast<uint16_t>(a - b));
}

} // namespace

bool Mixer::fits_before(const Input& in, int ahead)
{
  // The newest buffered frame must stay within the ring once next_seq moves back.
  int newest = 0;
  for (const Slot& slot : in.ring)
    if (slot.full)
      newest = std::max<int>(newest, seq_diff(slot.seq, in.next_seq));
  return newest - ahead < static_cast<int>(k_capacity);
}

Mixer::Mixer(size_t depth) : m_depth(std::clamp<size_t>(depth, 1, k_capacity)), m_sum(k_samples) {}

Mixer::Id Mixer::add()
{
  const Id id = m_next_id++;
  m_index[id] = m_inputs.size();
  m_inputs.emplace_back();
  m_inputs.back().id = id;
  return id;
}

void Mixer::remove(Id id)
{
  auto it = m_index.find(id);
  if (it == m_index.end())
    return;
  const size_t i = it->second;
  m_index.erase(it);
  if (i + 1 != m_inputs.size()) {
    m_inputs[i] = std::move(m_inputs.back());
    m_index[m_inputs[i].id] = i;
  }
  m_inputs.pop_back();
}

bool Mixer::put(Id id, uint16_t seq, const Frame& frame)
{
  auto it = m_index.find(id);
  if (it == m_index.end())
    return false;
  Input& in = m_inputs[it->second];
  if (!in.primed) {
    // The first frame after silence sets where playing starts.
    in.primed = true;
    in.next_seq = seq;
  } else {
    const int16_t ahead = seq_diff(seq, in.next_seq);
    if (ahead < 0 && !in.playing && fits_before(in, ahead)) {
      // Still filling: an earlier frame that came second is played first.
      in.next_seq = seq;
    } else if (ahead < 0 && in.playing && -ahead <= static_cast<int>(in.missing_run) &&
               fits_before(in, ahead)) {
      // It missed its slot (played as silence) by a few ticks: play it next, later by
      // that much from now on (the network's delay grew).
      in.next_seq = seq;
      in.missing_run = 0;
      ++in.stats.slipped;
    } else if (ahead < 0) {
      if (ahead < -static_cast<int>(k_idle_ticks) * 4) {
        // A jump far back (a new sender after a re-INVITE): start over from it.
        for (auto& s : in.ring)
          s.full = false;
        in.count = 0;
        in.playing = false;
        in.next_seq = seq;
      } else {
        ++in.stats.late;
        return false;
      }
    } else if (static_cast<size_t>(ahead) >= k_capacity) {
      if (static_cast<size_t>(ahead) >= 4 * k_capacity) {
        // A jump far ahead: the sender restarted; drop what is buffered and follow it.
        for (auto& s : in.ring)
          s.full = false;
        in.count = 0;
        in.playing = false;
        in.next_seq = seq;
      } else {
        // Full: drop the oldest frames until this one fits.
        while (seq_diff(seq, in.next_seq) >= static_cast<int>(k_capacity))
          drop_head(in, &InputStats::overrun);
      }
    }
  }
  Slot& slot = in.ring[seq % k_capacity];
  if (slot.full && slot.seq == seq) {
    ++in.stats.duplicate;
    return false;
  }
  if (slot.full) {
    // An older frame no longer reachable (seq - next_seq < capacity makes this rare).
    --in.count;
    ++in.stats.overrun;
  }
  slot.seq = seq;
  slot.full = true;
  slot.frame = frame;
  ++in.count;
  ++in.stats.in;
  return true;
}

bool Mixer::take(Input& in)
{
  if (!in.playing) {
    if (!in.primed || in.count < m_depth)
      return false;
    in.playing = true;
    in.empty_ticks = 0;
    in.missing_run = 0;
    in.deep_ticks = 0;
  }
  Slot& slot = in.ring[in.next_seq % k_capacity];
  const bool have = slot.full && slot.seq == in.next_seq;
  ++in.next_seq;
  if (have) {
    in.current = slot.frame;
    slot.full = false;
    --in.count;
    ++in.stats.played;
    in.empty_ticks = 0;
    in.missing_run = 0;
    shrink(in);
    return true;
  }
  ++in.stats.missing;
  ++in.missing_run;
  if (in.count == 0 && ++in.empty_ticks >= k_idle_ticks) {
    // The sender stopped: wait for its next frames and prefill again.
    in.playing = false;
    in.primed = false;
  }
  return false;
}

void Mixer::shrink(Input& in)
{
  if (in.count <= m_depth + 1) {
    in.deep_ticks = 0;
    return;
  }
  if (++in.deep_ticks < k_shrink_ticks)
    return;
  // A whole second with frames to spare: drop the oldest, 20 ms less delay.
  in.deep_ticks = 0;
  drop_head(in, &InputStats::skipped);
}

void Mixer::drop_head(Input& in, uint64_t InputStats::*counter)
{
  Slot& slot = in.ring[in.next_seq % k_capacity];
  if (slot.full && slot.seq == in.next_seq) {
    slot.full = false;
    --in.count;
    ++(in.stats.*counter);
  }
  ++in.next_seq;
}

void Mixer::tick(const std::function<void(Id, const Frame&)>& out)
{
  std::fill(m_sum.begin(), m_sum.end(), 0);
  for (Input& in : m_inputs) {
    in.had_frame = take(in);
    if (!in.had_frame)
      continue;
    for (size_t i = 0; i < k_samples; ++i)
      m_sum[i] += in.current[i];
  }
  Frame mix;
  for (Input& in : m_inputs) {
    if (in.had_frame) {
      for (size_t i = 0; i < k_samples; ++i)
        mix[i] = saturate(m_sum[i] - in.current[i]);
    } else {
      for (size_t i = 0; i < k_samples; ++i)
        mix[i] = saturate(m_sum[i]);
    }
    out(in.id, mix);
  }
}

InputStats Mixer::stats(Id id) const
{
  auto it = m_index.find(id);
  return it == m_index.end() ? InputStats{} : m_inputs[it->second].stats;
}

bool Mixer::active(Id id) const
{
  auto it = m_index.find(id);
  return it != m_index.end() && m_inputs[it->second].had_frame;
}

} // namespace cpm::media
