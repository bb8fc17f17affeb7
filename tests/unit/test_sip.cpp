#include <doctest/doctest.h>

#include "cpm/rt/sip.hpp"

TEST_SUITE_BEGIN("sip");

TEST_CASE("sip::parse_request_text reads a request with LF line ends")
{
  auto r = cpm::sip::parse_request_text("MESSAGE sip:bob@b.example SIP/2.0\n"
                                        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\n"
                                        "f: <sip:alice@a.example>;tag=1\n"
                                        "To: <sip:bob@b.example>\n"
                                        "Call-ID: x1\n"
                                        "CSeq: 1 MESSAGE\n"
                                        "Route: <sip:127.0.0.9:5060;lr;odi=o.1>\n"
                                        "Content-Length: 2\n\nhi");
  REQUIRE(r);
  CHECK(r->method == "MESSAGE");
  CHECK(r->ruri == "sip:bob@b.example");
  CHECK(r->from_uri == "sip:alice@a.example");
  CHECK(r->routes.size() == 1);
  CHECK(r->body_size == 2);
  bool from_seen = false;
  for (auto& h : r->headers)
    from_seen |= h.name == "From";
  CHECK(from_seen);
  CHECK_FALSE(cpm::sip::parse_request_text("garbage"));
  // A request the core would refuse is refused with the core's reason.
  auto bad = cpm::sip::parse_request_text("MESSAGE sip:bob@b.example SIP/2.0\n"
                                          "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\n"
                                          "f: <sip:alice@a.example>;tag=1\nTo: <sip:b@b>\n"
                                          "Call-ID: x1\nCSeq: 1 INVITE\n\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("400 CSeq method does not match the request method") !=
        std::string::npos);
  CHECK_FALSE(cpm::sip::parse_request_text("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
                                           "Call-ID: x\nCSeq: 1 MESSAGE\n\n"));
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("sip");

TEST_CASE("sip::sipsess_contact puts header parameters after the Contact's '>'")
{
  auto c = cpm::sip::sipsess_contact("sip:friends@127.0.3.2:5060", ";isfocus", "Referred-By",
                                     "sip:alice@a.example");
  CHECK(c == "sip:friends@127.0.3.2:5060>;isfocus\r\nReferred-By: <sip:alice@a.example");
  // As libre prints it: "Contact: <%s>\r\n".
  CHECK("Contact: <" + c + ">\r\n" == "Contact: <sip:friends@127.0.3.2:5060>;isfocus\r\n"
                                      "Referred-By: <sip:alice@a.example>\r\n");
}

TEST_SUITE_END();
