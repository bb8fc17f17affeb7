#pragma once
// --hep udp:HOST:PORT: every SIP message a program sends or receives as one HEP v3 packet
// (HEP3, the encapsulation of Homer, Kamailio's siptrace and sngrep) over UDP to a collector.
#include <cstdint>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"
#include "cpm/base/pcap.hpp"

namespace cpm::hep {

// HEP3 generic chunk types (vendor 0x0000), as the HEP3 Network Protocol Specification
// numbers them; node name (19) is Homer's and heplify's.
enum class Chunk : uint16_t {
  family = 1,      // uint8: 2 (AF_INET) or 10 (AF_INET6)
  protocol = 2,    // uint8: 17 (UDP) or 6 (TCP)
  ipv4_src = 3,    // 4 bytes
  ipv4_dst = 4,    // 4 bytes
  ipv6_src = 5,    // 16 bytes
  ipv6_dst = 6,    // 16 bytes
  src_port = 7,    // uint16
  dst_port = 8,    // uint16
  time_sec = 9,    // uint32, seconds since the epoch
  time_usec = 10,  // uint32, microseconds within the second
  proto_type = 11, // uint8: 1 is SIP
  capture_id = 12, // uint32, the capture agent's id
  auth_key = 14,   // octets
  payload = 15,    // octets: the captured message
  node_name = 19,  // octets
};

constexpr uint8_t k_af_inet = 2, k_af_inet6 = 10;
constexpr uint8_t k_ip_tcp = 6, k_ip_udp = 17;
// The protocol type of SIP; HEP has none for MSRP or SMPP, so only SIP is sent.
constexpr uint8_t k_proto_sip = 1;
// The 6 bytes of a chunk's header: vendor, type, length (the header included), big-endian.
constexpr size_t k_chunk_header = 6;
// A packet's length is 16 bits, the 6-byte "HEP3" + length header included.
constexpr size_t k_max_packet = 65535;

// One captured message. The views point into the caller's (encode) or the packet's (decode)
// bytes.
struct Packet {
  int64_t time_us = 0; // microseconds since the epoch
  bool tcp = false;    // else UDP
  pcap::Endpoint src, dst;
  uint8_t proto_type = k_proto_sip;
  uint32_t capture_id = 0;
  std::string_view auth_key;  // chunk 14, left out when empty
  std::string_view node_name; // chunk 19, left out when empty
  std::string_view payload;
  bool operator==(const Packet&) const = default;
};

// The packet's bytes: "HEP3", its length, then the chunks family, protocol, source and
// destination address and port, seconds, microseconds, protocol type, capture id, auth key
// and node name when given, payload. Fails when src and dst are of two families or the
// packet would pass k_max_packet.
Result<std::string> encode(const Packet& p);

// Read a packet: "HEP3", a length equal to the bytes' size, chunks that fit it, each of a
// fixed-size type of its size; chunks of other vendors and unknown types are skipped. It needs
// the family, protocol (UDP or TCP), both addresses of that family, both ports, a payload,
// and microseconds under a second.
Result<Packet> decode(std::string_view bytes);

// Whether a traced message is SIP (a request line ending in SIP/2.0 or a status line), not an
// MSRP frame, an SMPP PDU or a keep-alive.
bool is_sip(std::string_view message);

// Where to send and as whom.
struct Options {
  std::string target;      // "udp:HOST:PORT", HOST an IPv4 or [IPv6] literal
  uint32_t capture_id = 1; // --hep-id, key hep_id
  std::string node_name;   // key hep_node, default the node's name
  std::string auth_key;    // key hep_key, default none
};

// "udp:127.0.0.1:9060" or "udp:[::1]:9060".
Result<pcap::Endpoint> parse_target(std::string_view text);

// A UDP socket to the collector. A message that cannot be sent (nobody listens, a full
// buffer) is dropped: the first failure is said on stderr, then the program goes on.
class Sender {
public:
  Sender() = default;
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;
  // `prog` prefixes the one diagnostic.
  Result<void> open(const Options& o, std::string prog);
  // Send one traced message (`src`, `dst` as traces write them; `transport` "udp", else TCP)
  // when it is SIP; false when it was not sent.
  bool send(int64_t time_us, std::string_view transport, std::string_view src, std::string_view dst,
            std::string_view message);
  uint64_t sent() const { return m_sent; }
  uint64_t failed() const { return m_failed; }

private:
  void failure(const std::string& why);
  int m_fd = -1;
  Options m_opt;
  std::string m_prog;
  bool m_said = false;
  uint64_t m_sent = 0;
  uint64_t m_failed = 0;
};

} // namespace cpm::hep
