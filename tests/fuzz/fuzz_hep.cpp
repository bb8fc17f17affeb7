// libFuzzer target: cpm::hep::decode never crashes on any input, and a packet it reads
// encodes back (with the same chunks it understood) into bytes that decode to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cpm/base/hep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto p = cpm::hep::decode(in);
  if (!p) {
    if (p.error().message.empty())
      std::abort();
    return 0;
  }
  if (p->src.v6 != p->dst.v6 || p->payload.size() > in.size())
    std::abort();
  // Encoding adds at most the fixed chunks the input left out (37 bytes), so it fails only
  // near the 64 KiB limit.
  auto again = cpm::hep::encode(*p);
  if (!again) {
    if (in.size() + 64 <= cpm::hep::k_max_packet)
      std::abort();
    return 0;
  }
  if (again->size() > in.size() + 64)
    std::abort();
  auto q = cpm::hep::decode(*again);
  if (!q || !(*q == *p))
    std::abort();
  return 0;
}
