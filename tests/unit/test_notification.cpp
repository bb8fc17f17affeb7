#include <doctest/doctest.h>

#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/ua/incoming.hpp"
#include "cpm/ua/notification.hpp"

using namespace cpm::ua;

TEST_SUITE_BEGIN("ua");

TEST_CASE("ua::Awaited counts distinct recipients")
{
  SUBCASE("one recipient, as before --recipients")
  {
    Awaited a(true, false, 1);
    CHECK_FALSE(a.complete());
    CHECK(a.missing() == "delivery");
    a.add("sip:bob@b.example", "delivery", true);
    CHECK(a.complete());
    CHECK_FALSE(a.negative());
  }
  SUBCASE("a group: the same recipient twice counts once")
  {
    Awaited a(true, false, 2);
    a.add("<sip:bob@b.example>", "delivery", true);
    a.add("Bob <sip:bob@b.example>", "delivery", true);
    CHECK_FALSE(a.complete());
    CHECK(a.count("delivery") == 1);
    a.add("sip:carol@b.example", "delivery", true);
    CHECK(a.complete());
    CHECK_FALSE(a.negative());
  }
  SUBCASE("a negative notification answers for its recipient")
  {
    Awaited a(true, true, 2);
    a.add("sip:carol@b.example", "delivery", false);
    CHECK(a.negative());
    CHECK_FALSE(a.complete());
    a.add("sip:bob@b.example", "delivery", true);
    CHECK(a.missing() == "display");
    a.add("sip:bob@b.example", "display", true);
    CHECK(a.complete());
    CHECK(a.negative());
  }
  SUBCASE("display is awaited per recipient too")
  {
    Awaited a(true, true, 1);
    a.add("sip:bob@b.example", "delivery", true);
    CHECK_FALSE(a.complete());
    a.add("sip:bob@b.example", "display", true);
    CHECK(a.complete());
  }
  SUBCASE("nothing requested: complete at once")
  {
    Awaited a(false, false, 3);
    CHECK(a.complete());
  }
}

TEST_SUITE_END();
