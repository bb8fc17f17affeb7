// --hep udp:HOST:PORT: SIP messages as HEP v3 packets over UDP.
#include "cpm/base/hep.hpp"

#include "cpm/base/bytes.hpp"
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cpm::hep {

namespace {

using bytes::get16;
using bytes::get32;
using bytes::put16;
using bytes::put32;

// One generic chunk: its header (vendor 0, type, length with the header), then `body`.
void chunk(std::string& out, Chunk type, std::string_view body)
{
  put16(out, 0);
  put16(out, static_cast<uint16_t>(type));
  put16(out, static_cast<uint16_t>(k_chunk_header + body.size()));
  out.append(body);
}

void chunk8(std::string& out, Chunk type, uint8_t v)
{
  chunk(out, type, std::string(1, static_cast<char>(v)));
}

void chunk16(std::string& out, Chunk type, uint16_t v)
{
  std::string b;
  put16(b, v);
  chunk(out, type, b);
}

void chunk32(std::string& out, Chunk type, uint32_t v)
{
  std::string b;
  put32(b, v);
  chunk(out, type, b);
}

std::string_view ip_bytes(const pcap::Endpoint& e)
{
  return {reinterpret_cast<const char*>(e.ip.data()), e.v6 ? 16u : 4u};
}

// The body size a fixed-size chunk type must have, or 0 for octet strings and unknown types.
size_t fixed_size(uint16_t type)
{
  switch (static_cast<Chunk>(type)) {
  case Chunk::family:
  case Chunk::protocol:
  case Chunk::proto_type:
    return 1;
  case Chunk::src_port:
  case Chunk::dst_port:
    return 2;
  case Chunk::ipv4_src:
  case Chunk::ipv4_dst:
  case Chunk::time_sec:
  case Chunk::time_usec:
  case Chunk::capture_id:
    return 4;
  case Chunk::ipv6_src:
  case Chunk::ipv6_dst:
    return 16;
  default:
    return 0;
  }
}

} // namespace

Result<std::string> encode(const Packet& p)
{
  if (p.src.v6 != p.dst.v6)
    return fail("HEP: source and destination are of two address families");
  std::string out = "HEP3";
  put16(out, 0); // the length, below
  chunk8(out, Chunk::family, p.src.v6 ? k_af_inet6 : k_af_inet);
  chunk8(out, Chunk::protocol, p.tcp ? k_ip_tcp : k_ip_udp);
  chunk(out, p.src.v6 ? Chunk::ipv6_src : Chunk::ipv4_src, ip_bytes(p.src));
  chunk(out, p.dst.v6 ? Chunk::ipv6_dst : Chunk::ipv4_dst, ip_bytes(p.dst));
  chunk16(out, Chunk::src_port, p.src.port);
  chunk16(out, Chunk::dst_port, p.dst.port);
  auto t = p.time_us < 0 ? 0 : p.time_us;
  chunk32(out, Chunk::time_sec, static_cast<uint32_t>(t / 1000000));
  chunk32(out, Chunk::time_usec, static_cast<uint32_t>(t % 1000000));
  chunk8(out, Chunk::proto_type, p.proto_type);
  chunk32(out, Chunk::capture_id, p.capture_id);
  size_t rest = k_chunk_header + p.payload.size();
  if (!p.auth_key.empty())
    rest += k_chunk_header + p.auth_key.size();
  if (!p.node_name.empty())
    rest += k_chunk_header + p.node_name.size();
  if (out.size() + rest > k_max_packet)
    return fail(fmt::format("HEP: a message of {} bytes does not fit a packet", p.payload.size()));
  if (!p.auth_key.empty())
    chunk(out, Chunk::auth_key, p.auth_key);
  if (!p.node_name.empty())
    chunk(out, Chunk::node_name, p.node_name);
  chunk(out, Chunk::payload, p.payload);
  out[4] = static_cast<char>(out.size() >> 8);
  out[5] = static_cast<char>(out.size() & 0xff);
  return out;
}

Result<Packet> decode(std::string_view b)
{
  if (b.size() < 6 || b.substr(0, 4) != "HEP3")
    return fail("HEP: no HEP3 header");
  if (get16(b, 4) != b.size())
    return fail(fmt::format("HEP: length {} in a packet of {} bytes", get16(b, 4), b.size()));
  Packet p;
  int family = 0, protocol = -1;
  bool src4 = false, dst4 = false, src6 = false, dst6 = false, sport = false, dport = false,
       payload = false;
  uint32_t sec = 0, usec = 0;
  for (size_t at = 6; at < b.size();) {
    if (b.size() - at < k_chunk_header)
      return fail(fmt::format("HEP: a chunk header cut at byte {}", at));
    uint16_t vendor = get16(b, at), type = get16(b, at + 2), len = get16(b, at + 4);
    if (len < k_chunk_header || len > b.size() - at)
      return fail(fmt::format("HEP: chunk {} of length {} at byte {}", type, len, at));
    auto body = b.substr(at + k_chunk_header, len - k_chunk_header);
    at += len;
    if (vendor != 0)
      continue;
    if (size_t want = fixed_size(type); want && body.size() != want)
      return fail(fmt::format("HEP: chunk {} of {} bytes, not {}", type, body.size(), want));
    auto ip = [&body](pcap::Endpoint& e, bool v6) {
      e.v6 = v6;
      e.ip = {};
      std::memcpy(e.ip.data(), body.data(), body.size());
    };
    switch (static_cast<Chunk>(type)) {
    case Chunk::family:
      family = static_cast<uint8_t>(body[0]);
      break;
    case Chunk::protocol:
      protocol = static_cast<uint8_t>(body[0]);
      break;
    case Chunk::ipv4_src:
      ip(p.src, false), src4 = true;
      break;
    case Chunk::ipv4_dst:
      ip(p.dst, false), dst4 = true;
      break;
    case Chunk::ipv6_src:
      ip(p.src, true), src6 = true;
      break;
    case Chunk::ipv6_dst:
      ip(p.dst, true), dst6 = true;
      break;
    case Chunk::src_port:
      p.src.port = get16(body, 0), sport = true;
      break;
    case Chunk::dst_port:
      p.dst.port = get16(body, 0), dport = true;
      break;
    case Chunk::time_sec:
      sec = get32(body, 0);
      break;
    case Chunk::time_usec:
      usec = get32(body, 0);
      break;
    case Chunk::proto_type:
      p.proto_type = static_cast<uint8_t>(body[0]);
      break;
    case Chunk::capture_id:
      p.capture_id = get32(body, 0);
      break;
    case Chunk::auth_key:
      p.auth_key = body;
      break;
    case Chunk::node_name:
      p.node_name = body;
      break;
    case Chunk::payload:
      p.payload = body, payload = true;
      break;
    default:
      break;
    }
  }
  if (family != k_af_inet && family != k_af_inet6)
    return fail(fmt::format("HEP: address family {}", family));
  if (protocol != k_ip_udp && protocol != k_ip_tcp)
    return fail(fmt::format("HEP: IP protocol {}", protocol));
  bool v6 = family == k_af_inet6;
  // Both addresses of the family, and only as the last chunk of each gave them.
  if (!(v6 ? src6 && dst6 : src4 && dst4) || p.src.v6 != v6 || p.dst.v6 != v6)
    return fail("HEP: no source and destination address of the packet's family");
  if (!sport || !dport || !payload)
    return fail("HEP: no ports or no payload");
  // A time is seconds and the microseconds within one: a million or more is not a time that
  // encode could write back, and no capture agent sends one.
  if (usec >= 1000000)
    return fail(fmt::format("HEP: {} microseconds, not under a second", usec));
  p.tcp = protocol == k_ip_tcp;
  p.time_us = static_cast<int64_t>(sec) * 1000000 + usec;
  return p;
}

bool is_sip(std::string_view message)
{
  auto line = message.substr(0, message.find_first_of("\r\n"));
  return line.starts_with("SIP/2.0 ") || (line.size() > 8 && line.ends_with(" SIP/2.0"));
}

Result<pcap::Endpoint> parse_target(std::string_view text)
{
  if (!text.starts_with("udp:"))
    return fail(fmt::format("--hep {}: give udp:HOST:PORT (HEP is sent over UDP)", text));
  auto e = pcap::parse_endpoint(text.substr(4));
  if (!e || e->port == 0)
    return fail(fmt::format("--hep {}: give udp:HOST:PORT, HOST an IPv4 or [IPv6] address", text));
  return e;
}

Sender::~Sender()
{
  if (m_fd >= 0)
    ::close(m_fd);
}

Result<void> Sender::open(const Options& o, std::string prog)
{
  auto to = parse_target(o.target);
  if (!to)
    return tl::unexpected(to.error());
  m_opt = o;
  m_prog = std::move(prog);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (to->v6) {
    auto& a = reinterpret_cast<sockaddr_in6&>(ss);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(to->port);
    std::memcpy(&a.sin6_addr, to->ip.data(), 16);
    len = sizeof a;
  } else {
    auto& a = reinterpret_cast<sockaddr_in&>(ss);
    a.sin_family = AF_INET;
    a.sin_port = htons(to->port);
    std::memcpy(&a.sin_addr, to->ip.data(), 4);
    len = sizeof a;
  }
  int fd = ::socket(to->v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return fail(fmt::format("--hep {}: {}", o.target, std::strerror(errno)), 3);
  // Connected, so that a collector that is not there (ICMP port unreachable) is seen as
  // ECONNREFUSED on a later send and said once.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    ::close(fd);
    return fail(fmt::format("--hep {}: {}", o.target, std::strerror(err)), 3);
  }
  m_fd = fd;
  return {};
}

void Sender::failure(const std::string& why)
{
  ++m_failed;
  if (m_said)
    return;
  m_said = true;
  fmt::print(stderr, "{}: HEP to {}: {} (said once; messages go on)\n", m_prog,
             m_opt.target.substr(4), why);
}

bool Sender::send(int64_t time_us, std::string_view transport, std::string_view src,
                  std::string_view dst, std::string_view message)
{
  if (m_fd < 0 || !is_sip(message))
    return false;
  auto s = pcap::parse_endpoint(src);
  auto d = pcap::parse_endpoint(dst);
  if (!s || !d)
    return false;
  Packet p;
  p.time_us = time_us;
  p.tcp = transport != "udp";
  p.src = *s;
  p.dst = *d;
  p.capture_id = m_opt.capture_id;
  p.auth_key = m_opt.auth_key;
  p.node_name = m_opt.node_name;
  p.payload = message;
  auto bytes = encode(p);
  if (!bytes) {
    failure(bytes.error().message);
    return false;
  }
  // Never blocks: a full socket buffer drops the packet, as any loss on the way would.
  if (::send(m_fd, bytes->data(), bytes->size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    failure(std::strerror(errno));
    return false;
  }
  ++m_sent;
  return true;
}

} // namespace cpm::hep
