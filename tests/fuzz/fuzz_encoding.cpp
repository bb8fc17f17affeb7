// libFuzzer target: cpm::encoding::decode never crashes and never returns more than its
// limit, whatever the body, for each coding; what "identity" returns is the body itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cpm/codec/encoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string_view body(reinterpret_cast<const char*>(data), size);
  constexpr size_t limit = 64 * 1024; // small, so that bombs are found fast
  for (std::string_view coding : {"deflate", "gzip", "gzip, deflate"}) {
    auto d = cpm::encoding::decode(coding, body, limit);
    if (d && d->size() > limit)
      std::abort();
    if (!d && d.error().message.empty())
      std::abort();
  }
  auto same = cpm::encoding::decode("identity", body, limit);
  if (size <= limit && (!same || *same != body))
    std::abort();
  return 0;
}
