#include <doctest/doctest.h>
#include <fstream>
#include <sstream>

#include "cpm/codec/cpim.hpp"

namespace {
std::string slurp(const std::string& rel)
{
  std::ifstream f(std::string(CPM_DATA_DIR) + "/examples/" + rel, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
} // namespace

TEST_SUITE_BEGIN("cpim");

TEST_CASE("cpim::decode parses the conformance examples")
{
  SUBCASE("positive delivery")
  {
    auto m = cpm::cpim::decode(slurp("cpim/rcsjta-cpim-imdn-positive-delivery.cpim"));
    REQUIRE(m);
    CHECK(cpm::cpim::address(*m->get("From")) == "sip:anonymous@anonymous.invalid");
    CHECK(m->ns_prefix(cpm::cpim::k_imdn_ns) == "imdn");
    CHECK(m->get_ns(cpm::cpim::k_imdn_ns, "Message-ID") == "ae6926cfcffa40a89e44252ce9e970a2");
    CHECK(m->get_ns(cpm::cpim::k_imdn_ns, "Disposition-Notification") == "positive-delivery");
    CHECK(m->content_type() == "text/plain");
    CHECK(m->body == "Bonjour");
  }
  SUBCASE("blank content")
  {
    auto m = cpm::cpim::decode(slurp("cpim/rcsjta-cpim-imdn-blank-content.cpim"));
    REQUIRE(m);
    CHECK(m->body == "  ");
  }
  SUBCASE("RFC 3862 example with its outer MIME header")
  {
    auto m = cpm::cpim::decode(slurp("cpim/rfc3862-5.1-example.RECONSTRUCTED.cpim"));
    REQUIRE(m);
    CHECK(cpm::cpim::address(*m->get("To")) == "im:eeyore@100akerwood.com");
    CHECK(m->get_ns("mid:MessageFeatures@id.foo.com", "VitalMessageOption") ==
          "Confirmation-requested");
    CHECK(m->get("Subject") == "the weather will be fine today");
    CHECK(m->content_type() == "text/xml");
    CHECK(m->content_header("Content-ID") == "<1234567890@foo.com>");
    CHECK(m->body.find("Here is the text of my message.") != std::string::npos);
  }
}

TEST_CASE("cpim::encode and decode round trip")
{
  cpm::cpim::Outgoing o;
  o.from = "sip:alice@a.example";
  o.to = "sip:bob@b.example";
  o.message_id = "abcDEF123456";
  o.notification = "positive-delivery, display";
  o.body = "hello\r\nworld";
  auto text = cpm::cpim::encode(cpm::cpim::make(o));
  auto m = cpm::cpim::decode(text);
  REQUIRE(m);
  CHECK(cpm::cpim::address(*m->get("from")) == "sip:alice@a.example");
  CHECK(cpm::cpim::address(*m->get("To")) == "sip:bob@b.example");
  CHECK(m->get_ns(cpm::cpim::k_imdn_ns, "Message-ID") == "abcDEF123456");
  CHECK(m->get_ns(cpm::cpim::k_imdn_ns, "Disposition-Notification") ==
        "positive-delivery, display");
  CHECK(m->get("DateTime").value_or("").size() >= 20);
  CHECK(m->body == "hello\r\nworld");
  CHECK(cpm::cpim::encode(*m) == text);
}

TEST_CASE("cpim::decode accepts LF line ends and folded headers")
{
  auto m = cpm::cpim::decode("From: <sip:a@x>\nTo: <sip:b@y>\nSubject: one\n two\n\n"
                             "Content-Type: text/plain\n\nhi");
  REQUIRE(m);
  CHECK(m->get("Subject") == "one two");
  CHECK(m->body == "hi");
}

TEST_CASE("cpim::decode rejects malformed messages")
{
  SUBCASE("empty")
  {
    CHECK_FALSE(cpm::cpim::decode(""));
  }
  SUBCASE("no blank line after message headers")
  {
    CHECK_FALSE(cpm::cpim::decode("From: <sip:a@x>\r\nTo: <sip:b@y>\r\n"));
  }
  SUBCASE("no content header block")
  {
    CHECK_FALSE(cpm::cpim::decode("From: <sip:a@x>\r\nTo: <sip:b@y>\r\n\r\nhello"));
  }
  SUBCASE("header without colon")
  {
    CHECK_FALSE(cpm::cpim::decode("From <sip:a@x>\r\nTo: <sip:b@y>\r\n\r\n\r\n"));
  }
  SUBCASE("missing To")
  {
    CHECK_FALSE(cpm::cpim::decode("From: <sip:a@x>\r\n\r\nContent-Type: text/plain\r\n\r\nx"));
  }
  SUBCASE("unclosed address")
  {
    CHECK_FALSE(cpm::cpim::decode("From: <sip:a@x\r\nTo: <sip:b@y>\r\n\r\n\r\n"));
  }
  SUBCASE("continuation first")
  {
    CHECK_FALSE(cpm::cpim::decode(" x\r\nFrom: <sip:a@x>\r\nTo: <sip:b@y>\r\n\r\n\r\n"));
  }
  SUBCASE("space in header name")
  {
    CHECK_FALSE(cpm::cpim::decode("Fr om: <sip:a@x>\r\nTo: <sip:b@y>\r\n\r\n\r\n"));
  }
  SUBCASE("Content-Length beyond the body")
  {
    CHECK_FALSE(
        cpm::cpim::decode("From: <sip:a@x>\r\nTo: <sip:b@y>\r\n\r\nContent-Length: 10\r\n\r\nhi"));
  }
  SUBCASE("Content-Length not a number")
  {
    CHECK_FALSE(
        cpm::cpim::decode("From: <sip:a@x>\r\nTo: <sip:b@y>\r\n\r\nContent-Length: -1\r\n\r\nhi"));
  }
  SUBCASE("NUL byte in a folded header")
  {
    auto r = cpm::cpim::decode(std::string("From: <sip:a@x>\r\n ") + '\0' +
                               "\r\nTo: <sip:b@y>\r\n\r\n\r\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("NUL") != std::string::npos);
  }
  SUBCASE("outer MIME block of another type")
  {
    CHECK_FALSE(cpm::cpim::decode("Content-Type: text/plain\r\n\r\nhello\r\n\r\n"));
  }
}

TEST_CASE("cpim::address extracts the URI")
{
  CHECK(cpm::cpim::address("Alice <sip:alice@a.example>") == "sip:alice@a.example");
  CHECK(cpm::cpim::address(" sip:bob@b ") == "sip:bob@b");
  CHECK(cpm::cpim::address("<sip:broken") == "");
}

TEST_SUITE_END();
