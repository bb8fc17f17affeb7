#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cpm/sms/coding.hpp"
#include "cpm/sms/gsm7.hpp"
#include "cpm/sms/unicode.hpp"

using namespace cpm::sms;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes septets_of(const char* text)
{
  auto s = to_gsm7(text);
  REQUIRE(s);
  return *s;
}

} // namespace

TEST_SUITE_BEGIN("sms");

TEST_CASE("sms::pack_septets matches the published packing examples")
{
  // TS 23.038 §6.1.2.1.1 packs eight septets into seven octets, LSB first; the vectors are
  // the usual ones of SMS PDU tutorials (and what libosmocore's gsm_7bit_encode_n gives).
  SUBCASE("hellohello")
  {
    auto packed = pack_septets(septets_of("hellohello"));
    CHECK(packed == Bytes{0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37});
    CHECK(from_gsm7(unpack_septets(packed, 10)) == "hellohello");
  }
  SUBCASE("How are you?")
  {
    auto packed = pack_septets(septets_of("How are you?"));
    CHECK(packed == Bytes{0xC8, 0xF7, 0x1D, 0x14, 0x96, 0x97, 0x41, 0xF9, 0x77, 0xFD, 0x07});
  }
  SUBCASE("an escape sequence is two septets")
  {
    auto s = septets_of("Test{}");
    CHECK(s == Bytes{0x54, 0x65, 0x73, 0x74, 0x1B, 0x28, 0x1B, 0x29});
    CHECK(pack_septets(s) == Bytes{0xD4, 0xF2, 0x9C, 0xBE, 0x41, 0x6D, 0x52});
  }
  SUBCASE("eight septets fill seven octets exactly")
  {
    CHECK(pack_septets(septets_of("abcdefgh")).size() == 7);
    CHECK(pack_septets(septets_of("abcdefg")) == Bytes{0x61, 0xF1, 0x98, 0x5C, 0x36, 0x9F, 0x01});
  }
  SUBCASE("fill bits after a header (TS 23.040 §9.2.3.24: 6 octets of UDH, 1 fill bit)")
  {
    auto s = septets_of("hellohello");
    auto packed = pack_septets(s, 1);
    CHECK(packed.size() == 9); // 1 + 70 bits
    CHECK((packed[0] & 0x01) == 0);
    CHECK(unpack_septets(packed, s.size(), 1) == s);
  }
  SUBCASE("unpacking stops where the octets do")
  {
    CHECK(unpack_septets(Bytes{0xE8, 0x32}, 10).size() == 2);
    CHECK(unpack_septets(Bytes{}, 3).empty());
  }
}

TEST_CASE("sms::gsm7 alphabet: TS 23.038 §6.2.1 and its extension table")
{
  CHECK(septets_of("@") == Bytes{0x00});
  CHECK(septets_of("\u00A3$\u00A5") == Bytes{0x01, 0x02, 0x03});
  CHECK(septets_of("\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E") ==
        Bytes{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A});
  CHECK(septets_of("\u00A1\u00BF\u00E0\u00A7\u00A4") == Bytes{0x40, 0x60, 0x7F, 0x5F, 0x24});
  CHECK(septets_of("\n\r") == Bytes{0x0A, 0x0D});
  CHECK(septets_of("\u20AC") == Bytes{0x1B, 0x65});
  CHECK(septets_of("^{}\\[~]|\f") == Bytes{0x1B, 0x14, 0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x2F, 0x1B,
                                           0x3C, 0x1B, 0x3D, 0x1B, 0x3E, 0x1B, 0x40, 0x1B, 0x0A});
  SUBCASE("every default septet but the escape reads back to itself")
  {
    for (uint8_t s = 0; s < 128; ++s) {
      if (s == k_escape)
        continue;
      Bytes one{s};
      auto text = from_gsm7(one);
      CAPTURE(int(s));
      CHECK(to_gsm7(text) == one);
    }
  }
  SUBCASE("characters outside the alphabet need UCS-2")
  {
    CHECK_FALSE(to_gsm7("\u00E7")); // ç: only Ç is in the table
    CHECK_FALSE(to_gsm7("`"));
    CHECK_FALSE(to_gsm7("\U0001F600"));
    CHECK_FALSE(to_gsm7("\xC3")); // not UTF-8
  }
  SUBCASE("a receiver shows what it cannot read")
  {
    // §6.2.1.1: an undefined extension code shows the default character; a lone final
    // escape a space.
    CHECK(from_gsm7(Bytes{0x1B, 0x41}) == "A");
    CHECK(from_gsm7(Bytes{0x41, 0x1B}) == "A ");
    CHECK(from_gsm7(Bytes{0xC1}) == "A"); // the high bit is not a septet's
  }
}

TEST_CASE("sms::unicode checks UTF-8 and reads UTF-16BE")
{
  CHECK(code_points("a\u00E9\u20AC\U0001F600") == std::u32string{U'a', 0xE9, 0x20AC, 0x1F600});
  for (const char* bad :
       {"\xC0\x80", "\xED\xA0\x80", "\xF5\x80\x80\x80", "\xE2\x82", "\x80", "\xF0\x8F\xBF\xBF"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(code_points(bad));
  }
  auto smile = to_utf16be("\U0001F600");
  REQUIRE(smile);
  CHECK(*smile == Bytes{0xD8, 0x3D, 0xDE, 0x00});
  CHECK(from_utf16be(*smile) == "\U0001F600");
  CHECK(from_utf16be(Bytes{0xD8, 0x3D, 0x00, 0x41}) == "\uFFFDA"); // lone high surrogate
  CHECK(from_utf16be(Bytes{0xDE, 0x00}) == "\uFFFD");              // lone low surrogate
  CHECK(from_utf16be(Bytes{0x00, 0x41, 0x00}) == "A\uFFFD");       // odd last octet
}

TEST_CASE("sms::coding_of reads SMPP 3.4 §5.2.19 data_coding")
{
  CHECK(coding_of(0x00) == Coding::Gsm7);
  CHECK(coding_of(0x01) == Coding::Ascii);
  CHECK(coding_of(0x03) == Coding::Latin1);
  CHECK(coding_of(0x08) == Coding::Ucs2);
  CHECK(coding_of(0x04) == Coding::Binary);
  CHECK(coding_of(0xF0) == Coding::Gsm7);   // class 0, default alphabet
  CHECK(coding_of(0xF5) == Coding::Binary); // class 1, 8-bit
  CHECK(coding_of(0x18) == Coding::Ucs2);   // general group, class given, UCS2
  CHECK_FALSE(coding_of(0x06));             // Cyrillic
  CHECK_FALSE(coding_of(0x28));             // compressed
  CHECK(data_coding_of(Coding::Ucs2) == 0x08);
  CHECK(data_coding_of(Coding::Gsm7) == 0x00);
  CHECK(decode_text(Coding::Latin1, Bytes{0x63, 0x61, 0x66, 0xE9}) == "caf\u00E9");
  CHECK(decode_text(Coding::Ascii, Bytes{0x41, 0xE9}) == "A\uFFFD");
  CHECK_FALSE(decode_text(Coding::Binary, Bytes{0x01}));
}

TEST_SUITE_END();
