#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cpm/base/pcap.hpp"
#include "cpm/base/trace.hpp"
#include "temp_dir.hpp"

namespace pcap = cpm::pcap;
namespace trace = cpm::trace;

namespace {

std::string unhex(std::string_view hex)
{
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

pcap::Endpoint ep(const char* text)
{
  auto e = pcap::parse_endpoint(text);
  REQUIRE(e);
  return *e;
}

// The records of a capture (after `from` bytes of file header), as frames.
std::vector<std::string> frames(const std::string& bytes, size_t from = 0)
{
  std::vector<std::string> out;
  while (from + 16 <= bytes.size()) {
    auto len = static_cast<uint8_t>(bytes[from + 8]) | static_cast<uint8_t>(bytes[from + 9]) << 8 |
               static_cast<uint8_t>(bytes[from + 10]) << 16;
    out.push_back(bytes.substr(from + 16, len));
    from += 16 + len;
  }
  return out;
}

uint32_t be32(const std::string& f, size_t at)
{
  return static_cast<uint32_t>(static_cast<uint8_t>(f[at])) << 24 |
         static_cast<uint8_t>(f[at + 1]) << 16 | static_cast<uint8_t>(f[at + 2]) << 8 |
         static_cast<uint8_t>(f[at + 3]);
}

// Of an IPv4 TCP frame: sequence number, acknowledgment number, flags, payload.
uint32_t seq_of(const std::string& f)
{
  return be32(f, 14 + 20 + 4);
}
uint32_t ack_of(const std::string& f)
{
  return be32(f, 14 + 20 + 8);
}
uint8_t flags_of(const std::string& f)
{
  return static_cast<uint8_t>(f[14 + 20 + 13]);
}
std::string payload_of(const std::string& f)
{
  return f.substr(14 + 20 + 20);
}

std::string slurp(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

} // namespace

TEST_SUITE_BEGIN("pcap");

TEST_CASE("pcap::parse_endpoint reads the addresses traces write")
{
  auto v4 = pcap::parse_endpoint("127.0.1.10:5060");
  REQUIRE(v4);
  CHECK_FALSE(v4->v6);
  CHECK(v4->ip[0] == 127);
  CHECK(v4->ip[3] == 10);
  CHECK(v4->port == 5060);
  auto v6 = pcap::parse_endpoint("[::1]:40000");
  REQUIRE(v6);
  CHECK(v6->v6);
  CHECK(v6->ip[15] == 1);
  CHECK(v6->port == 40000);
  SUBCASE("what is no IP literal and port")
  {
    CHECK_FALSE(pcap::parse_endpoint("b.example:5060"));
    CHECK_FALSE(pcap::parse_endpoint("127.0.0.1"));
    CHECK_FALSE(pcap::parse_endpoint("127.0.0.1:70000"));
    CHECK_FALSE(pcap::parse_endpoint("127.0.0.1:50x"));
    CHECK_FALSE(pcap::parse_endpoint("[::1:5060"));
    CHECK_FALSE(pcap::parse_endpoint(""));
  }
}

TEST_CASE("pcap::file_header is libpcap 2.4, microseconds, Ethernet")
{
  CHECK(pcap::file_header() == unhex("d4c3b2a1020004000000000000000000000004000100000"
                                     "0"));
  CHECK(pcap::file_header().size() == 24);
}

// The expected bytes were computed apart from this code (Python's struct and an RFC 1071
// sum), and tshark reads captures of the same code with checksum validation on
// (tests/flows/pcap-*.sh).
TEST_CASE("pcap::record lays out a UDP datagram byte by byte")
{
  pcap::Packet p;
  p.time_us = 1000002;
  p.src = ep("127.0.1.10:5060");
  p.dst = ep("127.0.1.1:5060");
  p.payload = "hi";
  CHECK(pcap::record(p, 0) ==
        unhex("01000000020000002c0000002c00000002007f00010102007f00010a08004500"
              "001e0000400040113ac47f00010a7f00010113c413c4000a6fdd6869"));
}

TEST_CASE("pcap::record lays out a TCP segment byte by byte")
{
  pcap::Packet p;
  p.time_us = 1000002;
  p.tcp = true;
  p.src = ep("127.0.1.10:40000");
  p.dst = ep("127.0.1.1:5060");
  p.seq = 100;
  p.ack = 200;
  p.flags = pcap::k_psh | pcap::k_ack;
  p.payload = "hi";
  CHECK(pcap::record(p, 3) ==
        unhex("0100000002000000380000003800000002007f00010102007f00010a08004500"
              "002a0003400040063ac07f00010a7f0001019c4013c400000064000000c85018"
              "ffff962500006869"));
}

TEST_CASE("pcap::record writes IPv6 with its payload length and next header")
{
  pcap::Packet p;
  p.src = ep("[::1]:5060");
  p.dst = ep("[::1]:5062");
  p.payload = "abc";
  auto r = pcap::record(p);
  auto f = frames(r).at(0);
  REQUIRE(f.size() == 14 + 40 + 8 + 3);
  CHECK(f.substr(12, 2) == unhex("86dd"));
  CHECK(f[14] == '\x60');
  CHECK(f.substr(18, 2) == unhex("000b")); // payload length: UDP header + 3
  CHECK(f[20] == 17);
  CHECK(f.substr(54, 4) == unhex("13c413c6"));
}

TEST_CASE("pcap::Capture numbers a TCP connection's bytes in both directions")
{
  pcap::Capture cap;
  auto client = ep("127.0.1.10:40000"), server = ep("127.0.1.1:5060");
  auto first = frames(cap.add(10, "tcp", client, server, "hello"));
  REQUIRE(first.size() == 4);
  CHECK(flags_of(first[0]) == pcap::k_syn);
  CHECK(flags_of(first[1]) == (pcap::k_syn | pcap::k_ack));
  CHECK(flags_of(first[2]) == pcap::k_ack);
  CHECK(flags_of(first[3]) == (pcap::k_psh | pcap::k_ack));
  const uint32_t c_isn = seq_of(first[0]), s_isn = seq_of(first[1]);
  CHECK(ack_of(first[1]) == c_isn + 1);
  CHECK(seq_of(first[3]) == c_isn + 1);
  CHECK(ack_of(first[3]) == s_isn + 1);
  CHECK(payload_of(first[3]) == "hello");

  SUBCASE("the answer acknowledges what came, the next message follows on")
  {
    auto answer = frames(cap.add(20, "tcp", server, client, "ok"));
    REQUIRE(answer.size() == 1);
    CHECK(seq_of(answer[0]) == s_isn + 1);
    CHECK(ack_of(answer[0]) == c_isn + 1 + 5);
    auto next = frames(cap.add(30, "msrp", client, server, "again"));
    REQUIRE(next.size() == 1);
    CHECK(seq_of(next[0]) == c_isn + 1 + 5);
    CHECK(ack_of(next[0]) == s_isn + 1 + 2);
  }
  SUBCASE("a message bigger than a segment is split")
  {
    std::string big(pcap::k_max_segment + 10, 'x');
    auto segs = frames(cap.add(20, "tcp", server, client, big));
    REQUIRE(segs.size() == 2);
    CHECK(payload_of(segs[0]).size() == pcap::k_max_segment);
    CHECK(payload_of(segs[1]).size() == 10);
    CHECK(seq_of(segs[1]) == seq_of(segs[0]) + pcap::k_max_segment);
  }
  SUBCASE("UDP has no handshake; mixed address families make nothing")
  {
    CHECK(frames(cap.add(20, "udp", client, server, "x")).size() == 1);
    CHECK(cap.add(20, "udp", client, ep("[::1]:5060"), "x").empty());
  }
}

TEST_CASE("pcap::Writer starts a file, appends to its own kind only")
{
  cpm::test::TempDir dir("cpm-pcap");
  auto path = (dir.path / "a.pcap").string();
  {
    pcap::Writer w;
    REQUIRE(w.open(path));
    CHECK(w.write(1, "udp", "127.0.0.1:1", "127.0.0.2:2", "one"));
    CHECK_FALSE(w.write(2, "udp", "b.example:1", "127.0.0.2:2", "no"));
  }
  {
    pcap::Writer w;
    REQUIRE(w.open(path));
    CHECK(w.write(3, "udp", "127.0.0.1:1", "127.0.0.2:2", "two"));
  }
  auto bytes = slurp(path);
  CHECK(bytes.substr(0, 24) == pcap::file_header());
  auto fs = frames(bytes, 24);
  REQUIRE(fs.size() == 2);
  CHECK(fs[0].substr(fs[0].size() - 3) == "one");
  CHECK(fs[1].substr(fs[1].size() - 3) == "two");

  SUBCASE("a file of another kind is refused")
  {
    auto other = (dir.path / "t.trace").string();
    std::ofstream(other) << "{\"time\":1}\n";
    pcap::Writer w2;
    auto r = w2.open(other);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("not a pcap file") != std::string::npos);
  }
}

TEST_CASE("trace::Writer feeds the capture: tx and rx by direction, SMPP's bytes, no notes")
{
  cpm::test::TempDir dir("cpm-pcap");
  auto path = (dir.path / "n.pcap").string();
  {
    trace::Writer w;
    CHECK_FALSE(w.is_open());
    REQUIRE(w.open_pcap(path));
    CHECK(w.is_open());
    w.write("tx", "udp", "127.0.0.1:5060", "127.0.0.2:5060", "MESSAGE sip:b SIP/2.0\r\n\r\n");
    w.write("rx", "udp", "127.0.0.1:5060", "127.0.0.2:5060", "SIP/2.0 200 OK\r\n\r\n");
    w.write("note", "udp", "", "127.0.0.2:5060", "moved to UDP");
    w.write("tx", "smpp", "127.0.0.1:40000", "127.0.0.4:2775", "enquire_link seq=1",
            unhex("00000010000000150000000000000001"));
  }
  auto fs = frames(slurp(path), 24);
  REQUIRE(fs.size() == 2 + 4);
  CHECK(fs[0].substr(26, 8) == unhex("7f0000017f000002")); // tx: local to peer
  CHECK(fs[1].substr(26, 8) == unhex("7f0000027f000001")); // rx: peer to local
  CHECK(payload_of(fs[5]) == unhex("00000010000000150000000000000001"));
}

TEST_CASE("trace events keep SMPP's bytes as hex")
{
  // Built whole: GCC 12 at -O3 warns (maybe-uninitialized) on member-by-member assignment.
  const trace::Event e{.time_us = 5,
                       .node = "iwf",
                       .dir = "tx",
                       .transport = "smpp",
                       .local = {},
                       .peer = {},
                       .first_line = {},
                       .call_id = {},
                       .message = "enquire_link seq=1",
                       .wire = unhex("0000001000000015")};
  auto line = trace::to_json(e);
  CHECK(line.find("\"wire\":\"0000001000000015\"") != std::string::npos);
  auto back = trace::from_json(line);
  REQUIRE(back);
  CHECK(back->wire == e.wire);
  CHECK_FALSE(trace::from_json(R"({"time":1,"node":"n","dir":"tx","wire":"0g"})"));
  CHECK_FALSE(trace::from_json(R"({"time":1,"node":"n","dir":"tx","wire":"000"})"));
}

TEST_CASE("pcap::merge writes each message of a run once, by time")
{
  auto ev = [](int64_t t, const char* node, const char* dir, const char* local, const char* peer,
               const char* msg) {
    trace::Event e;
    e.time_us = t;
    e.node = node;
    e.dir = dir;
    e.transport = "udp";
    e.local = local;
    e.peer = peer;
    e.message = msg;
    return e;
  };
  std::vector<trace::Event> events = {
      // alice's MESSAGE, seen by both; the core's 200, seen by both; sipp (no trace) sends
      // the core an OPTIONS.
      ev(30, "core", "tx", "127.0.0.1:5060", "127.0.0.10:5060", "200"),
      ev(10, "alice", "tx", "127.0.0.10:5060", "127.0.0.1:5060", "MESSAGE"),
      ev(11, "core", "rx", "127.0.0.1:5060", "127.0.0.10:5060", "MESSAGE"),
      ev(31, "alice", "rx", "127.0.0.10:5060", "127.0.0.1:5060", "200"),
      ev(40, "core", "rx", "127.0.0.1:5060", "127.0.0.99:5060", "OPTIONS"),
      ev(41, "core", "note", "", "127.0.0.99:5060", "a note"),
  };
  auto smpp = ev(50, "iwf", "tx", "127.0.0.3:40000", "127.0.0.4:2775", "enquire_link seq=1");
  smpp.transport = "smpp";
  events.push_back(smpp); // no bytes: left out
  auto bytes = pcap::merge(events);
  CHECK(bytes.substr(0, 24) == pcap::file_header());
  auto fs = frames(bytes, 24);
  REQUIRE(fs.size() == 3);
  auto udp_payload = [](const std::string& f) { return f.substr(14 + 20 + 8); };
  CHECK(udp_payload(fs[0]) == "MESSAGE");
  CHECK(udp_payload(fs[1]) == "200");
  CHECK(udp_payload(fs[2]) == "OPTIONS");
}

TEST_SUITE_END();
