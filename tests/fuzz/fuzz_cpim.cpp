// libFuzzer target: cpm::cpim::decode never crashes, and what it accepts re-encodes to text
// that decodes to the same headers and body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cpm/codec/cpim.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = cpm::cpim::decode(text);
  if (!m)
    return 0;
  (void)m->content_type();
  (void)m->get_ns(cpm::cpim::k_imdn_ns, "Message-ID");
  auto again = cpm::cpim::decode(cpm::cpim::encode(*m));
  if (!again || again->body != m->body || again->headers.size() != m->headers.size())
    std::abort();
  return 0;
}
