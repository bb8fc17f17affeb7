// Service control of the participating function.
#include "cpm/core/policy.hpp"

#include "cpm/codec/auth.hpp"

#include "cpm/base/text.hpp"
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "cpm/codec/service.hpp"
#include "cpm/core/location.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/uri.hpp"

namespace cpm::policy {

namespace {

using text::iequals;

bool any_match(const std::vector<std::string>& patterns, std::string_view uri)
{
  for (const auto& p : patterns)
    if (matches(p, uri))
      return true;
  return false;
}

// RFC 3261 §25.1: a URI parameter value keeps unreserved and param-unreserved characters.
bool param_char(char c)
{
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-_.!~*'()[]/:&+$").find(c) != std::string_view::npos;
}

} // namespace

namespace {

std::string route_signature(const ServedUser& served, std::string_view key,
                            std::string_view call_id)
{
  auto mac = auth::md5_hex(fmt::format(
      "{}:{}:{}:{}", key, served.aor,
      served.session_case == config::SessionCase::Terminating ? "term" : "orig", call_id));
  return mac.substr(0, 10);
}

} // namespace

bool route_params_signed(std::string_view params, const ServedUser& served, std::string_view key,
                         std::string_view call_id)
{
  auto sig = sip::find_param(params, "cpm-sig");
  return sig && *sig == route_signature(served, key, call_id);
}

std::string route_params(const ServedUser& served, std::string_view key, std::string_view call_id)
{
  std::string out = ";cpm-served=";
  for (char c : served.aor) {
    if (param_char(c))
      out += c;
    else
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  out +=
      served.session_case == config::SessionCase::Terminating ? ";cpm-case=term" : ";cpm-case=orig";
  if (!key.empty())
    out += ";cpm-sig=" + route_signature(served, key, call_id);
  return out;
}

std::string warning(std::string_view node, std::string_view why)
{
  std::string text;
  for (char c : why) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      continue; // a header line holds no control character
    if (c == '"' || c == '\\')
      text += '\\';
    text += c;
  }
  return fmt::format("Warning: 399 {} \"{}\"", node.empty() ? "-" : node, text);
}

bool served_from_route(std::string_view params, ServedUser& out)
{
  auto aor = sip::find_param(params, "cpm-served");
  auto sescase = sip::find_param(params, "cpm-case");
  if (!aor || !sescase || aor->empty())
    return false;
  std::string canon = sip::canonical_aor(text::percent_decode(*aor));
  if (canon.empty())
    return false;
  if (iequals(*sescase, "orig"))
    out.session_case = config::SessionCase::Originating;
  else if (iequals(*sescase, "term"))
    out.session_case = config::SessionCase::Terminating;
  else
    return false;
  out.aor = std::move(canon);
  return true;
}

bool parse_served_user(std::string_view value, ServedUser& out)
{
  auto na = sip::parse_name_addr(value, "P-Served-User");
  if (!na || na->uri.size() < 5 || na->uri.find(':') == std::string_view::npos)
    return false;
  out.aor = sip::canonical_aor(na->uri);
  out.session_case = config::SessionCase::Originating;
  for (const auto& p : sip::split_params(na->params)) {
    if (!p.has_value || !iequals(p.name, "sescase"))
      continue;
    if (iequals(p.value, "term"))
      out.session_case = config::SessionCase::Terminating;
    else if (!iequals(p.value, "orig"))
      return false;
  }
  return true;
}

bool matches(std::string_view pattern, std::string_view uri)
{
  if (pattern == "*")
    return true;
  auto canon = sip::canonical_aor(uri);
  if (pattern.rfind("*@", 0) == 0)
    return iequals(sip::uri_host(canon), pattern.substr(2));
  auto want = sip::canonical_aor(pattern);
  return want == canon;
}

Verdict check(const config::File& file, const config::Node& node, const ServedUser& served,
              const sip::Request& req)
{
  const config::User* user = file.find_user(served.aor);
  std::optional<uint64_t> max_size = node.max_message_size;
  if (user && user->policy.max_message_size)
    max_size = user->policy.max_message_size;
  if (max_size && req.body_size > *max_size)
    return {413, "Request Entity Too Large",
            fmt::format("{} bytes is over the limit of {} for {}", req.body_size, *max_size,
                        served.aor)};
  if (!user)
    return {};
  const auto& p = user->policy;
  if (served.session_case == config::SessionCase::Originating) {
    std::string to = sip::canonical_aor(req.ruri);
    if (p.barred)
      return {403, "Forbidden", fmt::format("{} is barred from sending", served.aor)};
    if (any_match(p.block_to, to))
      return {403, "Forbidden", fmt::format("{} may not send to {} (block_to)", served.aor, to)};
    if (!p.allow_to.empty() && !any_match(p.allow_to, to))
      return {403, "Forbidden",
              fmt::format("{} may not send to {} (not in allow_to)", served.aor, to)};
  } else {
    std::string from = sip::canonical_aor(req.asserted.empty() ? req.from_uri : req.asserted);
    if (any_match(p.block_from, from))
      return {403, "Forbidden",
              fmt::format("{} does not accept from {} (block_from)", served.aor, from)};
    if (!p.allow_from.empty() && !any_match(p.allow_from, from))
      return {403, "Forbidden",
              fmt::format("{} does not accept from {} (not in allow_from)", served.aor, from)};
  }
  return {};
}

Verdict check_media(const config::File& file, const config::Node& node, const ServedUser& served,
                    const std::vector<std::string>& offered)
{
  const config::User* user = file.find_user(served.aor);
  const auto& allowed = user && !user->policy.media.empty() ? user->policy.media : node.media;
  if (allowed.empty())
    return {};
  for (const auto& m : offered)
    if (std::find(allowed.begin(), allowed.end(), m) == allowed.end())
      return {488, "Not Acceptable Here",
              fmt::format("{} may not use {} (media = [\"{}\"])", served.aor, m,
                          fmt::join(allowed, "\", \""))};
  return {};
}

Participation participate(const config::File& file, const config::Node& node,
                          const sip::Request& req)
{
  Participation p;
  auto psu = req.values("P-Served-User");
  if (!psu.empty()) {
    if (!parse_served_user(psu.front(), p.served)) {
      p.verdict = {400, "Bad P-Served-User",
                   fmt::format("cannot parse P-Served-User '{}'", psu.front())};
      return p;
    }
    p.served_from_header = true;
  } else {
    std::string sender = req.asserted.empty() ? req.from_uri : req.asserted;
    std::string host = sip::uri_host(sender);
    bool ours = false;
    for (const auto& d : node.domains)
      ours |= iequals(d, host);
    if (ours) {
      p.served = {sip::canonical_aor(sender), config::SessionCase::Originating};
    } else {
      p.served = {sip::canonical_aor(req.ruri), config::SessionCase::Terminating};
    }
  }
  p.verdict = check(file, node, p.served, req);
  if (!p.verdict.allowed())
    return p;
  // The served-user assertion is for this hop only (RFC 5502).
  p.remove_headers.push_back("P-Served-User");
  auto accept = req.values("Accept-Contact");
  auto preferred = req.values("P-Preferred-Service");
  if (!service::indicates_cpm(accept, preferred)) {
    std::string_view icsi = req.method == "INVITE" ? service::k_icsi_session : service::k_icsi_msg;
    p.add_headers.push_back("Accept-Contact: " + service::accept_contact(icsi));
    if (preferred.empty())
      p.add_headers.push_back(fmt::format("P-Preferred-Service: {}", icsi));
  }
  return p;
}

} // namespace cpm::policy
