// libre's socket addresses as our text.
#include "cpm/rt/sa.hpp"

#include <array>

#include "cpm/rt/re.hpp"

namespace cpm {

std::string sa_str(const struct sa& a)
{
  char buf[64];
  re_snprintf(buf, sizeof(buf), "%J", &a);
  return buf;
}

struct SaText::Impl {
  struct Entry {
    struct sa a;
    bool port = false;
    bool used = false;
    size_t len = 0;
    char text[64];
  };
  std::array<Entry, 16> entries{};
  size_t next = 0; // the one replaced next: the oldest
};

SaText::SaText() : m(std::make_unique<Impl>()) {}
SaText::~SaText() = default;

std::string_view SaText::get(const struct sa& a, bool port)
{
  for (const auto& e : m->entries)
    if (e.used && e.port == port && sa_cmp(&e.a, &a, SA_ALL))
      return {e.text, e.len};
  auto& e = m->entries[m->next];
  m->next = (m->next + 1) % m->entries.size();
  e.a = a;
  e.port = port;
  e.used = true;
  int n = re_snprintf(e.text, sizeof e.text, port ? "%J" : "%j", &a);
  e.len = n > 0 ? size_t(n) : 0;
  return {e.text, e.len};
}

} // namespace cpm
