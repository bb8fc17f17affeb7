#include "cpm/media/audio.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "cpm/base/text.hpp"
#include "rem.hpp"

namespace cpm::media {

std::optional<Codec> codec_by_name(std::string_view n)
{
  if (text::iequals(n, "PCMU"))
    return Codec::Pcmu;
  if (text::iequals(n, "PCMA"))
    return Codec::Pcma;
  if (text::iequals(n, "opus"))
    return Codec::Opus;
  return std::nullopt;
}

std::optional<Codec> codec_by_payload_type(uint8_t pt)
{
  switch (pt) {
  case 0:
    return Codec::Pcmu;
  case 8:
    return Codec::Pcma;
  default:
    return std::nullopt;
  }
}

std::string_view name(Codec c)
{
  switch (c) {
  case Codec::Pcma:
    return "PCMA";
  case Codec::Opus:
    return "opus";
  case Codec::Pcmu:
    break;
  }
  return "PCMU";
}

uint8_t payload_type(Codec c)
{
  switch (c) {
  case Codec::Pcma:
    return 8;
  case Codec::Opus:
    return k_opus_payload_type;
  case Codec::Pcmu:
    break;
  }
  return 0;
}

uint32_t clock_rate(Codec c)
{
  return c == Codec::Opus ? 48000 : k_rate;
}

namespace {

// librem's encoders negate a negative sample in int16_t: -32768 stays negative and comes
// out as the code of a quiet sample (0x7F in u-law); one step less is the loudest code.
int16_t encodable(int16_t s)
{
  return s == -32768 ? -32767 : s;
}

} // namespace

void encode(Codec c, const Frame& frame, uint8_t* out)
{
  if (c == Codec::Pcma) {
    for (size_t i = 0; i < k_samples; ++i)
      out[i] = g711_pcm2alaw(encodable(frame[i]));
  } else {
    for (size_t i = 0; i < k_samples; ++i)
      out[i] = g711_pcm2ulaw(encodable(frame[i]));
  }
}

void decode(Codec c, const uint8_t* in, size_t n, int16_t* out)
{
  if (c == Codec::Pcma) {
    for (size_t i = 0; i < n; ++i)
      out[i] = g711_alaw2pcm(in[i]);
  } else {
    for (size_t i = 0; i < n; ++i)
      out[i] = g711_ulaw2pcm(in[i]);
  }
}

void tone(Frame& frame, double freq, double amplitude, uint64_t sample_index)
{
  const double w = 2 * std::numbers::pi * freq / k_rate;
  const double a = amplitude * 32767.0;
  for (size_t i = 0; i < k_samples; ++i) {
    // The phase modulo one period keeps precision over hours of samples.
    const double n = static_cast<double>((sample_index + i) % k_rate);
    frame[i] = static_cast<int16_t>(std::lround(a * std::sin(w * n)));
  }
}

double tone_level(const int16_t* samples, size_t n, double freq)
{
  if (n == 0)
    return 0;
  struct goertzel g;
  goertzel_init(&g, freq, k_rate);
  for (size_t i = 0; i < n; ++i)
    goertzel_update(&g, samples[i]);
  // goertzel_result is twice the squared magnitude |X(f)|^2 (and resets the filter); a
  // sine of amplitude A over n samples has |X| = A n / 2.
  const double mag = std::sqrt(std::max(0.0, goertzel_result(&g) / 2));
  return 2 * mag / static_cast<double>(n) / 32768.0;
}

double rms(const int16_t* samples, size_t n)
{
  if (n == 0)
    return 0;
  double sum = 0;
  for (size_t i = 0; i < n; ++i)
    sum += static_cast<double>(samples[i]) * samples[i];
  return std::sqrt(sum / static_cast<double>(n)) / 32768.0;
}

} // namespace cpm::media
