#pragma once
// --pcap FILE: every message a program sends or receives as a packet of a libpcap capture
// (Ethernet, IPv4/IPv6, UDP/TCP built here), which Wireshark, tshark and sngrep read.
#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/base/trace.hpp"

namespace cpm::pcap {

// LINKTYPE_ETHERNET: every tool reads it (sngrep, pcapsipdump and Wireshark alike).
constexpr uint32_t k_linktype = 1;
constexpr uint32_t k_snaplen = 262144;
// The most payload one TCP segment carries here (an IPv4 packet is at most 65535 bytes).
constexpr size_t k_max_segment = 65000;
// TCP flags.
constexpr uint8_t k_fin = 0x01, k_syn = 0x02, k_psh = 0x08, k_ack = 0x10;

// A transport address: an IPv4 address (the first 4 bytes of `ip`) or an IPv6 one, a port.
struct Endpoint {
  bool v6 = false;
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;
  auto operator<=>(const Endpoint&) const = default;
};

// "127.0.1.1:5060" or "[::1]:5060", as traces write them.
Result<Endpoint> parse_endpoint(std::string_view text);

// One datagram or TCP segment.
struct Packet {
  int64_t time_us = 0;
  bool tcp = false;
  Endpoint src, dst; // of one address family
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0; // TCP flags
  std::string_view payload;
};

// The 24-byte file header: microsecond timestamps, k_snaplen, k_linktype.
std::string file_header();
// One record: its 16-byte header, then Ethernet, IPv4 or IPv6 (checksummed), UDP or TCP
// (checksummed over the pseudo-header) and the payload (cut to what an IP packet holds).
std::string record(const Packet& p, uint16_t ip_id = 0);

// Packets of messages, with the state TCP needs: per connection (either direction), the next
// sequence number each side sends, so that Wireshark reassembles what spans segments.
class Capture {
public:
  // The records of one message from `src` to `dst`: one UDP datagram, or TCP segments of at
  // most k_max_segment bytes each (PSH|ACK), the first message of a connection preceded by a
  // handshake (SYN, SYN-ACK, ACK) with `src` as the side that connected. Any transport but
  // "udp" is TCP ("tcp", "tls" written in clear, "smpp", "msrp").
  std::string add(int64_t time_us, std::string_view transport, const Endpoint& src,
                  const Endpoint& dst, std::string_view payload);

private:
  struct Conn {
    uint32_t next_lo = 0; // next sequence number of the lower endpoint of the key
    uint32_t next_hi = 0;
  };
  std::map<std::pair<Endpoint, Endpoint>, Conn> m_tcp;
  uint16_t m_ip_id = 0;
};

// A capture file: appends to a pcap file already there (checking its header), else starts it.
class Writer {
public:
  Writer() = default;
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  Result<void> open(const std::string& path);
  bool is_open() const { return m_file != nullptr; }
  // Write one message (flushed); false when an address is not "HOST:PORT" of an IP literal.
  bool write(int64_t time_us, std::string_view transport, std::string_view src,
             std::string_view dst, std::string_view payload);

private:
  std::FILE* m_file = nullptr;
  Capture m_capture;
};

// The events of a run's traces as one capture file (header included), ordered by time: every
// message once, from its sender's tx event, else from the rx event of a receiver whose
// sender wrote no trace (its address is no trace's `local`). SMPP events without their
// bytes ("wire", older traces) and notes are left out.
std::string merge(std::vector<trace::Event> events);

} // namespace cpm::pcap
