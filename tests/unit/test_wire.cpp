#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cpm/grammar/header.hpp"
#include "cpm/grammar/request.hpp"
#include "cpm/grammar/wire.hpp"
#include "helpers.hpp"

using namespace cpm::sip::wire;
using namespace std::string_view_literals;

namespace {

using cpm::test::crlf;

const std::string message_text = crlf("MESSAGE sip:bob@b.example SIP/2.0\n"
                                      "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\n"
                                      "Via: SIP/2.0/UDP 127.0.0.2:5080;branch=z9hG4bK-0\n"
                                      "Max-Forwards: 70\n"
                                      "Route: <sip:127.0.0.1:5060;lr>, <sip:p2.example;lr>\n"
                                      "Route: <sip:p3.example;lr>\n"
                                      "From: \"Alice, A.\" <sip:alice@a.example>;tag=a1\n"
                                      "To: <sip:bob@b.example>\n"
                                      "Call-ID: c1@a.example\n"
                                      "CSeq: 7 MESSAGE\n"
                                      "P-Asserted-Identity: <sip:alice@a.example>, <tel:+15551>\n"
                                      "Content-Type: text/plain\n"
                                      "Content-Length: 5\n"
                                      "\n"
                                      "hello");

// Every view of `m` lies inside `data`.
bool inside(std::string_view data, std::string_view v)
{
  return v.empty() || (v.data() >= data.data() && v.data() + v.size() <= data.data() + data.size());
}

std::string file(const std::string& name)
{
  std::ifstream f(std::string(CPM_DATA_DIR) + "/rfc4475/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

const char* verdict_name(Verdict v)
{
  switch (v) {
  case Verdict::Ok:
    return "ok";
  case Verdict::Bad:
    return "bad";
  case Verdict::Version:
    return "version";
  case Verdict::Drop:
    return "drop";
  case Verdict::Incomplete:
    return "incomplete";
  }
  return "?";
}

// `text` with its CRLFs, parsed as a datagram.
Parsed parse_text(std::string_view text, Message& m)
{
  static std::string keep;
  keep = crlf(text);
  return parse(keep, m);
}

const char* good_head = "Via: SIP/2.0/UDP h.example;branch=z9hG4bK1\n"
                        "From: <sip:a@a.example>;tag=1\n"
                        "To: <sip:b@b.example>\n"
                        "Call-ID: x\n";

} // namespace

TEST_SUITE_BEGIN("wire");

TEST_CASE("wire::parse reads an ordinary MESSAGE")
{
  Message m;
  auto r = parse(message_text, m);
  REQUIRE(r.verdict == Verdict::Ok);
  CHECK(r.size == message_text.size());
  CHECK(m.request);
  CHECK(m.method == "MESSAGE");
  CHECK(m.ruri == "sip:bob@b.example");
  CHECK(m.raw == message_text);
  CHECK(m.body == "hello");
  CHECK(m.head.substr(0, 4) == "Via:");
  CHECK(m.head.substr(m.head.size() - 4) == "\r\n\r\n");
  CHECK(m.cseq == 7);
  CHECK(m.cseq_method == "MESSAGE");
  CHECK(m.call_id == "c1@a.example");
  CHECK(m.max_forwards == 70);
  CHECK(m.content_length == 5);
  CHECK(m.via.transport == "UDP");
  CHECK(m.via.host == "127.0.0.1");
  CHECK(m.via.port == 5070);
  CHECK(m.via.sent_by == "127.0.0.1:5070");
  CHECK(m.via.branch == "z9hG4bK-1");
  CHECK(m.via.rport);
  CHECK(m.via.rport_value == 0);
  CHECK(m.via.params == ";branch=z9hG4bK-1;rport");
  CHECK(m.from_tag() == "a1");
  CHECK(m.to_tag() == "");
  CHECK(m.from_uri() == "sip:alice@a.example");
  CHECK(m.to_uri() == "sip:bob@b.example");
  CHECK(m.pai_uri() == "sip:alice@a.example");
  REQUIRE(m.fields.size() == 12);
  CHECK(m.fields[0].id == Hdr::Via);
  CHECK(m.fields[0].line == "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n");
  CHECK(m.find(Hdr::ContentType)->value == "text/plain");
  CHECK(m.find("content-type") == m.find(Hdr::ContentType));
  CHECK(m.find("c") == m.find(Hdr::ContentType));
  CHECK(m.find("Subject") == nullptr);
  for (const auto& f : m.fields) {
    CHECK(inside(message_text, f.line));
    CHECK(inside(f.line, f.value));
  }
}

TEST_CASE("wire::parse reuses the field vector: no allocation once it has grown")
{
  Message m;
  REQUIRE(parse(message_text, m).verdict == Verdict::Ok);
  auto* storage = m.fields.data();
  auto capacity = m.fields.capacity();
  for (int i = 0; i < 3; ++i)
    REQUIRE(parse(message_text, m).verdict == Verdict::Ok);
  CHECK(m.fields.data() == storage);
  CHECK(m.fields.capacity() == capacity);
  CHECK(m.fields.size() == 12);
}

TEST_CASE("wire::header_id knows long and compact forms in any case")
{
  CHECK(header_id("Via") == Hdr::Via);
  CHECK(header_id("VIA") == Hdr::Via);
  CHECK(header_id("v") == Hdr::Via);
  CHECK(header_id("V") == Hdr::Via);
  CHECK(header_id("i") == Hdr::CallId);
  CHECK(header_id("call-id") == Hdr::CallId);
  CHECK(header_id("f") == Hdr::From);
  CHECK(header_id("t") == Hdr::To);
  CHECK(header_id("m") == Hdr::Contact);
  CHECK(header_id("l") == Hdr::ContentLength);
  CHECK(header_id("c") == Hdr::ContentType);
  CHECK(header_id("k") == Hdr::Supported);
  CHECK(header_id("a") == Hdr::AcceptContact);
  CHECK(header_id("Record-Route") == Hdr::RecordRoute);
  CHECK(header_id("p-asserted-identity") == Hdr::PAssertedIdentity);
  CHECK(header_id("MaX-fOrWaRdS") == Hdr::MaxForwards);
  CHECK(header_id("s") == Hdr::Other); // Subject: no id, but found by name
  CHECK(header_id("Routes") == Hdr::Other);
  CHECK(header_id("") == Hdr::Other);

  Message m;
  std::string text = std::string("OPTIONS sip:b@b.example SIP/2.0\n") + good_head +
                     "CSeq: 1 OPTIONS\ns: hi\nE: gzip\nO: presence\nu: a\nr: <sip:x>\n"
                     "b: <sip:y>\nx: 90\ny: id\nj: *\nd: proxy\n\n";
  REQUIRE(parse_text(text, m).verdict == Verdict::Ok);
  CHECK(m.find("Subject")->value == "hi");
  CHECK(m.find("content-encoding")->value == "gzip");
  CHECK(m.find("Event")->value == "presence");
  CHECK(m.find("Allow-Events")->value == "a");
  CHECK(m.find("Refer-To")->value == "<sip:x>");
  CHECK(m.find("Referred-By")->value == "<sip:y>");
  CHECK(m.find("Session-Expires")->value == "90");
  CHECK(m.find("Identity")->value == "id");
  CHECK(m.find("Reject-Contact")->value == "*");
  CHECK(m.find("Request-Disposition")->value == "proxy");
  CHECK(m.find("s") == m.find("SUBJECT"));
}

TEST_CASE("wire::parse takes compact forms, odd case and LWS around the colon")
{
  Message m;
  auto r = parse_text("INVITE sip:b@b.example SIP/2.0\n"
                      "v :SIP/2.0/TCP h.example:5061 ;branch=z9hG4bKc\n"
                      "f\t: <sip:a@a.example>;tag=9\n"
                      "T: sip:b@b.example\n"
                      "I: id-1\n"
                      "cseq:   0009   INVITE\n"
                      "max-FORWARDS: 0070\n"
                      "L: 003\n"
                      "\n"
                      "abc",
                      m);
  REQUIRE(r.verdict == Verdict::Ok);
  CHECK(m.via.transport == "TCP");
  CHECK(m.via.port == 5061);
  CHECK(m.via.branch == "z9hG4bKc");
  CHECK(m.from_tag() == "9");
  CHECK(m.to_uri() == "sip:b@b.example");
  CHECK(m.call_id == "id-1");
  CHECK(m.cseq == 9);
  CHECK(m.max_forwards == 70);
  CHECK(m.content_length == 3);
  CHECK(m.body == "abc");
  CHECK(m.fields[1].name == "f");
  CHECK(m.fields[1].value == "<sip:a@a.example>;tag=9");
}

TEST_CASE("wire::parse unfolds nothing but reads folded values as LWS")
{
  Message m;
  auto r = parse_text("INVITE sip:b@b.example SIP/2.0\n"
                      "Via  : SIP  /   2.0\n /UDP\n    192.0.2.2;branch=390skdjuw\n"
                      "TO :\n sip:b@b.example ;   tag    = 1918\n"
                      "from   : \"J R \\\\\\\"\"       <sip:j@example.com>\n  ;\n  tag = 98asjd8\n"
                      "Call-ID: x\n"
                      "cseq: 0009\n  INVITE\n"
                      "NewFangled:   a\n continued\n"
                      "\n",
                      m);
  REQUIRE(r.verdict == Verdict::Ok);
  CHECK(m.via.host == "192.0.2.2");
  CHECK(m.via.transport == "UDP");
  CHECK(m.via.branch == "390skdjuw");
  CHECK(m.to_tag() == "1918");
  CHECK(m.to_uri() == "sip:b@b.example");
  CHECK(m.from_tag() == "98asjd8");
  CHECK(m.from_uri() == "sip:j@example.com");
  CHECK(m.cseq == 9);
  CHECK(m.cseq_method == "INVITE");
  CHECK(m.find("newfangled")->value == "a\r\n continued");
  CHECK(m.find(Hdr::Via)->line ==
        "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n");
  CHECK(m.find(Hdr::To)->value == "sip:b@b.example ;   tag    = 1918");
}

TEST_CASE("wire::parse takes unknown methods, SIP/2.0 in any case, and only single spaces")
{
  Message m;
  std::string tail = std::string(good_head) + "CSeq: 1 NEWMETHOD\n\n";
  CHECK(parse_text("NEWMETHOD sip:b@b.example sip/2.0\n" + tail, m).verdict == Verdict::Ok);
  CHECK(m.method == "NEWMETHOD");
  CHECK(parse_text("NEWMETHOD  sip:b@b.example SIP/2.0\n" + tail, m).why == "Bad Request-URI");
  CHECK(parse_text("NEWMETHOD sip:b@b.example  SIP/2.0\n" + tail, m).why == "Bad Request-URI");
  CHECK(parse_text("NEWMETHOD sip:b@b.example SIP/2.0 \n" + tail, m).why == "Bad Request-Line");
  CHECK(parse_text("NEWMETHOD <sip:b@b.example> SIP/2.0\n" + tail, m).why == "Bad Request-URI");
  CHECK(parse_text("NEWMETHOD sip:b@b.example?Route=x SIP/2.0\n" + tail, m).why ==
        "Headers in Request-URI");
  // Headers are allowed in other schemes' URIs; the core answers 416 to those.
  CHECK(parse_text("NEWMETHOD mailto:b@b.example?subject=x SIP/2.0\n" + tail, m).verdict ==
        Verdict::Ok);
  CHECK(parse_text("NEW(METHOD sip:b@b.example SIP/2.0\n" + tail, m).why == "Bad Method");
  auto v = parse_text("NEWMETHOD sip:b@b.example SIP/3.0\n" + tail, m);
  CHECK(v.verdict == Verdict::Version);
  CHECK(v.why == "SIP Version Not Supported");
  CHECK(parse_text("GET / HTTP/1.1\n" + tail, m).verdict == Verdict::Drop);
}

TEST_CASE("wire::parse frames a datagram by Content-Length")
{
  Message m;
  std::string head =
      std::string("MESSAGE sip:b@b.example SIP/2.0\n") + good_head + "CSeq: 1 MESSAGE\n";
  // Octets after the body are ignored (RFC 4475 dblreq).
  auto r = parse_text(head + "Content-Length: 2\n\nhiREGISTER sip:x SIP/2.0\n", m);
  REQUIRE(r.verdict == Verdict::Ok);
  CHECK(m.body == "hi");
  CHECK(m.raw.substr(m.raw.size() - 6) == "\r\n\r\nhi");
  // No Content-Length: the rest of the datagram.
  REQUIRE(parse_text(head + "\nall of it\n", m).verdict == Verdict::Ok);
  CHECK(m.content_length == -1);
  CHECK(m.body == "all of it\r\n");
  // More than there is: refused.
  r = parse_text(head + "Content-Length: 20\n\nhi", m);
  CHECK(r.verdict == Verdict::Bad);
  CHECK(r.why == "Content-Length larger than the body");
  CHECK(parse_text(head + "Content-Length: -1\n\n", m).why == "Bad Content-Length");
  CHECK(parse_text(head + "Content-Length: 2\nl: 3\n\nabc", m).why == "Conflicting Content-Length");
  CHECK(parse_text(head + "Content-Length: 2\nl: 002\n\nab", m).verdict == Verdict::Ok);
  // A datagram of CRLFs is a keepalive.
  CHECK(parse("\r\n\r\n", m).verdict == Verdict::Drop);
}

TEST_CASE("wire::parse frames a stream: Incomplete until whole, size taken, CRLFs skipped")
{
  Message m;
  std::string one = message_text;
  std::string stream = "\r\n\r\n" + one + one;
  // Every prefix short of the first message is Incomplete.
  for (size_t n = 0; n < 4 + one.size(); n += 7) {
    auto r = parse(std::string_view(stream).substr(0, n), m, Framing::Stream);
    CHECK_MESSAGE(r.verdict == Verdict::Incomplete, n);
  }
  auto r = parse(stream, m, Framing::Stream);
  REQUIRE(r.verdict == Verdict::Ok);
  CHECK(r.size == 4 + one.size());
  CHECK(m.raw == one);
  r = parse(std::string_view(stream).substr(r.size), m, Framing::Stream);
  REQUIRE(r.verdict == Verdict::Ok);
  CHECK(r.size == one.size());
  // Without Content-Length a stream message has no body.
  auto bare = crlf(std::string("OPTIONS sip:b@b.example SIP/2.0\n") + good_head +
                   "CSeq: 1 OPTIONS\n\nOPTIONS");
  r = parse(bare, m, Framing::Stream);
  REQUIRE(r.verdict == Verdict::Ok);
  CHECK(r.size == bare.size() - 7);
  CHECK(m.body.empty());
  // A keepalive alone: Incomplete, its CRLFs may go.
  r = parse("\r\n\r\n", m, Framing::Stream);
  CHECK(r.verdict == Verdict::Incomplete);
  CHECK(r.size == 4);
}

TEST_CASE("wire::parse refuses what a proxy must refuse, with a reason")
{
  Message m;
  auto req = [&](std::string_view headers) {
    return parse_text("INVITE sip:b@b.example SIP/2.0\n" + std::string(headers) + "\n", m);
  };
  const std::string via = "Via: SIP/2.0/UDP h.example;branch=z9hG4bK1\n";
  const std::string from = "From: <sip:a@a.example>;tag=1\n";
  const std::string to = "To: <sip:b@b.example>\n";
  const std::string cid = "Call-ID: x\n";
  const std::string cseq = "CSeq: 1 INVITE\n";
  CHECK(req(via + from + to + cid + cseq).verdict == Verdict::Ok);
  CHECK(req(via + from + to + cseq).why == "Missing Call-ID");
  CHECK(req(via + to + cid + cseq).why == "Missing From");
  CHECK(req(via + from + cid + cseq).why == "Missing To");
  CHECK(req(via + from + to + cid).why == "Missing CSeq");
  auto r = req(from + to + cid + cseq);
  CHECK(r.verdict == Verdict::Drop);
  CHECK(r.why == "Missing Via");
  r = req("Via: nonsense\n" + from + to + cid + cseq);
  CHECK(r.verdict == Verdict::Drop);
  CHECK(r.why == "Bad Via");
  CHECK(req("Via: SIP/2.0/UDP h.example;;\n" + from + to + cid + cseq).why == "Bad Via");
  CHECK(req(via + from + to + cid + "CSeq: 1 ACK\n").why ==
        "CSeq method does not match the request method");
  CHECK(req(via + from + to + cid + "CSeq: 2147483647 INVITE\n").verdict == Verdict::Ok);
  CHECK(req(via + from + to + cid + "CSeq: 2147483648 INVITE\n").why == "Bad CSeq");
  CHECK(req(via + from + to + cid + "CSeq: INVITE\n").why == "Bad CSeq");
  CHECK(req(via + from + to + cid + cseq + "CSeq: 2 INVITE\n").why == "Conflicting CSeq");
  CHECK(req(via + from + to + cid + cseq + "CSeq: 01 INVITE\n").verdict == Verdict::Ok);
  CHECK(req(via + from + to + cid + cseq + "i: y\n").why == "Conflicting Call-ID");
  CHECK(req(via + from + to + cid + cseq + "f: <sip:c@c>\n").why == "Conflicting From");
  CHECK(req(via + from + to + cid + cseq + "t: <sip:c@c>\n").why == "Conflicting To");
  CHECK(req(via + from + to + cid + cseq + "Max-Forwards: 255\n").verdict == Verdict::Ok);
  CHECK(req(via + from + to + cid + cseq + "Max-Forwards: 256\n").why == "Bad Max-Forwards");
  CHECK(req(via + from + to + cid + cseq + "Max-Forwards: 1\nMax-Forwards: 2\n").why ==
        "Conflicting Max-Forwards");
  CHECK(req(via + from + "To: \"Bob <sip:b@b.example>\n" + cid + cseq).why ==
        "Unterminated quoted string");
  CHECK(req(via + from + to + cid + cseq + "Route: \"x <sip:r>\n").why ==
        "Unterminated quoted string");
  // A field nobody reads may hold anything.
  CHECK(req(via + from + to + cid + cseq + "X-Odd: \"open\n").verdict == Verdict::Ok);
  CHECK(req(via + from + to + cid + cseq + "no colon here\n").why == "Bad header line");
}

TEST_CASE("wire::parse drops a response it cannot relay")
{
  Message m;
  std::string tail = std::string(good_head) + "CSeq: 1 INVITE\n\n";
  auto r = parse_text("SIP/2.0 180 Ringing\n" + tail, m);
  REQUIRE(r.verdict == Verdict::Ok);
  CHECK_FALSE(m.request);
  CHECK(m.status == 180);
  CHECK(m.reason == "Ringing");
  CHECK(parse_text("sip/2.0 200 \n" + tail, m).verdict == Verdict::Ok);
  CHECK(m.reason == "");
  CHECK(parse_text("SIP/2.0 1800 Ringing\n" + tail, m).verdict == Verdict::Drop);
  CHECK(parse_text("SIP/2.0 099 Low\n" + tail, m).verdict == Verdict::Drop);
  CHECK(parse_text("SIP/3.0 180 Ringing\n" + tail, m).verdict == Verdict::Drop);
  r = parse_text("SIP/2.0 180 Ringing\n" + std::string(good_head) + "CSeq: 99999999999 INVITE\n\n",
                 m);
  CHECK(r.verdict == Verdict::Drop);
  CHECK(r.why == "Bad CSeq");
}

TEST_CASE("wire::parse_via reads IPv6, received, rport and LWS")
{
  Via v;
  REQUIRE(parse_via("SIP/2.0/TLS [2001:db8::9]:5061;received=2001:db8::1;rport=7;branch=z9", v));
  CHECK(v.transport == "TLS");
  CHECK(v.host == "2001:db8::9");
  CHECK(v.sent_by == "[2001:db8::9]:5061");
  CHECK(v.port == 5061);
  CHECK(v.received == "2001:db8::1");
  CHECK(v.rport);
  CHECK(v.rport_value == 7);
  CHECK(v.branch == "z9");
  REQUIRE(parse_via(" SIP / 2.0 / UDP  h.example : 5060 ; branch = z9hG4bKx , SIP/2.0/UDP o", v));
  CHECK(v.host == "h.example");
  CHECK(v.port == 5060);
  CHECK(v.branch == "z9hG4bKx");
  CHECK(v.value == "SIP / 2.0 / UDP  h.example : 5060 ; branch = z9hG4bKx");
  CHECK(v.params == "; branch = z9hG4bKx");
  REQUIRE(parse_via("SIP/2.0/SCTP h", v));
  CHECK(v.port == 0);
  CHECK(v.branch == "");
  CHECK(v.params == "");
  CHECK_FALSE(parse_via("SIP/2.0 h.example", v));
  CHECK_FALSE(parse_via("SIP/2.0/UDP", v));
  CHECK_FALSE(parse_via("SIP/2.0/UDP h:99999", v));
  CHECK_FALSE(parse_via("SIP/2.0/UDP h junk", v));
  CHECK_FALSE(parse_via("", v));
}

TEST_CASE("wire::for_each_element and for_each_value split lists outside quotes and <>")
{
  std::vector<std::string_view> got;
  for_each_element("<sip:a;x=1,2>, \"b,c\" <sip:b> ,, \r\n <sip:c>",
                   [&](std::string_view e) { got.push_back(e); });
  CHECK(got == std::vector<std::string_view>{"<sip:a;x=1,2>", "\"b,c\" <sip:b>", "<sip:c>"});
  got.clear();
  for_each_element("a, b, c", [&](std::string_view e) {
    got.push_back(e);
    return got.size() < 2;
  });
  CHECK(got.size() == 2);

  Message m;
  REQUIRE(parse(message_text, m).verdict == Verdict::Ok);
  got.clear();
  for_each_value(m, Hdr::Route, [&](const Field& f, std::string_view e) {
    CHECK(f.id == Hdr::Route);
    got.push_back(addr_spec_of(e));
  });
  CHECK(got == std::vector<std::string_view>{"sip:127.0.0.1:5060;lr", "sip:p2.example;lr",
                                             "sip:p3.example;lr"});
  int n = 0;
  for_each_value(m, Hdr::Route, [&](const Field&, std::string_view) { return ++n < 1; });
  CHECK(n == 1);
}

TEST_CASE("wire::header_param and addr_spec_of read name-addrs and addr-specs")
{
  CHECK(header_param("\"a;tag=x\" <sip:a;tag=u>;tag=h", "tag") == "h");
  CHECK(header_param("sip:a@b;tag=h;x", "TAG") == "h");
  bool found = false;
  CHECK(header_param("<sip:a>;lr", "lr", &found) == "");
  CHECK(found);
  header_param("<sip:a;lr>", "lr", &found);
  CHECK_FALSE(found);
  CHECK(addr_spec_of("\"x <y>\" < sip:a@b >;tag=1") == "sip:a@b");
  CHECK(addr_spec_of("sip:a@b ; tag=1") == "sip:a@b");
  CHECK(addr_spec_of("Bell, Alexander <sip:a.g.bell@example.com>;tag=43") ==
        "sip:a.g.bell@example.com");
}

TEST_CASE("wire's list and parameter walks agree with grammar/header.hpp on malformed <...>")
{
  // Both walk with text::find_outside_quotes, so a proxy's request view (split_header_list,
  // find_param) and the parser's own reads cut a value at the same places.
  for (std::string_view v : {"<<sip:a>,sip:b>, <sip:c>", "<sip:a>;x=<y;tag=1>, b", "a>,b"}) {
    std::vector<std::string_view> got;
    for_each_element(v, [&](std::string_view e) { got.push_back(e); });
    CHECK(got == cpm::sip::split_header_list(v));
  }
  bool found = true;
  CHECK(header_param("<sip:a>;x=<y;tag=1>", "tag", &found).empty());
  CHECK_FALSE(found);
  CHECK_FALSE(cpm::sip::find_param(";x=<y;tag=1>", "tag"));
  CHECK(header_param("<sip:a>;x=\"<y\";tag=1", "tag") == "1");
}

TEST_CASE("wire::parse gives every RFC 4475 message the verdict of tests/data/rfc4475/expected.tsv")
{
  std::ifstream table(std::string(CPM_DATA_DIR) + "/rfc4475/expected.tsv");
  REQUIRE(table);
  std::string line;
  std::getline(table, line); // header
  std::map<std::string, std::string> want;
  while (std::getline(table, line)) {
    std::istringstream cols(line);
    std::string name, verdict, core;
    cols >> name >> verdict >> core;
    want[name] = verdict;
  }
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(CPM_DATA_DIR) + "/rfc4475")) {
    if (entry.path().extension() != ".dat")
      continue;
    ++files;
    auto name = entry.path().filename().string();
    CAPTURE(name);
    REQUIRE(want.count(name) == 1);
    auto data = file(name);
    Message m;
    auto r = parse(data, m);
    CHECK(std::string(verdict_name(r.verdict)) == want[name]);
    if (r.verdict != Verdict::Ok)
      CHECK_FALSE(r.why.empty());
    CHECK(r.size <= data.size());
    CHECK(inside(data, m.raw));
    // The same bytes on a stream: framed the same way or, with no Content-Length or too
    // short a body, waiting for more.
    auto s = parse(data, m, Framing::Stream);
    CHECK(s.size <= data.size());
  }
  CHECK(files == want.size());
  CHECK(files == 50);
}

TEST_CASE("wire::parse reads what the RFC 4475 valid messages hold")
{
  Message m;
  auto data = file("wsinv.dat");
  REQUIRE(parse(data, m).verdict == Verdict::Ok);
  CHECK(m.method == "INVITE");
  CHECK(m.max_forwards == 68);
  CHECK(m.cseq == 9);
  CHECK(m.content_length == 150);
  CHECK(m.body.size() == 150);
  CHECK(m.via.branch == "390skdjuw");
  CHECK(m.to_tag() == "1918181833n");
  CHECK(m.from_tag() == "98asjd8");
  CHECK(m.find("s")->value == "");

  data = file("intmeth.dat");
  REQUIRE(parse(data, m).verdict == Verdict::Ok);
  CHECK(m.method == "!interesting-Method0123456789_*+`.%indeed'~");
  CHECK(m.cseq_method == m.method);

  data = file("dblreq.dat");
  REQUIRE(parse(data, m).verdict == Verdict::Ok);
  CHECK(m.method == "REGISTER");
  CHECK(m.body.empty());
  CHECK(m.raw.size() < data.size());

  data = file("mpart01.dat");
  REQUIRE(parse(data, m).verdict == Verdict::Ok);
  CHECK(m.body.size() == 553);

  data = file("longreq.dat");
  REQUIRE(parse(data, m).verdict == Verdict::Ok);
  CHECK(m.via.host == "sip33.example.com");
  int vias = 0;
  for_each_value(m, Hdr::Via, [&](const Field&, std::string_view) { ++vias; });
  CHECK(vias == 34);

  data = file("esc02.dat");
  REQUIRE(parse(data, m).verdict == Verdict::Ok);
  CHECK(m.method == "RE%47IST%45R");
}

TEST_CASE("sip::fill_request: what the routing layers read, our own Routes apart")
{
  Message m;
  REQUIRE(parse(message_text, m).verdict == Verdict::Ok);
  cpm::sip::Request r;
  r.routes = {"old", "ones", "here", "too"}; // reused storage: replaced, not appended
  auto ours = [](std::string_view host, uint16_t port) {
    return host == "127.0.0.1" && port == 5060;
  };
  cpm::sip::fill_request(m, "udp:127.0.0.9:5070", ours, r);
  CHECK(r.method == "MESSAGE");
  CHECK(r.ruri == "sip:bob@b.example");
  CHECK(r.from_uri == "sip:alice@a.example");
  CHECK(r.to_uri == "sip:bob@b.example");
  CHECK(r.asserted == "sip:alice@a.example");
  CHECK(r.source == "udp:127.0.0.9:5070");
  CHECK(r.own_route_params == ";lr");
  CHECK(r.routes == std::vector<std::string>{"<sip:p2.example;lr>", "<sip:p3.example;lr>"});
  CHECK(r.headers.size() == m.fields.size());
  CHECK(r.value("Call-ID") == "c1@a.example");
  CHECK(r.body_size == 5);
  cpm::sip::fill_request(m, "file", nullptr, r); // nothing is ours: every Route element kept
  CHECK(r.routes.size() == 3);
  CHECK(r.own_route_params.empty());
  CHECK(cpm::sip::long_name("y") == "Identity");
  CHECK(cpm::sip::long_name("Y") == "Identity");
  CHECK(cpm::sip::long_name("X-Odd") == "X-Odd");
}

TEST_SUITE_END();
