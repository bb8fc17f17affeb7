#include <doctest/doctest.h>

#include "cpm/base/events.hpp"

TEST_SUITE_BEGIN("events");

TEST_CASE("events::to_line writes one object per line")
{
  cpm::events::Json e{{"type", "message"}, {"text", "a\nb"}, {"n", 3}};
  auto line = cpm::events::to_line(e);
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  auto back = cpm::events::parse_line(line);
  REQUIRE(back);
  CHECK((*back)["text"] == "a\nb");
  CHECK((*back)["n"] == 3);
}

TEST_CASE("events::to_line replaces invalid UTF-8 instead of throwing")
{
  cpm::events::Json e{{"text", std::string("bad \xff\xfe byte")}};
  std::string line;
  CHECK_NOTHROW(line = cpm::events::to_line(e));
  CHECK(line.find("bad") != std::string::npos);
  CHECK(cpm::events::parse_line(line));
}

TEST_CASE("events::parse_line rejects what is not an object")
{
  CHECK_FALSE(cpm::events::parse_line("[1,2]"));
  CHECK_FALSE(cpm::events::parse_line("{\"a\":"));
  CHECK_FALSE(cpm::events::parse_line(""));
}

TEST_CASE("events::now is RFC 3339 UTC")
{
  auto t = cpm::events::now();
  CHECK(t.size() == 24);
  CHECK(t[10] == 'T');
  CHECK(t.back() == 'Z');
}

TEST_SUITE_END();
