// Content codings of message bodies, undone with zlib.
#include "cpm/codec/encoding.hpp"

#include <fmt/format.h>
#include <limits>
#include <vector>
#include <zlib.h>

#include "cpm/base/text.hpp"

namespace cpm::encoding {

namespace {

// zlib's windowBits: the zlib wrapper, none (raw deflate), the gzip wrapper.
constexpr int k_zlib = 15;
constexpr int k_raw = -15;
constexpr int k_gzip = 16 + 15;
// More codings than this on one body is not a real sender's (each stage costs an inflate).
constexpr size_t k_max_codings = 4;

tl::unexpected<DecodeError> error(Failure f, std::string message)
{
  return tl::unexpected(DecodeError{f, std::move(message)});
}

// Ends a z_stream however the inflate ends.
struct Stream {
  z_stream z{};
  bool open = false;
  ~Stream()
  {
    if (open)
      inflateEnd(&z);
  }
};

// Inflate with zlib's `window_bits`; `what` names the coding in messages.
tl::expected<std::string, DecodeError> run(std::string_view data, int window_bits, size_t limit,
                                           std::string_view what)
{
  if (data.size() > std::numeric_limits<uInt>::max())
    return error(Failure::TooLarge, fmt::format("{} body of {} bytes", what, data.size()));
  Stream s;
  if (inflateInit2(&s.z, window_bits) != Z_OK)
    return error(Failure::Corrupt, "zlib cannot start an inflate");
  s.open = true;
  // zlib's next_in is not const in zlib 1.2 without ZLIB_CONST; it does not write there.
  s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  while (true) {
    s.z.next_out = reinterpret_cast<Bytef*>(buf);
    s.z.avail_out = sizeof(buf);
    int rc = ::inflate(&s.z, Z_NO_FLUSH);
    size_t got = sizeof(buf) - s.z.avail_out;
    if (got > limit - out.size())
      return error(Failure::TooLarge, fmt::format("{} body inflates past {} bytes", what, limit));
    out.append(buf, got);
    if (rc == Z_OK)
      continue;
    if (rc == Z_STREAM_END) {
      if (s.z.avail_in == 0)
        return out;
      // RFC 1952 §2.2: a gzip file is a series of members.
      if (window_bits == k_gzip && inflateReset(&s.z) == Z_OK)
        continue;
      return error(Failure::Corrupt,
                   fmt::format("{} bytes after the end of the {} data", s.z.avail_in, what));
    }
    if (rc == Z_BUF_ERROR)
      return error(Failure::Corrupt, fmt::format("{} data ends too early", what));
    if (rc == Z_NEED_DICT)
      return error(Failure::Corrupt, fmt::format("{} data needs a preset dictionary", what));
    return error(Failure::Corrupt,
                 fmt::format("bad {} data: {}", what, s.z.msg ? s.z.msg : zError(rc)));
  }
}

// The first two bytes are a zlib header (RFC 1950 §2.2): deflate method, a window of at most
// 32 KiB, and a check that makes CMF*256+FLG a multiple of 31.
bool zlib_header(std::string_view data)
{
  if (data.size() < 2)
    return false;
  auto cmf = static_cast<unsigned char>(data[0]);
  auto flg = static_cast<unsigned char>(data[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256u + flg) % 31 == 0;
}

std::vector<std::string_view> codings(std::string_view value)
{
  std::vector<std::string_view> out;
  for (auto part : text::split_list(value))
    if (auto c = text::trim(part); !c.empty())
      out.push_back(c);
  return out;
}

} // namespace

tl::expected<Coding, DecodeError> coding_of(std::string_view name)
{
  name = text::trim(name);
  if (text::iequals(name, "identity"))
    return Coding::Identity;
  if (text::iequals(name, "gzip") || text::iequals(name, "x-gzip"))
    return Coding::Gzip;
  if (text::iequals(name, "deflate"))
    return Coding::Deflate;
  return error(Failure::Unsupported, fmt::format("unsupported content coding '{}'", name));
}

tl::expected<std::string, DecodeError> inflate(std::string_view data, Coding c, size_t limit)
{
  switch (c) {
  case Coding::Identity:
    if (data.size() > limit)
      return error(Failure::TooLarge, fmt::format("body of {} bytes", data.size()));
    return std::string(data);
  case Coding::Gzip:
    return run(data, k_gzip, limit, "gzip");
  case Coding::Deflate:
    break;
  }
  // RFC 9110 §8.4.1.2: "deflate" is the zlib format; some senders send raw deflate.
  if (!zlib_header(data))
    return run(data, k_raw, limit, "deflate");
  auto z = run(data, k_zlib, limit, "deflate");
  if (z || z.error().failure != Failure::Corrupt)
    return z;
  // A raw stream may start with two bytes that look like a zlib header.
  if (auto raw = run(data, k_raw, limit, "deflate"))
    return raw;
  return z;
}

tl::expected<std::string, DecodeError> decode(std::string_view content_encoding,
                                              std::string_view body, size_t limit)
{
  std::vector<Coding> chain;
  for (auto name : codings(content_encoding)) {
    auto c = coding_of(name);
    if (!c)
      return tl::unexpected(c.error());
    if (*c != Coding::Identity)
      chain.push_back(*c);
  }
  if (chain.size() > k_max_codings)
    return error(Failure::Corrupt, fmt::format("{} content codings on one body (at most {})",
                                               chain.size(), k_max_codings));
  std::string out(body);
  if (out.empty())
    return out;
  // The last coding applied is undone first (RFC 9110 §8.4).
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    auto next = inflate(out, *it, limit);
    if (!next)
      return next;
    out = std::move(*next);
  }
  return out;
}

} // namespace cpm::encoding
