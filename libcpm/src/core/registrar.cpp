// The registrar (RFC 3261 §10.3).
#include "cpm/core/registrar.hpp"
#include "cpm/base/text.hpp"
#include "cpm/grammar/uri.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fmt/format.h>

namespace cpm::registrar {

namespace {

using text::iequals;
using text::trim;

std::optional<uint32_t> parse_u32(std::string_view s)
{
  s = trim(s);
  if (s.empty() || s.size() > 10)
    return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  if (v > 0xffffffffULL)
    return std::nullopt;
  return uint32_t(v);
}

Result<Contact> parse_one(std::string_view v)
{
  v = trim(v);
  Contact c;
  if (v.empty())
    return fail("Empty Contact");
  if (v == "*") {
    c.star = true;
    return c;
  }
  std::string_view rest;
  auto lt = v.find('<');
  if (lt != std::string_view::npos) {
    // Display name (quoted or token) before '<'.
    auto dn = trim(v.substr(0, lt));
    if (!dn.empty() && dn.front() == '"' && (dn.size() < 2 || dn.back() != '"'))
      return fail("Bad Contact display name");
    auto gt = v.find('>', lt);
    if (gt == std::string_view::npos)
      return fail("Unterminated Contact URI");
    c.uri = std::string(trim(v.substr(lt + 1, gt - lt - 1)));
    rest = v.substr(gt + 1);
  } else {
    // addr-spec without <>: its ';' params are header params (RFC 3261 §20.10).
    auto semi = v.find(';');
    c.uri = std::string(trim(v.substr(0, semi)));
    rest = semi == std::string_view::npos ? std::string_view() : v.substr(semi);
  }
  if (c.uri.empty() || c.uri.find(' ') != std::string::npos)
    return fail("Bad Contact URI");
  auto colon = c.uri.find(':');
  if (colon == std::string::npos || colon == 0)
    return fail("Bad Contact URI");
  // Header params: keep all but expires.
  rest = trim(rest);
  while (!rest.empty()) {
    if (rest.front() != ';')
      return fail("Bad Contact parameters");
    rest.remove_prefix(1);
    // A param ends at the next ';' outside quotes.
    size_t i = 0;
    bool quote = false;
    for (; i < rest.size(); ++i) {
      if (rest[i] == '"')
        quote = !quote;
      else if (rest[i] == ';' && !quote)
        break;
    }
    auto p = trim(rest.substr(0, i));
    rest = rest.substr(i);
    if (p.empty())
      return fail("Empty Contact parameter");
    auto eq = p.find('=');
    auto name = trim(p.substr(0, eq));
    if (iequals(name, "expires")) {
      auto e = eq == std::string_view::npos ? std::nullopt : parse_u32(p.substr(eq + 1));
      if (!e)
        return fail("Bad Contact expires");
      c.expires = *e;
    } else {
      c.params += ";";
      c.params += p;
    }
  }
  return c;
}

std::string header(const sip::Request& req, std::string_view name)
{
  for (const auto& h : req.headers)
    if (iequals(h.name, name))
      return h.value;
  return {};
}

} // namespace

Result<std::vector<Contact>> parse_contacts(const std::vector<std::string>& values)
{
  std::vector<Contact> out;
  for (const auto& v : values)
    for (auto part : text::split_list(v)) {
      auto c = parse_one(part);
      if (!c)
        return tl::unexpected(c.error());
      out.push_back(std::move(*c));
    }
  bool star = std::any_of(out.begin(), out.end(), [](const Contact& c) { return c.star; });
  if (star && out.size() > 1)
    return fail("Contact * must be alone");
  return out;
}

Reply handle(const sip::Request& req, const Settings& s, location::Store& store, int64_t now)
{
  auto reject = [](int code, std::string reason) {
    Reply r;
    r.status = code;
    r.reason = std::move(reason);
    return r;
  };
  // RFC 3261 §10.3 step 4/5: the To header names the address of record.
  auto colon = req.to_uri.find(':');
  if (colon == std::string::npos)
    return reject(400, "Bad To");
  std::string scheme = req.to_uri.substr(0, colon);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char ch) { return char(std::tolower(ch)); });
  if (scheme != "sip" && scheme != "sips")
    return reject(400, "To must be a SIP address of record");
  std::string aor = sip::canonical_aor(req.to_uri);

  if (s.auth) {
    const config::User* user = s.users ? s.users->find_user(aor) : nullptr;
    if (!user)
      return reject(404, "Not Found");
    std::string realm = s.realm;
    std::string authz = header(req, "Authorization");
    auto challenge = [&](bool stale) {
      Reply r = reject(401, "Unauthorized");
      r.headers.push_back("WWW-Authenticate: " +
                          auth::challenge(realm, s.nonces->make(now), stale));
      return r;
    };
    auto sp = trim(authz).substr(0, 6);
    if (authz.empty() || !iequals(sp, "Digest"))
      return challenge(false);
    auto cred = auth::parse_authorization(authz);
    if (!cred)
      return reject(400, "Bad Authorization");
    if (cred->realm != realm)
      return challenge(false);
    if (!s.nonces->valid(cred->nonce, now))
      return challenge(true);
    // The digest username may be the user part ("bob"), the address of record without its
    // scheme ("bob@b.example", what cpm-send sends: IMS private identity style) or with it.
    if (sip::canonical_aor("sip:" + cred->username + "@" + sip::uri_host(aor)) != aor &&
        sip::canonical_aor("sip:" + cred->username) != aor && cred->username != aor &&
        cred->username != sip::uri_user(aor))
      return reject(403, "Forbidden (user does not match the To address)");
    if (!auth::verify(*cred, "REGISTER", user->password))
      return reject(403, "Forbidden (wrong password)");
  }

  auto contacts = parse_contacts(req.values("Contact"));
  if (!contacts)
    return reject(400, contacts.error().message);
  std::optional<uint32_t> expires_hdr;
  if (auto e = req.values("Expires"); !e.empty()) {
    expires_hdr = parse_u32(e.front());
    if (!expires_hdr)
      return reject(400, "Bad Expires");
  }
  std::string call_id = header(req, "Call-ID");
  uint32_t cseq = 0;
  {
    const std::string cseq_hdr = header(req, "CSeq");
    auto c = trim(cseq_hdr);
    auto num = parse_u32(c.substr(0, c.find_first_of(" \t\r\n")));
    if (!num)
      return reject(400, "Bad CSeq");
    cseq = *num;
  }

  if (!contacts->empty() && contacts->front().star) {
    if (!expires_hdr || *expires_hdr != 0)
      return reject(400, "Contact * needs Expires: 0");
    store.remove_all(aor);
  } else {
    // RFC 3261 §10.3 step 7: refuse all when one contact's interval is too brief.
    for (const auto& c : *contacts) {
      uint32_t e = c.expires ? *c.expires : expires_hdr ? *expires_hdr : s.default_expires;
      if (e != 0 && e < s.min_expires) {
        Reply r = reject(423, "Interval Too Brief");
        r.headers.push_back(fmt::format("Min-Expires: {}", s.min_expires));
        return r;
      }
    }
    auto existing = store.lookup(aor, now);
    for (const auto& c : *contacts) {
      for (const auto& b : existing)
        if (b.contact == c.uri && b.call_id == call_id && cseq <= b.cseq)
          return reject(400, "Out of order REGISTER (CSeq not higher than the binding's)");
    }
    for (const auto& c : *contacts) {
      uint32_t e = c.expires ? *c.expires : expires_hdr ? *expires_hdr : s.default_expires;
      if (e == 0) {
        store.remove(aor, c.uri);
        continue;
      }
      e = std::min(e, s.max_expires);
      location::Binding b;
      b.aor = aor;
      b.contact = c.uri;
      b.params = c.params;
      b.received = req.source;
      b.call_id = call_id;
      b.cseq = cseq;
      b.expires_at = now + int64_t(e);
      b.seq = uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
      store.upsert(std::move(b));
    }
  }
  Reply r;
  for (const auto& b : store.lookup(aor, now))
    r.headers.push_back(
        fmt::format("Contact: <{}>{};expires={}", b.contact, b.params, b.expires_at - now));
  return r;
}

} // namespace cpm::registrar
