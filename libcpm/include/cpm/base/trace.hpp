#pragma once
// --trace FILE: every SIP message a program sends or receives, as JSON Lines; --pcap FILE:
// the same as packets of a capture file; --hep udp:HOST:PORT: the SIP ones as HEP packets.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"

namespace cpm::pcap {
class Writer;
}
namespace cpm::hep {
class Sender;
struct Options;
} // namespace cpm::hep

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
  // The bytes on the wire when `message` only describes them (an SMPP PDU), else empty;
  // written as "wire" in hex.
  std::string wire;
};

// Appends events to a file, one JSON object per line, flushed per event; and, once
// open_pcap() is called, each tx and rx event as a packet of a capture file too; once
// open_hep() is called, each tx and rx event that is SIP as a HEP packet to a collector.
class Writer {
public:
  Writer();
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  Result<void> open(const std::string& path, std::string node);
  // --pcap FILE: also write every message sent or received as a packet (cpm/base/pcap.hpp).
  Result<void> open_pcap(const std::string& path);
  // --hep udp:HOST:PORT: also send every SIP message sent or received to a HEP collector
  // (cpm/base/hep.hpp); `prog` prefixes the one diagnostic a failing collector gets.
  Result<void> open_hep(const hep::Options& o, const std::string& prog);
  // Whether any sink (trace file, capture file, HEP collector) is open.
  bool is_open() const { return m_file != nullptr || m_pcap != nullptr || m_hep != nullptr; }
  const std::string& node() const { return m_node; }
  // Record one message; `first_line` and `call_id` are taken from `message`. `wire` is the
  // bytes sent when `message` describes them instead (an SMPP PDU); the capture gets `wire`,
  // else `message`. A "note" is no packet. The HEP collector gets SIP messages only.
  void write(std::string_view dir, std::string_view transport, std::string_view local,
             std::string_view peer, std::string_view message, std::string_view wire = {});

private:
  std::FILE* m_file = nullptr;
  std::string m_node;
  std::unique_ptr<pcap::Writer> m_pcap;
  std::unique_ptr<hep::Sender> m_hep;
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
