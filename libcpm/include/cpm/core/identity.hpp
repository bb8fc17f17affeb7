#pragma once
// Who an initial request is from, as a core decides it before routing (RFC 3325, RFC 3261
// §22.3): believed from inside the trust domain; from outside, its claims removed (or the
// request refused), then with `auth` the originating requests of the core's users are
// authenticated (the flow or contact address they registered from, else a 407 digest
// challenge) and the core asserts the identity itself. Pure: no sockets, the caller sends.
#include <cstdint>
#include <string>
#include <vector>

#include "cpm/codec/auth.hpp"
#include "cpm/config/config.hpp"
#include "cpm/core/location.hpp"
#include "cpm/core/trust.hpp"
#include "cpm/grammar/request.hpp"

namespace cpm::identity {

struct Settings {
  const config::File* file = nullptr; // users, passwords, tels
  const config::Node* node = nullptr; // domains, auth, realm, auth_association, untrusted
  const location::Store* location = nullptr;
  const trust::Domain* domain = nullptr;
  const auth::Nonces* nonces = nullptr; // null: credentials are not checked (--explain)
  auth::NonceUse* uses = nullptr;       // null: nc is not counted (--explain)
  // Fill Outcome::explain (--explain); a busy core leaves it off and formats nothing.
  bool explain = true;
};

struct Outcome {
  // The request goes on to routing (false: answer `status`).
  bool forward = true;
  int status = 0;
  std::string reason;
  std::vector<std::string> headers; // of the answer (Proxy-Authenticate)
  bool trusted = false;             // from inside the trust domain
  // The identity the core asserts (its P-Asserted-Identity, the served user); "": none.
  std::string asserted;
  // One word for -v and tests: "trusted", "association", "digest", "unauthenticated"
  // (auth off, or not one of our users: From is what there is), "challenge", "refused".
  std::string how;
  std::vector<std::string> remove_headers; // from the forwarded request
  std::vector<std::string> add_headers;
  std::vector<std::string> explain; // human lines for --explain
  std::string diag;                 // a line for stderr, "" when nothing to say
};

// Decide for an initial request that is no REGISTER and no request to the core itself.
// Updates `req` as routing must see it: claims from outside forgotten (trust::forget_claims),
// `asserted` set to the identity the core asserts.
Outcome decide(sip::Request& req, const Settings& s, int64_t now);

// Whether a digest username names `aor` ("alice", "alice@a.example", "sip:alice@a.example").
bool username_names(std::string_view username, std::string_view aor);

// Where a captured request came from by its top Via ("udp:127.0.1.10:5060": received= and
// rport when present, else sent-by), for --explain; "" when it has no Via.
std::string source_by_via(const sip::Request& req);

} // namespace cpm::identity
