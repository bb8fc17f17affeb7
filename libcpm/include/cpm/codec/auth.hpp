#pragma once
// Digest authentication (RFC 3261 §22, RFC 2617: MD5, qop=auth), server side: REGISTER's
// 401 and a core's 407 for the originating requests of its users.
#include <cstdint>
#include <deque>
#include <map>
#include <set>
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

// Nonces carry their own validity: "time.count.MAC", the MAC an MD5 of (secret, time.count),
// good for `ttl_s` seconds; each is new (the count). Their uses are NonceUse's to count.
class Nonces {
public:
  explicit Nonces(std::string secret) : m_secret(std::move(secret)) {}
  std::string make(int64_t now) const;
  bool valid(std::string_view nonce, int64_t now, int64_t ttl_s = 300) const;

private:
  std::string m_secret;
  mutable uint64_t m_count = 0;
};

// The nc values each nonce has been used with (RFC 2617 §3.2.2): a request that repeats a
// nonce's nc is a replay, refused. A client may send several requests on one challenge,
// each with the next nc, in any order. Nonces past their lifetime are forgotten, and a
// nonce used more than k_max_uses times is worn out (the client gets a fresh one).
class NonceUse {
public:
  static constexpr size_t k_max_uses = 4096;
  enum class Verdict { Fresh, Replay, WornOut };
  // Record (nonce, nc) at `now` for a nonce good for `ttl_s` seconds.
  Verdict use(std::string_view nonce, std::string_view nc, int64_t now, int64_t ttl_s);
  size_t size() const { return m_uses.size(); }

private:
  std::map<std::string, std::set<uint32_t>, std::less<>> m_uses;
  std::deque<std::pair<int64_t, std::string>> m_order; // first use, oldest first
};

// The WWW-Authenticate (or Proxy-Authenticate) value for a challenge.
std::string challenge(std::string_view realm, std::string_view nonce, bool stale = false);

// Check the response of `c` for `method` given the user's password.
bool verify(const Credentials& c, std::string_view method, std::string_view password);

// Client side: the Authorization value answering a challenge (used in tests and cpm-send);
// "" when the challenge is malformed or asks for something other than MD5 / qop=auth.
std::string respond(std::string_view www_authenticate, std::string_view method,
                    std::string_view uri, std::string_view username, std::string_view password,
                    std::string_view cnonce = "0a4f113b", uint32_t nc = 1);

} // namespace cpm::auth
