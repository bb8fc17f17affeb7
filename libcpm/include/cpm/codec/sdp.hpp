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

} // namespace cpm::sdp
