// The texts the proxy edits from a received message (our parser, no stack, no sockets).
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "cpm/proxy/rewrite.hpp"

using namespace cpm::proxy;
namespace wire = cpm::sip::wire;

namespace {

// A parsed datagram (it keeps the text the views point into).
struct Msg {
  std::string text;
  wire::Message m;
  explicit Msg(std::string_view t) : text(t)
  {
    REQUIRE(wire::parse(text, m).verdict == wire::Verdict::Ok);
  }
  const wire::Message& operator*() const { return m; }
};

std::string forward_text(const wire::Message& m, const cpm::sip::Request& req, const Action& a)
{
  std::string s;
  cpm::proxy::forward_text(m, req.routes.size(), a, s);
  return s;
}

std::string response_text(const wire::Message& m)
{
  std::string s;
  cpm::proxy::response_text(m, s);
  return s;
}

std::string reply_head(const wire::Message& m)
{
  return cpm::proxy::reply_head(m, "127.0.1.10", 40000);
}

constexpr std::string_view k_request = "MESSAGE sip:bob@b.example SIP/2.0\r\n"
                                       "Via: SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bK1;rport\r\n"
                                       "Via: SIP/2.0/UDP 127.0.1.9:5060;branch=z9hG4bK0\r\n"
                                       "Route: <sip:core.a.example;lr>\r\n"
                                       "Route: <sip:next.example;lr>\r\n"
                                       "Max-Forwards: 70\r\n"
                                       "From: <sip:alice@a.example>;tag=f\r\n"
                                       "To: <sip:bob@b.example>\r\n"
                                       "Call-ID: c1\r\n"
                                       "CSeq: 1 MESSAGE\r\n"
                                       "P-Served-User: <sip:mallory@a.example>\r\n"
                                       "a: *;+g.oma.sip-im\r\n"
                                       "Content-Type: text/plain\r\n"
                                       "Content-Length: 5\r\n"
                                       "\r\n"
                                       "hello trailing";

} // namespace

TEST_SUITE_BEGIN("proxy");

TEST_CASE("proxy::forward_text")
{
  Msg m(k_request);
  cpm::sip::Request req;
  req.routes = {"<sip:next.example;lr>"}; // the first Route was ours
  Action a;
  SUBCASE("Max-Forwards decremented in its place, our Route gone, the body clamped")
  {
    auto s = forward_text(*m, req, a);
    CHECK(s.find("Route: <sip:next.example;lr>\r\nMax-Forwards: 69\r\nFrom:") != std::string::npos);
    CHECK(s.find("core.a.example") == std::string::npos);
    CHECK(s.find("Route: <sip:next.example;lr>\r\n") != std::string::npos);
    CHECK(s.find("Via: SIP/2.0/UDP 127.0.1.10:5060") != std::string::npos);
    CHECK(s.ends_with("Content-Length: 5\r\n\r\nhello"));
  }
  SUBCASE("pushed Routes on top, headers removed and added")
  {
    a.push_routes = {"<sip:as.a.example;lr>"};
    a.remove_headers = {"p-served-user", "accept-contact"}; // it came compact: "a"
    a.add_headers = {"P-Served-User: <sip:alice@a.example>;sescase=orig"};
    auto s = forward_text(*m, req, a);
    CHECK(s.find("Route: <sip:as.a.example;lr>\r\n") == 0);
    CHECK(s.find("mallory") == std::string::npos);
    CHECK(s.find("+g.oma.sip-im") == std::string::npos);
    CHECK(s.find("P-Served-User: <sip:alice@a.example>;sescase=orig\r\nContent-Length: 5") !=
          std::string::npos);
  }
  SUBCASE("no Max-Forwards: 70")
  {
    std::string text(k_request);
    text.erase(text.find("Max-Forwards: 70\r\n"), 18);
    Msg n(text);
    CHECK(forward_text(*n, req, a).rfind("Max-Forwards: 70\r\n", 0) == 0);
  }
  SUBCASE("Routes in one field: ours popped, the others kept byte for byte")
  {
    std::string text(k_request);
    text.replace(text.find("Route: <sip:core.a.example;lr>\r\nRoute: <sip:next.example;lr>"), 60,
                 "Route: <sip:core.a.example;lr> ,<sip:next.example;lr>,  <sip:x;lr>");
    Msg n(text);
    req.routes = {"<sip:next.example;lr>", "<sip:x;lr>"};
    auto s = forward_text(*n, req, a);
    CHECK(s.find("Route: <sip:next.example;lr>,  <sip:x;lr>\r\n") != std::string::npos);
    CHECK(s.find("core.a.example") == std::string::npos);
  }
  SUBCASE("unknown and folded headers pass byte for byte")
  {
    std::string text(k_request);
    text.insert(text.find("Content-Type"), "X-Odd :  a\r\n  folded\r\n");
    Msg n(text);
    CHECK(forward_text(*n, req, a).find("X-Odd :  a\r\n  folded\r\nContent-Type") !=
          std::string::npos);
  }
}

TEST_CASE("proxy::response_text drops our Via")
{
  Msg m("SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.9.1:5070;branch=z9hG4bKours\r\n"
        "Via: SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bK1\r\n"
        "From: <sip:alice@a.example>;tag=f\r\n"
        "To: <sip:bob@b.example>;tag=t\r\n"
        "Call-ID: c1\r\n"
        "CSeq: 1 MESSAGE\r\n"
        "Content-Length: 2\r\n"
        "\r\n"
        "ok");
  auto s = response_text(*m);
  CHECK(s.rfind("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bK1\r\n", 0) == 0);
  CHECK(s.find("z9hG4bKours") == std::string::npos);
  CHECK(s.ends_with("Content-Length: 2\r\n\r\nok"));
  CHECK(s.find("Content-Length") == s.rfind("Content-Length"));

  SUBCASE("a response received over UDP without Content-Length gets one")
  {
    // liblinphone's 200 to a MESSAGE, as it sends it over UDP.
    Msg bare("SIP/2.0 200 Ok\r\n"
             "Via: SIP/2.0/UDP 127.0.9.1:5070;branch=z9hG4bKours\r\n"
             "Via: SIP/2.0/TCP 127.0.1.10:5060;branch=z9hG4bK1\r\n"
             "From: <sip:alice@a.example>;tag=f\r\n"
             "To: <sip:bob@b.example>;tag=t\r\n"
             "Call-ID: c1\r\n"
             "CSeq: 1 MESSAGE\r\n"
             "\r\n");
    CHECK(response_text(*bare).ends_with("CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"));
  }
  SUBCASE("two Vias in one field: only ours goes")
  {
    Msg one("SIP/2.0 200 OK\r\n"
            "v: SIP/2.0/UDP 127.0.9.1:5070;branch=z9hG4bKours, SIP/2.0/UDP "
            "127.0.1.10:5060;branch=z9hG4bK1\r\n"
            "f: <sip:alice@a.example>;tag=f\r\nt: <sip:bob@b.example>;tag=t\r\n"
            "i: c1\r\nCSeq: 1 MESSAGE\r\nl: 0\r\n\r\n");
    auto r = response_text(*one);
    CHECK(r.find("Via: SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bK1\r\n") != std::string::npos);
    CHECK(r.find("ours") == std::string::npos);
  }
}

TEST_CASE("proxy::reply_head")
{
  SUBCASE("rport gets the source port and received the source address")
  {
    Msg m(k_request);
    auto h = reply_head(*m);
    CHECK(h.rfind("Via: SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bK1;rport=40000;"
                  "received=127.0.1.10\r\nVia: SIP/2.0/UDP 127.0.1.9:5060;branch=z9hG4bK0\r\n",
                  0) == 0);
    CHECK(h.find("From: <sip:alice@a.example>;tag=f\r\nTo: <sip:bob@b.example>\r\n"
                 "Call-ID: c1\r\nCSeq: 1 MESSAGE\r\n") != std::string::npos);
  }
  SUBCASE("without rport, received only")
  {
    std::string text(k_request);
    text.replace(text.find(";rport"), 6, "");
    Msg m(text);
    CHECK(reply_head(*m).rfind(
              "Via: SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bK1;received=127.0.1.10\r\n", 0) == 0);
  }
}

TEST_SUITE_END();
