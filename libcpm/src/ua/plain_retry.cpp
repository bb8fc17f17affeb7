// The text/plain resend decision (RFC 3261 §8.1.3.5): pure, no libre.
#include "cpm/ua/plain_retry.hpp"

#include "cpm/base/text.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/grammar/header.hpp"

namespace cpm::ua {

namespace {

// How specifically a media range ("text/plain", "text/*", "*/*") matches text/plain: 3, 2
// or 1; 0 when it does not.
int plain_match(std::string_view range)
{
  auto slash = range.find('/');
  if (slash == std::string_view::npos)
    return 0;
  auto type = text::trim(range.substr(0, slash));
  auto sub = text::trim(range.substr(slash + 1));
  if (type == "*" && sub == "*")
    return 1;
  if (!text::iequals(type, "text"))
    return 0;
  if (sub == "*")
    return 2;
  return text::iequals(sub, "plain") ? 3 : 0;
}

// RFC 7231 §5.3.1: a qvalue of 0 ("0", "0.0", "0.000") means "not acceptable".
bool zero_q(std::string_view q)
{
  q = text::trim(q);
  if (q.empty() || q[0] != '0')
    return false;
  for (char c : q.substr(1))
    if (c != '.' && c != '0')
      return false;
  return true;
}

} // namespace

bool accepts_plain(std::string_view accept)
{
  int best = 0;
  bool taken = false;
  for (auto element : sip::split_header_list(accept)) {
    auto semi = element.find(';');
    int match = plain_match(element.substr(0, semi));
    if (match == 0 || match < best)
      continue;
    auto q =
        semi == std::string_view::npos ? std::nullopt : sip::find_param(element.substr(semi), "q");
    bool ok = !(q && zero_q(*q));
    // Of two ranges equally specific, one that takes it is enough.
    taken = match > best ? ok : (taken || ok);
    best = match;
  }
  return taken;
}

bool plain_retry_allowed(int status, std::string_view accept)
{
  return status == 415 && accepts_plain(accept);
}

std::optional<Body> plain_of(const cpim::Message& m)
{
  if (m.content_type() != "text/plain")
    return std::nullopt;
  std::string ctype = m.content_header("Content-Type").value_or("text/plain");
  return Body{std::string(text::trim(ctype)), m.body};
}

std::optional<Body> plain_of_cpim(std::string_view cpim)
{
  auto m = cpim::decode(cpim);
  if (!m)
    return std::nullopt;
  return plain_of(*m);
}

} // namespace cpm::ua
