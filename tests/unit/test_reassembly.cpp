#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cpm/sms/gsm7.hpp"
#include "cpm/sms/reassembly.hpp"
#include "cpm/sms/segment.hpp"
#include "cpm/sms/unicode.hpp"

using namespace cpm::sms;

namespace {

// Part `i` of `s` as received from +15550100 for +15550101.
Fragment fragment(const Segmented& s, size_t i)
{
  const auto& p = s.parts.at(i);
  return Fragment{"+15550100", "+15550101", p.concat.value_or(Concat{}), s.coding, p.payload};
}

// 400 characters, not all in the BMP: Cyrillic, Greek, CJK and emoji.
std::string mixed_400()
{
  const std::u32string cycle = U"Привет, Ωμέγα 世界 😀🎉 ok! ";
  std::string out;
  for (size_t i = 0; i < 400; ++i)
    append_utf8(out, cycle[i % cycle.size()]);
  return out;
}

} // namespace

TEST_SUITE_BEGIN("sms");

TEST_CASE("sms::Reassembly: a 400-character UCS-2 message with emoji, out of order, and back")
{
  std::string text = mixed_400();
  REQUIRE(code_points(text)->size() == 400);
  auto s = segment(text, 0x99);
  REQUIRE(s);
  CHECK(s->coding == Coding::Ucs2);
  // 400 characters with emoji are more than 400 code units: 7 parts of at most 67.
  CHECK(s->parts.size() == 7);
  for (const auto& p : s->parts) {
    CHECK(p.payload.size() <= 134);
    // A part never ends on a high surrogate.
    uint8_t last_hi = p.payload[p.payload.size() - 2];
    CHECK_FALSE((last_hi >= 0xD8 && last_hi <= 0xDB));
  }

  Reassembly r(30'000);
  std::vector<size_t> order = {6, 2, 0, 5, 3, 1};
  for (size_t i : order)
    CHECK(r.add(fragment(*s, i), 1000) == Added::Stored);
  CHECK(r.add(fragment(*s, 2), 1001) == Added::Duplicate);
  CHECK(r.pending() == 1);
  Assembled done;
  REQUIRE(r.add(fragment(*s, 4), 1002, &done) == Added::Complete);
  CHECK(done.complete());
  CHECK(done.text == text);
  CHECK(done.from == "+15550100");
  CHECK(done.reference == 0x99);
  CHECK(done.first_ms == 1000);
  CHECK(r.pending() == 0);
  // A late copy of a part of a completed message is dropped, not begun again.
  CHECK(r.add(fragment(*s, 3), 2000) == Added::Duplicate);
  CHECK(r.pending() == 0);
}

TEST_CASE("sms::Reassembly joins a split escape sequence or surrogate pair")
{
  // Some senders cut anywhere; the parts' payloads are joined before decoding.
  Reassembly r;
  auto a = Fragment{"a", "b", Concat{1, 2, 1}, Coding::Gsm7, {'x', k_escape}};
  auto b = Fragment{"a", "b", Concat{1, 2, 2}, Coding::Gsm7, {0x65, 'y'}};
  CHECK(r.add(b, 0) == Added::Stored);
  Assembled done;
  REQUIRE(r.add(a, 0, &done) == Added::Complete);
  CHECK(done.text == "x\u20ACy");

  auto c = Fragment{"a", "b", Concat{2, 2, 1}, Coding::Ucs2, {0xD8, 0x3D}};
  auto d = Fragment{"a", "b", Concat{2, 2, 2}, Coding::Ucs2, {0xDE, 0x00}};
  CHECK(r.add(c, 0) == Added::Stored);
  REQUIRE(r.add(d, 0, &done) == Added::Complete);
  CHECK(done.text == "\U0001F600");
}

TEST_CASE("sms::Reassembly keeps messages apart by sender, recipient, reference and total")
{
  Reassembly r;
  CHECK(r.add(Fragment{"a", "b", Concat{5, 2, 1}, Coding::Gsm7, {'1'}}, 0) == Added::Stored);
  CHECK(r.add(Fragment{"c", "b", Concat{5, 2, 2}, Coding::Gsm7, {'2'}}, 0) == Added::Stored);
  CHECK(r.add(Fragment{"a", "b", Concat{5, 3, 2}, Coding::Gsm7, {'3'}}, 0) == Added::Stored);
  CHECK(r.add(Fragment{"a", "b", Concat{6, 2, 2}, Coding::Gsm7, {'4'}}, 0) == Added::Stored);
  CHECK(r.pending() == 4);
  Assembled done;
  CHECK(r.add(Fragment{"a", "b", Concat{5, 2, 2}, Coding::Gsm7, {'5'}}, 0, &done) ==
        Added::Complete);
  CHECK(done.text == "15");
}

TEST_CASE("sms::Reassembly gives up an incomplete message after the timeout")
{
  Reassembly r(10'000);
  CHECK_FALSE(r.next_deadline());
  r.add(Fragment{"a", "b", Concat{9, 4, 2}, Coding::Gsm7, {'b'}}, 5'000);
  r.add(Fragment{"a", "b", Concat{9, 4, 4}, Coding::Gsm7, {'d'}}, 6'000);
  r.add(Fragment{"x", "b", Concat{1, 2, 1}, Coding::Gsm7, {'q'}}, 7'000);
  CHECK(r.next_deadline() == 15'000);
  CHECK(r.expire(14'999).empty());
  auto gone = r.expire(15'000);
  REQUIRE(gone.size() == 1);
  CHECK_FALSE(gone[0].complete());
  CHECK(gone[0].sequences == std::vector<uint8_t>{2, 4});
  CHECK(gone[0].text == "\u2026b\u2026d"); // parts 1 and 3 missing
  CHECK(r.pending() == 1);
  CHECK(r.next_deadline() == 17'000);
  auto last = r.expire(20'000);
  REQUIRE(last.size() == 1);
  CHECK(last[0].text == "q\u2026");
  CHECK(r.pending() == 0);
}

TEST_CASE("sms::Reassembly passes a single message through")
{
  Reassembly r;
  Assembled done;
  CHECK(r.add(Fragment{"a", "b", Concat{}, Coding::Latin1, {0xE9}}, 0, &done) == Added::Complete);
  CHECK(done.complete());
  CHECK(done.text == "\u00E9");
  CHECK(r.pending() == 0);
}

TEST_SUITE_END();
