// A stream's encoder and decoder: G.711 through media/audio, Opus through libopus.
#include "cpm/media/coder.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <opus.h>

namespace cpm::media {

namespace {

// RFC 6716 §2.1.4: a packet holds at most 120 ms of audio.
constexpr size_t k_max_packet_samples = k_rate * 120 / 1000;

// libopus's encoder complexity (0-10, default 10 on x86): 5 keeps a focus mixing many
// participants cheap while a narrowband voice loses nothing audible.
constexpr int k_complexity = 5;

struct OpusEncoderDeleter {
  void operator()(OpusEncoder* e) const { opus_encoder_destroy(e); }
};
struct OpusDecoderDeleter {
  void operator()(OpusDecoder* d) const { opus_decoder_destroy(d); }
};

} // namespace

struct Encoder::State {
  std::unique_ptr<OpusEncoder, OpusEncoderDeleter> opus;
};

struct Decoder::State {
  std::unique_ptr<OpusDecoder, OpusDecoderDeleter> opus;
};

Encoder::Encoder(Codec c) : m_codec(c) {}
Encoder::Encoder(Encoder&&) noexcept = default;
Encoder& Encoder::operator=(Encoder&&) noexcept = default;
Encoder::~Encoder() = default;

Result<Encoder> Encoder::create(Codec c)
{
  Encoder e(c);
  if (c != Codec::Opus)
    return e;
  int err = OPUS_OK;
  e.m_state = std::make_unique<State>();
  e.m_state->opus.reset(
      opus_encoder_create(static_cast<int32_t>(k_rate), 1, OPUS_APPLICATION_VOIP, &err));
  if (err != OPUS_OK || !e.m_state->opus)
    return fail(fmt::format("Opus encoder: {}", opus_strerror(err)), 3);
  opus_encoder_ctl(e.m_state->opus.get(), OPUS_SET_COMPLEXITY(k_complexity));
  opus_encoder_ctl(e.m_state->opus.get(), OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  return e;
}

Result<size_t> Encoder::encode(const Frame& frame, uint8_t* out)
{
  if (m_codec != Codec::Opus) {
    media::encode(m_codec, frame, out);
    return k_samples;
  }
  const int n = opus_encode(m_state->opus.get(), frame.data(), static_cast<int>(k_samples), out,
                            static_cast<int32_t>(k_max_payload));
  if (n < 0)
    return fail(fmt::format("Opus encoder: {}", opus_strerror(n)), 3);
  return static_cast<size_t>(n);
}

Decoder::Decoder(Codec c) : m_codec(c) {}
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;
Decoder::~Decoder() = default;

Result<Decoder> Decoder::create(Codec c)
{
  Decoder d(c);
  if (c != Codec::Opus)
    return d;
  int err = OPUS_OK;
  d.m_state = std::make_unique<State>();
  d.m_state->opus.reset(opus_decoder_create(static_cast<int32_t>(k_rate), 1, &err));
  if (err != OPUS_OK || !d.m_state->opus)
    return fail(fmt::format("Opus decoder: {}", opus_strerror(err)), 3);
  return d;
}

Result<void> Decoder::decode(const uint8_t* in, size_t n, Frame& out)
{
  out.fill(0);
  if (m_codec != Codec::Opus) {
    media::decode(m_codec, in, std::min(n, k_samples), out.data());
    return {};
  }
  if (n > static_cast<size_t>(INT32_MAX))
    return fail("Opus decoder: payload too large", 400);
  std::array<int16_t, k_max_packet_samples> pcm{};
  // An empty payload asks libopus to conceal one lost frame.
  const int got = n == 0 ? opus_decode(m_state->opus.get(), nullptr, 0, pcm.data(),
                                       static_cast<int>(k_samples), 0)
                         : opus_decode(m_state->opus.get(), in, static_cast<int32_t>(n), pcm.data(),
                                       static_cast<int>(pcm.size()), 0);
  if (got < 0)
    return fail(fmt::format("Opus decoder: {}", opus_strerror(got)), 400);
  std::copy_n(pcm.begin(), std::min(static_cast<size_t>(got), k_samples), out.begin());
  return {};
}

} // namespace cpm::media
