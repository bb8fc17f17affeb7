#pragma once
// Digest authentication of REGISTER (RFC 3261 §22, RFC 2617: MD5, qop=auth), server side.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"

namespace cpm::auth {

// The parameters of an Authorization header ("Digest username=..., ...").
struct Credentials {
  std::string username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc;
};

// Parse an Authorization / Proxy-Authorization value. Malformed input is an error.
Result<Credentials> parse_authorization(std::string_view value);

// Hex MD5 of a string.
std::string md5_hex(std::string_view s);

// Nonces are stateless: time + HMAC-like MD5 of (secret, time), valid for `ttl_s` seconds.
class Nonces {
public:
  explicit Nonces(std::string secret) : m_secret(std::move(secret)) {}
  std::string make(int64_t now) const;
  bool valid(std::string_view nonce, int64_t now, int64_t ttl_s = 300) const;

private:
  std::string m_secret;
};

// The WWW-Authenticate value for a challenge.
std::string challenge(std::string_view realm, std::string_view nonce, bool stale = false);

// Check the response of `c` for `method` given the user's password.
bool verify(const Credentials& c, std::string_view method, std::string_view password);

// Client side: the Authorization value answering a challenge (used in tests and cpm-send);
// "" when the challenge is malformed or asks for something other than MD5 / qop=auth.
std::string respond(std::string_view www_authenticate, std::string_view method,
                    std::string_view uri, std::string_view username, std::string_view password,
                    std::string_view cnonce = "0a4f113b");

} // namespace cpm::auth
