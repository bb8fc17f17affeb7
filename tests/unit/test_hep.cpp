#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cstdint>
#include <deque>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "cpm/base/hep.hpp"
#include "cpm/base/trace.hpp"

namespace hep = cpm::hep;
namespace pcap = cpm::pcap;

namespace {

std::string unhex(std::string_view hex)
{
  std::string out;
  for (size_t i = 0; i < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

pcap::Endpoint ep(const char* text)
{
  auto e = pcap::parse_endpoint(text);
  REQUIRE(e);
  return *e;
}

const std::string k_invite = "INVITE sip:bob@b.example SIP/2.0\r\nCall-ID: c1\r\n\r\n";

// Reads chunk after chunk, checking each header against the expected one.
struct Chunks {
  std::string_view bytes;
  size_t at = 6;
  std::string_view next(uint16_t type, size_t body)
  {
    REQUIRE(at + 6 + body <= bytes.size());
    CHECK(bytes.substr(at, 2) == std::string_view("\0\0", 2));
    uint16_t t = static_cast<uint16_t>(static_cast<uint8_t>(bytes[at + 2]) << 8 |
                                       static_cast<uint8_t>(bytes[at + 3]));
    uint16_t len = static_cast<uint16_t>(static_cast<uint8_t>(bytes[at + 4]) << 8 |
                                         static_cast<uint8_t>(bytes[at + 5]));
    CHECK(t == type);
    CHECK(len == 6 + body);
    auto b = bytes.substr(at + 6, body);
    at += 6 + body;
    return b;
  }
};

// A UDP socket on 127.0.0.1, port chosen by the kernel.
struct Collector {
  int fd = -1;
  uint16_t port = 0;
  Collector()
  {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~Collector() { ::close(fd); }
  // The next datagram, or "" after a second.
  std::string receive()
  {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1)
      return {};
    std::string buf(70000, '\0');
    auto n = ::recv(fd, buf.data(), buf.size(), 0);
    REQUIRE(n >= 0);
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
  std::string target() const { return "udp:127.0.0.1:" + std::to_string(port); }
};

} // namespace

TEST_SUITE_BEGIN("hep");

TEST_CASE("hep::encode lays out an IPv4 UDP message chunk by chunk")
{
  hep::Packet p;
  p.time_us = 1700000000123456;
  p.src = ep("127.0.1.1:5060");
  p.dst = ep("127.0.2.1:5070");
  p.capture_id = 2001;
  p.auth_key = "secret";
  p.node_name = "coreA";
  p.payload = k_invite;
  auto b = hep::encode(p);
  REQUIRE(b);
  CHECK(b->substr(0, 4) == "HEP3");
  CHECK(b->substr(4, 2) == unhex(fmt::format("{:04x}", b->size())));
  Chunks c{*b};
  CHECK(c.next(1, 1) == unhex("02"));             // AF_INET
  CHECK(c.next(2, 1) == unhex("11"));             // UDP
  CHECK(c.next(3, 4) == unhex("7f000101"));       // source address
  CHECK(c.next(4, 4) == unhex("7f000201"));       // destination address
  CHECK(c.next(7, 2) == unhex("13c4"));           // 5060
  CHECK(c.next(8, 2) == unhex("13ce"));           // 5070
  CHECK(c.next(9, 4) == unhex("6553f100"));       // 1700000000 s
  CHECK(c.next(10, 4) == unhex("0001e240"));      // 123456 µs
  CHECK(c.next(11, 1) == unhex("01"));            // SIP
  CHECK(c.next(12, 4) == unhex("000007d1"));      // 2001
  CHECK(c.next(14, 6) == "secret");               // auth key
  CHECK(c.next(19, 5) == "coreA");                // node name
  CHECK(c.next(15, k_invite.size()) == k_invite); // payload
  CHECK(c.at == b->size());
}

TEST_CASE("hep::encode lays out an IPv6 TCP message, no key and no name left out")
{
  hep::Packet p;
  p.time_us = 5000001;
  p.tcp = true;
  p.src = ep("[::1]:5060");
  p.dst = ep("[2001:db8::2]:40000");
  p.capture_id = 7;
  p.payload = "SIP/2.0 200 OK\r\n\r\n";
  auto b = hep::encode(p);
  REQUIRE(b);
  Chunks c{*b};
  CHECK(c.next(1, 1) == unhex("0a")); // AF_INET6
  CHECK(c.next(2, 1) == unhex("06")); // TCP
  CHECK(c.next(5, 16) == unhex("00000000000000000000000000000001"));
  CHECK(c.next(6, 16) == unhex("20010db8000000000000000000000002"));
  CHECK(c.next(7, 2) == unhex("13c4"));
  CHECK(c.next(8, 2) == unhex("9c40"));
  CHECK(c.next(9, 4) == unhex("00000005"));
  CHECK(c.next(10, 4) == unhex("00000001"));
  CHECK(c.next(11, 1) == unhex("01"));
  CHECK(c.next(12, 4) == unhex("00000007"));
  CHECK(c.next(15, p.payload.size()) == p.payload);
  CHECK(c.at == b->size());
  auto d = hep::decode(*b);
  REQUIRE(d);
  CHECK(*d == p);
}

TEST_CASE("hep::encode refuses two families and a packet over 64 KiB")
{
  hep::Packet p;
  p.src = ep("127.0.0.1:1");
  p.dst = ep("[::1]:2");
  p.payload = k_invite;
  CHECK_FALSE(hep::encode(p));
  p.dst = ep("127.0.0.2:2");
  std::string big(65535, 'x');
  p.payload = big;
  CHECK_FALSE(hep::encode(p));
  // The largest payload that fits: the header, 10 fixed chunks and the payload's header.
  size_t fixed = 6 + 3 * 7 + 2 * 10 + 2 * 8 + 3 * 10 + 6;
  p.payload = std::string_view(big).substr(0, 65535 - fixed);
  auto b = hep::encode(p);
  REQUIRE(b);
  CHECK(b->size() == 65535);
  p.payload = std::string_view(big).substr(0, 65536 - fixed);
  CHECK_FALSE(hep::encode(p));
}

TEST_CASE("hep::decode reads what encode writes and refuses what is not a packet")
{
  hep::Packet p;
  p.time_us = 1;
  p.src = ep("10.0.0.1:5060");
  p.dst = ep("10.0.0.2:5060");
  p.capture_id = 1;
  p.node_name = "alice";
  p.payload = k_invite;
  auto b = hep::encode(p);
  REQUIRE(b);
  auto d = hep::decode(*b);
  REQUIRE(d);
  CHECK(*d == p);

  SUBCASE("no HEP3")
  {
    auto x = *b;
    x[3] = '2';
    CHECK_FALSE(hep::decode(x));
    CHECK_FALSE(hep::decode("HEP"));
  }
  SUBCASE("a length other than the packet's")
  {
    CHECK_FALSE(hep::decode(*b + "x"));
    CHECK_FALSE(hep::decode(b->substr(0, b->size() - 1)));
  }
  SUBCASE("a chunk shorter than its header or longer than the packet")
  {
    auto x = *b;
    x[6 + 5] = 5; // the family chunk's length
    CHECK_FALSE(hep::decode(x));
    x[6 + 5] = 0x7f;
    CHECK_FALSE(hep::decode(x));
  }
  SUBCASE("a fixed-size chunk of another size")
  {
    // The family chunk grows by one byte (the packet's length follows).
    auto x = b->substr(0, 6) + unhex("0000 0001 0008 02 00") + b->substr(6 + 7);
    x[4] = static_cast<char>(x.size() >> 8);
    x[5] = static_cast<char>(x.size() & 0xff);
    CHECK_FALSE(hep::decode(x));
  }
  SUBCASE("chunks of another vendor and of unknown types are skipped")
  {
    auto x = b->substr(0, 6) + unhex("0001 0001 0007 0a") + unhex("0000 0063 0009 616263") +
             b->substr(6);
    x[4] = static_cast<char>(x.size() >> 8);
    x[5] = static_cast<char>(x.size() & 0xff);
    auto y = hep::decode(x);
    REQUIRE(y);
    CHECK(*y == p);
  }
  SUBCASE("no payload, no address of the family")
  {
    auto no_payload = b->substr(0, b->size() - 6 - k_invite.size());
    no_payload[4] = static_cast<char>(no_payload.size() >> 8);
    no_payload[5] = static_cast<char>(no_payload.size() & 0xff);
    CHECK_FALSE(hep::decode(no_payload));
    auto x = *b;
    x[6 + 6] = 10; // says IPv6, carries IPv4 addresses
    CHECK_FALSE(hep::decode(x));
  }
  SUBCASE("microseconds of a whole second or more")
  {
    // The time_usec chunk's body: after the header, family, protocol, two IPv4 addresses,
    // two ports and the seconds.
    const size_t usec_at = 6 + 7 + 7 + 10 + 10 + 8 + 8 + 10 + 6;
    auto with_usec = [&](uint32_t us) {
      auto x = *b;
      for (int i = 0; i < 4; ++i)
        x[usec_at + static_cast<size_t>(i)] = static_cast<char>(us >> (24 - 8 * i) & 0xff);
      return x;
    };
    auto ok = hep::decode(with_usec(999999));
    REQUIRE(ok);
    CHECK(ok->time_us == 999999);
    CHECK_FALSE(hep::decode(with_usec(1000000)));
    CHECK_FALSE(hep::decode(with_usec(0x00feffff))); // what CI's fuzz_hep found
  }
}

TEST_CASE("hep round trip: random packets come back whole, their prefixes never decode")
{
  std::mt19937 rng(14);
  auto byte = [&rng] { return static_cast<uint8_t>(rng() & 0xff); };
  std::deque<std::string> keep; // the views' storage, never moved
  for (int i = 0; i < 300; ++i) {
    hep::Packet p;
    p.time_us = static_cast<int64_t>(rng()) * 1000000 + rng() % 1000000;
    p.tcp = rng() & 1;
    p.src.v6 = p.dst.v6 = rng() & 1;
    for (size_t k = 0; k < (p.src.v6 ? 16u : 4u); ++k)
      p.src.ip[k] = byte(), p.dst.ip[k] = byte();
    p.src.port = static_cast<uint16_t>(rng());
    p.dst.port = static_cast<uint16_t>(rng());
    p.proto_type = byte();
    p.capture_id = static_cast<uint32_t>(rng());
    auto text = [&] {
      std::string s(rng() % 40, '\0');
      for (auto& c : s)
        c = static_cast<char>(byte());
      keep.push_back(s);
      return std::string_view(keep.back());
    };
    p.auth_key = text();
    p.node_name = text();
    p.payload = text();
    auto b = hep::encode(p);
    REQUIRE(b);
    auto d = hep::decode(*b);
    REQUIRE(d);
    CHECK(*d == p);
    for (size_t n = 0; n < b->size(); ++n)
      CHECK_FALSE(hep::decode(b->substr(0, n)));
    // A flipped byte is refused or read as a packet that survives its own round trip.
    auto x = *b;
    x[rng() % x.size()] ^= static_cast<char>(1 + rng() % 255);
    if (auto y = hep::decode(x)) {
      auto again = hep::encode(*y);
      REQUIRE(again);
      auto z = hep::decode(*again);
      REQUIRE(z);
      CHECK(*z == *y);
    }
  }
}

TEST_CASE("hep::is_sip tells SIP from MSRP, SMPP descriptions and keep-alives")
{
  CHECK(hep::is_sip(k_invite));
  CHECK(hep::is_sip("SIP/2.0 202 Accepted\r\n\r\n"));
  CHECK(hep::is_sip("MESSAGE sip:bob@b.example SIP/2.0\n"));
  CHECK_FALSE(hep::is_sip("MSRP a786hjs2 SEND\r\nTo-Path: x\r\n"));
  CHECK_FALSE(hep::is_sip("submit_sm seq=7 ..."));
  CHECK_FALSE(hep::is_sip("\r\n\r\n"));
  CHECK_FALSE(hep::is_sip(""));
  CHECK_FALSE(hep::is_sip(" SIP/2.0"));
}

TEST_CASE("hep::parse_target wants udp:HOST:PORT of an IP address")
{
  auto a = hep::parse_target("udp:127.0.0.1:9060");
  REQUIRE(a);
  CHECK(a->port == 9060);
  auto b = hep::parse_target("udp:[::1]:9060");
  REQUIRE(b);
  CHECK(b->v6);
  CHECK_FALSE(hep::parse_target("tcp:127.0.0.1:9060"));
  CHECK_FALSE(hep::parse_target("127.0.0.1:9060"));
  CHECK_FALSE(hep::parse_target("udp:homer.example:9060"));
  CHECK_FALSE(hep::parse_target("udp:127.0.0.1:0"));
  CHECK_FALSE(hep::parse_target("udp:127.0.0.1"));
}

TEST_CASE("hep::Sender sends SIP to a collector on loopback, nothing else")
{
  Collector col;
  hep::Sender s;
  REQUIRE(s.open({col.target(), 42, "coreA", "k"}, "test"));
  CHECK(s.send(1000001, "tcp", "127.0.1.1:5060", "127.0.1.2:40000", k_invite));
  auto got = col.receive();
  auto d = hep::decode(got);
  REQUIRE(d);
  CHECK(d->tcp);
  CHECK(d->src == ep("127.0.1.1:5060"));
  CHECK(d->dst == ep("127.0.1.2:40000"));
  CHECK(d->time_us == 1000001);
  CHECK(d->proto_type == hep::k_proto_sip);
  CHECK(d->capture_id == 42);
  CHECK(d->node_name == "coreA");
  CHECK(d->auth_key == "k");
  CHECK(d->payload == k_invite);
  CHECK_FALSE(s.send(1, "tcp", "127.0.1.1:5060", "127.0.1.2:40000", "MSRP x SEND\r\n"));
  CHECK_FALSE(s.send(1, "udp", "nowhere", "127.0.1.2:5060", k_invite));
  CHECK(s.sent() == 1);
  CHECK(s.failed() == 0);
}

TEST_CASE("hep::Sender sends to an IPv6 collector (when the host has ::1)")
{
  int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    MESSAGE("no IPv6 loopback here: not tried");
    return;
  }
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  hep::Sender s;
  REQUIRE(s.open({"udp:[::1]:" + std::to_string(ntohs(a.sin6_port)), 9, "n", ""}, "test"));
  CHECK(s.send(2, "udp", "[::1]:5060", "[::1]:5062", k_invite));
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 1000) == 1);
  std::string buf(2000, '\0');
  auto n = ::recv(fd, buf.data(), buf.size(), 0);
  ::close(fd);
  REQUIRE(n > 0);
  buf.resize(static_cast<size_t>(n));
  auto d = hep::decode(buf);
  REQUIRE(d);
  CHECK(d->src == ep("[::1]:5060"));
  CHECK(d->dst == ep("[::1]:5062"));
  CHECK(d->capture_id == 9);
}

TEST_CASE("hep::Sender to nobody: the sends fail and the program goes on")
{
  uint16_t port = 0;
  {
    Collector gone;
    port = gone.port;
  }
  hep::Sender s;
  REQUIRE(s.open({"udp:127.0.0.1:" + std::to_string(port), 1, "n", ""}, "test"));
  for (int i = 0; i < 5; ++i)
    s.send(1, "udp", "127.0.0.1:5060", "127.0.0.2:5060", k_invite);
  CHECK(s.sent() + s.failed() == 5);
  CHECK(s.failed() >= 1); // the ICMP port unreachable is seen by the next send
}

TEST_CASE("trace::Writer feeds the HEP collector: tx and rx by direction, no notes, no SMPP")
{
  Collector col;
  cpm::trace::Writer w;
  REQUIRE(w.open_hep({col.target(), 3, "csA", ""}, "test"));
  CHECK(w.is_open());
  w.write("tx", "udp", "127.0.1.1:5060", "127.0.1.2:5060", k_invite);
  w.write("note", "udp", "", "sip:x", "INVITE sip:x SIP/2.0\r\n\r\n");
  w.write("tx", "smpp", "127.0.1.1:40000", "127.0.1.4:2775", "submit_sm seq=1",
          std::string_view("\x00\x01", 2));
  w.write("rx", "tcp", "127.0.1.1:5060", "127.0.1.3:41000", "SIP/2.0 200 OK\r\n\r\n");
  auto first = col.receive(); // decode() keeps views into it
  auto a = hep::decode(first);
  REQUIRE(a);
  CHECK(a->src == ep("127.0.1.1:5060"));
  CHECK(a->dst == ep("127.0.1.2:5060"));
  CHECK_FALSE(a->tcp);
  CHECK(a->node_name == "csA");
  auto second = col.receive();
  auto b = hep::decode(second);
  REQUIRE(b);
  CHECK(b->src == ep("127.0.1.3:41000"));
  CHECK(b->dst == ep("127.0.1.1:5060"));
  CHECK(b->tcp);
  CHECK(b->payload == "SIP/2.0 200 OK\r\n\r\n");
  CHECK(col.receive().empty());
}

TEST_SUITE_END();
