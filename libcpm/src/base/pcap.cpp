// --pcap FILE: messages as Ethernet/IP/UDP-or-TCP packets of a libpcap capture file.
#include "cpm/base/pcap.hpp"

#include "cpm/base/bytes.hpp"
#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <fmt/format.h>
#include <set>

namespace cpm::pcap {

namespace {

using bytes::put16;
using bytes::put32;

// Little-endian, as the file header and record headers are written (magic a1b2c3d4).
void put32le(std::string& out, uint32_t v)
{
  for (int i = 0; i < 4; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void put16le(std::string& out, uint16_t v)
{
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>(v >> 8);
}

void put_ip(std::string& out, const Endpoint& e)
{
  out.append(reinterpret_cast<const char*>(e.ip.data()), e.v6 ? 16 : 4);
}

// RFC 1071: the one's complement of the one's complement sum of 16-bit words.
uint32_t sum16(std::string_view bytes, uint32_t sum = 0)
{
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2)
    sum += (static_cast<uint8_t>(bytes[i]) << 8) | static_cast<uint8_t>(bytes[i + 1]);
  if (i < bytes.size())
    sum += static_cast<uint8_t>(bytes[i]) << 8;
  return sum;
}

uint16_t fold(uint32_t sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

// A made-up but stable MAC per address: 02 (locally administered), 00, then the last four
// bytes of the IP address.
void put_mac(std::string& out, const Endpoint& e)
{
  out += '\x02';
  out += '\x00';
  size_t from = e.v6 ? 12 : 0;
  out.append(reinterpret_cast<const char*>(e.ip.data()) + from, 4);
}

// An initial sequence number that differs per connection and run, yet is reproducible.
uint32_t isn(const Endpoint& src, const Endpoint& dst, int64_t time_us)
{
  uint32_t h = 2166136261u; // FNV-1a
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 16777619u;
  };
  for (const auto* e : {&src, &dst}) {
    for (auto b : e->ip)
      mix(b);
    mix(static_cast<uint8_t>(e->port >> 8));
    mix(static_cast<uint8_t>(e->port & 0xff));
  }
  for (int i = 0; i < 8; ++i)
    mix(static_cast<uint8_t>((time_us >> (8 * i)) & 0xff));
  return h;
}

} // namespace

Result<Endpoint> parse_endpoint(std::string_view text)
{
  Endpoint e;
  std::string host;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find("]:");
    if (close == std::string_view::npos)
      return fail(fmt::format("'{}': want [IPv6]:PORT", text));
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    e.v6 = true;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return fail(fmt::format("'{}': want HOST:PORT", text));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (inet_pton(e.v6 ? AF_INET6 : AF_INET, host.c_str(), e.ip.data()) != 1)
    return fail(fmt::format("'{}': not an IP address", host));
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return fail(fmt::format("'{}': bad port", text));
  e.port = static_cast<uint16_t>(value);
  return e;
}

std::string file_header()
{
  std::string h;
  put32le(h, 0xa1b2c3d4); // microsecond timestamps
  put16le(h, 2);          // version 2.4
  put16le(h, 4);
  put32le(h, 0); // thiszone
  put32le(h, 0); // sigfigs
  put32le(h, k_snaplen);
  put32le(h, k_linktype);
  return h;
}

std::string record(const Packet& p, uint16_t ip_id)
{
  const size_t l4_header = p.tcp ? 20 : 8;
  const size_t ip_header = p.src.v6 ? 40 : 20;
  // An IPv4 total length, and an IPv6 payload length, are 16 bits.
  const size_t room = 65535 - l4_header - (p.src.v6 ? 0 : ip_header);
  auto payload = p.payload.substr(0, room);
  const auto l4_len = static_cast<uint16_t>(l4_header + payload.size());

  std::string l4;
  put16(l4, p.src.port);
  put16(l4, p.dst.port);
  if (p.tcp) {
    put32(l4, p.seq);
    put32(l4, p.ack);
    l4 += '\x50'; // data offset: 5 words, no options
    l4 += static_cast<char>(p.flags);
    put16(l4, 65535); // window
    put16(l4, 0);     // checksum, below
    put16(l4, 0);     // urgent pointer
  } else {
    put16(l4, l4_len);
    put16(l4, 0); // checksum, below
  }
  l4 += payload;
  // The checksum over the pseudo-header (RFC 768, RFC 793; RFC 8200 §8.1) and the segment.
  std::string pseudo;
  put_ip(pseudo, p.src);
  put_ip(pseudo, p.dst);
  const uint8_t proto = p.tcp ? 6 : 17;
  if (p.src.v6) {
    put32(pseudo, l4_len);
    put32(pseudo, proto);
  } else {
    put16(pseudo, proto);
    put16(pseudo, l4_len);
  }
  uint16_t csum = fold(sum16(l4, sum16(pseudo)));
  if (!p.tcp && csum == 0)
    csum = 0xffff; // RFC 768: zero means "no checksum"
  const size_t at = p.tcp ? 16 : 6;
  l4[at] = static_cast<char>(csum >> 8);
  l4[at + 1] = static_cast<char>(csum & 0xff);

  std::string ip;
  if (p.src.v6) {
    put32(ip, 0x60000000);
    put16(ip, l4_len);
    ip += static_cast<char>(proto);
    ip += '\x40'; // hop limit 64
    put_ip(ip, p.src);
    put_ip(ip, p.dst);
  } else {
    ip += '\x45';
    ip += '\x00';
    put16(ip, static_cast<uint16_t>(ip_header + l4_len));
    put16(ip, ip_id);
    put16(ip, 0x4000); // don't fragment
    ip += '\x40';      // TTL 64
    ip += static_cast<char>(proto);
    put16(ip, 0);
    put_ip(ip, p.src);
    put_ip(ip, p.dst);
    uint16_t h = fold(sum16(ip));
    ip[10] = static_cast<char>(h >> 8);
    ip[11] = static_cast<char>(h & 0xff);
  }

  std::string eth;
  put_mac(eth, p.dst);
  put_mac(eth, p.src);
  put16(eth, p.src.v6 ? 0x86dd : 0x0800);

  const auto frame_len = static_cast<uint32_t>(eth.size() + ip.size() + l4.size());
  std::string out;
  out.reserve(16 + frame_len);
  put32le(out, static_cast<uint32_t>(p.time_us / 1000000));
  put32le(out, static_cast<uint32_t>(p.time_us % 1000000));
  put32le(out, frame_len);
  put32le(out, frame_len);
  out += eth;
  out += ip;
  out += l4;
  return out;
}

std::string Capture::add(int64_t time_us, std::string_view transport, const Endpoint& src,
                         const Endpoint& dst, std::string_view payload)
{
  if (src.v6 != dst.v6)
    return {};
  Packet p;
  p.time_us = time_us;
  p.src = src;
  p.dst = dst;
  if (transport == "udp") {
    p.payload = payload;
    return record(p, m_ip_id++);
  }
  p.tcp = true;
  std::string out;
  const bool lo = src < dst;
  auto key = lo ? std::pair{src, dst} : std::pair{dst, src};
  auto it = m_tcp.find(key);
  if (it == m_tcp.end()) {
    // A connection seen first here: `src` connected (the side that speaks first in SIP,
    // MSRP and SMPP alike).
    uint32_t mine = isn(src, dst, time_us), theirs = isn(dst, src, time_us);
    Packet h = p;
    h.seq = mine;
    h.flags = k_syn;
    out += record(h, m_ip_id++);
    Packet r = p;
    r.src = dst;
    r.dst = src;
    r.seq = theirs;
    r.ack = mine + 1;
    r.flags = k_syn | k_ack;
    out += record(r, m_ip_id++);
    h.seq = mine + 1;
    h.ack = theirs + 1;
    h.flags = k_ack;
    out += record(h, m_ip_id++);
    Conn c;
    (lo ? c.next_lo : c.next_hi) = mine + 1;
    (lo ? c.next_hi : c.next_lo) = theirs + 1;
    it = m_tcp.emplace(key, c).first;
  }
  uint32_t& next = lo ? it->second.next_lo : it->second.next_hi;
  const uint32_t ack = lo ? it->second.next_hi : it->second.next_lo;
  p.flags = k_psh | k_ack;
  p.ack = ack;
  for (size_t at = 0; at < payload.size(); at += k_max_segment) {
    p.payload = payload.substr(at, k_max_segment);
    p.seq = next;
    out += record(p, m_ip_id++);
    next += static_cast<uint32_t>(p.payload.size());
  }
  return out;
}

Writer::~Writer()
{
  if (m_file)
    std::fclose(m_file);
}

Result<void> Writer::open(const std::string& path)
{
  m_file = std::fopen(path.c_str(), "a+b");
  if (!m_file)
    return fail(fmt::format("cannot open pcap file {}", path));
  std::fseek(m_file, 0, SEEK_END);
  if (std::ftell(m_file) == 0) {
    auto h = file_header();
    std::fwrite(h.data(), 1, h.size(), m_file);
    std::fflush(m_file);
    return {};
  }
  // Appending, as --trace does: only to a capture of the same kind.
  std::string h(24, '\0');
  std::fseek(m_file, 0, SEEK_SET);
  bool same = std::fread(h.data(), 1, h.size(), m_file) == h.size() &&
              h.substr(0, 4) == file_header().substr(0, 4) &&
              h.substr(20, 4) == file_header().substr(20, 4);
  std::fseek(m_file, 0, SEEK_END);
  if (!same) {
    std::fclose(m_file);
    m_file = nullptr;
    return fail(
        fmt::format("{} is not a pcap file to append to (microsecond pcap, Ethernet)", path));
  }
  return {};
}

bool Writer::write(int64_t time_us, std::string_view transport, std::string_view src,
                   std::string_view dst, std::string_view payload)
{
  if (!m_file)
    return false;
  auto s = parse_endpoint(src);
  auto d = parse_endpoint(dst);
  if (!s || !d)
    return false;
  auto bytes = m_capture.add(time_us, transport, *s, *d, payload);
  if (bytes.empty())
    return false;
  std::fwrite(bytes.data(), 1, bytes.size(), m_file);
  std::fflush(m_file);
  return true;
}

} // namespace cpm::pcap

namespace cpm::pcap {

std::string merge(std::vector<trace::Event> events)
{
  std::set<std::string> locals;
  for (const auto& e : events)
    if (!e.local.empty())
      locals.insert(e.local);
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.time_us < b.time_us; });
  std::string out = file_header();
  Capture cap;
  for (const auto& e : events) {
    bool tx = e.dir == "tx";
    if (!tx && (e.dir != "rx" || locals.count(e.peer)))
      continue;
    if (e.transport == "smpp" && e.wire.empty())
      continue;
    auto local = parse_endpoint(e.local);
    auto peer = parse_endpoint(e.peer);
    if (!local || !peer)
      continue;
    const std::string& bytes = e.wire.empty() ? e.message : e.wire;
    out += tx ? cap.add(e.time_us, e.transport, *local, *peer, bytes)
              : cap.add(e.time_us, e.transport, *peer, *local, bytes);
  }
  return out;
}

} // namespace cpm::pcap
