// libFuzzer target: Authorization header parsing and digest verification never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cpm/codec/auth.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto c = cpm::auth::parse_authorization(text))
    (void)cpm::auth::verify(*c, "REGISTER", "secret");
  (void)cpm::auth::respond(text, "REGISTER", "sip:a.example", "alice", "secret");
  cpm::auth::Nonces n("k");
  (void)n.valid(text, 100);
  return 0;
}
