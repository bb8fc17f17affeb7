#pragma once
// SDP (RFC 4566) descriptions for CPM sessions: read any offer's media lines (policy checks,
// the controlling function), and build MSRP offers and answers (RFC 4975 §8, RFC 6135).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/codec/msrp.hpp"

namespace cpm::sdp {

// One m= line and its attributes.
struct Media {
  std::string type;  // "message", "audio", ...
  uint16_t port = 0; // 0: rejected / disabled
  std::string proto; // "TCP/MSRP", "RTP/AVP"
  std::vector<std::string> formats;
  std::string connection; // c= address at media level, or ""
  // a= lines in order: {"path", "msrp://..."}, {"sendrecv", ""}
  std::vector<std::pair<std::string, std::string>> attributes;

  std::string attribute(std::string_view name) const; // first value, or ""
  bool has_attribute(std::string_view name) const;
};

struct Description {
  std::string origin = "- 0 0 IN IP4 127.0.0.1"; // o= value
  std::string session_name = "-";
  std::string connection; // session-level c= address ("127.0.0.1")
  std::vector<Media> media;
};

// Parse SDP text (CRLF or LF line ends). Errors name the line.
Result<Description> parse(std::string_view text);
// Write with CRLF line ends: v=, o=, s=, c= (IN IP4/IP6 by the address), t=0 0, media.
std::string format(const Description& d);

// What an MSRP media line says.
struct MsrpMedia {
  bool tls = false; // TCP/TLS/MSRP (RFC 4975 §8.1): an msrps: path, reached over TLS
  std::vector<msrp::Uri> path;
  std::string setup; // "active", "passive", "actpass", or "" (absent)
  std::vector<std::string> accept_types;
  std::vector<std::string> accept_wrapped_types;
};
// The first m=message line with TCP/MSRP (or TCP/TLS/MSRP) and a non-zero port. Error (488)
// when its protocol and the scheme of its path's first URI disagree (RFC 4975 §14.1:
// TCP/TLS/MSRP goes with msrps:).
Result<MsrpMedia> msrp_media(const Description& d);

// CPM's MSRP offer: m=message <port> TCP/MSRP * (TCP/TLS/MSRP for an msrps: URI),
// a=accept-types:message/cpim,
// a=accept-wrapped-types:text/plain message/imdn+xml, a=path, a=setup (default "active":
// the offerer connects, as RFC 4975 says), a=sendrecv.
Description msrp_offer(const msrp::Uri& local, std::string_view setup = "active");
// An answer to `offer` for our MSRP URI: the same media with our path, and a=setup chosen
// per RFC 6135 (passive to active or actpass, active to passive). Other media lines are
// rejected (port 0). Error (488) when the offer has no usable MSRP line, or when it is over
// TLS and `local` is not msrps: (or the other way round): the answerer picks its URI by
// MsrpMedia::tls.
Result<Description> msrp_answer(const Description& offer, const msrp::Uri& local);
// Whether we connect (true) given the peer's setup and whether we are the offerer.
bool we_connect(std::string_view peer_setup, bool we_offered);

// The media types of a description with a non-zero port ("message", "audio").
std::vector<std::string> media_types(const Description& d);

// RFC 3264 §5.1: a media stream's direction; no attribute is sendrecv.
enum class Direction : uint8_t { SendRecv, SendOnly, RecvOnly, Inactive };
// "sendrecv", "sendonly", "recvonly", "inactive".
std::string_view name(Direction d);
// The direction named by `word` (any case), or nullopt.
std::optional<Direction> direction_by_name(std::string_view word);
// The direction attribute of a media line (the last of them), sendrecv when absent.
Direction direction_of(const Media& m);
// RFC 3264 §6.1: the answer's direction for an offered one (sendonly <-> recvonly).
Direction mirror(Direction d);
// Set the direction attribute of a media line (replacing any there).
void set_direction(Media& m, Direction d);

// One payload format of an RTP media line (RFC 4566 §6): its payload type, what its
// a=rtpmap says (for a static type without one, RFC 3551's table: 0 PCMU/8000, 8 PCMA/8000)
// and its a=fmtp parameters.
struct PayloadFormat {
  uint8_t pt = 0;
  std::string encoding; // "PCMU", "opus" as written; "" when the line does not say
  uint32_t clock_rate = 0;
  uint32_t channels = 1; // the rtpmap's encoding parameters; 1 when absent
  std::string fmtp;      // "minptime=10;useinbandfec=1", or ""
  // The same codec as `o` whatever the payload types: encoding (any case), rate, channels.
  bool same_codec(const PayloadFormat& o) const;
  // "<encoding>/<clock rate>[/<channels>]", as a=rtpmap writes it after the payload type.
  std::string rtpmap() const;
};
// The a=rtpmap value "96 opus/48000/2" (RFC 4566 §6: <payload type> <encoding name>/<clock
// rate>[/<encoding parameters>]) as a format; nullopt when it is not one.
std::optional<PayloadFormat> parse_rtpmap(std::string_view value);

// CPM's audio line: m=audio <port> RTP/AVP <payload types>, c=<host> at media level, an
// a=rtpmap per format (an a=fmtp for those that have parameters), a=ptime:20, the direction.
Media audio_line(std::string_view host, uint16_t port, const std::vector<PayloadFormat>& formats,
                 Direction direction = Direction::SendRecv);
// The same for static payload types only: an a=rtpmap per one we know (0 PCMU/8000,
// 8 PCMA/8000).
Media audio(std::string_view host, uint16_t port,
            const std::vector<uint8_t>& payload_types = {0, 8},
            Direction direction = Direction::SendRecv);
// What an audio line says.
struct AudioMedia {
  std::string host; // media-level c=, else the session's
  uint16_t port = 0;
  std::vector<uint8_t> payload_types; // in the line's order; non-numeric formats skipped
  std::vector<PayloadFormat> formats; // the same, with their rtpmap and fmtp
  Direction direction = Direction::SendRecv;
};
// The first m=audio line with RTP/AVP and a non-zero port (we do no SRTP).
std::optional<AudioMedia> audio_of(const Description& d);
// The format a negotiated audio stream uses: the first of `theirs` that `mine` lists too
// (the same codec), with their payload type, the one to send them (RFC 3264 §6.1: the
// answer's types are the offer's). Either may be the offer, the other being its answer.
std::optional<PayloadFormat> common_format(const AudioMedia& mine, const AudioMedia& theirs);

// RFC 3264 §8: `current` with its o= version incremented, as every later offer or answer of
// a session must be (answer() writes a new o=: a caller answering a re-offer takes this one's).
Description next_version(const Description& current);

// RFC 3264 §8 offers, built from our previous local description: the same m-lines in the
// same order, o= version incremented. Add a stream (into the first port-0 line of its type,
// else appended).
Description add_media(const Description& current, Media media);
// Remove every stream of `type`: port 0, the line stays (RFC 3264 §8.2).
Description remove_media(const Description& current, std::string_view type);
// Replace the first active stream of media.type (another codec or direction, §8.3); added
// when there is none.
Description replace_media(const Description& current, Media media);

// RFC 3264 §6 answer to `offer`: the same m-lines in the same order. The MSRP line as
// msrp_answer answers it; the first active audio line with `audio_local` when given and a
// codec is in common (the first of the offer's formats that audio_local lists, by encoding,
// clock rate and channels: answered with the offer's payload type and rtpmap, and
// audio_local's fmtp), its direction mirrored and limited to what audio_local allows; every
// other line port 0. Error (488) when the offer has no usable MSRP line (Chat::Required), or
// with Chat::Optional (a participant with audio only, e.g. a softphone without MSRP) when it
// has neither a usable MSRP line nor an audio line taken; msrp_local.host is our address
// either way (o= and c=).
enum class Chat : uint8_t { Required, Optional };
Result<Description> answer(const Description& offer, const msrp::Uri& msrp_local,
                           const std::optional<Media>& audio_local = std::nullopt,
                           Chat chat = Chat::Required);

// How a description's streams changed, by m-line position (RFC 3264 §8): the types of the
// lines that became active, became port 0 (or vanished), or stayed active with another port,
// address, format list or direction.
struct Diff {
  std::vector<std::string> added, removed, modified;
  bool empty() const { return added.empty() && removed.empty() && modified.empty(); }
};
Diff diff(const Description& before, const Description& after);

} // namespace cpm::sdp
