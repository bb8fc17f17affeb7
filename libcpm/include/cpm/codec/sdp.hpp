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
  std::vector<msrp::Uri> path;
  std::string setup; // "active", "passive", "actpass", or "" (absent)
  std::vector<std::string> accept_types;
  std::vector<std::string> accept_wrapped_types;
};
// The first m=message line with TCP/MSRP (or TCP/TLS/MSRP) and a non-zero port.
Result<MsrpMedia> msrp_media(const Description& d);

// CPM's MSRP offer: m=message <port> TCP/MSRP *, a=accept-types:message/cpim,
// a=accept-wrapped-types:text/plain message/imdn+xml, a=path, a=setup (default "active":
// the offerer connects, as RFC 4975 says), a=sendrecv.
Description msrp_offer(const msrp::Uri& local, std::string_view setup = "active");
// An answer to `offer` for our MSRP URI: the same media with our path, and a=setup chosen
// per RFC 6135 (passive to active or actpass, active to passive). Other media lines are
// rejected (port 0). Error (488) when the offer has no usable MSRP line.
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

// CPM's audio line: m=audio <port> RTP/AVP <payload types>, c=<host> at media level, an
// a=rtpmap per static type we know (0 PCMU/8000, 8 PCMA/8000), a=ptime:20, the direction.
Media audio(std::string_view host, uint16_t port,
            const std::vector<uint8_t>& payload_types = {0, 8},
            Direction direction = Direction::SendRecv);
// What an audio line says.
struct AudioMedia {
  std::string host; // media-level c=, else the session's
  uint16_t port = 0;
  std::vector<uint8_t> payload_types; // in the line's order; non-numeric formats skipped
  Direction direction = Direction::SendRecv;
};
// The first m=audio line with RTP/AVP and a non-zero port (we do no SRTP).
std::optional<AudioMedia> audio_of(const Description& d);

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
// payload type is in common (the first of the offer's that audio_local lists), its direction
// mirrored and limited to what audio_local allows; every other line port 0. Error (488) when
// the offer has no usable MSRP line (Chat::Required), or with Chat::Optional (a participant
// with audio only, e.g. a softphone without MSRP) when it has neither a usable MSRP line nor
// an audio line taken; msrp_local.host is our address either way (o= and c=).
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
