#pragma once
// The digest credentials a client answers challenges with (REGISTER, INVITE, BYE).
#include <string>

#include "cpm/rt/re_ptr.hpp"
#include "cpm/ua/log.hpp"

namespace cpm::ua {

struct Credentials {
  std::string aor;      // the address of record; the user name is it without its scheme
  std::string password; // empty: a challenge fails
  std::string missing;  // the error shown when a challenge comes and there is no password
  Log log;
};

// A copy of Credentials in libre's reference-counted memory, the argument of
// digest_auth_h: given with aref = true, libre's digest state holds it for as long as it
// lives, which may be past its owner (an unregister or a BYE can be challenged after the
// client has let its registration or session go).
struct Digest;
re_ptr<Digest> make_digest(const Credentials& c);
// libre's sip_auth_h over a Digest: 0 with *user and *pass allocated, or EAUTH without a
// password (after its error line).
int digest_auth_h(char** user, char** pass, const char* realm, void* arg) noexcept;

} // namespace cpm::ua
