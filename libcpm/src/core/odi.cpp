// odi tokens: how a request that a trigger sent to a server finds, when it comes back, the
// trigger after which evaluation resumes ("o.2", signed with a per-process key and the Call-ID).
#include "cpm/core/route.hpp"

#include "cpm/codec/auth.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <iterator>

namespace cpm::route {

std::string make_odi(config::SessionCase c, int index)
{
  return fmt::format("{}.{}", c == config::SessionCase::Originating ? 'o' : 't', index);
}

namespace {

// The MAC of a token: the first 10 hex digits of MD5("key:token:call-id").
std::string odi_mac(std::string_view token, std::string_view key, std::string_view call_id)
{
  fmt::memory_buffer input; // on the stack for the usual key and Call-ID lengths
  fmt::format_to(std::back_inserter(input), "{}:{}:{}", key, token, call_id);
  auto mac = auth::md5_hex(std::string_view(input.data(), input.size()));
  mac.resize(std::min<size_t>(mac.size(), 10));
  return mac;
}

} // namespace

std::string sign_odi(std::string_view token, std::string_view key, std::string_view call_id)
{
  auto mac = odi_mac(token, key, call_id);
  std::string out;
  out.reserve(token.size() + 1 + mac.size());
  out.append(token).append(1, '.').append(mac);
  return out;
}

std::string verify_odi(std::string_view signed_token, std::string_view key,
                       std::string_view call_id)
{
  auto dot = signed_token.rfind('.');
  if (dot == std::string_view::npos || dot < 3)
    return {};
  auto token = signed_token.substr(0, dot);
  // sign_odi(token, ...) == signed_token, without building the signed token; the MAC is
  // compared in constant time (CRYPTO_memcmp), so that the time of a refusal does not tell a
  // forger how many of its first digits were right.
  auto given = signed_token.substr(dot + 1);
  auto mac = odi_mac(token, key, call_id);
  if (given.size() != mac.size() || CRYPTO_memcmp(given.data(), mac.data(), mac.size()) != 0)
    return {};
  return std::string(token);
}

bool parse_odi(std::string_view token, config::SessionCase& c, int& index)
{
  if (token.size() < 3 || token.size() > 11 || token[1] != '.')
    return false;
  config::SessionCase sc;
  if (token[0] == 'o')
    sc = config::SessionCase::Originating;
  else if (token[0] == 't')
    sc = config::SessionCase::Terminating;
  else
    return false;
  auto digits = token.substr(2);
  // Only what make_odi writes: digits, no sign, no leading zero.
  if (digits.find_first_not_of("0123456789") != std::string_view::npos ||
      (digits.size() > 1 && digits[0] == '0'))
    return false;
  int n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size())
    return false;
  c = sc;
  index = n;
  return true;
}

} // namespace cpm::route
