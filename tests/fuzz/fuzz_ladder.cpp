// libFuzzer target: expected-ladder files and trace lines never crash their parsers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cpm/base/trace.hpp"
#include "cpm/ladder/ladder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)cpm::ladder::parse_expected(text, "fuzz.ladder");
  if (auto e = cpm::trace::from_json(text)) {
    std::vector<cpm::trace::Event> ev{*e, *e};
    (void)cpm::ladder::arrows(ev);
  }
  return 0;
}
