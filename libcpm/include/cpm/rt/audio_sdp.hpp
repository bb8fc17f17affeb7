#pragma once
// The media layer's codecs as SDP's payload formats: our audio line and what a negotiated
// one means for an RtpStream. PCMU and PCMA by their static types (RFC 3551), Opus as RFC
// 7587 §7 writes it: a dynamic type, a=rtpmap:<pt> opus/48000/2 (always 48000 and 2,
// whatever is sent) and a=fmtp saying we play and capture 8 kHz mono.
#include <optional>
#include <string_view>
#include <vector>

#include "cpm/codec/sdp.hpp"
#include "cpm/media/audio.hpp"

namespace cpm::media {

// Our a=fmtp parameters for Opus (RFC 7587 §6.1): we decode to 8 kHz and send 8 kHz audio.
inline constexpr std::string_view k_opus_fmtp = "maxplaybackrate=8000;sprop-maxcapturerate=8000";

// The SDP payload format of `f` (Opus with k_opus_fmtp).
sdp::PayloadFormat payload_format(Format f);
// The codec an SDP payload format names (PCMU/8000, PCMA/8000, opus/48000/2) at its payload
// type; nullopt for any other.
std::optional<Format> format_of(const sdp::PayloadFormat& p);
// The codecs we code, `first` first, then the others as PCMU, PCMA, Opus.
std::vector<Codec> preferring(Codec first);
// Our audio line listing `codecs` in that order, each at the payload type we offer it with.
sdp::Media audio_line(std::string_view host, uint16_t port, const std::vector<Codec>& codecs,
                      sdp::Direction direction = sdp::Direction::SendRecv);
// The format of a negotiated stream (sdp::common_format: their payload type), when we code
// it; nullopt when nothing is in common.
std::optional<Format> negotiated(const sdp::AudioMedia& mine, const sdp::AudioMedia& theirs);

} // namespace cpm::media
