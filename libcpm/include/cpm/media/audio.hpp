#pragma once
// Telephone audio as values: 8 kHz mono 16-bit frames of 20 ms, the codecs (G.711 PCMU and
// PCMA on librem's tables, Opus through media/coder), and a tone's level measured with
// librem's Goertzel filter. No I/O.
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

// A codec: what is coded, not how a session numbers it (see Format).
enum class Codec : uint8_t { Pcmu, Pcma, Opus };

// The payload type we offer Opus with: RFC 7587 gives it none (dynamic, 96-127); 111 is
// the number most softphones and browsers use.
inline constexpr uint8_t k_opus_payload_type = 111;

// A codec as a session negotiated it: the codec and the RTP payload type the SDP gave it
// (the static one for G.711, RFC 3551 §6; the offerer's dynamic number for Opus).
struct Format {
  Codec codec = Codec::Pcmu;
  uint8_t payload_type = 0;
  bool operator==(const Format&) const = default;
};

// "PCMU" / "pcma" / "opus" (any case) to the codec; nullopt for any other name.
std::optional<Codec> codec_by_name(std::string_view name);
// The codec of a static payload type (0, 8); nullopt for any other (Opus has none).
std::optional<Codec> codec_by_payload_type(uint8_t pt);
// "PCMU", "PCMA" or "opus", as SDP's rtpmap writes them.
std::string_view name(Codec c);
// The payload type we offer the codec with: 0, 8, or k_opus_payload_type.
uint8_t payload_type(Codec c);
// The codec at the payload type we offer it with.
inline Format format(Codec c)
{
  return {c, payload_type(c)};
}
// The RTP clock rate: 8000 for G.711; 48000 for Opus whatever its audio's rate (RFC 7587
// §4.1).
uint32_t clock_rate(Codec c);
// RTP timestamp units in one frame (k_ptime_ms): 160 for G.711, 960 for Opus.
inline uint32_t timestamp_step(Codec c)
{
  return clock_rate(c) / 1000 * k_ptime_ms;
}

// G.711 only (stateless; Opus has a state per stream: media::Encoder): one frame into
// k_samples bytes at `out`, one byte a sample.
void encode(Codec c, const Frame& frame, uint8_t* out);
// G.711 only: `n` bytes into `n` samples at `out`.
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
