#pragma once
// One stream's encoder and decoder: G.711 (no state) or Opus (RFC 6716) on libopus, whose
// state must live as long as the stream since its prediction spans packets. Opus is coded
// at the toolkit's 8 kHz (libopus takes 8000 Hz in and out, so nothing is resampled): a
// narrowband stream that any Opus decoder plays, and any Opus stream decoded to 8 kHz.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "cpm/base/error.hpp"
#include "cpm/media/audio.hpp"

namespace cpm::media {

// The most an encoder writes for one frame (RFC 6716 §3.2.1: an Opus frame is at most
// 1275 bytes; G.711 writes k_samples).
inline constexpr size_t k_max_payload = 1275;

class Encoder {
public:
  // An encoder of `c` (an Opus one: 8 kHz mono, VoIP).
  static Result<Encoder> create(Codec c);
  Encoder(Encoder&&) noexcept;
  Encoder& operator=(Encoder&&) noexcept;
  ~Encoder();
  Codec codec() const { return m_codec; }
  // One frame into at most k_max_payload bytes at `out`; how many were written.
  Result<size_t> encode(const Frame& frame, uint8_t* out);

private:
  struct State;
  explicit Encoder(Codec c);
  Codec m_codec;
  std::unique_ptr<State> m_state;
};

class Decoder {
public:
  // A decoder of `c` (an Opus one decodes any Opus stream to 8 kHz mono).
  static Result<Decoder> create(Codec c);
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;
  ~Decoder();
  Codec codec() const { return m_codec; }
  // One packet's payload into `out`: audio longer than a frame is cut, shorter is padded
  // with silence; an empty Opus payload is a lost packet (libopus conceals it). Error when
  // libopus cannot decode it.
  Result<void> decode(const uint8_t* in, size_t n, Frame& out);

private:
  struct State;
  explicit Decoder(Codec c);
  Codec m_codec;
  std::unique_ptr<State> m_state;
};

} // namespace cpm::media
