// Digest authentication (RFC 2617, RFC 3261 §22.4): MD5, qop=auth or no qop.
#include "cpm/codec/auth.hpp"
#include "cpm/base/text.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <map>
#include <openssl/evp.h>

namespace cpm::auth {

namespace {

using text::iequals;

bool is_lws(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 2616 §2.2 token characters.
bool is_tchar(char c)
{
  auto u = static_cast<unsigned char>(c);
  if (u <= 32 || u >= 127)
    return false;
  return std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

void skip_lws(std::string_view s, size_t& i)
{
  while (i < s.size() && is_lws(s[i]))
    ++i;
}

using Params = std::map<std::string, std::string>;

// "Digest a=b, c="d, e"" -> {a: b, c: "d, e"}, names lower-cased. Duplicates are errors.
Result<Params> parse_digest(std::string_view v)
{
  size_t i = 0;
  skip_lws(v, i);
  size_t start = i;
  while (i < v.size() && is_tchar(v[i]))
    ++i;
  if (!iequals(v.substr(start, i - start), "Digest"))
    return fail("authorization scheme is not Digest");
  if (i < v.size() && !is_lws(v[i]))
    return fail("malformed Digest header");
  Params p;
  for (;;) {
    // RFC 2616 §2.1: a #list may hold empty elements ("a, , b").
    while (i < v.size() && (is_lws(v[i]) || v[i] == ','))
      ++i;
    if (i >= v.size())
      break;
    size_t ns = i;
    while (i < v.size() && is_tchar(v[i]))
      ++i;
    if (i == ns)
      return fail(fmt::format("malformed Digest parameter at offset {}", ns));
    std::string name = text::lower(v.substr(ns, i - ns));
    skip_lws(v, i);
    if (i >= v.size() || v[i] != '=')
      return fail(fmt::format("Digest parameter '{}' has no value", name));
    ++i;
    skip_lws(v, i);
    std::string value;
    if (i < v.size() && v[i] == '"') {
      ++i;
      bool closed = false;
      while (i < v.size()) {
        char c = v[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= v.size())
            break;
          c = v[i++];
        }
        value.push_back(c);
      }
      if (!closed)
        return fail(fmt::format("unterminated quoted string in Digest parameter '{}'", name));
    } else {
      size_t vs = i;
      while (i < v.size() && is_tchar(v[i]))
        ++i;
      if (i == vs)
        return fail(fmt::format("Digest parameter '{}' has an empty value", name));
      value = std::string(v.substr(vs, i - vs));
    }
    if (!p.emplace(name, std::move(value)).second)
      return fail(fmt::format("duplicate Digest parameter '{}'", name));
    skip_lws(v, i);
    if (i >= v.size())
      break;
    if (v[i] != ',')
      return fail(fmt::format("expected ',' after Digest parameter '{}'", name));
    ++i;
  }
  if (p.empty())
    return fail("Digest header without parameters");
  return p;
}

std::string get(const Params& p, const char* name)
{
  auto it = p.find(name);
  return it == p.end() ? std::string() : it->second;
}

bool is_hex(std::string_view s)
{
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

// A quoted-string value with '"' and '\' escaped.
std::string quote(std::string_view s)
{
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      r.push_back('\\');
    r.push_back(c);
  }
  r.push_back('"');
  return r;
}

// RFC 2617 §3.2.2.1: request-digest for qop=auth or no qop, MD5.
std::string digest(std::string_view username, std::string_view realm, std::string_view password,
                   std::string_view method, std::string_view uri, std::string_view nonce,
                   std::string_view qop, std::string_view nc, std::string_view cnonce)
{
  auto ha1 = md5_hex(fmt::format("{}:{}:{}", username, realm, password));
  auto ha2 = md5_hex(fmt::format("{}:{}", method, uri));
  if (qop.empty())
    return md5_hex(fmt::format("{}:{}:{}", ha1, nonce, ha2));
  return md5_hex(fmt::format("{}:{}:{}:{}:{}:{}", ha1, nonce, nc, cnonce, qop, ha2));
}

// MD5 with the algorithm fetched from the provider once and one context per thread, reused:
// EVP_Digest with EVP_md5() fetches (under a lock) and allocates a context on every call, and
// a core signs two odi tokens per routed request. Falls back to EVP_Digest when the fetch or
// the allocation fails.
bool md5(std::string_view s, unsigned char* md, unsigned int& len)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  struct Digest {
    EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
    EVP_MD_CTX* ctx = md5 ? EVP_MD_CTX_new() : nullptr;
    Digest() = default;
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;
    ~Digest()
    {
      EVP_MD_CTX_free(ctx);
      EVP_MD_free(md5);
    }
  };
  thread_local Digest d;
  if (d.ctx)
    return EVP_DigestInit_ex2(d.ctx, d.md5, nullptr) == 1 &&
           EVP_DigestUpdate(d.ctx, s.data(), s.size()) == 1 &&
           EVP_DigestFinal_ex(d.ctx, md, &len) == 1;
#endif
  return EVP_Digest(s.data(), s.size(), md, &len, EVP_md5(), nullptr) == 1;
}

} // namespace

std::string md5_hex(std::string_view s)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!md5(s, md, len))
    return {};
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string r(size_t{len} * 2, '\0');
  for (unsigned i = 0; i < len; ++i) {
    r[2 * i] = k_hex[md[i] >> 4];
    r[2 * i + 1] = k_hex[md[i] & 15];
  }
  return r;
}

Result<Credentials> parse_authorization(std::string_view value)
{
  auto p = parse_digest(value);
  if (!p)
    return tl::unexpected(p.error());
  Credentials c;
  c.username = get(*p, "username");
  c.realm = get(*p, "realm");
  c.nonce = get(*p, "nonce");
  c.uri = get(*p, "uri");
  c.response = get(*p, "response");
  c.algorithm = get(*p, "algorithm");
  c.cnonce = get(*p, "cnonce");
  c.opaque = get(*p, "opaque");
  c.qop = get(*p, "qop");
  c.nc = get(*p, "nc");
  for (const char* k : {"username", "realm", "nonce", "uri", "response"})
    if (!p->count(k))
      return fail(fmt::format("Digest credentials without '{}'", k));
  if (c.response.size() != 32 || !is_hex(c.response))
    return fail("Digest response is not 32 hex digits");
  if (!c.qop.empty()) {
    if (c.cnonce.empty() || c.nc.empty())
      return fail("Digest credentials with qop need cnonce and nc");
    if (c.nc.size() != 8 || !is_hex(c.nc))
      return fail("Digest nc is not 8 hex digits");
  }
  return c;
}

std::string Nonces::make(int64_t now) const
{
  // The time, a count that makes each challenge's nonce its own (two in one second would
  // otherwise be one nonce, and the second client's nc 1 a "replay"), and their MAC.
  auto t = fmt::format("{:x}.{:x}", static_cast<uint64_t>(now), m_count++);
  return t + "." + md5_hex(m_secret + ":" + t);
}

bool Nonces::valid(std::string_view nonce, int64_t now, int64_t ttl_s) const
{
  auto dot = nonce.find('.');
  auto last = nonce.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 16 || last - dot > 17)
    return false;
  auto t = nonce.substr(0, dot);
  auto signed_part = nonce.substr(0, last);
  if (!is_hex(t) || (last != dot && !is_hex(nonce.substr(dot + 1, last - dot - 1))))
    return false;
  auto expect = md5_hex(m_secret + ":" + std::string(signed_part));
  auto mac = nonce.substr(last + 1);
  if (mac.size() != expect.size())
    return false;
  // Compare every byte so the time taken says nothing about where a forgery differs.
  unsigned diff = 0;
  for (size_t i = 0; i < mac.size(); ++i)
    diff |= static_cast<unsigned char>(mac[i] ^ expect[i]);
  if (diff)
    return false;
  uint64_t issued = std::stoull(std::string(t), nullptr, 16);
  if (issued > static_cast<uint64_t>(INT64_MAX))
    return false;
  auto when = static_cast<int64_t>(issued);
  return when <= now && now - when <= ttl_s;
}

NonceUse::Verdict NonceUse::use(std::string_view nonce, std::string_view nc, int64_t now,
                                int64_t ttl_s)
{
  while (!m_order.empty() && now - m_order.front().first > ttl_s) {
    m_uses.erase(m_order.front().second);
    m_order.pop_front();
  }
  uint32_t n = 0;
  if (nc.empty() || nc.size() > 8 || !is_hex(nc))
    return Verdict::Replay; // no count: nothing tells a second use from the first
  n = static_cast<uint32_t>(std::stoul(std::string(nc), nullptr, 16));
  auto it = m_uses.find(nonce);
  if (it == m_uses.end()) {
    it = m_uses.emplace(std::string(nonce), std::set<uint32_t>{}).first;
    m_order.emplace_back(now, it->first);
  }
  if (it->second.size() >= k_max_uses)
    return Verdict::WornOut;
  return it->second.insert(n).second ? Verdict::Fresh : Verdict::Replay;
}

std::string challenge(std::string_view realm, std::string_view nonce, bool stale)
{
  return fmt::format("Digest realm={}, nonce={}, algorithm=MD5, qop=\"auth\"{}", quote(realm),
                     quote(nonce), stale ? ", stale=true" : "");
}

bool verify(const Credentials& c, std::string_view method, std::string_view password)
{
  if (!c.algorithm.empty() && !iequals(c.algorithm, "MD5"))
    return false;
  if (!c.qop.empty() && !iequals(c.qop, "auth"))
    return false;
  auto expect =
      digest(c.username, c.realm, password, method, c.uri, c.nonce, c.qop, c.nc, c.cnonce);
  return !expect.empty() && iequals(expect, c.response);
}

std::string respond(std::string_view www_authenticate, std::string_view method,
                    std::string_view uri, std::string_view username, std::string_view password,
                    std::string_view cnonce, uint32_t nc_value)
{
  auto p = parse_digest(www_authenticate);
  if (!p)
    return {};
  auto realm = get(*p, "realm");
  auto nonce = get(*p, "nonce");
  auto algorithm = get(*p, "algorithm");
  if (!p->count("realm") || nonce.empty())
    return {};
  if (!algorithm.empty() && !iequals(algorithm, "MD5"))
    return {};
  // qop-options is a quoted list ("auth,auth-int"); we do auth only.
  std::string qop;
  if (auto opts = get(*p, "qop"); !opts.empty()) {
    size_t i = 0;
    while (i <= opts.size()) {
      auto comma = std::min(opts.find(',', i), opts.size());
      std::string one = opts.substr(i, comma - i);
      one.erase(0, one.find_first_not_of(" \t"));
      one.erase(one.find_last_not_of(" \t") + 1);
      if (iequals(one, "auth"))
        qop = "auth";
      i = comma + 1;
    }
    if (qop.empty())
      return {};
  }
  const std::string nc = fmt::format("{:08x}", nc_value);
  auto response = digest(username, realm, password, method, uri, nonce, qop, nc, cnonce);
  auto r = fmt::format("Digest username={}, realm={}, nonce={}, uri={}, response={}",
                       quote(username), quote(realm), quote(nonce), quote(uri), quote(response));
  if (!algorithm.empty())
    r += ", algorithm=MD5";
  if (!qop.empty())
    r += fmt::format(", cnonce={}, qop=auth, nc={}", quote(cnonce), nc);
  if (auto opaque = p->find("opaque"); opaque != p->end())
    r += fmt::format(", opaque={}", quote(opaque->second));
  return r;
}

} // namespace cpm::auth
