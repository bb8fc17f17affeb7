// libre's pointer-length strings as our strings.
#include "cpm/rt/pl.hpp"

#include "cpm/rt/re.hpp"

namespace cpm {

std::string_view pl_view(const struct pl& p)
{
  return p.p ? std::string_view(p.p, p.l) : std::string_view();
}

std::string pl_string(const struct pl& p)
{
  return std::string(pl_view(p));
}

} // namespace cpm
