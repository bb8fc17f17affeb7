// SDP (RFC 4566) descriptions for CPM sessions, and MSRP offers and answers (RFC 4975 §8,
// RFC 6135). Our own small parser: libre's sdp is a negotiation engine bound to a session and
// its local media, while the policy and the controlling function read any offer's media.
#include "cpm/codec/sdp.hpp"
#include "cpm/base/text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fmt/format.h>
#include <random>

namespace cpm::sdp {

namespace {

using text::iequals;
using text::trim;

std::optional<uint32_t> number(std::string_view s)
{
  uint32_t v = 0;
  if (s.empty() || s.size() > 10)
    return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return std::nullopt;
  return v;
}

bool printable_line(std::string_view l)
{
  return std::none_of(l.begin(), l.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == 0 || u == '\r' || u == '\n';
  });
}

// c=IN IP4 192.0.2.1[/ttl[/n]] -> the address.
Result<std::string> connection(std::string_view v, size_t line)
{
  auto f = text::split_ws(v);
  if (f.size() != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6"))
    return fail(fmt::format("SDP line {}: c= is not 'IN IP4|IP6 ADDRESS'", line), 400);
  auto addr = f[2].substr(0, f[2].find('/'));
  if (addr.empty())
    return fail(fmt::format("SDP line {}: c= has no address", line), 400);
  return std::string(addr);
}

// m=<media> <port>[/<number of ports>] <proto> <fmt> ...
Result<Media> media_line(std::string_view v, size_t line)
{
  auto f = text::split_ws(v);
  if (f.size() < 4)
    return fail(fmt::format("SDP line {}: m= needs media, port, proto and a format", line), 400);
  Media m;
  m.type = std::string(f[0]);
  auto port = number(f[1].substr(0, f[1].find('/')));
  if (!port || *port > 65535)
    return fail(fmt::format("SDP line {}: bad port in m=", line), 400);
  if (auto slash = f[1].find('/');
      slash != std::string_view::npos && !number(f[1].substr(slash + 1)))
    return fail(fmt::format("SDP line {}: bad port count in m=", line), 400);
  m.port = static_cast<uint16_t>(*port);
  m.proto = std::string(f[2]);
  for (size_t i = 3; i < f.size(); ++i)
    m.formats.emplace_back(f[i]);
  return m;
}

std::string addrtype(std::string_view addr)
{
  return addr.find(':') != std::string_view::npos ? "IP6" : "IP4";
}

bool is_msrp_proto(std::string_view proto)
{
  return iequals(proto, "TCP/MSRP") || iequals(proto, "TCP/TLS/MSRP");
}

std::vector<std::string> words(std::string_view s)
{
  std::vector<std::string> out;
  for (auto w : text::split_ws(s))
    out.emplace_back(w);
  return out;
}

std::string origin_for(std::string_view host)
{
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<uint32_t> d(1, 999999999);
  return fmt::format("- {} 1 IN {} {}", d(rng), addrtype(host), host);
}

const char* k_accept_wrapped = "text/plain message/imdn+xml";

} // namespace

std::string Media::attribute(std::string_view name) const
{
  for (const auto& [n, v] : attributes)
    if (iequals(n, name))
      return v;
  return {};
}

bool Media::has_attribute(std::string_view name) const
{
  return std::any_of(attributes.begin(), attributes.end(),
                     [&](const auto& a) { return iequals(a.first, name); });
}

namespace {

// a=<name>[:<value>] of the last media.
Result<void> media_attribute(Media& m, std::string_view v, size_t line)
{
  auto colon = v.find(':');
  std::string name(colon == std::string_view::npos ? v : v.substr(0, colon));
  if (name.empty() || name.find(' ') != std::string::npos)
    return fail(fmt::format("SDP line {}: bad attribute name", line), 400);
  std::string value(colon == std::string_view::npos ? std::string_view{}
                                                    : trim(v.substr(colon + 1)));
  m.attributes.emplace_back(std::move(name), std::move(value));
  return {};
}

// The lines after v=0, one at a time, into a description.
struct Reader {
  Description d;
  bool seen_o = false, seen_s = false;

  // Line number `line`, "<type>=<v>".
  Result<void> read(char type, std::string_view v, size_t line)
  {
    switch (type) {
    case 'v':
      return fail(fmt::format("SDP line {}: second v= line", line), 400);
    case 'o':
      if (seen_o || !d.media.empty())
        return fail(fmt::format("SDP line {}: misplaced o= line", line), 400);
      if (text::split_ws(v).size() != 6)
        return fail(fmt::format("SDP line {}: o= needs 6 fields", line), 400);
      d.origin = std::string(v);
      seen_o = true;
      break;
    case 's':
      if (seen_s || !d.media.empty())
        return fail(fmt::format("SDP line {}: misplaced s= line", line), 400);
      d.session_name = std::string(v);
      seen_s = true;
      break;
    case 'c': {
      auto c = connection(v, line);
      if (!c)
        return tl::unexpected(c.error());
      (d.media.empty() ? d.connection : d.media.back().connection) = *c;
      break;
    }
    case 'm': {
      auto m = media_line(v, line);
      if (!m)
        return tl::unexpected(m.error());
      d.media.push_back(std::move(*m));
      break;
    }
    case 'a':
      if (d.media.empty())
        break; // session-level attributes: none we need
      return media_attribute(d.media.back(), v, line);
    default:
      break; // i= u= e= p= b= t= r= z= k=: nothing we need
    }
    return {};
  }
};

} // namespace

Result<Description> parse(std::string_view text)
{
  Reader r;
  r.d.origin.clear();
  r.d.session_name.clear();
  bool seen_v = false;
  size_t pos = 0, line = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view l = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line;
    if (!l.empty() && l.back() == '\r')
      l.remove_suffix(1);
    if (l.empty()) {
      // A trailing empty line is common (the body ends with CRLF CRLF); one inside is not.
      if (!trim(text.substr(pos)).empty())
        return fail(fmt::format("SDP line {}: empty line", line), 400);
      break;
    }
    if (!printable_line(l))
      return fail(fmt::format("SDP line {}: control character", line), 400);
    if (l.size() < 2 || l[1] != '=' || !std::islower(static_cast<unsigned char>(l[0])))
      return fail(fmt::format("SDP line {}: not '<type>=<value>'", line), 400);
    char type = l[0];
    std::string_view v = l.substr(2);
    if (!seen_v) {
      if (type != 'v' || trim(v) != "0")
        return fail(fmt::format("SDP line {}: the description must start with v=0", line), 400);
      seen_v = true;
      continue;
    }
    if (auto ok = r.read(type, v, line); !ok)
      return tl::unexpected(ok.error());
  }
  if (!seen_v)
    return fail("SDP: empty description", 400);
  if (!r.seen_o)
    return fail("SDP: no o= line", 400);
  if (!r.seen_s)
    return fail("SDP: no s= line", 400);
  return std::move(r.d);
}

std::string format(const Description& d)
{
  std::string out = "v=0\r\n";
  out += fmt::format("o={}\r\n", d.origin);
  out += fmt::format("s={}\r\n", d.session_name.empty() ? "-" : d.session_name);
  if (!d.connection.empty())
    out += fmt::format("c=IN {} {}\r\n", addrtype(d.connection), d.connection);
  out += "t=0 0\r\n";
  for (const auto& m : d.media) {
    out += fmt::format("m={} {} {}", m.type, m.port, m.proto);
    for (const auto& f : m.formats)
      out += " " + f;
    if (m.formats.empty())
      out += " *";
    out += "\r\n";
    if (!m.connection.empty())
      out += fmt::format("c=IN {} {}\r\n", addrtype(m.connection), m.connection);
    for (const auto& [n, v] : m.attributes)
      out += v.empty() ? fmt::format("a={}\r\n", n) : fmt::format("a={}:{}\r\n", n, v);
  }
  return out;
}

Result<MsrpMedia> msrp_media(const Description& d)
{
  for (const auto& m : d.media) {
    if (m.port == 0 || !iequals(m.type, "message") || !is_msrp_proto(m.proto))
      continue;
    MsrpMedia out;
    auto path = m.attribute("path");
    if (path.empty())
      return fail("SDP: the MSRP media line has no a=path", 488);
    auto p = msrp::parse_path(path);
    if (!p)
      return fail(fmt::format("SDP: bad a=path: {}", p.error().message), 488);
    out.path = std::move(*p);
    out.setup = text::lower(m.attribute("setup"));
    out.accept_types = words(m.attribute("accept-types"));
    out.accept_wrapped_types = words(m.attribute("accept-wrapped-types"));
    return out;
  }
  return fail("SDP: no MSRP media line (m=message ... TCP/MSRP)", 488);
}

Description msrp_offer(const msrp::Uri& local, std::string_view setup)
{
  Description d;
  d.origin = origin_for(local.host);
  d.connection = local.host;
  Media m;
  m.type = "message";
  m.port = local.port;
  m.proto = local.secure ? "TCP/TLS/MSRP" : "TCP/MSRP";
  m.formats = {"*"};
  m.attributes = {{"accept-types", "message/cpim"},
                  {"accept-wrapped-types", k_accept_wrapped},
                  {"path", msrp::format_uri(local)}};
  if (!setup.empty())
    m.attributes.emplace_back("setup", std::string(setup));
  m.attributes.emplace_back("sendrecv", "");
  d.media.push_back(std::move(m));
  return d;
}

Result<Description> msrp_answer(const Description& offer, const msrp::Uri& local)
{
  auto mm = msrp_media(offer);
  if (!mm)
    return tl::unexpected(mm.error());
  Description d;
  d.origin = origin_for(local.host);
  d.connection = local.host;
  bool chosen = false;
  for (const auto& om : offer.media) {
    Media m;
    m.type = om.type;
    m.proto = om.proto;
    m.formats = om.formats;
    bool usable = !chosen && om.port != 0 && iequals(om.type, "message") && is_msrp_proto(om.proto);
    if (!usable) {
      m.port = 0; // RFC 3264 §6: reject by port 0, keep the line
      d.media.push_back(std::move(m));
      continue;
    }
    chosen = true;
    m.port = local.port;
    m.attributes = {{"accept-types", "message/cpim"},
                    {"accept-wrapped-types", k_accept_wrapped},
                    {"path", msrp::format_uri(local)}};
    // RFC 6135 §4: answer active to a passive offer; passive to active, actpass or none
    // (RFC 4975 §5.4: without a=setup the offerer connects).
    m.attributes.emplace_back("setup", mm->setup == "passive" ? "active" : "passive");
    // RFC 3264 §6.1: mirror the direction.
    std::string dir = "sendrecv";
    if (om.has_attribute("sendonly"))
      dir = "recvonly";
    else if (om.has_attribute("recvonly"))
      dir = "sendonly";
    else if (om.has_attribute("inactive"))
      dir = "inactive";
    m.attributes.emplace_back(dir, "");
    d.media.push_back(std::move(m));
  }
  return d;
}

bool we_connect(std::string_view peer_setup, bool we_offered)
{
  if (iequals(peer_setup, "passive"))
    return true;
  if (iequals(peer_setup, "active"))
    return false;
  // "actpass" or absent: RFC 4975 §5.4 the offerer connects (an answerer given actpass
  // chooses passive, see msrp_answer).
  return we_offered;
}

std::vector<std::string> media_types(const Description& d)
{
  std::vector<std::string> out;
  for (const auto& m : d.media)
    if (m.port != 0)
      out.push_back(m.type);
  return out;
}

} // namespace cpm::sdp
