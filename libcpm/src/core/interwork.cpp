// The participating function's interworking decision and SMS fallback target.
#include "cpm/core/interwork.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/grammar/uri.hpp"

namespace cpm::interwork {

namespace {

// "+1-555-0100" -> "+15550100"; "" unless global (RFC 3966 §5.1.4: '+', then digits and
// the visual separators - . ( )).
std::string global_number(std::string_view s)
{
  if (s.size() < 2 || s[0] != '+')
    return "";
  std::string out = "+";
  for (char c : s.substr(1)) {
    if (c >= '0' && c <= '9')
      out += c;
    else if (c != '-' && c != '.' && c != '(' && c != ')')
      return "";
  }
  return out.size() > 1 && out.size() <= 16 ? out : "";
}

bool in_non_cpm_domains(const config::Node& node, std::string_view host)
{
  return !host.empty() && std::any_of(node.non_cpm_domains.begin(), node.non_cpm_domains.end(),
                                      [&](const std::string& d) { return text::iequals(d, host); });
}

// "sip:127.0.1.3:5060" -> "<sip:127.0.1.3:5060;lr>".
std::string loose_route(std::string_view addr)
{
  std::string uri = sip::to_sip_uri(addr);
  auto u = sip::parse_uri(uri);
  if (!u || !u->param("lr"))
    uri += ";lr";
  return "<" + uri + ">";
}

} // namespace

std::string number_of(std::string_view uri)
{
  auto u = sip::parse_uri(uri);
  if (!u)
    return "";
  if (u->scheme == "tel")
    return global_number(u->user);
  auto user_param = u->param("user");
  if (user_param && text::iequals(*user_param, "phone")) {
    // The user part may carry its own parameters (";isub=..."): only the number counts.
    std::string_view user = u->user;
    return global_number(user.substr(0, user.find(';')));
  }
  return "";
}

Decision decide(const config::File& file, const config::Node& node, const sip::Request& req)
{
  Decision d;
  std::string number = number_of(req.ruri);
  bool non_cpm = false;
  if (!number.empty()) {
    if (const config::User* u = file.find_user_by_tel(number)) {
      d.kind = Kind::Translate;
      d.ruri = u->uri;
      d.why = fmt::format("{} is the number of CPM user {}", number, u->uri);
      return d;
    }
    non_cpm = true;
    d.why = fmt::format("{} is no CPM user's number", number);
  } else if (std::string host = sip::uri_host(req.ruri); in_non_cpm_domains(node, host)) {
    non_cpm = true;
    d.why = fmt::format("{} is a non-CPM domain", host);
  }
  if (!non_cpm || req.method != "MESSAGE") {
    d.why.clear();
    return d;
  }
  if (node.iwf.empty()) {
    d.kind = Kind::Refuse;
    d.status = 404;
    d.reason = "Not Found";
    d.why += ", and no iwf is configured to reach it";
    return d;
  }
  d.kind = Kind::Interwork;
  d.why += fmt::format(": interworked through {}", node.iwf);
  return d;
}

std::vector<std::string> routes_to_iwf(const config::Node& node,
                                       const std::vector<std::string>& routes_left)
{
  std::vector<std::string> out;
  if (node.iwf.empty())
    return out;
  if (!routes_left.empty())
    out = routes_left;
  else if (!node.proxy.empty())
    out.push_back(loose_route(node.proxy));
  else
    return out;
  out.push_back(loose_route(node.iwf));
  return out;
}

std::string fallback_target(const config::File& file, const config::Node& node,
                            std::string_view sender, std::string_view ruri,
                            std::string_view original)
{
  if (node.iwf.empty())
    return "";
  const config::User* from = file.find_user(std::string(sender));
  if (!from || !from->sms_fallback)
    return "";
  std::string number = number_of(original);
  if (number.empty())
    if (const config::User* to = file.find_user(std::string(ruri)))
      number = to->tel;
  return number.empty() ? "" : "tel:" + number;
}

} // namespace cpm::interwork
