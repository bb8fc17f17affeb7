// The SIP parser of our own (issue 13): framing, the start line, the header fields and the
// few values every message needs, as views into the received bytes. No allocation but the
// growth of Message::fields; one pass over the head, one over the fields.
#include "cpm/grammar/wire.hpp"
#include "cpm/grammar/header.hpp"

#include <array>
#include <cstring>

#include "cpm/base/quoted.hpp"
#include "cpm/grammar/request.hpp"

namespace cpm::sip::wire {

namespace {

using detail::is_lws;
using detail::trim_lws;
using text::find_outside_quotes;
constexpr auto npos = std::string_view::npos;

constexpr char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

inline bool iequal(std::string_view a, std::string_view b)
{
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

bool istarts(std::string_view s, std::string_view prefix)
{
  return s.size() >= prefix.size() && iequal(s.substr(0, prefix.size()), prefix);
}

// RFC 3261 §25.1 token characters.
constexpr std::array<bool, 256> token_table()
{
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c)
    t[size_t(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    t[size_t(c)] = t[size_t(c - 'a' + 'A')] = true;
  for (char c : std::string_view("-.!%*_+`'~"))
    t[size_t(static_cast<unsigned char>(c))] = true;
  return t;
}
constexpr auto token_chars = token_table();

constexpr bool is_token_char(char c)
{
  return token_chars[static_cast<unsigned char>(c)];
}

bool is_token(std::string_view s)
{
  if (s.empty())
    return false;
  for (char c : s)
    if (!is_token_char(c))
      return false;
  return true;
}

constexpr bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

// A number of digits only (leading zeros allowed, RFC 4475 wsinv), at most `max`; -1 when
// it is not one.
long long number(std::string_view s, long long max)
{
  if (s.empty())
    return -1;
  long long n = 0;
  for (char c : s) {
    if (!is_digit(c))
      return -1;
    n = n * 10 + (c - '0');
    if (n > max)
      return -1;
  }
  return n;
}

size_t skip_lws(std::string_view s, size_t i)
{
  while (i < s.size() && is_lws(s[i]))
    ++i;
  return i;
}

size_t skip_token(std::string_view s, size_t i)
{
  while (i < s.size() && is_token_char(s[i]))
    ++i;
  return i;
}

// Every quoted string closed (a backslash escapes the next octet).
bool quotes_closed(std::string_view s)
{
  if (s.find('"') == npos)
    return true;
  bool open = false;
  (void)find_outside_quotes(s, {}, 0, &open);
  return !open;
}

struct Name {
  std::string_view name;
  Hdr id;
};
// The long names, lower case. Compact forms are handled apart.
constexpr Name long_names[] = {
    {"via", Hdr::Via},
    {"route", Hdr::Route},
    {"record-route", Hdr::RecordRoute},
    {"max-forwards", Hdr::MaxForwards},
    {"cseq", Hdr::CSeq},
    {"call-id", Hdr::CallId},
    {"from", Hdr::From},
    {"to", Hdr::To},
    {"content-length", Hdr::ContentLength},
    {"content-type", Hdr::ContentType},
    {"contact", Hdr::Contact},
    {"p-asserted-identity", Hdr::PAssertedIdentity},
    {"p-preferred-identity", Hdr::PPreferredIdentity},
    {"p-served-user", Hdr::PServedUser},
    {"accept-contact", Hdr::AcceptContact},
    {"p-preferred-service", Hdr::PPreferredService},
    {"proxy-require", Hdr::ProxyRequire},
    {"require", Hdr::Require},
    {"supported", Hdr::Supported},
    {"expires", Hdr::Expires},
    {"privacy", Hdr::Privacy},
    {"authorization", Hdr::Authorization},
    {"proxy-authorization", Hdr::ProxyAuthorization},
};

// One line of the head: [begin, end) without its line end, `next` after it.
struct Line {
  size_t begin;
  size_t end;
  size_t next;
  bool terminated; // a LF was found
};

// Lines end in CRLF (RFC 3261 §7); a bare LF is taken as a line end too, as libre does
// and as hand-written test messages need.
Line next_line(std::string_view s, size_t p)
{
  const void* lf = p < s.size() ? std::memchr(s.data() + p, '\n', s.size() - p) : nullptr;
  if (!lf)
    return {p, s.size(), s.size(), false};
  size_t nl = size_t(static_cast<const char*>(lf) - s.data());
  size_t end = nl > p && s[nl - 1] == '\r' ? nl - 1 : nl;
  return {p, end, nl + 1, true};
}

// The start of the header parameters of a name-addr / addr-spec value: the first ';' after
// the '>' of a name-addr, or the first ';' of an addr-spec; npos when none.
size_t params_start(std::string_view v)
{
  auto i = find_outside_quotes(v, ";<");
  if (i == npos || v[i] == ';')
    return i;
  auto gt = v.find('>', i);
  return gt == npos ? npos : v.find(';', gt);
}

// The Via's sent-by and parameters; `clean` is cleared for an empty parameter.
bool read_via(std::string_view value, Via& out, bool& clean)
{
  out = Via{};
  clean = true;
  auto v = trim_lws(value.substr(0, detail::element_end(value)));
  out.value = v;
  size_t i = skip_lws(v, 0);
  // sent-protocol: name LWS "/" LWS version LWS "/" LWS transport
  size_t b = i;
  i = skip_token(v, i);
  if (i == b)
    return false;
  for (int k = 0; k < 2; ++k) {
    i = skip_lws(v, i);
    if (i >= v.size() || v[i] != '/')
      return false;
    i = skip_lws(v, i + 1);
    b = i;
    i = skip_token(v, i);
    if (i == b)
      return false;
  }
  out.transport = v.substr(b, i - b);
  // sent-by: host [ ":" port ], LWS allowed around the ':'
  i = skip_lws(v, i);
  size_t sb = i;
  if (i < v.size() && v[i] == '[') {
    auto close = v.find(']', i);
    if (close == npos)
      return false;
    out.host = v.substr(i + 1, close - i - 1);
    i = close + 1;
  } else {
    while (i < v.size() && !is_lws(v[i]) && v[i] != ':' && v[i] != ';' && v[i] != '"' &&
           v[i] != '[' && v[i] != ']')
      ++i;
    out.host = v.substr(sb, i - sb);
  }
  if (out.host.empty())
    return false;
  size_t sb_end = i;
  size_t j = skip_lws(v, i);
  if (j < v.size() && v[j] == ':') {
    j = skip_lws(v, j + 1);
    size_t pb = j;
    while (j < v.size() && is_digit(v[j]))
      ++j;
    auto port = number(v.substr(pb, j - pb), 65535);
    if (port <= 0)
      return false;
    out.port = uint16_t(port);
    sb_end = j;
    i = j;
  }
  out.sent_by = v.substr(sb, sb_end - sb);
  i = skip_lws(v, i);
  if (i < v.size() && v[i] != ';')
    return false; // text after the sent-by that is not a parameter
  out.params = v.substr(i);
  while (i < v.size()) {
    // v[i] == ';'
    i = skip_lws(v, i + 1);
    size_t nb = i;
    i = skip_token(v, i);
    auto name = v.substr(nb, i - nb);
    i = skip_lws(v, i);
    std::string_view val;
    bool has_value = false;
    if (i < v.size() && v[i] == '=') {
      has_value = true;
      i = skip_lws(v, i + 1);
      size_t vb = i;
      if (i < v.size() && v[i] == '"') {
        ++i;
        while (i < v.size() && v[i] != '"')
          i += v[i] == '\\' ? 2 : 1;
        if (i >= v.size())
          return false;
        ++i;
      } else {
        while (i < v.size() && !is_lws(v[i]) && v[i] != ';' && v[i] != '"')
          ++i;
      }
      val = v.substr(vb, i - vb);
      i = skip_lws(v, i);
    }
    if (i < v.size() && v[i] != ';')
      return false;
    if (name.empty()) {
      clean = false;
      continue;
    }
    if (iequal(name, "branch")) {
      out.branch = val;
    } else if (iequal(name, "received")) {
      out.received = val;
    } else if (iequal(name, "rport")) {
      out.rport = true;
      if (has_value) {
        auto port = number(val, 65535);
        if (port < 0)
          return false;
        out.rport_value = uint16_t(port);
      }
    }
  }
  return true;
}

// Every element of a list value non-empty (RFC 4475 badinv01: "a;;,;,,").
bool no_empty_elements(std::string_view value)
{
  while (true) {
    size_t end = detail::element_end(value);
    if (trim_lws(value.substr(0, end)).empty())
      return false;
    if (end >= value.size())
      return true;
    value.remove_prefix(end + 1);
  }
}

// What parse() found wrong, the first of each kind.
struct Faults {
  std::string_view bad;     // a request: 400 with this reason
  std::string_view version; // a request in another SIP version
  std::string_view drop;    // nothing can be answered

  void set_bad(std::string_view why)
  {
    if (bad.empty())
      bad = why;
  }
};

// The request line: method SP Request-URI SP SIP-Version, single spaces (RFC 3261 §25.1;
// RFC 4475 lwsstart, trws, lwsruri, ltgtruri, escruri, badvers).
void request_line(std::string_view line, Message& out, Faults& f)
{
  out.request = true;
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == npos || sp2 == sp1) {
    // Not even three parts: if it is not SIP, nobody can be answered.
    f.drop = "Not SIP";
    return;
  }
  out.method = line.substr(0, sp1);
  out.ruri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto version = line.substr(sp2 + 1);
  if (version.empty()) {
    f.set_bad("Bad Request-Line"); // trailing SP (trws)
    // The version is the last word before the trailing spaces; it decides SIP or not.
    auto t = line.find_last_not_of(' ');
    auto s = t == npos ? npos : line.rfind(' ', t);
    version = s == npos ? std::string_view{} : line.substr(s + 1, t - s);
  }
  if (!istarts(version, "SIP/")) {
    f.drop = "Not SIP";
    return;
  }
  if (!iequal(version, "SIP/2.0")) {
    auto v = version.substr(4);
    auto dot = v.find('.');
    if (dot == npos || number(v.substr(0, dot), 1000) < 0 || number(v.substr(dot + 1), 1000) < 0)
      f.set_bad("Bad SIP-Version");
    else if (f.version.empty())
      f.version = "SIP Version Not Supported";
  }
  if (!is_token(out.method)) {
    f.set_bad("Bad Method");
    return;
  }
  auto uri = out.ruri;
  if (uri.empty() || uri.find_first_of(" \t<>\"") != npos) {
    f.set_bad("Bad Request-URI");
    return;
  }
  for (char c : uri)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
      f.set_bad("Bad Request-URI");
      return;
    }
  // scheme ":" ... with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  auto colon = uri.find(':');
  if (colon == 0 || colon == npos) {
    f.set_bad("Bad Request-URI");
    return;
  }
  for (size_t i = 0; i < colon; ++i) {
    char c = lower(uri[i]);
    bool ok =
        (c >= 'a' && c <= 'z') || (i > 0 && (is_digit(c) || c == '+' || c == '-' || c == '.'));
    if (!ok) {
      f.set_bad("Bad Request-URI");
      return;
    }
  }
  // RFC 3261 §19.1.1: headers are not allowed in a SIP Request-URI (RFC 4475 escruri).
  // The user part may hold a '?' (RFC 4475 intmeth); the headers start after the host,
  // and neither user nor headers hold an unescaped '@'.
  auto scheme = uri.substr(0, colon);
  auto at = uri.find('@');
  if ((iequal(scheme, "sip") || iequal(scheme, "sips")) &&
      uri.find('?', at == npos ? colon : at) != npos)
    f.set_bad("Headers in Request-URI");
}

// The status line: SIP-Version SP 3DIGIT SP Reason-Phrase (the reason may be empty:
// RFC 4475 noreason; its SP is not required here).
void status_line(std::string_view line, Message& out, Faults& f)
{
  out.request = false;
  auto sp = line.find(' ');
  auto version = line.substr(0, sp);
  if (!iequal(version, "SIP/2.0")) {
    f.drop = "Bad SIP-Version";
    return;
  }
  auto rest = sp == npos ? std::string_view{} : line.substr(sp + 1);
  auto sp2 = rest.find(' ');
  auto code = rest.substr(0, sp2);
  auto n = code.size() == 3 ? number(code, 699) : -1;
  if (n < 100) {
    f.drop = "Bad Status-Code"; // RFC 4475 bigcode
    return;
  }
  out.status = int(n);
  out.reason = sp2 == npos ? std::string_view{} : rest.substr(sp2 + 1);
}

// A single-valued field seen again: the same value or a conflict.
bool same_again(std::string_view& first, std::string_view value)
{
  if (first.data() == nullptr) {
    first = value;
    return true;
  }
  return first == value;
}

} // namespace

Hdr header_id(std::string_view name)
{
  if (name.size() == 1) {
    switch (lower(name[0])) {
    case 'v':
      return Hdr::Via;
    case 'i':
      return Hdr::CallId;
    case 'f':
      return Hdr::From;
    case 't':
      return Hdr::To;
    case 'm':
      return Hdr::Contact;
    case 'l':
      return Hdr::ContentLength;
    case 'c':
      return Hdr::ContentType;
    case 'k':
      return Hdr::Supported;
    case 'a':
      return Hdr::AcceptContact;
    default:
      return Hdr::Other;
    }
  }
  // The length and first letter rule out all but one or two names cheaply.
  char first = lower(name.empty() ? '\0' : name[0]);
  for (const auto& n : long_names)
    if (n.name.size() == name.size() && n.name[0] == first && iequal(n.name, name))
      return n.id;
  return Hdr::Other;
}

bool parse_via(std::string_view value, Via& out)
{
  bool clean = true;
  return read_via(value, out, clean);
}

std::string_view header_param(std::string_view value, std::string_view name, bool* found)
{
  if (found)
    *found = false;
  auto at = params_start(value);
  while (at != npos) {
    // value[at] == ';'; the parameter runs to the next ';' or to the ',' of the next element.
    auto end = find_outside_quotes(value, ";,", at + 1);
    auto param = value.substr(at + 1, end == npos ? npos : end - at - 1);
    auto eq = param.find('=');
    if (iequal(trim_lws(param.substr(0, eq)), name)) {
      if (found)
        *found = true;
      return eq == npos ? std::string_view{} : trim_lws(param.substr(eq + 1));
    }
    if (end == npos || value[end] != ';')
      break;
    at = end;
  }
  return {};
}

std::string_view addr_spec_of(std::string_view value)
{
  if (auto lt = find_outside_quotes(value, "<"); lt != npos) {
    auto gt = value.find('>', lt);
    return trim_lws(value.substr(lt + 1, gt == npos ? npos : gt - lt - 1));
  }
  auto v = trim_lws(value);
  return trim_lws(v.substr(0, v.find(';')));
}

const Field* Message::find(Hdr id) const
{
  for (const auto& f : fields)
    if (f.id == id)
      return &f;
  return nullptr;
}

const Field* Message::find(std::string_view name) const
{
  auto id = header_id(name);
  if (id != Hdr::Other)
    return find(id);
  auto want = sip::long_name(name);
  for (const auto& f : fields)
    if (f.id == Hdr::Other && iequal(sip::long_name(f.name), want))
      return &f;
  return nullptr;
}

std::string_view Message::from_tag() const
{
  auto* f = find(Hdr::From);
  return f ? header_param(f->value, "tag") : std::string_view{};
}

std::string_view Message::to_tag() const
{
  auto* f = find(Hdr::To);
  return f ? header_param(f->value, "tag") : std::string_view{};
}

std::string_view Message::from_uri() const
{
  auto* f = find(Hdr::From);
  return f ? addr_spec_of(f->value) : std::string_view{};
}

std::string_view Message::to_uri() const
{
  auto* f = find(Hdr::To);
  return f ? addr_spec_of(f->value) : std::string_view{};
}

std::string_view Message::pai_uri() const
{
  auto* f = find(Hdr::PAssertedIdentity);
  if (!f)
    return {};
  std::string_view first;
  for_each_element(f->value, [&](std::string_view e) {
    first = e;
    return false;
  });
  return addr_spec_of(first);
}

Parsed parse(std::string_view data, Message& out, Framing framing)
{
  out.raw = out.method = out.ruri = out.reason = out.head = out.body = {};
  out.request = false;
  out.status = 0;
  out.fields.clear();
  out.cseq = 0;
  out.cseq_method = out.call_id = {};
  out.max_forwards = -1;
  out.content_length = -1;
  out.via = Via{};

  // RFC 3261 §7.5: CRLFs before the start line are ignored (stream keepalives, RFC 5626
  // §3.5.1); a datagram of nothing else is a keepalive too.
  size_t start = 0;
  while (start < data.size() && (data[start] == '\r' || data[start] == '\n'))
    ++start;
  if (start == data.size()) {
    if (framing == Framing::Stream)
      return {Verdict::Incomplete, {}, start};
    return {Verdict::Drop, "Empty message", start};
  }

  Faults f;
  auto first = next_line(data, start);
  if (!first.terminated && framing == Framing::Stream)
    return {Verdict::Incomplete, {}, start};
  auto line = data.substr(first.begin, first.end - first.begin);
  if (istarts(line, "SIP/"))
    status_line(line, out, f);
  else
    request_line(line, out, f);

  // The header fields: one per line, continued by lines that start with SP or HT.
  size_t head_begin = first.next;
  size_t p = head_begin;
  size_t body_begin = npos;
  Field* cur = nullptr;
  size_t value_begin = 0;
  auto close_field = [&](size_t value_end, size_t line_end) {
    cur->value = trim_lws(data.substr(value_begin, value_end - value_begin));
    cur->line = data.substr(cur->name.data() - data.data(),
                            line_end - size_t(cur->name.data() - data.data()));
  };
  size_t cur_value_end = 0;
  while (true) {
    if (p >= data.size()) {
      if (framing == Framing::Stream)
        return {Verdict::Incomplete, {}, start};
      body_begin = data.size(); // a datagram's end ends its head
      break;
    }
    auto l = next_line(data, p);
    if (!l.terminated && framing == Framing::Stream)
      return {Verdict::Incomplete, {}, start};
    if (l.end == l.begin) {
      body_begin = l.next;
      break;
    }
    if (data[p] == ' ' || data[p] == '\t') {
      if (cur) {
        cur_value_end = l.end;
        close_field(cur_value_end, l.next);
      } else {
        f.set_bad("Bad header line"); // folding right after the start line
      }
      p = l.next;
      continue;
    }
    auto text = data.substr(l.begin, l.end - l.begin);
    size_t n = skip_token(text, 0);
    size_t c = n;
    while (c < text.size() && (text[c] == ' ' || text[c] == '\t'))
      ++c;
    if (n == 0 || c >= text.size() || text[c] != ':') {
      f.set_bad("Bad header line");
      cur = nullptr;
      p = l.next;
      continue;
    }
    auto name = text.substr(0, n);
    cur = &out.fields.emplace_back(Field{header_id(name), name, {}, {}});
    value_begin = l.begin + c + 1;
    cur_value_end = l.end;
    close_field(cur_value_end, l.next);
    p = l.next;
  }
  out.head = data.substr(head_begin, body_begin - head_begin);

  // The values every message needs. A single-valued field given twice with different values
  // is refused (RFC 4475 multi01, mcl01); the same value twice is harmless.
  std::string_view seen_call_id, seen_from, seen_to, seen_cseq, seen_mf, seen_cl;
  const Field* top_via = nullptr;
  bool have_from = false, have_to = false;
  bool cl_unframable = false;
  for (const auto& fld : out.fields) {
    switch (fld.id) {
    case Hdr::Via:
      if (!top_via)
        top_via = &fld;
      break;
    case Hdr::CSeq: {
      // CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16), the number below 2^31 (§8.1.1.5).
      auto v = fld.value;
      size_t i = 0;
      while (i < v.size() && is_digit(v[i]))
        ++i;
      auto num = number(v.substr(0, i), 0x7fffffff);
      size_t m = skip_lws(v, i);
      auto method = v.substr(m);
      if (num < 0 || m == i || !is_token(method)) {
        f.set_bad("Bad CSeq");
      } else if (!same_again(seen_cseq, v) &&
                 (uint32_t(num) != out.cseq || method != out.cseq_method)) {
        f.set_bad("Conflicting CSeq");
      } else if (out.cseq_method.empty()) {
        out.cseq = uint32_t(num);
        out.cseq_method = method;
      }
      break;
    }
    case Hdr::CallId: {
      auto v = fld.value;
      bool ok = !v.empty();
      for (char ch : v)
        ok = ok && static_cast<unsigned char>(ch) > 0x20 && ch != 0x7f;
      if (!ok)
        f.set_bad("Bad Call-ID");
      else if (!same_again(seen_call_id, v))
        f.set_bad("Conflicting Call-ID");
      else
        out.call_id = v;
      break;
    }
    case Hdr::From:
      have_from = true;
      if (fld.value.empty())
        f.set_bad("Bad From");
      else if (!same_again(seen_from, fld.value))
        f.set_bad("Conflicting From");
      break;
    case Hdr::To:
      have_to = true;
      if (fld.value.empty())
        f.set_bad("Bad To");
      else if (!same_again(seen_to, fld.value))
        f.set_bad("Conflicting To");
      break;
    case Hdr::MaxForwards: {
      auto n = number(fld.value, 255);
      if (n < 0)
        f.set_bad("Bad Max-Forwards");
      else if (!same_again(seen_mf, fld.value) && n != out.max_forwards)
        f.set_bad("Conflicting Max-Forwards");
      else if (out.max_forwards < 0)
        out.max_forwards = int(n);
      break;
    }
    case Hdr::ContentLength: {
      // Bounded well below what a long holds: a larger one cannot be there anyway.
      auto n = number(fld.value, 0x7fffffff);
      if (n < 0) {
        f.set_bad("Bad Content-Length"); // RFC 4475 ncl
        cl_unframable = true;
      } else if (!same_again(seen_cl, fld.value) && n != out.content_length) {
        f.set_bad("Conflicting Content-Length");
        cl_unframable = true;
      } else if (out.content_length < 0) {
        out.content_length = long(n);
      }
      break;
    }
    default:
      break;
    }
    // A quoted string left open makes the rest of the field unreadable (RFC 4475
    // quotbal); only the fields this parser or a proxy reads are checked. A Call-ID is a
    // word, where '"' is an ordinary character (RFC 4475 intmeth).
    if (fld.id != Hdr::Other && fld.id != Hdr::CallId && !quotes_closed(fld.value))
      f.set_bad("Unterminated quoted string");
  }

  // The top Via: what an answer is sent to.
  bool via_usable = false;
  if (top_via) {
    bool clean = true;
    via_usable = read_via(top_via->value, out.via, clean);
    if (via_usable && (!clean || !no_empty_elements(top_via->value)))
      f.set_bad("Bad Via"); // RFC 4475 badinv01
  }

  // Framing: the body is Content-Length octets after the empty line.
  size_t avail = data.size() - body_begin;
  size_t body_len = avail;
  size_t size = 0;
  if (cl_unframable) {
    body_len = framing == Framing::Stream ? 0 : avail;
  } else if (framing == Framing::Stream) {
    // RFC 3261 §18.3 makes Content-Length mandatory on a stream; a message without it is
    // framed as having no body (what the empty line says), which keeps bodiless requests
    // from older or sloppy clients working. A body without Content-Length then reads as a
    // message of its own that is not SIP, and the caller drops the connection.
    body_len = out.content_length < 0 ? 0 : size_t(out.content_length);
    if (body_len > avail)
      return {Verdict::Incomplete, {}, start};
    size = body_begin + body_len;
  } else if (out.content_length >= 0) {
    body_len = size_t(out.content_length);
    if (body_len > avail) {
      f.set_bad("Content-Length larger than the body"); // RFC 4475 clerr
      body_len = avail;
    }
    // RFC 4475 dblreq: octets after Content-Length in a datagram are ignored.
  }
  if (framing == Framing::Datagram)
    size = body_begin + body_len;
  out.body = data.substr(body_begin, body_len);
  out.raw = data.substr(start, body_begin + body_len - start);

  if (!f.drop.empty())
    return {Verdict::Drop, f.drop, size};
  if (out.request) {
    if (!top_via)
      return {Verdict::Drop, "Missing Via", size};
    if (!via_usable)
      return {Verdict::Drop, "Bad Via", size};
    if (!f.version.empty())
      return {Verdict::Version, f.version, size};
    if (f.bad.empty()) {
      if (out.call_id.empty() && !seen_call_id.data())
        f.bad = "Missing Call-ID";
      else if (!have_from)
        f.bad = "Missing From";
      else if (!have_to)
        f.bad = "Missing To";
      else if (out.cseq_method.empty() && !seen_cseq.data())
        f.bad = "Missing CSeq";
      else if (out.cseq_method != out.method)
        f.bad = "CSeq method does not match the request method"; // RFC 4475 mismatch01, mismatch02
    }
    if (!f.bad.empty())
      return {Verdict::Bad, f.bad, cl_unframable && framing == Framing::Stream ? 0 : size};
    return {Verdict::Ok, {}, size};
  }
  // A response that is not valid cannot be relayed and is not answered (RFC 4475 bigcode,
  // scalarlg).
  if (!top_via || !via_usable)
    return {Verdict::Drop, "Bad Via", size};
  if (f.bad.empty()) {
    if (out.call_id.empty() && !seen_call_id.data())
      f.bad = "Missing Call-ID";
    else if (!have_from || !have_to)
      f.bad = "Missing From or To";
    else if (out.cseq_method.empty() && !seen_cseq.data())
      f.bad = "Missing CSeq";
  }
  if (!f.bad.empty())
    return {Verdict::Drop, f.bad, cl_unframable && framing == Framing::Stream ? 0 : size};
  return {Verdict::Ok, {}, size};
}

} // namespace cpm::sip::wire
