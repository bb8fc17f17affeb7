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
    out.tls = iequals(m.proto, "TCP/TLS/MSRP");
    if (out.tls != out.path.front().secure)
      return fail(fmt::format("SDP: {} with an {}: path", m.proto,
                              out.path.front().secure ? "msrps" : "msrp"),
                  488);
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

namespace {

// Our answer to the offered MSRP line `om` (whose a=setup is `peer_setup`).
Media msrp_answer_line(const Media& om, std::string_view peer_setup, const msrp::Uri& local)
{
  Media m;
  m.type = om.type;
  m.proto = om.proto;
  m.formats = om.formats;
  m.port = local.port;
  m.attributes = {{"accept-types", "message/cpim"},
                  {"accept-wrapped-types", k_accept_wrapped},
                  {"path", msrp::format_uri(local)}};
  // RFC 6135 §4: answer active to a passive offer; passive to active, actpass or none
  // (RFC 4975 §5.4: without a=setup the offerer connects).
  m.attributes.emplace_back("setup", peer_setup == "passive" ? "active" : "passive");
  // RFC 3264 §6.1: mirror the direction.
  m.attributes.emplace_back(std::string(name(mirror(direction_of(om)))), "");
  return m;
}

bool sends(Direction d)
{
  return d == Direction::SendRecv || d == Direction::SendOnly;
}
bool receives(Direction d)
{
  return d == Direction::SendRecv || d == Direction::RecvOnly;
}

Direction direction_from(bool send, bool receive)
{
  if (send && receive)
    return Direction::SendRecv;
  if (send)
    return Direction::SendOnly;
  return receive ? Direction::RecvOnly : Direction::Inactive;
}

bool is_audio_line(const Media& m)
{
  return iequals(m.type, "audio") && iequals(m.proto, "RTP/AVP");
}

// The payload types among a line's formats (a non-numeric or over 127 one is skipped).
std::vector<uint8_t> payload_types(const Media& m)
{
  std::vector<uint8_t> out;
  for (const auto& f : m.formats)
    if (auto n = number(f); n && *n <= 127)
      out.push_back(static_cast<uint8_t>(*n));
  return out;
}

// RFC 3551 table 4: the static payload types we name in a=rtpmap.
std::optional<PayloadFormat> static_format(uint8_t pt)
{
  switch (pt) {
  case 0:
    return PayloadFormat{0, "PCMU", 8000, 1, {}};
  case 8:
    return PayloadFormat{8, "PCMA", 8000, 1, {}};
  default:
    return std::nullopt;
  }
}

// The value of the first a=<attr> of `m` that starts with "<pt> ", after it; nullopt if none.
std::optional<std::string_view> pt_attribute(const Media& m, std::string_view attr, uint8_t pt)
{
  auto prefix = fmt::format("{} ", pt);
  for (const auto& [n, v] : m.attributes)
    if (iequals(n, attr) && std::string_view(v).substr(0, prefix.size()) == prefix)
      return trim(std::string_view(v).substr(prefix.size()));
  return std::nullopt;
}

// The formats of an RTP line in its order: a=rtpmap, else the static table (a dynamic type
// without rtpmap has no encoding), and a=fmtp.
std::vector<PayloadFormat> payload_formats(const Media& m)
{
  std::vector<PayloadFormat> out;
  for (auto pt : payload_types(m)) {
    PayloadFormat f;
    f.pt = pt;
    std::optional<PayloadFormat> mapped;
    for (const auto& [n, v] : m.attributes)
      if (iequals(n, "rtpmap"))
        if (auto r = parse_rtpmap(v); r && r->pt == pt) {
          mapped = r;
          break;
        }
    if (!mapped)
      mapped = static_format(pt);
    if (mapped)
      f = *mapped;
    if (auto p = pt_attribute(m, "fmtp", pt))
      f.fmtp = std::string(*p);
    out.push_back(std::move(f));
  }
  return out;
}

// The a=rtpmap value of payload type `pt` in line `m` ("0 PCMU/8000"), or "".
std::string rtpmap_of(const Media& m, uint8_t pt)
{
  for (const auto& [n, v] : m.attributes)
    if (iequals(n, "rtpmap"))
      if (auto r = parse_rtpmap(v); r && r->pt == pt)
        return v;
  if (auto known = static_format(pt))
    return fmt::format("{} {}", pt, known->rtpmap());
  return {};
}

// The address a line's stream is at: its own c=, else the session's.
const std::string& address_of(const Description& d, const Media& m)
{
  return m.connection.empty() ? d.connection : m.connection;
}

} // namespace

Description next_version(const Description& current)
{
  Description d = current;
  auto f = text::split_ws(d.origin);
  uint64_t v = 0;
  // RFC 4566 §5.2: sess-version is any number (NTP timestamps are common); one that would
  // overflow stays as it is.
  if (f.size() == 6 && !f[2].empty()) {
    auto [p, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), v);
    if (ec == std::errc() && p == f[2].data() + f[2].size() && v < UINT64_MAX)
      d.origin = fmt::format("{} {} {} {} {} {}", f[0], f[1], v + 1, f[3], f[4], f[5]);
  }
  return d;
}

std::string_view name(Direction d)
{
  switch (d) {
  case Direction::SendOnly:
    return "sendonly";
  case Direction::RecvOnly:
    return "recvonly";
  case Direction::Inactive:
    return "inactive";
  case Direction::SendRecv:
    break;
  }
  return "sendrecv";
}

std::optional<Direction> direction_by_name(std::string_view word)
{
  for (auto d :
       {Direction::SendRecv, Direction::SendOnly, Direction::RecvOnly, Direction::Inactive})
    if (iequals(word, name(d)))
      return d;
  return std::nullopt;
}

Direction direction_of(const Media& m)
{
  Direction out = Direction::SendRecv;
  for (const auto& [n, v] : m.attributes)
    if (auto d = direction_by_name(n); d && v.empty())
      out = *d;
  return out;
}

Direction mirror(Direction d)
{
  return direction_from(receives(d), sends(d));
}

void set_direction(Media& m, Direction d)
{
  auto& a = m.attributes;
  a.erase(std::remove_if(a.begin(), a.end(),
                         [](const auto& p) { return direction_by_name(p.first).has_value(); }),
          a.end());
  a.emplace_back(std::string(name(d)), "");
}

bool PayloadFormat::same_codec(const PayloadFormat& o) const
{
  return !encoding.empty() && iequals(encoding, o.encoding) && clock_rate == o.clock_rate &&
         channels == o.channels;
}

std::string PayloadFormat::rtpmap() const
{
  return channels == 1 ? fmt::format("{}/{}", encoding, clock_rate)
                       : fmt::format("{}/{}/{}", encoding, clock_rate, channels);
}

std::optional<PayloadFormat> parse_rtpmap(std::string_view value)
{
  auto f = text::split_ws(value);
  if (f.size() != 2)
    return std::nullopt;
  auto pt = number(f[0]);
  if (!pt || *pt > 127)
    return std::nullopt;
  PayloadFormat out;
  out.pt = static_cast<uint8_t>(*pt);
  auto rest = f[1];
  auto slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos)
    return std::nullopt;
  out.encoding = std::string(rest.substr(0, slash));
  rest = rest.substr(slash + 1);
  slash = rest.find('/');
  auto rate = number(rest.substr(0, slash));
  if (!rate || *rate == 0)
    return std::nullopt;
  out.clock_rate = *rate;
  if (slash != std::string_view::npos) {
    auto ch = number(rest.substr(slash + 1));
    if (!ch || *ch == 0 || *ch > 255)
      return std::nullopt;
    out.channels = *ch;
  }
  return out;
}

Media audio_line(std::string_view host, uint16_t port, const std::vector<PayloadFormat>& formats,
                 Direction direction)
{
  Media m;
  m.type = "audio";
  m.port = port;
  m.proto = "RTP/AVP";
  m.connection = std::string(host);
  for (const auto& f : formats) {
    m.formats.push_back(std::to_string(f.pt));
    if (!f.encoding.empty())
      m.attributes.emplace_back("rtpmap", fmt::format("{} {}", f.pt, f.rtpmap()));
  }
  for (const auto& f : formats)
    if (!f.fmtp.empty())
      m.attributes.emplace_back("fmtp", fmt::format("{} {}", f.pt, f.fmtp));
  m.attributes.emplace_back("ptime", "20");
  m.attributes.emplace_back(std::string(name(direction)), "");
  return m;
}

Media audio(std::string_view host, uint16_t port, const std::vector<uint8_t>& payload_types,
            Direction direction)
{
  std::vector<PayloadFormat> formats;
  for (auto pt : payload_types) {
    PayloadFormat f;
    f.pt = pt;
    formats.push_back(static_format(pt).value_or(f));
  }
  return audio_line(host, port, formats, direction);
}

std::optional<AudioMedia> audio_of(const Description& d)
{
  for (const auto& m : d.media) {
    if (m.port == 0 || !is_audio_line(m))
      continue;
    AudioMedia out;
    out.host = address_of(d, m);
    out.port = m.port;
    out.payload_types = payload_types(m);
    out.formats = payload_formats(m);
    out.direction = direction_of(m);
    return out;
  }
  return std::nullopt;
}

std::optional<PayloadFormat> common_format(const AudioMedia& mine, const AudioMedia& theirs)
{
  for (const auto& t : theirs.formats)
    for (const auto& o : mine.formats)
      if (t.same_codec(o))
        return t;
  return std::nullopt;
}

Description add_media(const Description& current, Media media)
{
  Description d = next_version(current);
  for (auto& m : d.media)
    if (m.port == 0 && iequals(m.type, media.type)) {
      m = std::move(media);
      return d;
    }
  d.media.push_back(std::move(media));
  return d;
}

Description remove_media(const Description& current, std::string_view type)
{
  Description d = next_version(current);
  for (auto& m : d.media)
    if (iequals(m.type, type) && m.port != 0) {
      // RFC 3264 §8.2: port 0, the formats kept (the line must still have one).
      m.port = 0;
      m.connection.clear();
      m.attributes.clear();
      if (m.formats.empty())
        m.formats = {"*"};
    }
  return d;
}

Description replace_media(const Description& current, Media media)
{
  for (size_t i = 0; i < current.media.size(); ++i)
    if (current.media[i].port != 0 && iequals(current.media[i].type, media.type)) {
      Description d = next_version(current);
      d.media[i] = std::move(media);
      return d;
    }
  return add_media(current, std::move(media));
}

Result<Description> answer(const Description& offer, const msrp::Uri& msrp_local,
                           const std::optional<Media>& audio_local, Chat chat)
{
  auto mm = msrp_media(offer);
  if (mm && mm->tls != msrp_local.secure)
    mm = fail(mm->tls ? "SDP: MSRP over TLS (TCP/TLS/MSRP) offered, and we have no TLS for MSRP"
                      : "SDP: MSRP over TCP offered to an msrps: URI",
              488);
  if (!mm && chat == Chat::Required)
    return tl::unexpected(mm.error());
  Description d;
  d.origin = origin_for(msrp_local.host);
  d.connection = msrp_local.host;
  bool msrp_chosen = false, audio_chosen = false;
  for (const auto& om : offer.media) {
    if (mm && !msrp_chosen && om.port != 0 && iequals(om.type, "message") &&
        is_msrp_proto(om.proto)) {
      msrp_chosen = true;
      d.media.push_back(msrp_answer_line(om, mm->setup, msrp_local));
      continue;
    }
    if (!audio_chosen && audio_local && om.port != 0 && is_audio_line(om)) {
      auto ours = payload_formats(*audio_local);
      std::optional<PayloadFormat> common, own;
      for (const auto& f : payload_formats(om)) {
        auto it = std::find_if(ours.begin(), ours.end(),
                               [&](const PayloadFormat& o) { return f.same_codec(o); });
        if (it != ours.end()) {
          common = f;
          own = *it;
          break;
        }
      }
      if (common) {
        audio_chosen = true;
        Media m;
        m.type = om.type;
        m.proto = om.proto;
        m.port = audio_local->port;
        m.connection = audio_local->connection;
        // RFC 3264 §6.1: the offer's payload type (a dynamic one is the offerer's number).
        m.formats = {std::to_string(common->pt)};
        if (auto map = rtpmap_of(om, common->pt); !map.empty())
          m.attributes.emplace_back("rtpmap", map);
        if (!own->fmtp.empty())
          m.attributes.emplace_back("fmtp", fmt::format("{} {}", common->pt, own->fmtp));
        m.attributes.emplace_back("ptime", "20");
        auto offered = mirror(direction_of(om)), local = direction_of(*audio_local);
        m.attributes.emplace_back(
            std::string(name(direction_from(sends(offered) && sends(local),
                                            receives(offered) && receives(local)))),
            "");
        d.media.push_back(std::move(m));
        continue;
      }
    }
    Media m;
    m.type = om.type;
    m.proto = om.proto;
    m.formats = om.formats;
    m.port = 0; // RFC 3264 §6: reject by port 0, keep the line
    d.media.push_back(std::move(m));
  }
  if (!msrp_chosen && !audio_chosen)
    return fail("no MSRP stream, and no audio stream in common, to answer", 488);
  return d;
}

Result<Description> msrp_answer(const Description& offer, const msrp::Uri& local)
{
  return answer(offer, local, std::nullopt);
}

Diff diff(const Description& before, const Description& after)
{
  Diff out;
  size_t n = std::max(before.media.size(), after.media.size());
  for (size_t i = 0; i < n; ++i) {
    const Media* b =
        i < before.media.size() && before.media[i].port != 0 ? &before.media[i] : nullptr;
    const Media* a = i < after.media.size() && after.media[i].port != 0 ? &after.media[i] : nullptr;
    if (!b && a)
      out.added.push_back(a->type);
    else if (b && !a)
      out.removed.push_back(b->type);
    else if (b && a &&
             (!iequals(a->type, b->type) || a->port != b->port || a->formats != b->formats ||
              direction_of(*a) != direction_of(*b) ||
              address_of(before, *b) != address_of(after, *a))) {
      if (iequals(a->type, b->type))
        out.modified.push_back(a->type);
      else {
        out.removed.push_back(b->type);
        out.added.push_back(a->type);
      }
    }
  }
  return out;
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
