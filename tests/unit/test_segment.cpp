#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cpm/sms/gsm7.hpp"
#include "cpm/sms/segment.hpp"

using namespace cpm::sms;

namespace {

using Bytes = std::vector<uint8_t>;

std::string repeat(const std::string& s, size_t n)
{
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

Segmented cut(const std::string& text, uint8_t reference = 7)
{
  auto s = segment(text, reference);
  REQUIRE(s);
  return *s;
}

} // namespace

TEST_SUITE_BEGIN("sms");

TEST_CASE("sms::segment fits 160 septets or 70 UCS-2 characters in one message")
{
  auto one = cut(repeat("a", 160));
  CHECK(one.coding == Coding::Gsm7);
  REQUIRE(one.parts.size() == 1);
  CHECK_FALSE(one.parts[0].concat);
  CHECK(one.parts[0].payload.size() == 160);
  CHECK(udh_of(one.parts[0]).empty());

  auto u = cut(repeat("\u0439", 70)); // й
  CHECK(u.coding == Coding::Ucs2);
  REQUIRE(u.parts.size() == 1);
  CHECK(u.parts[0].payload.size() == 140);

  // 80 euro signs are 160 septets, 81 are not.
  CHECK(cut(repeat("\u20AC", 80)).parts.size() == 1);
  CHECK(cut(repeat("\u20AC", 81)).parts.size() == 2);
  CHECK(cut("").parts.size() == 1);
}

TEST_CASE("sms::segment cuts 153 septets or 67 UCS-2 characters a part")
{
  auto two = cut(repeat("a", 161), 0x42);
  REQUIRE(two.parts.size() == 2);
  CHECK(two.parts[0].payload.size() == 153);
  CHECK(two.parts[1].payload.size() == 8);
  CHECK(two.parts[0].concat == Concat{0x42, 2, 1});
  CHECK(two.parts[1].concat == Concat{0x42, 2, 2});
  CHECK(udh_of(two.parts[1]) == Bytes{0x05, 0x00, 0x03, 0x42, 0x02, 0x02});
  auto sm = short_message(two.parts[0]);
  CHECK(sm.size() == 6 + 153);
  CHECK(sm[6] == 'a');

  auto u = cut(repeat("\u0439", 71));
  REQUIRE(u.parts.size() == 2);
  CHECK(u.parts[0].payload.size() == 134);
  CHECK(u.parts[1].payload.size() == 8);
}

TEST_CASE("sms::segment never splits an escape sequence or a surrogate pair")
{
  SUBCASE("an escape sequence at septet 153 moves to the next part")
  {
    auto s = cut(repeat("a", 152) + "\u20AC" + repeat("b", 10));
    REQUIRE(s.parts.size() == 2);
    CHECK(s.parts[0].payload.size() == 152);
    CHECK(s.parts[1].payload[0] == k_escape);
    CHECK(s.parts[1].payload[1] == 0x65);
  }
  SUBCASE("a surrogate pair at code unit 67 moves to the next part")
  {
    auto s = cut(repeat("\u0439", 66) + "\U0001F600" + repeat("\u0439", 10));
    REQUIRE(s.parts.size() == 2);
    CHECK(s.parts[0].payload.size() == 132);
    CHECK(s.parts[1].payload[0] == 0xD8);
    CHECK(s.parts[1].payload[1] == 0x3D);
  }
  SUBCASE("one character outside the alphabet makes the whole text UCS-2")
  {
    auto s = cut(repeat("a", 100) + "\u00E7");
    CHECK(s.coding == Coding::Ucs2);
    CHECK(s.parts.size() == 2);
  }
}

TEST_CASE("sms::segment refuses what SMS cannot carry")
{
  CHECK_FALSE(segment("\xFF", 1));
  CHECK(segment(repeat("a", 153 * 255), 1)->parts.size() == 255);
  auto too_long = segment(repeat("a", 153 * 255 + 1), 1);
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().message.find("255") != std::string::npos);
  auto forced = segment("hello", 1, true);
  REQUIRE(forced);
  CHECK(forced->coding == Coding::Ucs2);
  CHECK(forced->parts[0].payload.size() == 10);
}

TEST_CASE("sms::parse_user_data reads the concatenation header")
{
  SUBCASE("8-bit reference (IEI 0x00)")
  {
    auto ud = parse_user_data(Bytes{0x05, 0x00, 0x03, 0xA1, 0x03, 0x02, 'h', 'i'}, true);
    REQUIRE(ud);
    CHECK(ud->concat == Concat{0xA1, 3, 2});
    CHECK(ud->payload == Bytes{'h', 'i'});
  }
  SUBCASE("16-bit reference (IEI 0x08), after another element")
  {
    auto ud = parse_user_data(
        Bytes{0x0A, 0x0A, 0x02, 0x00, 0x00, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01, 'x'}, true);
    REQUIRE(ud);
    CHECK(ud->concat == Concat{0x1234, 2, 1});
    CHECK(ud->payload == Bytes{'x'});
  }
  SUBCASE("without the header indicator the octets are the text")
  {
    auto ud = parse_user_data(Bytes{0x05, 0x00}, false);
    REQUIRE(ud);
    CHECK_FALSE(ud->concat);
    CHECK(ud->payload.size() == 2);
  }
  SUBCASE("an invalid concatenation element is ignored (TS 23.040 §9.2.3.24.1)")
  {
    for (Bytes udh : {Bytes{0x05, 0x00, 0x03, 0x01, 0x00, 0x01}, // total 0
                      Bytes{0x05, 0x00, 0x03, 0x01, 0x02, 0x00}, // sequence 0
                      Bytes{0x05, 0x00, 0x03, 0x01, 0x02, 0x03}}) {
      auto ud = parse_user_data(udh, true);
      REQUIRE(ud);
      CHECK_FALSE(ud->concat);
      CHECK(ud->payload.empty());
    }
  }
  SUBCASE("a header that lies about its length is an error")
  {
    CHECK_FALSE(parse_user_data(Bytes{}, true));
    CHECK_FALSE(parse_user_data(Bytes{0x06, 0x00, 0x03, 0x01, 0x02, 0x01}, true));
    CHECK_FALSE(parse_user_data(Bytes{0x05, 0x00, 0x04, 0x01, 0x02, 0x01}, true));
    CHECK_FALSE(parse_user_data(Bytes{0x01, 0x00}, true));
  }
  SUBCASE("what segment writes, parse_user_data reads")
  {
    auto s = cut(repeat("z", 400), 0xFE);
    for (const auto& p : s.parts) {
      auto ud = parse_user_data(short_message(p), true);
      REQUIRE(ud);
      CHECK(ud->concat == p.concat);
      CHECK(ud->payload == p.payload);
    }
  }
}

TEST_SUITE_END();
