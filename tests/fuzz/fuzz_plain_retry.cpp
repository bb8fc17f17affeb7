// libFuzzer target: reading a 415's Accept value and the text/plain form of a CPIM body
// never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cpm/ua/plain_retry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cpm::ua::plain_retry_allowed(415, text);
  (void)cpm::ua::plain_of_cpim(text);
  return 0;
}
