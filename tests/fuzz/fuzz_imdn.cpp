// libFuzzer target: cpm::imdn::decode never crashes, and what it accepts round-trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cpm/codec/imdn.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto n = cpm::imdn::decode(text);
  if (!n)
    return 0;
  auto again = cpm::imdn::decode(cpm::imdn::encode(*n));
  if (!again || again->kind != n->kind || again->status != n->status)
    std::abort();
  (void)cpm::imdn::parse_requested(text);
  return 0;
}
