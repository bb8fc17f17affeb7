#pragma once
// MSRP (RFC 4975): URIs and paths, frames, an incremental parser, chunking and reassembly,
// responses and REPORTs (pure, unit-tested), and sessions on libre's TCP (msrp_conn.cpp).
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

#include "cpm/error.hpp"

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

// ---- Sessions on libre's TCP ----------------------------------------------------------

// What a session reports to its owner (called on the libre loop; must not throw).
struct Callbacks {
  std::function<void(const Message&)> on_message; // a whole received message
  std::function<void(const std::string& message_id, int status)> on_report; // REPORT received
  // A sent message failed (transaction response >= 300, or the connection closed before its
  // 200): message id, status (0 for a network error).
  std::function<void(const std::string& message_id, int status)> on_failure;
  std::function<void()> on_connected;              // connection up and matched to this session
  std::function<void(int err)> on_closed;          // connection gone (0: peer closed)
  std::function<void(const std::string&)> on_diag; // diagnostics for stderr
};

class Listener;

// One MSRP session: our URI (on a Listener's address) and the peer's path. Sends whole
// messages (chunked), answers the peer's SENDs with 200 (or the error of check_request),
// sends REPORTs on request, reassembles chunks, and never overruns libre's send queue:
// frames wait in our own queue while tcp_conn_txqsz() is low and resume on tcp_set_send.
class Session {
public:
  ~Session(); // closes the connection (no callbacks)
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Our URI (for a=path) and the peer's path (from its a=path), once known.
  const Uri& local() const;
  void set_remote(std::vector<Uri> path);
  const std::vector<Uri>& remote() const;

  // Active side (RFC 4975 §5.4 / RFC 6135 a=setup:active): connect to the first hop of the
  // remote path and send an empty SEND to bind the connection (RFC 4975 §5.4).
  Result<void> connect();
  bool connected() const;

  // Queue a message; it goes out when connected. Returns its Message-ID (m.message_id, or a
  // new one when empty).
  std::string send(Message m);
  // Bytes queued by us and by libre, not yet written to the socket.
  size_t backlog() const;
  // Frames per chunk (default 2048 body bytes; RFC 4975 suggests <= 2048 for interleaving).
  void set_chunk_size(size_t n);
  // How long a SEND may wait for its response before its message fails with 408
  // (on_failure); default (and 0) 30000 ms, RFC 4975 §7.1.
  void set_transaction_timeout(uint32_t ms);
  // Close the connection (no callbacks).
  void close();

private:
  friend class Listener;
  Session() = default;
  struct Impl;
  std::unique_ptr<Impl> m;
};

// A TCP listening socket that serves many sessions; an accepted connection is bound to a
// session by the session-id of the first request's To-Path (481 and close otherwise).
class Listener {
public:
  // host: the address to bind (also written into session URIs); port 0 picks one.
  static Result<std::unique_ptr<Listener>> create(const std::string& host, uint16_t port,
                                                  trace::Writer* trace = nullptr);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  uint16_t port() const;
  const std::string& host() const;
  // A new session with a fresh session-id on this listener's address. The session must not
  // outlive the listener.
  std::unique_ptr<Session> session(Callbacks cb);

  struct Impl;

private:
  Listener() = default;
  std::unique_ptr<Impl> m;
};

} // namespace cpm::msrp
