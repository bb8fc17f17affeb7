#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "cpm/base/quoted.hpp"
#include "cpm/base/spare_list.hpp"
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

TEST_CASE("text::find_outside_quotes skips quoted strings and <...>")
{
  constexpr auto npos = std::string_view::npos;
  using text::find_outside_quotes;
  // A constant expression, so the parser's templates may use it at compile time too.
  static_assert(find_outside_quotes("\"a,b\" <c,d>, e", ",") == 11);
  CHECK(find_outside_quotes("a,b", ",") == 1);
  CHECK(find_outside_quotes("a;b,c", ",;") == 1);
  SUBCASE("an escaped quote inside quotes does not close them")
  {
    CHECK(find_outside_quotes(R"("a\",b",c)", ",") == 7);
    CHECK(find_outside_quotes(R"("a\\",b)", ",") == 5); // an escaped backslash does
  }
  SUBCASE("a '<' inside quotes opens no URI")
  {
    CHECK(find_outside_quotes(R"("x <y>" <sip:a>)", "<") == 8);
    CHECK(find_outside_quotes(R"("<",b)", ",") == 3);
  }
  SUBCASE("a separator inside <> does not count; nested brackets are counted")
  {
    CHECK(find_outside_quotes("<sip:a;lr,x>,b", ",;") == 12);
    CHECK(find_outside_quotes("<<a>,b>,c", ",") == 7);
    CHECK(find_outside_quotes("a>,b", ",") == 2); // a stray '>' is an ordinary character
    CHECK(find_outside_quotes("<a,b", ",") == npos);
  }
  SUBCASE("a '<' among the stops is found, not skipped")
  {
    CHECK(find_outside_quotes("\"Bob\" <sip:b>", "<") == 6);
    CHECK(find_outside_quotes("sip:b;tag=1", ";<") == 5);
  }
  SUBCASE("the walk starts at `from`, outside quotes and brackets")
  {
    CHECK(find_outside_quotes("a,b,c", ",", 2) == 3);
    CHECK(find_outside_quotes("a,b", ",", 3) == npos);
    CHECK(find_outside_quotes("a,b", ",", 9) == npos);
  }
  SUBCASE("an unterminated quote hides the rest and is told")
  {
    bool open = false;
    CHECK(find_outside_quotes("\"a,b", ",", 0, &open) == npos);
    CHECK(open);
    CHECK(find_outside_quotes("\"a\\", ",", 0, &open) == npos); // a backslash ends it
    CHECK(open);
    CHECK(find_outside_quotes("\"a\" b", ",", 0, &open) == npos);
    CHECK_FALSE(open);
    CHECK(find_outside_quotes("\"a\",b", ",", 0, &open) == 3);
    CHECK_FALSE(open);
  }
  SUBCASE("empty input and no stops")
  {
    bool open = true;
    CHECK(find_outside_quotes("", ",", 0, &open) == npos);
    CHECK_FALSE(open);
    CHECK(find_outside_quotes("", "") == npos);
    CHECK(find_outside_quotes("a,b", "") == npos);
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

TEST_CASE("SpareList keeps at most its bound and hands back the last given")
{
  SpareList<std::unique_ptr<int>> spares(2);
  std::unique_ptr<int> out;
  CHECK_FALSE(spares.take(out));
  auto a = std::make_unique<int>(1), b = std::make_unique<int>(2), c = std::make_unique<int>(3);
  CHECK(spares.give(a));
  CHECK(spares.give(b));
  CHECK_FALSE(spares.give(c)); // full: c stays with its owner
  REQUIRE(c);
  CHECK(*c == 3);
  CHECK(spares.size() == 2);
  REQUIRE(spares.take(out));
  CHECK(*out == 2);
  REQUIRE(spares.take(out));
  CHECK(*out == 1);
  CHECK(spares.empty());
}

TEST_CASE("give_buffer keeps only buffers bigger than the short-string one, emptied")
{
  SpareList<std::string> spares(1);
  std::string small = "ab";
  give_buffer(spares, small);
  CHECK(small.empty());
  CHECK(spares.empty()); // nothing worth keeping
  std::string big(200, 'x');
  const auto* buffer = big.data();
  give_buffer(spares, big);
  CHECK(big.empty());
  CHECK(big.capacity() < 200);
  std::string other(300, 'y');
  give_buffer(spares, other); // no room: freed
  CHECK(other.empty());
  CHECK(spares.size() == 1);
  std::string s;
  REQUIRE(spares.take(s));
  CHECK(s.empty());
  CHECK(s.capacity() >= 200);
  CHECK(s.data() == buffer); // the same buffer, not a copy
}

TEST_SUITE_END();
