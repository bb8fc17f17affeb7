// Digest credentials for libre's challenges, in libre's memory.
#include "cpm/ua/credentials.hpp"

#include <new>

#include "cpm/rt/sip.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::ua {

struct Digest {
  Credentials creds;
};

namespace {

void digest_destructor(void* arg) noexcept
{
  static_cast<Digest*>(arg)->~Digest();
}

} // namespace

re_ptr<Digest> make_digest(const Credentials& c)
{
  void* mem = mem_zalloc(sizeof(Digest), digest_destructor);
  if (!mem)
    throw std::bad_alloc();
  re_ptr<Digest> d(new (mem) Digest()); // constructing empty strings cannot throw
  d->creds = c;
  return d;
}

int digest_auth_h(char** user, char** pass, const char* realm, void* arg) noexcept
{
  (void)realm;
  const Credentials& c = static_cast<const Digest*>(arg)->creds;
  try {
    if (c.password.empty()) {
      c.log.error(c.missing);
      return EAUTH;
    }
    return sip::digest_credentials(c.aor, c.password, user, pass);
  } catch (...) {
    return ENOMEM;
  }
}

} // namespace cpm::ua
