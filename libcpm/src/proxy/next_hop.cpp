// The next hop of a forwarded request.
#include "cpm/proxy/next_hop.hpp"

#include <fmt/format.h>

#include "cpm/base/text.hpp"

namespace cpm::proxy {

namespace {

// Strip "<" ">" and any name-addr decoration around a Route value.
std::string route_uri(std::string_view v)
{
  v = text::trim(v);
  auto lt = v.find('<');
  if (lt != std::string_view::npos) {
    auto gt = v.find('>', lt);
    if (gt != std::string_view::npos)
      return std::string(v.substr(lt + 1, gt - lt - 1));
  }
  return std::string(v);
}

} // namespace

std::string next_hop(const Action& a, const route::Request& req, const std::string& ruri)
{
  if (!a.next_hop.empty())
    return a.next_hop;
  if (!a.push_routes.empty())
    return route_uri(a.push_routes.front());
  if (!req.routes.empty())
    return route_uri(req.routes.front());
  return ruri;
}

std::string large_over_tcp(std::string hop, size_t size, size_t udp_max, bool have_tcp)
{
  if (size <= udp_max || !have_tcp)
    return hop;
  if (hop.find(";transport=") == std::string::npos ||
      hop.find(";transport=udp") != std::string::npos)
    return with_transport(hop, "tcp");
  return hop;
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
