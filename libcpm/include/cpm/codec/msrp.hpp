#pragma once
// MSRP (RFC 4975): URIs and paths, frames, an incremental parser, chunking and reassembly,
// responses and REPORTs (pure, unit-tested). Sessions on libre's TCP: rt/msrp_session.hpp.
// libre has no MSRP (notes/libre-1.1.md §7); <re.h> stays in the .cpp files.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cpm/base/error.hpp"

namespace cpm::trace {
class Writer;
}

namespace cpm::msrp {

// ---- URIs and paths (RFC 4975 §6) -------------------------------------------------------

// msrp://host:port/session-id;tcp  (msrps:// when secure)
struct Uri {
  bool secure = false;
  std::string userinfo; // rarely used
  std::string host;     // IPv6 without brackets
  uint16_t port = 0;
  std::string session_id;
  std::string transport = "tcp";
};
Result<Uri> parse_uri(std::string_view s);
std::string format_uri(const Uri& u);
// RFC 4975 §6.1: scheme, host (case-insensitive), port, session-id (case-sensitive) and
// transport (case-insensitive) equal; userinfo ignored.
bool same_uri(const Uri& a, const Uri& b);
// A To-Path / From-Path / a=path value: URIs separated by whitespace (at least one).
Result<std::vector<Uri>> parse_path(std::string_view s);
std::string format_path(const std::vector<Uri>& p);

// A fresh random session-id or transaction/message id (base64url-ish, `len` characters).
std::string random_id(size_t len = 12);

// ---- Frames (RFC 4975 §7) --------------------------------------------------------------

// Byte-Range: start-end/total, where end or total may be '*' (nullopt).
struct ByteRange {
  uint64_t start = 1;
  std::optional<uint64_t> end;
  std::optional<uint64_t> total;
};
Result<ByteRange> parse_byte_range(std::string_view s);
std::string format_byte_range(const ByteRange& r);

// One MSRP request or response, as on the wire.
struct Frame {
  std::string tid; // transaction id
  bool request = true;
  std::string method;  // request: "SEND", "REPORT", or any other token
  int status = 0;      // response: 200, 400, 403, 408, 413, 415, 423, 481, 501, 506
  std::string comment; // response: optional reason text
  // Header fields in order; To-Path and From-Path first when encoded.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  char flag = '$'; // '$' complete, '+' more chunks follow, '#' aborted

  // First value of a header (case-insensitive name), or "".
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  void set_header(std::string name, std::string value); // replace or append
};

// The bytes of a frame: start line, headers, body (when non-empty), end-line with the flag.
// A body that contains the end-line "-------" + tid would end the frame early: encode()
// refuses it (the caller picks another tid with random_id()).
Result<std::string> encode(const Frame& f);

// Incremental parser: feed() any split of the byte stream, get whole frames out.
class Parser {
public:
  // `max_frame`: a frame (headers + body) larger than this is an error (413 territory).
  explicit Parser(size_t max_frame = 8 * 1024 * 1024);
  // Append bytes; complete frames are appended to `out`. On a malformed frame returns an
  // error naming what is wrong; the stream cannot be resynchronized after it (the caller
  // answers 400 if it knows the tid, then closes the connection).
  Result<void> feed(std::string_view bytes, std::vector<Frame>& out);
  // The tid of the frame being parsed, when its start line was read ("" otherwise).
  const std::string& current_tid() const;
  size_t buffered() const;

private:
  struct State;
  std::shared_ptr<State> m;
};

// Why a received request is not acceptable (RFC 4975 §7.3 / §10): "" when it is.
// Checks To-Path, From-Path, Message-ID (SEND, REPORT), Byte-Range syntax, Content-Type
// present when a body is present. Returns {status, comment} of the error response.
struct Problem {
  int status = 0;
  std::string comment;
};
std::optional<Problem> check_request(const Frame& f);

// A response to a request: To-Path = the request's From-Path (last hop back), From-Path = our
// own URI (the request's first To-Path entry), same tid; no body.
Frame make_response(const Frame& req, int status, std::string_view comment = {});

// ---- Messages: chunking, reassembly, reports ---------------------------------------------

// One whole message to send, or one received.
struct Message {
  std::string message_id;
  std::string content_type; // "message/cpim"; empty only with an empty body
  std::string body;
  // Success-Report (default no) / Failure-Report ("yes" default, "partial", "no").
  bool success_report = false;
  std::string failure_report = "yes";
};

// SEND frames for `m` from `from_path` to `to_path`, each body at most `max_chunk` bytes
// (the last with '$', the others '+'), Byte-Range with the total on each; new tids.
std::vector<Frame> chunk(const Message& m, const std::vector<Uri>& to_path,
                         const std::vector<Uri>& from_path, size_t max_chunk = 2048);

// Puts chunks of messages back together by Message-ID (chunks may interleave between
// messages, and arrive in any order within one).
class Reassembler {
public:
  explicit Reassembler(size_t max_message = 64 * 1024 * 1024);
  // Feed one SEND. Returns the whole message when this chunk completes it; nullopt while
  // incomplete; an error for inconsistent ranges or a message over max_message (413).
  Result<std::optional<Message>> feed(const Frame& send);
  // A '#' chunk aborts the message: pieces are dropped.
  size_t pending() const;

private:
  struct State;
  std::shared_ptr<State> m;
};

// A REPORT for a received message (RFC 4975 §7.1.2): Status "000 200 OK" (or the error),
// Byte-Range of what was received, same Message-ID, To-Path = the SEND's From-Path.
Frame make_report(const Frame& send, const ByteRange& received, int status,
                  std::string_view comment);
// The status code of a REPORT's Status header ("000 200 OK" -> 200), or 0.
int report_status(const Frame& report);

} // namespace cpm::msrp
