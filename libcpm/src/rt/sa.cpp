// libre's socket addresses as our text.
#include "cpm/rt/sa.hpp"

#include "cpm/rt/re.hpp"

namespace cpm {

std::string sa_str(const struct sa& a)
{
  char buf[64];
  re_snprintf(buf, sizeof(buf), "%J", &a);
  return buf;
}

} // namespace cpm
