// RFC 3862 CPIM message format.
#include "cpm/codec/cpim.hpp"
#include "cpm/base/events.hpp"
#include "cpm/base/text.hpp"
#include "cpm/grammar/header.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace cpm::cpim {

namespace {

using text::iequals;
using text::trim;

// RFC 3862 §3.1 / RFC 2822: a header name is printable ASCII other than ':' and space.
bool valid_name(std::string_view n)
{
  if (n.empty())
    return false;
  for (char c : n) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 || c == ':')
      return false;
  }
  return true;
}

struct Cursor {
  std::string_view text;
  size_t pos = 0;
  // The next line without its terminator; nullopt at the end of text without a terminator.
  std::optional<std::string_view> line()
  {
    if (pos >= text.size())
      return std::nullopt;
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      return std::nullopt;
    std::string_view l = text.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r')
      l.remove_suffix(1);
    pos = nl + 1;
    return l;
  }
};

// Read a header block up to and including the empty line.
Result<std::vector<Header>> header_block(Cursor& c, std::string_view what)
{
  std::vector<Header> out;
  for (;;) {
    auto l = c.line();
    if (!l)
      return fail(fmt::format("CPIM: {} not ended by an empty line", what));
    if (l->empty())
      return out;
    if (l->find('\0') != std::string_view::npos)
      return fail(fmt::format("CPIM: NUL byte in {}", what));
    if (l->front() == ' ' || l->front() == '\t') {
      // RFC 2822 folding: continue the previous header's value.
      if (out.empty())
        return fail(fmt::format("CPIM: {} starts with a continuation line", what));
      auto more = trim(*l);
      if (!more.empty()) {
        // Two appends, not `" " + std::string(more)`: GCC 12 -O3 warns falsely
        // (-Wrestrict) on that temporary.
        out.back().value += ' ';
        out.back().value.append(more);
      }
      continue;
    }
    auto colon = l->find(':');
    if (colon == std::string_view::npos)
      return fail(fmt::format("CPIM: {} line without ':'", what));
    auto name = l->substr(0, colon);
    if (!valid_name(name))
      return fail(fmt::format("CPIM: bad header name in {}", what));
    out.push_back({std::string(name), std::string(trim(l->substr(colon + 1)))});
  }
}

const Header* find(const std::vector<Header>& hs, std::string_view name)
{
  for (const auto& h : hs)
    if (iequals(h.name, name))
      return &h;
  return nullptr;
}

using text::media_type;

bool only_mime(const std::vector<Header>& hs)
{
  if (hs.empty())
    return false;
  for (const auto& h : hs)
    if (h.name.size() < 8 || !iequals(std::string_view(h.name).substr(0, 8), "Content-"))
      return false;
  return true;
}

} // namespace

std::optional<std::string> Message::get(std::string_view name) const
{
  if (auto* h = find(headers, name))
    return h->value;
  return std::nullopt;
}

std::optional<std::string> Message::content_header(std::string_view name) const
{
  if (auto* h = find(content_headers, name))
    return h->value;
  return std::nullopt;
}

std::optional<std::string> Message::ns_prefix(std::string_view urn) const
{
  for (const auto& h : headers) {
    if (!iequals(h.name, "NS"))
      continue;
    // "prefix <urn>" or "<urn>" (the default namespace, no prefix).
    auto lt = h.value.find('<');
    auto gt = h.value.rfind('>');
    if (lt == std::string::npos || gt == std::string::npos || gt < lt)
      continue;
    if (iequals(std::string_view(h.value).substr(lt + 1, gt - lt - 1), urn))
      return std::string(trim(std::string_view(h.value).substr(0, lt)));
  }
  return std::nullopt;
}

std::optional<std::string> Message::get_ns(std::string_view urn, std::string_view name) const
{
  auto prefix = ns_prefix(urn);
  if (!prefix)
    return std::nullopt;
  if (prefix->empty())
    return get(name);
  return get(*prefix + "." + std::string(name));
}

std::string Message::content_type() const
{
  auto v = content_header("Content-Type");
  return v ? media_type(*v) : std::string("text/plain");
}

Result<Message> decode(std::string_view text)
{
  Cursor c{text};
  Message m;
  auto first = header_block(c, "message headers");
  if (!first)
    return tl::unexpected(first.error());
  // RFC 3862 §5.1 shows the whole MIME entity: skip a leading "Content-Type: message/cpim".
  if (only_mime(*first)) {
    auto* ct = find(*first, "Content-Type");
    if (!ct || media_type(ct->value) != "message/cpim")
      return fail("CPIM: missing message headers (From, To)");
    first = header_block(c, "message headers");
    if (!first)
      return tl::unexpected(first.error());
  }
  m.headers = std::move(*first);
  auto* from = find(m.headers, "From");
  auto* to = find(m.headers, "To");
  if (!from || address(from->value).empty())
    return fail("CPIM: missing or empty From header");
  if (!to || address(to->value).empty())
    return fail("CPIM: missing or empty To header");
  auto inner = header_block(c, "content headers");
  if (!inner)
    return tl::unexpected(inner.error());
  m.content_headers = std::move(*inner);
  std::string_view body = text.substr(c.pos);
  if (auto* cl = find(m.content_headers, "Content-Length")) {
    std::string_view v = trim(cl->value);
    if (v.empty() || v.size() > 9 ||
        !std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      return fail("CPIM: bad Content-Length");
    size_t n = std::stoul(std::string(v));
    if (n > body.size())
      return fail(
          fmt::format("CPIM: Content-Length {} exceeds the {} bytes of content", n, body.size()));
    body = body.substr(0, n);
  }
  m.body = std::string(body);
  return m;
}

std::string encode(const Message& m)
{
  std::string out;
  for (const auto& h : m.headers)
    out += h.name + ": " + h.value + "\r\n";
  out += "\r\n";
  for (const auto& h : m.content_headers)
    out += h.name + ": " + h.value + "\r\n";
  out += "\r\n";
  out += m.body;
  return out;
}

std::string address(std::string_view value)
{
  // RFC 3862 §3.3.1: [Formal-name] <URI>, read as SIP's name-addr; a bare URI is kept whole.
  if (value.find('<') == std::string_view::npos)
    return std::string(trim(value));
  auto na = sip::parse_name_addr(value, "CPIM");
  return na ? std::string(na->uri) : std::string();
}

Message make(const Outgoing& o)
{
  Message m;
  m.headers.push_back({"From", "<" + o.from + ">"});
  m.headers.push_back({"To", "<" + o.to + ">"});
  m.headers.push_back({"DateTime", o.datetime.empty() ? events::now() : o.datetime});
  m.headers.push_back({"NS", "imdn <" + std::string(k_imdn_ns) + ">"});
  m.headers.push_back({"imdn.Message-ID", o.message_id});
  if (!o.notification.empty())
    m.headers.push_back({"imdn.Disposition-Notification", o.notification});
  m.content_headers.push_back({"Content-Type", o.content_type});
  m.content_headers.push_back({"Content-Length", std::to_string(o.body.size())});
  m.body = o.body;
  return m;
}

} // namespace cpm::cpim
