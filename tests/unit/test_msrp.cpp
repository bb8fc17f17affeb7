#include <doctest/doctest.h>
#include <fstream>
#include <random>
#include <sstream>

#include "cpm/codec/msrp.hpp"

namespace msrp = cpm::msrp;

namespace {
std::string slurp(const std::string& rel)
{
  std::ifstream f(std::string(CPM_DATA_DIR) + "/examples/msrp/" + rel, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<msrp::Frame> parse_all(std::string_view text, size_t step = 0)
{
  msrp::Parser p;
  std::vector<msrp::Frame> out;
  if (step == 0) {
    auto r = p.feed(text, out);
    REQUIRE(r);
  } else {
    for (size_t i = 0; i < text.size(); i += step) {
      auto r = p.feed(text.substr(i, step), out);
      REQUIRE(r);
    }
  }
  CHECK(p.buffered() == 0);
  return out;
}

// The error of feeding `text` at once, or "" when it parsed (possibly incompletely).
std::string parse_error(std::string_view text, size_t max_frame = 8 * 1024 * 1024)
{
  msrp::Parser p(max_frame);
  std::vector<msrp::Frame> out;
  auto r = p.feed(text, out);
  return r ? std::string() : r.error().message;
}

std::string pattern(size_t n, unsigned seed)
{
  std::mt19937 rng(seed);
  std::string s(n, 'x');
  for (auto& c : s)
    c = static_cast<char>(rng() & 0xff);
  return s;
}

const char* k_send = "MSRP a786hjs2 SEND\r\n"
                     "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
                     "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n"
                     "Message-ID: 87652491\r\n"
                     "Byte-Range: 1-5/5\r\n"
                     "Content-Type: text/plain\r\n"
                     "\r\n"
                     "hello\r\n"
                     "-------a786hjs2$\r\n";
} // namespace

TEST_SUITE_BEGIN("msrp");

TEST_CASE("msrp::parse_uri reads and formats MSRP URIs")
{
  auto u = msrp::parse_uri("msrp://bob.example.com:8888/9di4eae923wzd;tcp");
  REQUIRE(u);
  CHECK_FALSE(u->secure);
  CHECK(u->host == "bob.example.com");
  CHECK(u->port == 8888);
  CHECK(u->session_id == "9di4eae923wzd");
  CHECK(u->transport == "tcp");
  CHECK(msrp::format_uri(*u) == "msrp://bob.example.com:8888/9di4eae923wzd;tcp");
  auto v6 = msrp::parse_uri("MSRPS://alice@[::1]:2855/s+/=1;TCP;foo=bar");
  REQUIRE(v6);
  CHECK(v6->secure);
  CHECK(v6->userinfo == "alice");
  CHECK(v6->host == "::1");
  CHECK(v6->session_id == "s+/=1");
  CHECK(msrp::format_uri(*v6) == "msrps://alice@[::1]:2855/s+/=1;TCP");
  auto same = msrp::parse_uri("msrps://[::1]:2855/s+/=1;tcp");
  REQUIRE(same);
  CHECK(msrp::same_uri(*v6, *same));
  auto other = msrp::parse_uri("msrps://[::1]:2855/S+/=1;tcp");
  REQUIRE(other);
  CHECK_FALSE(msrp::same_uri(*v6, *other)); // session-id is case-sensitive
  SUBCASE("malformed")
  {
    CHECK_FALSE(msrp::parse_uri("sip:bob@example.com"));
    CHECK_FALSE(msrp::parse_uri("msrp://host/sid;tcp"));       // no port
    CHECK_FALSE(msrp::parse_uri("msrp://host:99999/sid;tcp")); // port range
    CHECK_FALSE(msrp::parse_uri("msrp://host:80/sid"));        // no transport
    CHECK_FALSE(msrp::parse_uri("msrp://host:80/;tcp"));       // empty session-id
    CHECK_FALSE(msrp::parse_uri("msrp://[::1:80/s;tcp"));      // bracket
    CHECK_FALSE(msrp::parse_uri("msrp://ho st:80/s;tcp"));     // host
    CHECK_FALSE(msrp::parse_uri("msrp://host:80/s;"));         // empty transport
    CHECK_FALSE(msrp::parse_uri("msrp://:80/s;tcp"));          // empty host
    CHECK_FALSE(msrp::parse_uri("msrp://host:80/s\"x;tcp"));   // session-id chars
  }
}

TEST_CASE("msrp::parse_path reads whitespace-separated URIs")
{
  auto p = msrp::parse_path("msrp://a.example:1/x1;tcp  msrp://b.example:2/y2;tcp");
  REQUIRE(p);
  REQUIRE(p->size() == 2);
  CHECK((*p)[1].host == "b.example");
  CHECK(msrp::format_path(*p) == "msrp://a.example:1/x1;tcp msrp://b.example:2/y2;tcp");
  CHECK_FALSE(msrp::parse_path(""));
  CHECK_FALSE(msrp::parse_path("   "));
  CHECK_FALSE(msrp::parse_path("msrp://a.example:1/x1;tcp garbage"));
}

TEST_CASE("msrp::random_id gives distinct ids of the asked length")
{
  auto a = msrp::random_id();
  auto b = msrp::random_id();
  CHECK(a.size() == 12);
  CHECK(a != b);
  CHECK(msrp::random_id(20).size() == 20);
}

TEST_CASE("msrp::parse_byte_range accepts numbers and stars")
{
  auto r = msrp::parse_byte_range("1-16/16");
  REQUIRE(r);
  CHECK(r->start == 1);
  CHECK(r->end == 16u);
  CHECK(r->total == 16u);
  auto s = msrp::parse_byte_range("2049-*/*");
  REQUIRE(s);
  CHECK(s->start == 2049);
  CHECK_FALSE(s->end);
  CHECK_FALSE(s->total);
  CHECK(msrp::format_byte_range(*s) == "2049-*/*");
  CHECK(msrp::format_byte_range(*r) == "1-16/16");
  auto empty = msrp::parse_byte_range("1-0/0");
  REQUIRE(empty);
  CHECK(empty->end == 0u);
  SUBCASE("malformed")
  {
    CHECK_FALSE(msrp::parse_byte_range("0-5/5"));
    CHECK_FALSE(msrp::parse_byte_range("1-5"));
    CHECK_FALSE(msrp::parse_byte_range("5-1/9"));
    CHECK_FALSE(msrp::parse_byte_range("1-9/5"));
    CHECK_FALSE(msrp::parse_byte_range("a-5/5"));
    CHECK_FALSE(msrp::parse_byte_range("1-5/99999999999999999999999"));
    CHECK_FALSE(msrp::parse_byte_range(""));
  }
}

TEST_CASE("msrp::Parser reads the conformance examples")
{
  SUBCASE("SEND")
  {
    auto f = parse_all(slurp("MsrpRequestMessage1.msrp"));
    REQUIRE(f.size() == 1);
    CHECK(f[0].request);
    CHECK(f[0].tid == "d93kswow");
    CHECK(f[0].method == "SEND");
    CHECK(f[0].header("to-path") == "msrp://bob.example.com:8888/9di4eae923wzd;tcp");
    CHECK(f[0].header("Message-ID") == "12339sdqwer");
    CHECK(f[0].header("Content-Type") == "text/plain");
    CHECK(f[0].body == "Hi, I'm Alice!");
    CHECK(f[0].flag == '$');
    CHECK_FALSE(msrp::check_request(f[0]));
  }
  SUBCASE("SEND asking for a success report")
  {
    auto f = parse_all(slurp("MsrpPositiveReport1.msrp"));
    REQUIRE(f.size() == 1);
    CHECK(f[0].header("Success-Report") == "yes");
    CHECK(f[0].header("Failure-Report") == "no");
    CHECK(f[0].body.rfind("<html><body>", 0) == 0);
    CHECK(f[0].body.substr(f[0].body.size() - 14) == "</body></html>");
    CHECK_FALSE(msrp::check_request(f[0]));
  }
  SUBCASE("REPORT")
  {
    auto f = parse_all(slurp("MsrpReportRequest1.msrp"));
    REQUIRE(f.size() == 1);
    CHECK(f[0].method == "REPORT");
    CHECK(f[0].body.empty());
    CHECK(msrp::report_status(f[0]) == 200);
    CHECK_FALSE(msrp::check_request(f[0]));
  }
  SUBCASE("200 response")
  {
    auto f = parse_all(slurp("MsrpResponseMessage1.msrp"));
    REQUIRE(f.size() == 1);
    CHECK_FALSE(f[0].request);
    CHECK(f[0].status == 200);
    CHECK(f[0].comment == "OK");
    CHECK(f[0].headers.size() == 2);
  }
  SUBCASE("unknown methods parse and get 501")
  {
    for (auto name : {"MsrpUnknownRequestMethod.msrp", "MsrpNicknameRequest1.msrp"}) {
      auto f = parse_all(slurp(name));
      REQUIRE(f.size() == 1);
      auto problem = msrp::check_request(f[0]);
      REQUIRE(problem);
      CHECK(problem->status == 501);
    }
    auto nick = parse_all(slurp("MsrpNicknameRequest1.msrp"));
    CHECK(nick[0].header("Use-Nickname") == "\"Alice the great\"");
  }
  SUBCASE("LF-only copies are rejected")
  {
    for (auto name : {"MsrpRequestMessage1.lf.txt", "MsrpResponseMessage1.lf.txt"})
      CHECK(parse_error(slurp(name)).find("bare LF") != std::string::npos);
  }
}

TEST_CASE("msrp::Parser survives any split of the stream")
{
  std::string all;
  for (auto name : {"MsrpRequestMessage1.msrp", "MsrpResponseMessage1.msrp",
                    "MsrpReportRequest1.msrp", "MsrpPositiveReport1.msrp"})
    all += slurp(name);
  all += k_send;
  auto whole = parse_all(all);
  REQUIRE(whole.size() == 5);
  for (size_t step : {1, 2, 3, 7, 64}) {
    CAPTURE(step);
    auto parts = parse_all(all, step);
    REQUIRE(parts.size() == whole.size());
    for (size_t i = 0; i < parts.size(); ++i) {
      CHECK(parts[i].tid == whole[i].tid);
      CHECK(parts[i].headers == whole[i].headers);
      CHECK(parts[i].body == whole[i].body);
    }
  }
  CHECK(whole[4].body == "hello");
}

TEST_CASE("msrp::Parser finds a blank line right after the start line")
{
  auto f = parse_all("MSRP abcd1234 SEND\r\n\r\n\r\nTo-Path: x\r\n-------abcd1234$\r\n");
  REQUIRE(f.size() == 1);
  CHECK(f[0].headers.empty());
  CHECK(f[0].body == "\r\nTo-Path: x");
  auto again = msrp::encode(f[0]);
  REQUIRE(again);
  auto back = parse_all(*again);
  REQUIRE(back.size() == 1);
  CHECK(back[0].body == f[0].body);
  CHECK(msrp::check_request(f[0])->status == 400);
}

TEST_CASE("msrp::Parser reads a frame with neither headers nor body")
{
  auto f = parse_all("MSRP abcd1234 200 OK\r\n-------abcd1234$\r\n", 1);
  REQUIRE(f.size() == 1);
  CHECK(f[0].headers.empty());
  CHECK(f[0].body.empty());
  CHECK(f[0].status == 200);
}

TEST_CASE("msrp::Parser reports the tid of an incomplete frame")
{
  msrp::Parser p;
  std::vector<msrp::Frame> out;
  REQUIRE(p.feed("MSRP abcd1234 SEND\r\nTo-Pa", out));
  CHECK(out.empty());
  CHECK(p.current_tid() == "abcd1234");
  CHECK(p.buffered() > 0);
}

TEST_CASE("msrp::Parser rejects malformed frames")
{
  CHECK(parse_error("HTTP/1.1 200 OK\r\n\r\n") != "");
  CHECK(parse_error("MSRP\r\n") != "");
  CHECK(parse_error("MSRP ab SEND\r\n") != "");        // tid too short
  CHECK(parse_error("MSRP abcd1234 send\r\n") != "");  // method not UPALPHA
  CHECK(parse_error("MSRP abcd1234 20 OK\r\n") != ""); // neither status nor method
  CHECK(parse_error("MSRP abcd1234\r\n") != "");
  CHECK(parse_error("MSRP abcd1234 SEND\n") != ""); // bare LF
  CHECK(parse_error(std::string(600, 'M')) != "");
  CHECK(parse_error("MSRP abcd1234 SEND\r\nTo-Path msrp://a:1/s;tcp\r\n"
                    "-------abcd1234$\r\n") != ""); // header without colon
  CHECK(parse_error("MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\n"
                    "-------abcd1234x\r\n") != ""); // bad flag
  CHECK(parse_error("MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\n"
                    "-------abcd1234$xx") != ""); // no CRLF after flag
  SUBCASE("wrong tid in the end-line")
  {
    CHECK(parse_error("MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\n"
                      "-------zzzz9999$\r\n")
              .find("does not match") != std::string::npos);
  }
  SUBCASE("missing end-line and oversized")
  {
    std::string big = "MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\n"
                      "Content-Type: text/plain\r\n\r\n" +
                      std::string(2000, 'x');
    CHECK(parse_error(big, 8192) == ""); // may still come
    CHECK(parse_error(big, 1024).find("larger") != std::string::npos);
    msrp::Parser p(1024);
    std::vector<msrp::Frame> out;
    bool failed = false;
    for (size_t i = 0; i < big.size() && !failed; i += 100)
      failed = !p.feed(std::string_view(big).substr(i, 100), out);
    CHECK(failed);
    CHECK(out.empty());
  }
  SUBCASE("random garbage never crashes")
  {
    for (unsigned seed = 0; seed < 200; ++seed) {
      std::string g = "MSRP abcd1234 SEND\r\n" + pattern(300, seed) + "\r\n-------abcd1234$\r\n";
      msrp::Parser p;
      std::vector<msrp::Frame> out;
      (void)p.feed(g, out);
      for (auto& f : out)
        (void)msrp::check_request(f);
    }
  }
}

TEST_CASE("msrp::check_request names the problem")
{
  auto ok = parse_all(k_send);
  REQUIRE(ok.size() == 1);
  CHECK_FALSE(msrp::check_request(ok[0]));
  auto with = [&](std::string name, std::string value) {
    auto f = ok[0];
    f.set_header(std::move(name), std::move(value));
    return msrp::check_request(f);
  };
  auto without = [&](std::string_view name) {
    auto f = ok[0];
    std::erase_if(f.headers, [&](auto& h) { return h.first == name; });
    return msrp::check_request(f);
  };
  auto p = without("To-Path");
  REQUIRE(p);
  CHECK(p->status == 400);
  CHECK(p->comment == "Missing To-Path");
  CHECK(without("From-Path"));
  CHECK(without("Message-ID"));
  CHECK(without("Content-Type"));
  CHECK(with("To-Path", "sip:bob@example.com"));
  CHECK(with("Byte-Range", "x-5/5"));
  CHECK(with("Failure-Report", "maybe"));
  auto noto = parse_all("MSRP abcd1234 SEND\r\nFrom-Path: msrp://a:1/s;tcp\r\n"
                        "Message-ID: m1234\r\n-------abcd1234$\r\n");
  REQUIRE(noto.size() == 1);
  REQUIRE(msrp::check_request(noto[0]));
  CHECK(msrp::check_request(noto[0])->status == 400);
}

TEST_CASE("msrp::encode writes RFC 4975 frames that parse back")
{
  msrp::Frame f;
  f.tid = "tid12345";
  f.method = "SEND";
  f.headers = {{"Content-Type", "text/plain"},
               {"Message-ID", "m0001"},
               {"From-Path", "msrp://a.example:1/a1;tcp"},
               {"To-Path", "msrp://b.example:2/b2;tcp"},
               {"Byte-Range", "1-2/2"}};
  f.body = "hi";
  auto text = msrp::encode(f);
  REQUIRE(text);
  CHECK(*text == "MSRP tid12345 SEND\r\n"
                 "To-Path: msrp://b.example:2/b2;tcp\r\n"
                 "From-Path: msrp://a.example:1/a1;tcp\r\n"
                 "Message-ID: m0001\r\n"
                 "Byte-Range: 1-2/2\r\n"
                 "Content-Type: text/plain\r\n"
                 "\r\n"
                 "hi\r\n"
                 "-------tid12345$\r\n");
  auto back = parse_all(*text);
  REQUIRE(back.size() == 1);
  CHECK(back[0].body == "hi");
  auto sample = parse_all(slurp("MsrpRequestMessage1.msrp"));
  auto again = msrp::encode(sample[0]);
  REQUIRE(again);
  CHECK(*again == slurp("MsrpRequestMessage1.msrp"));
  SUBCASE("refused")
  {
    auto bad = f;
    bad.body = "x\r\n-------tid12345$\r\n";
    CHECK_FALSE(msrp::encode(bad));
    bad = f;
    bad.tid = "a b";
    CHECK_FALSE(msrp::encode(bad));
    bad = f;
    bad.headers.emplace_back("X-Evil", "a\r\nTo-Path: x");
    CHECK_FALSE(msrp::encode(bad));
  }
}

TEST_CASE("msrp::make_response answers to the previous hop")
{
  auto req = parse_all("MSRP abcd1234 SEND\r\n"
                       "To-Path: msrp://relay.example:1/r1;tcp msrp://bob.example:2/b2;tcp\r\n"
                       "From-Path: msrp://alice.example:3/a3;tcp\r\n"
                       "Message-ID: m1234\r\n-------abcd1234$\r\n");
  REQUIRE(req.size() == 1);
  auto r = msrp::make_response(req[0], 200);
  CHECK_FALSE(r.request);
  CHECK(r.tid == "abcd1234");
  auto text = msrp::encode(r);
  REQUIRE(text);
  CHECK(*text == "MSRP abcd1234 200 OK\r\n"
                 "To-Path: msrp://alice.example:3/a3;tcp\r\n"
                 "From-Path: msrp://relay.example:1/r1;tcp\r\n"
                 "-------abcd1234$\r\n");
  auto e = msrp::make_response(req[0], 481);
  CHECK(e.comment == "Session Does Not Exist");
  CHECK(msrp::make_response(req[0], 400, "Missing Content-Type").comment == "Missing Content-Type");
}

TEST_CASE("msrp::chunk and Reassembler round-trip a 1 MiB message")
{
  auto to = msrp::parse_path("msrp://b.example:2/b2;tcp");
  auto from = msrp::parse_path("msrp://a.example:1/a1;tcp");
  REQUIRE(to);
  REQUIRE(from);
  msrp::Message m;
  m.message_id = "bigmsg01";
  m.content_type = "application/octet-stream";
  m.body = pattern(1024 * 1024 + 17, 1);
  m.success_report = true;
  auto frames = msrp::chunk(m, *to, *from, 4096);
  REQUIRE(frames.size() == 257);
  CHECK(frames[0].flag == '+');
  CHECK(frames.back().flag == '$');
  CHECK(frames[0].header("Byte-Range") == "1-4096/1048593");
  CHECK(frames.back().header("Byte-Range") == "1048577-1048593/1048593");
  CHECK(frames[0].header("Success-Report") == "yes");
  CHECK_FALSE(frames[0].has_header("Failure-Report"));
  CHECK(frames[0].tid != frames[1].tid);

  SUBCASE("through the parser in order")
  {
    std::string wire;
    for (auto& f : frames) {
      auto t = msrp::encode(f);
      REQUIRE(t);
      wire += *t;
    }
    auto parsed = parse_all(wire, 8192);
    REQUIRE(parsed.size() == frames.size());
    msrp::Reassembler r;
    std::optional<msrp::Message> got;
    for (auto& f : parsed) {
      CHECK_FALSE(msrp::check_request(f));
      auto res = r.feed(f);
      REQUIRE(res);
      if (*res)
        got = std::move(**res);
    }
    REQUIRE(got);
    CHECK(got->body == m.body);
    CHECK(got->message_id == "bigmsg01");
    CHECK(got->success_report);
    CHECK(r.pending() == 0);
  }
  SUBCASE("out of order")
  {
    auto shuffled = frames;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
    msrp::Reassembler r;
    int completed = 0;
    for (size_t i = 0; i < shuffled.size(); ++i) {
      auto res = r.feed(shuffled[i]);
      REQUIRE(res);
      if (*res) {
        ++completed;
        CHECK(i == shuffled.size() - 1);
        CHECK((*res)->body == m.body);
      }
    }
    CHECK(completed == 1);
  }
  SUBCASE("interleaved with a second message")
  {
    msrp::Message m2;
    m2.message_id = "second02";
    m2.content_type = "text/plain";
    m2.body = pattern(300000, 2);
    auto frames2 = msrp::chunk(m2, *to, *from, 1000);
    msrp::Reassembler r;
    std::vector<std::string> done;
    size_t i = 0, j = 0;
    while (i < frames.size() || j < frames2.size()) {
      for (auto* f : {i < frames.size() ? &frames[i++] : nullptr,
                      j < frames2.size() ? &frames2[j++] : nullptr}) {
        if (!f)
          continue;
        auto res = r.feed(*f);
        REQUIRE(res);
        if (*res) {
          done.push_back((*res)->message_id);
          CHECK((*res)->body == ((*res)->message_id == "bigmsg01" ? m.body : m2.body));
        }
      }
      CHECK(r.pending() <= 2);
    }
    CHECK(done == std::vector<std::string>{"bigmsg01", "second02"});
  }
}

TEST_CASE("msrp::Reassembler handles aborts, limits and bad ranges")
{
  auto to = *msrp::parse_path("msrp://b.example:2/b2;tcp");
  auto from = *msrp::parse_path("msrp://a.example:1/a1;tcp");
  msrp::Message m;
  m.message_id = "abort001";
  m.content_type = "text/plain";
  m.body = std::string(5000, 'a');
  auto frames = msrp::chunk(m, to, from, 2048);
  REQUIRE(frames.size() == 3);
  SUBCASE("abort")
  {
    msrp::Reassembler r;
    REQUIRE(r.feed(frames[0]));
    CHECK(r.pending() == 1);
    auto abort = frames[1];
    abort.flag = '#';
    auto res = r.feed(abort);
    REQUIRE(res);
    CHECK_FALSE(*res);
    CHECK(r.pending() == 0);
  }
  SUBCASE("too large")
  {
    msrp::Reassembler r(4096);
    auto res = r.feed(frames[0]);
    REQUIRE_FALSE(res);
    CHECK(res.error().code == 413);
    CHECK(r.pending() == 0);
  }
  SUBCASE("total changes")
  {
    msrp::Reassembler r;
    REQUIRE(r.feed(frames[0]));
    auto bad = frames[1];
    bad.set_header("Byte-Range", "2049-4096/9999");
    CHECK_FALSE(r.feed(bad));
  }
  SUBCASE("bad Byte-Range and missing Message-ID")
  {
    msrp::Reassembler r;
    auto bad = frames[0];
    bad.set_header("Byte-Range", "zzz");
    CHECK_FALSE(r.feed(bad));
    bad = frames[0];
    bad.headers.erase(bad.headers.begin() + 2);
    CHECK_FALSE(r.feed(bad));
  }
  SUBCASE("an empty SEND is an empty message")
  {
    msrp::Message e;
    e.message_id = "empty001";
    auto f = msrp::chunk(e, to, from);
    REQUIRE(f.size() == 1);
    CHECK(f[0].header("Byte-Range") == "1-0/0");
    CHECK_FALSE(f[0].has_header("Content-Type"));
    auto text = msrp::encode(f[0]);
    REQUIRE(text);
    CHECK(text->find("\r\n\r\n") == std::string::npos);
    msrp::Reassembler r;
    auto res = r.feed(f[0]);
    REQUIRE(res);
    REQUIRE(*res);
    CHECK((*res)->body.empty());
  }
}

TEST_CASE("msrp::make_report and report_status")
{
  auto send = parse_all(slurp("MsrpPositiveReport1.msrp"));
  REQUIRE(send.size() == 1);
  msrp::ByteRange got{1, 106, 106};
  auto rep = msrp::make_report(send[0], got, 200, "");
  CHECK(rep.method == "REPORT");
  CHECK(rep.header("To-Path") == "msrp://alicepc.example.com:7777/iau39soe2843z;tcp");
  CHECK(rep.header("From-Path") == "msrp://bob.example.com:8888/9di4eae923wzd;tcp");
  CHECK(rep.header("Message-ID") == "12339sdqwer");
  CHECK(rep.header("Byte-Range") == "1-106/106");
  CHECK(rep.header("Status") == "000 200 OK");
  CHECK(msrp::report_status(rep) == 200);
  CHECK_FALSE(msrp::check_request(rep));
  auto text = msrp::encode(rep);
  REQUIRE(text);
  CHECK(parse_all(*text).size() == 1);
  auto err = msrp::make_report(send[0], got, 413, "too big");
  CHECK(err.header("Status") == "000 413 too big");
  CHECK(msrp::report_status(err) == 413);
  for (auto bad : {"", "200 OK", "000 2x0 OK", "000 200OK", "0000 200"}) {
    rep.set_header("Status", bad);
    CHECK(msrp::report_status(rep) == 0);
    CHECK(msrp::check_request(rep));
  }
}

TEST_SUITE_END();
