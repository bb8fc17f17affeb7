#include <doctest/doctest.h>

#include "cpm/rt/re.hpp"
#include "cpm/rt/re_ptr.hpp"

TEST_SUITE_BEGIN("re_ptr");

namespace {

int g_freed = 0;

void count_free(void*)
{
  ++g_freed;
}

// A libre-style allocator with an out-parameter.
int alloc_thing(int** out)
{
  *out = static_cast<int*>(mem_zalloc(sizeof(int), count_free));
  return *out ? 0 : ENOMEM;
}

} // namespace

TEST_CASE("re_ptr releases its reference once; re_ref keeps the object alive; re_out adopts")
{
  g_freed = 0;
  SUBCASE("re_out")
  {
    cpm::re_ptr<int> p;
    CHECK(alloc_thing(cpm::re_out(p)) == 0);
    REQUIRE(p);
    CHECK(g_freed == 0);
    CHECK(alloc_thing(cpm::re_out(p)) == 0); // the old one goes first
    CHECK(g_freed == 1);
    p.reset();
    CHECK(g_freed == 2);
  }
  SUBCASE("re_ref")
  {
    auto* raw = static_cast<const int*>(mem_zalloc(sizeof(int), count_free));
    {
      cpm::re_ptr<const int> kept = cpm::re_ref(raw);
      mem_deref(const_cast<int*>(raw)); // the lender lets go
      CHECK(g_freed == 0);
      CHECK(kept.get() == raw);
    }
    CHECK(g_freed == 1);
  }
}

TEST_SUITE_END();
