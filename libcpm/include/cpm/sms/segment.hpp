#pragma once
// A text as one or more short messages: the coding chosen, parts joined by a user data
// header (3GPP TS 23.040 §9.2.3.24.1, concatenation with an 8-bit reference), and the user
// data of a received part read back.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/sms/coding.hpp"

namespace cpm::sms {

// TS 23.040 §9.2.3.16 and §9.2.3.24: 140 octets of user data, of which a concatenated part's
// header takes 6 (UDHL, IEI 0x00, IEDL, reference, total, sequence).
inline constexpr size_t k_gsm7_single = 160; // septets
inline constexpr size_t k_gsm7_part = 153;
inline constexpr size_t k_ucs2_single = 70; // UTF-16 code units
inline constexpr size_t k_ucs2_part = 67;
// A total is one octet.
inline constexpr size_t k_max_parts = 255;
// The esm_class bit that says the short message starts with a user data header (SMPP 3.4
// §5.2.12, UDHI).
inline constexpr uint8_t k_esm_udhi = 0x40;

// Where a part belongs: TS 23.040 §9.2.3.24.1 (IEI 0x00, 8-bit reference) or .8 (IEI 0x08,
// 16-bit reference).
struct Concat {
  uint16_t reference = 0;
  uint8_t total = 1;
  uint8_t sequence = 1; // 1-based
  bool operator==(const Concat&) const = default;
};

// One short message of a text: its payload is septets, one per octet (Gsm7), or UTF-16BE
// octets (Ucs2), never holding half of an escape sequence or of a surrogate pair.
struct Part {
  std::optional<Concat> concat; // none for a text that fits one message
  std::vector<uint8_t> payload;
};

// A text cut into parts.
struct Segmented {
  Coding coding = Coding::Gsm7;
  std::vector<Part> parts;
};

// `text` (UTF-8) in the GSM 7-bit alphabet when every character is in it or its extension
// table, else (or when `ucs2` is set) in UCS-2; one message when it fits 160 septets or 70
// code units, else parts of 153 septets or 67 code units with concatenation headers carrying
// `reference`. An error when `text` is not UTF-8 or would need more than 255 parts.
Result<Segmented> segment(std::string_view text, uint8_t reference, bool ucs2 = false);

// The user data header of a part, UDHL first (05 00 03 reference total sequence); empty
// without `concat`.
std::vector<uint8_t> udh_of(const Part& part);

// The short_message octets of a part for SMPP: its header, then its payload unpacked.
// The esm_class needs k_esm_udhi when the part has a header.
std::vector<uint8_t> short_message(const Part& part);

// A received part's user data, split.
struct UserData {
  std::optional<Concat> concat; // from IEI 0x00 or 0x08; none when absent or invalid
  std::vector<uint8_t> payload; // the octets after the header, in the message's coding
};

// Read `octets` (SMPP short_message or message_payload, Gsm7 unpacked), whose esm_class
// said a header comes first when `udhi`. A header longer than the octets, or an element
// longer than its header, is an error; other elements are skipped; a concatenation element
// with a total of 0 or a sequence of 0 or above the total is ignored, and of repeated ones
// the last counts (TS 23.040 §9.2.3.24).
Result<UserData> parse_user_data(std::span<const uint8_t> octets, bool udhi);

} // namespace cpm::sms
