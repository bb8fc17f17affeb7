#pragma once
// Telephone audio as values: 8 kHz mono 16-bit frames of 20 ms, G.711 (PCMU, PCMA) on
// librem's tables, and a tone's level measured with librem's Goertzel filter. No I/O.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cpm::media {

// The one sample rate, packet time and frame size of the toolkit's audio.
inline constexpr uint32_t k_rate = 8000;
inline constexpr uint32_t k_ptime_ms = 20;
inline constexpr size_t k_samples = k_rate * k_ptime_ms / 1000;

// 20 ms of 8 kHz mono signed 16-bit samples.
using Frame = std::array<int16_t, k_samples>;

// A codec; the value is its static RTP payload type (RFC 3551 §6).
enum class Codec : uint8_t { Pcmu = 0, Pcma = 8 };

// "PCMU" / "pcma" (any case) to the codec; nullopt for any other name.
std::optional<Codec> codec_by_name(std::string_view name);
// The codec of a static payload type (0, 8); nullopt for any other.
std::optional<Codec> codec_by_payload_type(uint8_t pt);
// "PCMU" or "PCMA", as SDP's rtpmap writes them.
std::string_view name(Codec c);
// The payload type (0 or 8).
inline uint8_t payload_type(Codec c)
{
  return static_cast<uint8_t>(c);
}

// One frame into k_samples bytes at `out` (G.711: one byte a sample).
void encode(Codec c, const Frame& frame, uint8_t* out);
// `n` G.711 bytes into `n` samples at `out`.
void decode(Codec c, const uint8_t* in, size_t n, int16_t* out);

// A sine of `freq` Hz at `amplitude` (a fraction of full scale, 0..1) into `frame`,
// continuing a tone whose first sample had index 0 (`sample_index` = the frame's first).
void tone(Frame& frame, double freq, double amplitude, uint64_t sample_index);
// The amplitude (fraction of full scale) of the `freq` Hz component of `n` samples at
// k_rate: librem's Goertzel filter; about `amplitude` for what tone() made.
double tone_level(const int16_t* samples, size_t n, double freq);
// The RMS of `n` samples as a fraction of full scale.
double rms(const int16_t* samples, size_t n);

} // namespace cpm::media
