// The media layer's codecs as SDP's payload formats.
#include "cpm/rt/audio_sdp.hpp"

namespace cpm::media {

sdp::PayloadFormat payload_format(Format f)
{
  sdp::PayloadFormat p;
  p.pt = f.payload_type;
  p.encoding = std::string(name(f.codec));
  p.clock_rate = clock_rate(f.codec);
  if (f.codec == Codec::Opus) {
    // RFC 7587 §7: "opus/48000/2" whatever the stream's channels and rate.
    p.channels = 2;
    p.fmtp = std::string(k_opus_fmtp);
  }
  return p;
}

std::optional<Format> format_of(const sdp::PayloadFormat& p)
{
  for (Codec c : {Codec::Pcmu, Codec::Pcma, Codec::Opus}) {
    Format f{c, p.pt};
    if (p.same_codec(payload_format(f))) {
      // RFC 3551 §6: G.711 is only ever its static type.
      if (c != Codec::Opus && p.pt != payload_type(c))
        return std::nullopt;
      return f;
    }
  }
  return std::nullopt;
}

std::vector<Codec> preferring(Codec first)
{
  std::vector<Codec> out{first};
  for (Codec c : {Codec::Pcmu, Codec::Pcma, Codec::Opus})
    if (c != first)
      out.push_back(c);
  return out;
}

sdp::Media audio_line(std::string_view host, uint16_t port, const std::vector<Codec>& codecs,
                      sdp::Direction direction)
{
  std::vector<sdp::PayloadFormat> formats;
  for (Codec c : codecs)
    formats.push_back(payload_format(format(c)));
  return sdp::audio_line(host, port, formats, direction);
}

std::optional<Format> negotiated(const sdp::AudioMedia& mine, const sdp::AudioMedia& theirs)
{
  // Only the formats we code: `mine` may list others (a description of someone else's).
  sdp::AudioMedia ours = mine;
  std::erase_if(ours.formats, [](const sdp::PayloadFormat& p) { return !format_of(p); });
  auto common = sdp::common_format(ours, theirs);
  if (!common)
    return std::nullopt;
  return format_of(*common);
}

} // namespace cpm::media
