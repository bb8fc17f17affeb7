#include <doctest/doctest.h>

#include "cpm/base/text.hpp"

using namespace cpm;

TEST_SUITE_BEGIN("text");

TEST_CASE("text::iequals, trim and lower are ASCII-only")
{
  CHECK(text::iequals("Call-ID", "call-id"));
  CHECK_FALSE(text::iequals("Call-ID", "Call-I"));
  CHECK_FALSE(text::iequals("\xc3\x89", "\xc3\xa9")); // no locale folding
  CHECK(text::trim("  a b \t\r\n") == "a b");
  CHECK(text::trim(" \t ").empty());
  CHECK(text::trim("").empty());
  CHECK(text::lower("SIP:Bob@B.Example") == "sip:bob@b.example");
  CHECK(text::lower('Q') == 'q');
  CHECK(text::lower('@') == '@');
  CHECK(text::lower('\xc9') == '\xc9');
}

TEST_CASE("text::percent_decode decodes %XX and keeps the rest")
{
  CHECK(text::percent_decode("urn%3Aurn-7%3a3gpp") == "urn:urn-7:3gpp");
  CHECK(text::percent_decode("a%20b") == "a b");
  CHECK(text::percent_decode("") == "");
  SUBCASE("malformed escapes stay as they are")
  {
    CHECK(text::percent_decode("abc%") == "abc%");
    CHECK(text::percent_decode("abc%4") == "abc%4");
    CHECK(text::percent_decode("a%zzb") == "a%zzb");
    CHECK(text::percent_decode("%%41") == "%A");
  }
}

TEST_CASE("text::split_list splits outside quotes and angle brackets")
{
  auto v = text::split_list("<sip:a@x;p=1,2>;q=1, \"Bob, Jr\" <sip:b@y>,*");
  REQUIRE(v.size() == 3);
  CHECK(v[0] == "<sip:a@x;p=1,2>;q=1");
  CHECK(v[1] == " \"Bob, Jr\" <sip:b@y>");
  CHECK(v[2] == "*");
  auto esc = text::split_list(R"("a\",b",c)");
  REQUIRE(esc.size() == 2);
  CHECK(esc[0] == R"("a\",b")");
  CHECK(text::split_list("").size() == 1);
  CHECK(text::split_list("a;b", ';').size() == 2);
  SUBCASE("malformed input never reads past the end")
  {
    CHECK(text::split_list("\"unterminated, x").size() == 1);
    CHECK(text::split_list("a>>,b").size() == 2);
    CHECK(text::split_list("\"\\").size() == 1);
    CHECK(text::split_list("x,").size() == 2);
  }
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("text");

TEST_CASE("text::split_ws splits at runs of spaces and tabs only")
{
  using V = std::vector<std::string_view>;
  CHECK(cpm::text::split_ws("IN IP4  127.0.0.1") == V{"IN", "IP4", "127.0.0.1"});
  CHECK(cpm::text::split_ws(" \ta\t b ") == V{"a", "b"});
  CHECK(cpm::text::split_ws("").empty());
  CHECK(cpm::text::split_ws(" \t ").empty());
  CHECK(cpm::text::split_ws("a\rb") == V{"a\rb"}); // CR is no separator
}

TEST_CASE("text::is_token accepts RFC 3261 token characters only")
{
  CHECK(cpm::text::is_token("MESSAGE"));
  CHECK(cpm::text::is_token("x-a.b!%*_+`'~9"));
  CHECK_FALSE(cpm::text::is_token(""));
  CHECK_FALSE(cpm::text::is_token("a b"));
  CHECK_FALSE(cpm::text::is_token("a:b"));
  CHECK_FALSE(cpm::text::is_token("caf\xc3\xa9"));
}

TEST_SUITE_END();
