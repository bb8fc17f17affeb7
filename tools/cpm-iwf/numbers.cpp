// Numbers and users: [[user]] tel, and the SMSC's address.
#include "numbers.hpp"

#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/iw/mapping.hpp"

namespace cpm::iwf {

namespace {

// The user's number: its `tel`, else the number of a tel: URI.
std::string tel_of(const config::User& u)
{
  if (!u.tel.empty())
    return u.tel;
  auto n = iw::number_of(u.uri);
  return n ? *n : std::string();
}

} // namespace

const config::User* user_of_number(const config::File& f, const std::string& number)
{
  for (const auto& u : f.users)
    if (tel_of(u) == number)
      return &u;
  return nullptr;
}

std::string number_of_user(const config::File& f, const std::string& aor)
{
  const std::string canon = sip::canonical_aor(aor);
  for (const auto& u : f.users)
    if (sip::canonical_aor(u.uri) == canon) {
      auto t = tel_of(u);
      if (!t.empty())
        return t;
    }
  if (auto n = iw::number_of(aor))
    return *n;
  return sip::uri_user(aor);
}

Result<std::string> smsc_address(const config::File& f, const std::string& smsc)
{
  std::string v = smsc;
  if (v.find(':') == std::string::npos) {
    const config::Node* n = f.find_node(v);
    if (!n)
      return fail(fmt::format("{}: smsc: no node named '{}'", f.path, v));
    if (n->listen.empty())
      return fail(fmt::format("{}: smsc: node '{}' has no listen address", f.path, v));
    v = n->listen.front();
  }
  if (v.rfind("tcp:", 0) != 0 && v.rfind("udp:", 0) != 0)
    v = "tcp:" + v;
  auto hop = sip::parse_listen(v);
  if (hop)
    return fmt::format("{}:{}", hop->host, hop->port);
  // A host name: resolved (A, then AAAA) on the SIP stack's DNS client before each connect.
  if (auto named = sip::parse_proxy(v);
      named && named->transport == "tcp" && named->is_name() && named->port_named)
    return fmt::format("{}:{}", text::lower(named->host), named->port);
  return fail(fmt::format("smsc '{}': {}", smsc, hop.error().message));
}

} // namespace cpm::iwf
