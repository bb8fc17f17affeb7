// Our text in libre's buffers.
#include "cpm/rt/mbuf.hpp"

#include "cpm/rt/re.hpp"

namespace cpm {

re_ptr<struct mbuf> mbuf_copy(std::string_view text)
{
  auto mb = re_adopt(mbuf_alloc(text.size() + 1)); // libre refuses a size of 0
  if (mb && mbuf_write_mem(mb.get(), reinterpret_cast<const uint8_t*>(text.data()), text.size()))
    mb.reset();
  if (mb)
    mb->pos = 0;
  return mb;
}

} // namespace cpm
