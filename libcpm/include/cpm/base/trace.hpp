#pragma once
// --trace FILE: every SIP message a program sends or receives, as JSON Lines.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"

namespace cpm::trace {

// One line of a trace file.
struct Event {
  int64_t time_us = 0;   // wall clock, microseconds since the epoch
  std::string node;      // who wrote it
  std::string dir;       // "tx" or "rx"
  std::string transport; // "udp", "tcp"
  std::string local;     // local address "127.0.1.1:5060"
  std::string peer;      // remote address "127.0.1.2:5060"
  std::string first_line;
  std::string call_id;
  std::string message; // the whole message
};

// Appends events to a file, one JSON object per line, flushed per event.
class Writer {
public:
  Writer() = default;
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  Result<void> open(const std::string& path, std::string node);
  bool is_open() const { return m_file != nullptr; }
  const std::string& node() const { return m_node; }
  // Record one message; `first_line` and `call_id` are taken from `message`.
  void write(std::string_view dir, std::string_view transport, std::string_view local,
             std::string_view peer, std::string_view message);

private:
  std::FILE* m_file = nullptr;
  std::string m_node;
};

// The first line of a SIP/MSRP message, without CRLF.
std::string first_line(std::string_view message);
// The Call-ID header value (long or compact form "i:"), or "".
std::string call_id(std::string_view message);
// Serialize / parse one line.
std::string to_json(const Event& e);
Result<Event> from_json(std::string_view line);
// Read every event of a file; malformed lines are an error naming the line.
Result<std::vector<Event>> read_file(const std::string& path);
// Microseconds since the epoch.
int64_t now_us();

} // namespace cpm::trace
