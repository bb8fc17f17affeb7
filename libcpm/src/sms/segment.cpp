#include "cpm/sms/segment.hpp"

#include <fmt/format.h>

#include "cpm/sms/gsm7.hpp"
#include "cpm/sms/unicode.hpp"

namespace cpm::sms {

namespace {

// The encoded text and where each character starts in it (in octets), so that parts are
// cut between characters only.
struct Encoded {
  std::vector<uint8_t> octets;
  std::vector<size_t> starts;
};

// `cps` in the GSM 7-bit alphabet, or nothing when one of them is not in it.
std::optional<Encoded> encode_gsm7(const std::u32string& cps)
{
  Encoded e;
  e.octets.reserve(cps.size());
  e.starts.reserve(cps.size());
  for (char32_t c : cps) {
    auto s = gsm7_of(c);
    if (!s)
      return std::nullopt;
    e.starts.push_back(e.octets.size());
    e.octets.insert(e.octets.end(), s->begin(), s->end());
  }
  return e;
}

Encoded encode_ucs2(const std::u32string& cps)
{
  Encoded e;
  e.octets.reserve(cps.size() * 2);
  e.starts.reserve(cps.size());
  for (char32_t c : cps) {
    e.starts.push_back(e.octets.size());
    append_utf16be(e.octets, c);
  }
  return e;
}

} // namespace

Result<Segmented> segment(std::string_view text, uint8_t reference, bool ucs2)
{
  auto cps = code_points(text);
  if (!cps)
    return tl::unexpected(cps.error());
  Segmented out;
  std::optional<Encoded> enc;
  if (!ucs2)
    enc = encode_gsm7(*cps);
  if (enc) {
    out.coding = Coding::Gsm7;
  } else {
    out.coding = Coding::Ucs2;
    enc = encode_ucs2(*cps);
  }
  // Sizes in octets of the payload: a septet is one octet here, a code unit two.
  size_t unit = out.coding == Coding::Gsm7 ? 1 : 2;
  size_t single = unit * (out.coding == Coding::Gsm7 ? k_gsm7_single : k_ucs2_single);
  size_t room = unit * (out.coding == Coding::Gsm7 ? k_gsm7_part : k_ucs2_part);
  const auto& octets = enc->octets;
  if (octets.size() <= single) {
    out.parts.push_back(Part{std::nullopt, octets});
    return out;
  }
  // Cut at the last character start that keeps a part within its room.
  std::vector<std::pair<size_t, size_t>> cuts; // [begin, end) octets
  size_t begin = 0;
  size_t next = 0; // index into starts of the first character not yet placed
  const auto& starts = enc->starts;
  while (begin < octets.size()) {
    size_t end = begin;
    while (next < starts.size()) {
      size_t char_end = next + 1 < starts.size() ? starts[next + 1] : octets.size();
      if (char_end - begin > room)
        break;
      end = char_end;
      ++next;
    }
    cuts.emplace_back(begin, end);
    begin = end;
    if (cuts.size() > k_max_parts)
      return fail(fmt::format("text too long for SMS: more than {} parts", k_max_parts));
  }
  auto total = static_cast<uint8_t>(cuts.size());
  for (size_t i = 0; i < cuts.size(); ++i) {
    Part p;
    p.concat = Concat{reference, total, static_cast<uint8_t>(i + 1)};
    p.payload.assign(octets.begin() + static_cast<ptrdiff_t>(cuts[i].first),
                     octets.begin() + static_cast<ptrdiff_t>(cuts[i].second));
    out.parts.push_back(std::move(p));
  }
  return out;
}

std::vector<uint8_t> udh_of(const Part& part)
{
  if (!part.concat)
    return {};
  const auto& c = *part.concat;
  if (c.reference > 0xFF)
    return {0x06,
            0x08,
            0x04,
            static_cast<uint8_t>(c.reference >> 8),
            static_cast<uint8_t>(c.reference & 0xFF),
            c.total,
            c.sequence};
  return {0x05, 0x00, 0x03, static_cast<uint8_t>(c.reference), c.total, c.sequence};
}

std::vector<uint8_t> short_message(const Part& part)
{
  auto out = udh_of(part);
  out.insert(out.end(), part.payload.begin(), part.payload.end());
  return out;
}

Result<UserData> parse_user_data(std::span<const uint8_t> octets, bool udhi)
{
  UserData ud;
  size_t body = 0;
  if (udhi) {
    if (octets.empty())
      return fail("user data header indicated but the message is empty");
    size_t udhl = octets[0];
    if (1 + udhl > octets.size())
      return fail(
          fmt::format("user data header of {} octets in a message of {}", udhl, octets.size()));
    size_t i = 1;
    while (i < 1 + udhl) {
      if (i + 2 > 1 + udhl)
        return fail("user data header ends inside an element");
      uint8_t iei = octets[i];
      size_t len = octets[i + 1];
      i += 2;
      if (i + len > 1 + udhl)
        return fail(fmt::format("element 0x{:02x} of {} octets overruns the header", iei, len));
      std::optional<Concat> c;
      if (iei == 0x00 && len == 3)
        c = Concat{octets[i], octets[i + 1], octets[i + 2]};
      else if (iei == 0x08 && len == 4)
        c = Concat{static_cast<uint16_t>((octets[i] << 8) | octets[i + 1]), octets[i + 2],
                   octets[i + 3]};
      // TS 23.040 §9.2.3.24.1: such an element is ignored.
      if (c && c->total != 0 && c->sequence != 0 && c->sequence <= c->total)
        ud.concat = c;
      i += len;
    }
    body = 1 + udhl;
  }
  ud.payload.assign(octets.begin() + static_cast<ptrdiff_t>(body), octets.end());
  return ud;
}

} // namespace cpm::sms
