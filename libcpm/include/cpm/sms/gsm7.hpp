#pragma once
// The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1 and
// §6.2.1.1) to and from UTF-8, and the packing of septets into octets (§6.1.2.1).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cpm::sms {

// The escape to the extension table (TS 23.038 §6.2.1, code 0x1B).
inline constexpr uint8_t k_escape = 0x1B;

// The septets of `c`: one from the default alphabet, two (escape, code) from the extension
// table, none (an empty optional) when the alphabet has no such character.
std::optional<std::basic_string<uint8_t>> gsm7_of(char32_t c);

// The septets (one per octet, 0..127) of `text`, or nothing when a character is not in the
// default alphabet or its extension table (or `text` is not UTF-8): it needs UCS-2 then.
std::optional<std::vector<uint8_t>> to_gsm7(std::string_view text);

// Septets (one per octet; the high bit is ignored) as UTF-8. An escape followed by a code
// the extension table leaves undefined shows the default alphabet's character for that code,
// and an escape at the end shows a space, as §6.2.1.1 asks of a receiving entity.
std::string from_gsm7(std::span<const uint8_t> septets);

// Pack septets into octets, least significant bit first (§6.1.2.1.1), after `fill_bits`
// zero bits (0..6: the padding that puts the first septet on a septet boundary after a user
// data header, TS 23.040 §9.2.3.24).
std::vector<uint8_t> pack_septets(std::span<const uint8_t> septets, unsigned fill_bits = 0);

// The first `count` septets packed in `octets` after `fill_bits` bits; fewer when the
// octets end first.
std::vector<uint8_t> unpack_septets(std::span<const uint8_t> octets, size_t count,
                                    unsigned fill_bits = 0);

} // namespace cpm::sms
