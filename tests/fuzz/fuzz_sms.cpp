// libFuzzer target for the sms layer. The first octet chooses the esm_class UDHI bit and the
// data_coding; the rest is a received short_message: its header is read, its text decoded,
// and it goes through a Reassembly with its copies, split at the second octet. Then the
// input, when it is UTF-8, is segmented and reassembled in reverse order, and must come back
// whole with no part over its size; GSM septets must survive packing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "cpm/sms/coding.hpp"
#include "cpm/sms/gsm7.hpp"
#include "cpm/sms/reassembly.hpp"
#include "cpm/sms/segment.hpp"
#include "cpm/sms/unicode.hpp"

namespace {

void check(bool ok)
{
  if (!ok)
    std::abort();
}

void received(std::span<const uint8_t> in)
{
  if (in.empty())
    return;
  bool udhi = in[0] & 0x80;
  uint8_t dc = in[0] & 0x7F;
  if (dc >= 0x10)
    dc |= 0x80; // reach the 1111xxxx class groups too
  auto sm = in.subspan(1);
  auto ud = cpm::sms::parse_user_data(sm, udhi);
  if (!ud) {
    check(!ud.error().message.empty());
    return;
  }
  check(ud->payload.size() <= sm.size());
  auto coding = cpm::sms::coding_of(dc);
  if (!coding)
    return;
  (void)cpm::sms::decode_text(*coding, ud->payload);
  cpm::sms::Reassembly r(100);
  cpm::sms::Concat c = ud->concat.value_or(cpm::sms::Concat{});
  size_t half = ud->payload.size() / 2;
  std::vector<uint8_t> first(ud->payload.begin(), ud->payload.begin() + half);
  std::vector<uint8_t> second(ud->payload.begin() + half, ud->payload.end());
  r.add({"a", "b", c, *coding, first}, 0);
  r.add({"a", "b", c, *coding, second}, 1);
  cpm::sms::Concat other = c;
  other.sequence = static_cast<uint8_t>(c.total - c.sequence + 1);
  r.add({"a", "b", other, *coding, second}, 2);
  for (const auto& m : r.expire(1000))
    check(!m.complete() && m.sequences.size() <= m.total);
  check(r.pending() == 0);
}

void round_trip(std::string_view text, uint8_t reference)
{
  auto s = cpm::sms::segment(text, reference);
  if (!s) {
    check(!s.error().message.empty());
    return;
  }
  check(!s->parts.empty() && s->parts.size() <= cpm::sms::k_max_parts);
  bool gsm = s->coding == cpm::sms::Coding::Gsm7;
  size_t room = s->parts.size() == 1 ? (gsm ? 160 : 140) : (gsm ? 153 : 134);
  cpm::sms::Reassembly r;
  cpm::sms::Assembled done;
  cpm::sms::Added last = cpm::sms::Added::Stored;
  for (size_t i = s->parts.size(); i-- > 0;) {
    const auto& p = s->parts[i];
    check(p.payload.size() <= room);
    auto sm = cpm::sms::short_message(p);
    auto ud = cpm::sms::parse_user_data(sm, p.concat.has_value());
    check(ud && ud->concat == p.concat && ud->payload == p.payload);
    last = r.add({"a", "b", p.concat.value_or(cpm::sms::Concat{}), s->coding, p.payload}, 0, &done);
  }
  check(last == cpm::sms::Added::Complete && done.text == text);
  if (gsm) {
    for (const auto& p : s->parts) {
      unsigned fill = reference % 7;
      auto packed = cpm::sms::pack_septets(p.payload, fill);
      check(cpm::sms::unpack_septets(packed, p.payload.size(), fill) == p.payload);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::span<const uint8_t> in(data, size);
  received(in);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cpm::sms::from_utf16be(in);
  (void)cpm::sms::from_gsm7(in);
  if (cpm::sms::code_points(text))
    round_trip(text, size ? data[0] : 0);
  return 0;
}
