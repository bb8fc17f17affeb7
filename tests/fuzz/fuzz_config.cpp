// libFuzzer target: the TOML config parser and validator never crash or throw.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cpm/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string text(reinterpret_cast<const char*>(data), size);
  auto f = cpm::config::parse(text, "fuzz.toml");
  if (f)
    for (const auto& n : f->nodes)
      (void)f->node_uri(n.name);
  return 0;
}
