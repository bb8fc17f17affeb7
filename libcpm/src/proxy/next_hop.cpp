// The next hop of a forwarded request.
#include "cpm/proxy/next_hop.hpp"

#include <fmt/format.h>

#include "cpm/grammar/uri.hpp"

namespace cpm::proxy {

std::string_view next_hop_view(const Action& a, const sip::Request& req, std::string_view ruri)
{
  if (!a.next_hop.empty())
    return a.next_hop;
  if (!a.push_routes.empty())
    return sip::addr_spec(a.push_routes.front());
  if (!req.routes.empty())
    return sip::addr_spec(req.routes.front());
  return ruri;
}

std::string next_hop(const Action& a, const sip::Request& req, const std::string& ruri)
{
  return std::string(next_hop_view(a, req, ruri));
}

bool moves_to_tcp(std::string_view hop, size_t size, size_t udp_max, bool have_tcp)
{
  if (size <= udp_max || !have_tcp)
    return false;
  auto u = sip::parse_uri(hop);
  return u && !u->param("transport");
}

std::string with_transport(std::string_view uri, std::string_view transport)
{
  std::string u(uri);
  auto lt = u.find(";transport=");
  if (lt != std::string::npos) {
    auto end = u.find_first_of(";?>", lt + 1);
    u.erase(lt, end == std::string::npos ? std::string::npos : end - lt);
  }
  auto q = u.find_first_of("?>");
  u.insert(q == std::string::npos ? u.size() : q, fmt::format(";transport={}", transport));
  return u;
}

} // namespace cpm::proxy
