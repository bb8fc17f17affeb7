#pragma once
// Content codings of message bodies (RFC 9110 §8.4, RFC 3261 §20.12): "gzip" and "deflate"
// undone with zlib, bounded so that a small body cannot inflate without limit.
#include <cstddef>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace cpm::encoding {

// The most a body may inflate to: 1 MiB, far above any CPIM or IMDN body (a SIP message over
// TCP is at most 64 KiB, and deflate reaches ~1000:1).
inline constexpr size_t k_max_decoded = size_t(1) << 20;
// The codings we undo, as an Accept-Encoding value (RFC 3261 §8.2.3).
inline constexpr std::string_view k_accepted = "gzip, deflate";

// Why a body could not be decoded.
enum class Failure {
  Unsupported, // a coding we do not know (415 with Accept-Encoding)
  TooLarge,    // it inflates past the limit (413)
  Corrupt,     // not valid data of its coding (400)
};

struct DecodeError {
  Failure failure = Failure::Corrupt;
  std::string message;
};

// One content coding, named as in Content-Encoding (case-insensitive).
enum class Coding { Identity, Gzip, Deflate };

// The coding `name` names ("x-gzip" is gzip, RFC 9110 §8.4.1.3), or Unsupported.
tl::expected<Coding, DecodeError> coding_of(std::string_view name);

// Inflate `data` of coding `c` into at most `limit` bytes. Deflate is the zlib format (RFC
// 1950) as RFC 9110 says, or raw deflate (RFC 1951) as some senders send it; gzip may hold
// several members (RFC 1952 §2.2). Nothing may follow the end of the stream.
tl::expected<std::string, DecodeError> inflate(std::string_view data, Coding c,
                                               size_t limit = k_max_decoded);

// Undo a Content-Encoding header value (a comma list of codings in the order they were
// applied; "" and "identity" change nothing) on `body`.
tl::expected<std::string, DecodeError> decode(std::string_view content_encoding,
                                              std::string_view body, size_t limit = k_max_decoded);

} // namespace cpm::encoding
