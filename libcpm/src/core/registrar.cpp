// The registrar (RFC 3261 §10.3).
#include "cpm/core/registrar.hpp"
#include "cpm/base/text.hpp"
#include "cpm/core/identity.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/uri.hpp"

#include <algorithm>
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
  auto na = sip::parse_name_addr(v, "Contact");
  if (!na)
    return tl::unexpected(na.error());
  c.uri = std::string(na->uri);
  if (c.uri.empty() || c.uri.find(' ') != std::string::npos)
    return fail("Bad Contact URI");
  auto colon = c.uri.find(':');
  if (colon == std::string::npos || colon == 0)
    return fail("Bad Contact URI");
  // Header params: keep all but expires.
  if (!na->params.empty() && na->params.front() != ';')
    return fail("Bad Contact parameters");
  for (const auto& p : sip::split_params(na->params)) {
    if (p.name.empty() && !p.has_value)
      return fail("Empty Contact parameter");
    if (iequals(p.name, "expires")) {
      auto e = p.has_value ? parse_u32(p.value) : std::nullopt;
      if (!e)
        return fail("Bad Contact expires");
      c.expires = *e;
    } else {
      c.params += ";";
      c.params += p.name;
      if (p.has_value) {
        c.params += "=";
        c.params += p.value;
      }
    }
  }
  return c;
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

namespace {

// A reply or a value, for the stages of handle().
template <class T> using OrReply = tl::expected<T, Reply>;

// A final answer other than 200.
Reply answer(int code, std::string reason)
{
  Reply r;
  r.status = code;
  r.reason = std::move(reason);
  return r;
}

// The same, as the error of an OrReply.
tl::unexpected<Reply> refuse(int code, std::string reason)
{
  return tl::unexpected<Reply>(answer(code, std::move(reason)));
}

// RFC 3261 §10.3 step 4/5: the To header names the address of record.
OrReply<std::string> address_of_record(const sip::Request& req)
{
  auto colon = req.to_uri.find(':');
  if (colon == std::string::npos)
    return refuse(400, "Bad To");
  std::string scheme = text::lower(req.to_uri.substr(0, colon));
  if (scheme != "sip" && scheme != "sips")
    return refuse(400, "To must be a SIP address of record");
  return sip::canonical_aor(req.to_uri);
}

// Digest authentication of a REGISTER for `aor` (RFC 3261 §22): nothing when it passes,
// else the 401 challenge or the 400/403/404 answer.
std::optional<Reply> authenticate(const sip::Request& req, const Settings& s,
                                  const std::string& aor, int64_t now)
{
  const config::User* user = s.users ? s.users->find_user(aor) : nullptr;
  if (!user)
    return answer(404, "Not Found");
  std::string realm = s.realm;
  std::string authz(req.value("Authorization"));
  auto challenge = [&](bool stale) {
    Reply r = answer(401, "Unauthorized");
    r.headers.push_back("WWW-Authenticate: " + auth::challenge(realm, s.nonces->make(now), stale));
    return r;
  };
  auto sp = trim(authz).substr(0, 6);
  if (authz.empty() || !iequals(sp, "Digest"))
    return challenge(false);
  auto cred = auth::parse_authorization(authz);
  if (!cred)
    return answer(400, "Bad Authorization");
  if (cred->realm != realm)
    return challenge(false);
  if (!s.nonces->valid(cred->nonce, now))
    return challenge(true);
  // The digest username may be the user part ("bob"), the address of record without its
  // scheme ("bob@b.example", what cpm-send sends: IMS private identity style) or with it.
  if (!identity::username_names(cred->username, aor))
    return answer(403, "Forbidden (user does not match the To address)");
  if (!auth::verify(*cred, "REGISTER", user->password))
    return answer(403, "Forbidden (wrong password)");
  return std::nullopt;
}

// What a REGISTER asks for, validated.
struct Registration {
  std::vector<Contact> contacts;
  std::string source; // where it came from, "udp:127.0.0.1:5555"
  // RFC 5626 §6: the registrar is the first hop (one Via); there is no Path to tell
  // whether another first hop keeps the flow.
  bool first_hop = true;
  std::optional<uint32_t> expires; // the Expires header
  std::string call_id;
  uint32_t cseq = 0;
  // The interval a contact asks for: its expires param, else the Expires header, else the
  // default.
  uint32_t expires_of(const Contact& c, const Settings& s) const
  {
    return c.expires ? *c.expires : expires ? *expires : s.default_expires;
  }
};

// The Contact, Expires, Call-ID and CSeq headers of a REGISTER (400 when malformed).
OrReply<Registration> read_registration(const sip::Request& req)
{
  Registration reg;
  auto contacts = parse_contacts(req.values("Contact"));
  if (!contacts)
    return refuse(400, contacts.error().message);
  reg.contacts = std::move(*contacts);
  if (auto e = req.values("Expires"); !e.empty()) {
    reg.expires = parse_u32(e.front());
    if (!reg.expires)
      return refuse(400, "Bad Expires");
  }
  reg.source = req.source;
  reg.first_hop = req.values("Via").size() <= 1;
  reg.call_id = req.value("Call-ID");
  const std::string_view cseq_hdr = req.value("CSeq");
  auto c = trim(cseq_hdr);
  auto num = parse_u32(c.substr(0, c.find_first_of(" \t\r\n")));
  if (!num)
    return refuse(400, "Bad CSeq");
  reg.cseq = *num;
  return reg;
}

// Why the bindings cannot change as `reg` asks (Contact * without Expires: 0, RFC 3261
// §10.3 step 7's too brief interval, an out-of-order refresh); nothing when they can.
std::optional<Reply> refusal(const Registration& reg, const std::string& aor, const Settings& s,
                             const location::Store& store, int64_t now)
{
  if (!reg.contacts.empty() && reg.contacts.front().star) {
    if (!reg.expires || *reg.expires != 0)
      return answer(400, "Contact * needs Expires: 0");
    return std::nullopt;
  }
  // Step 7: refuse all when one contact's interval is too brief.
  for (const auto& c : reg.contacts) {
    uint32_t e = reg.expires_of(c, s);
    if (e != 0 && e < s.min_expires) {
      Reply r = answer(423, "Interval Too Brief");
      r.headers.push_back(fmt::format("Min-Expires: {}", s.min_expires));
      return r;
    }
  }
  auto existing = store.lookup(aor, now);
  for (const auto& c : reg.contacts)
    for (const auto& b : existing)
      if (b.contact == c.uri && b.call_id == reg.call_id && reg.cseq <= b.cseq)
        return answer(400, "Out of order REGISTER (CSeq not higher than the binding's)");
  return std::nullopt;
}

// How requests will reach contact `c` of `reg`: RFC 3261 §10.3 and §16.5 route to the
// Contact; the REGISTER's flow serves only when the client asked for it (RFC 5626 outbound,
// through us as its first hop), when that flow is a connection the client keeps open, or
// when the node says so (nat = "received").
location::Reach reach_of(const Contact& c, const Registration& reg, const Settings& s)
{
  using location::Reach;
  if (reg.source.empty())
    return Reach::Contact;
  if (reg.first_hop && sip::find_param(c.params, "reg-id") &&
      sip::find_param(c.params, "+sip.instance"))
    return Reach::Outbound;
  auto transport = std::string_view(reg.source).substr(0, reg.source.find(':'));
  if (iequals(transport, "tcp") || iequals(transport, "tls"))
    return Reach::Connection;
  if (s.nat_received)
    return Reach::Received;
  return Reach::Contact;
}

// What update did: whether a binding is an RFC 5626 outbound flow, and the first failure to
// write the store's file ("" when none).
struct Updated {
  bool outbound = false;
  std::string failure;

  void note(const Result<void>& r)
  {
    if (!r && failure.empty())
      failure = r.error().message;
  }
};

// Add, refresh or remove the bindings of `aor` as `reg` asks (each reached as reach_of
// says).
Updated update(const Registration& reg, const std::string& aor, const Settings& s,
               location::Store& store, int64_t now)
{
  Updated out;
  if (!reg.contacts.empty() && reg.contacts.front().star) {
    out.note(store.remove_all(aor));
    return out;
  }
  for (const auto& c : reg.contacts) {
    uint32_t e = reg.expires_of(c, s);
    if (e == 0) {
      out.note(store.remove(aor, c.uri));
      continue;
    }
    e = std::min(e, s.max_expires);
    location::Binding b;
    b.aor = aor;
    b.contact = c.uri;
    b.params = c.params;
    b.received = reg.source;
    b.reach = reach_of(c, reg, s);
    out.outbound = out.outbound || b.reach == location::Reach::Outbound;
    b.call_id = reg.call_id;
    b.cseq = reg.cseq;
    b.expires_at = now + int64_t(e);
    b.seq = uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
    out.note(store.upsert(std::move(b)));
  }
  return out;
}

} // namespace

Reply handle(const sip::Request& req, const Settings& s, location::Store& store, int64_t now)
{
  auto aor = address_of_record(req);
  if (!aor)
    return aor.error();
  if (s.auth)
    if (auto denied = authenticate(req, s, *aor, now))
      return *denied;
  auto reg = read_registration(req);
  if (!reg)
    return reg.error();
  if (auto refused = refusal(*reg, *aor, s, store, now))
    return *refused;
  auto updated = update(*reg, *aor, s, store, now);
  if (!updated.failure.empty()) {
    // Never a 200 for a binding a restart would lose (RFC 3261 §21.5.1: 500 with Retry-After).
    Reply r = answer(500, "Server Internal Error");
    r.headers.push_back("Retry-After: 5");
    r.why = "registration not stored: " + updated.failure;
    return r;
  }
  // 200 with the current bindings.
  Reply r;
  // RFC 5626 §6: a registrar that keeps a flow for reg-id says so.
  if (updated.outbound)
    r.headers.push_back("Require: outbound");
  for (const auto& b : store.lookup(*aor, now))
    r.headers.push_back(
        fmt::format("Contact: <{}>{};expires={}", b.contact, b.params, b.expires_at - now));
  return r;
}

} // namespace cpm::registrar
