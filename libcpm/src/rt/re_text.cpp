// libre's text types to and from ours.
#include "cpm/rt/re_text.hpp"

#include "cpm/rt/re.hpp"

namespace cpm {

std::string sa_str(const struct sa& a)
{
  char buf[64];
  re_snprintf(buf, sizeof(buf), "%J", &a);
  return buf;
}

re_ptr<struct mbuf> mbuf_of(std::string_view text)
{
  re_ptr<struct mbuf> mb(mbuf_alloc(text.size() + 1));
  if (mb) {
    (void)mbuf_write_mem(mb.get(), reinterpret_cast<const uint8_t*>(text.data()), text.size());
    mb->pos = 0;
  }
  return mb;
}

} // namespace cpm
