// MSRP (RFC 4975), the pure part: URIs and paths, frames, the incremental parser, chunking,
// reassembly, responses and REPORTs. The connection part is in msrp_conn.cpp.
#include "cpm/codec/msrp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <map>
#include <random>
#include <unordered_map>

#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/codec/msrp_detail.hpp"

namespace cpm::msrp {

namespace {

bool is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}
// RFC 3986 unreserved
bool is_unreserved(char c)
{
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
// RFC 4975 §9: ident = ALPHANUM 3*31ident-char, ident-char = alphanum / "." / "-" / "+" /
// "%" / "="
bool is_ident(std::string_view s)
{
  if (s.size() < 4 || s.size() > 32 || !is_alnum(s[0]))
    return false;
  for (char c : s)
    if (!is_alnum(c) && c != '.' && c != '-' && c != '+' && c != '%' && c != '=')
      return false;
  return true;
}
bool is_token(std::string_view s)
{
  if (s.empty())
    return false;
  for (char c : s)
    if (!is_alnum(c) && !std::strchr("-.!%*_+`'~", c))
      return false;
  return true;
}
bool has_ctl_line_break(std::string_view s)
{
  return s.find_first_of("\r\n") != std::string_view::npos;
}

Result<uint64_t> number(std::string_view s)
{
  uint64_t v = 0;
  if (s.empty() || s.size() > 19)
    return fail(fmt::format("bad number '{}'", s));
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return fail(fmt::format("bad number '{}'", s));
  return v;
}

const std::string k_empty;

} // namespace

// ---- URIs and paths ----------------------------------------------------------------------

Result<Uri> parse_uri(std::string_view s)
{
  Uri u;
  std::string_view rest;
  if (s.size() > 7 && text::iequals(s.substr(0, 7), "msrp://")) {
    rest = s.substr(7);
  } else if (s.size() > 8 && text::iequals(s.substr(0, 8), "msrps://")) {
    u.secure = true;
    rest = s.substr(8);
  } else {
    return fail(fmt::format("not an msrp URI: '{}'", s));
  }
  // authority ends at '/' (session-id) or ';' (transport)
  size_t end = rest.find_first_of("/;");
  if (end == std::string_view::npos)
    return fail(fmt::format("msrp URI without transport: '{}'", s));
  std::string_view auth = rest.substr(0, end);
  rest = rest.substr(end);
  if (auto at = auth.rfind('@'); at != std::string_view::npos) {
    u.userinfo = std::string(auth.substr(0, at));
    auth = auth.substr(at + 1);
  }
  std::string_view port;
  if (!auth.empty() && auth[0] == '[') {
    auto close = auth.find(']');
    if (close == std::string_view::npos)
      return fail(fmt::format("msrp URI with a bad IPv6 host: '{}'", s));
    u.host = std::string(auth.substr(1, close - 1));
    auto after = auth.substr(close + 1);
    if (after.empty() || after[0] != ':')
      return fail(fmt::format("msrp URI without port: '{}'", s));
    port = after.substr(1);
    for (char c : u.host)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return fail(fmt::format("msrp URI with a bad IPv6 host: '{}'", s));
  } else {
    auto colon = auth.rfind(':');
    if (colon == std::string_view::npos)
      return fail(fmt::format("msrp URI without port: '{}'", s));
    u.host = std::string(auth.substr(0, colon));
    port = auth.substr(colon + 1);
    for (char c : u.host)
      if (!is_alnum(c) && c != '-' && c != '.')
        return fail(fmt::format("msrp URI with a bad host: '{}'", s));
  }
  if (u.host.empty())
    return fail(fmt::format("msrp URI without host: '{}'", s));
  auto p = number(port);
  if (!p || *p == 0 || *p > 65535)
    return fail(fmt::format("msrp URI with a bad port: '{}'", s));
  u.port = static_cast<uint16_t>(*p);
  if (rest[0] == '/') {
    auto semi = rest.find(';');
    if (semi == std::string_view::npos)
      return fail(fmt::format("msrp URI without transport: '{}'", s));
    auto sid = rest.substr(1, semi - 1);
    if (sid.empty())
      return fail(fmt::format("msrp URI with an empty session-id: '{}'", s));
    for (char c : sid)
      if (!is_unreserved(c) && c != '+' && c != '=' && c != '/')
        return fail(fmt::format("msrp URI with a bad session-id: '{}'", s));
    u.session_id = std::string(sid);
    rest = rest.substr(semi);
  }
  // ;transport *(;param): parameters after the transport are ignored
  rest = rest.substr(1);
  auto tp = rest.substr(0, rest.find(';'));
  if (!is_token(tp))
    return fail(fmt::format("msrp URI with a bad transport: '{}'", s));
  u.transport = std::string(tp);
  return u;
}

std::string format_uri(const Uri& u)
{
  std::string s = u.secure ? "msrps://" : "msrp://";
  if (!u.userinfo.empty())
    s += u.userinfo + "@";
  if (u.host.find(':') != std::string::npos)
    s += "[" + u.host + "]";
  else
    s += u.host;
  s += fmt::format(":{}", u.port);
  if (!u.session_id.empty())
    s += "/" + u.session_id;
  s += ";" + u.transport;
  return s;
}

bool same_uri(const Uri& a, const Uri& b)
{
  return a.secure == b.secure && text::iequals(a.host, b.host) && a.port == b.port &&
         a.session_id == b.session_id && text::iequals(a.transport, b.transport);
}

Result<std::vector<Uri>> parse_path(std::string_view s)
{
  std::vector<Uri> out;
  for (auto field : text::split_ws(s)) {
    auto u = parse_uri(field);
    if (!u)
      return tl::unexpected(u.error());
    out.push_back(std::move(*u));
  }
  if (out.empty())
    return fail("empty MSRP path");
  return out;
}

std::string format_path(const std::vector<Uri>& p)
{
  std::string s;
  for (auto& u : p) {
    if (!s.empty())
      s += ' ';
    s += format_uri(u);
  }
  return s;
}

std::string random_id(size_t len)
{
  static const char k_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof(k_chars) - 2);
  std::string s(len, 'a');
  for (auto& c : s)
    c = k_chars[pick(rng)];
  return s;
}

// ---- Frames ------------------------------------------------------------------------------

Result<ByteRange> parse_byte_range(std::string_view s)
{
  s = text::trim(s);
  auto dash = s.find('-');
  auto slash = s.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
    return fail(fmt::format("bad Byte-Range '{}'", s));
  ByteRange r;
  auto start = number(s.substr(0, dash));
  if (!start || *start == 0)
    return fail(fmt::format("bad Byte-Range start in '{}'", s));
  r.start = *start;
  auto end = s.substr(dash + 1, slash - dash - 1);
  if (end != "*") {
    auto e = number(end);
    if (!e || *e + 1 < r.start)
      return fail(fmt::format("bad Byte-Range end in '{}'", s));
    r.end = *e;
  }
  auto total = s.substr(slash + 1);
  if (total != "*") {
    auto t = number(total);
    if (!t || (r.end && *r.end > *t))
      return fail(fmt::format("bad Byte-Range total in '{}'", s));
    r.total = *t;
  }
  return r;
}

std::string format_byte_range(const ByteRange& r)
{
  return fmt::format("{}-{}/{}", r.start, r.end ? std::to_string(*r.end) : "*",
                     r.total ? std::to_string(*r.total) : "*");
}

std::string Frame::header(std::string_view name) const
{
  for (auto& [n, v] : headers)
    if (text::iequals(n, name))
      return v;
  return {};
}

bool Frame::has_header(std::string_view name) const
{
  for (auto& h : headers)
    if (text::iequals(h.first, name))
      return true;
  return false;
}

void Frame::set_header(std::string name, std::string value)
{
  for (auto& h : headers)
    if (text::iequals(h.first, name)) {
      h.second = std::move(value);
      return;
    }
  headers.emplace_back(std::move(name), std::move(value));
}

Result<std::string> encode(const Frame& f)
{
  if (!is_ident(f.tid))
    return fail(fmt::format("bad MSRP transaction id '{}'", f.tid));
  if (f.flag != '$' && f.flag != '+' && f.flag != '#')
    return fail("bad MSRP continuation flag");
  std::string end_line = "-------" + f.tid;
  if (f.body.find(end_line) != std::string::npos)
    return fail("MSRP body contains the end-line of its transaction id");
  std::string out;
  out.reserve(f.body.size() + 256);
  out += "MSRP " + f.tid + " ";
  if (f.request) {
    if (!is_token(f.method))
      return fail(fmt::format("bad MSRP method '{}'", f.method));
    out += f.method;
  } else {
    if (f.status < 100 || f.status > 999 || has_ctl_line_break(f.comment))
      return fail(fmt::format("bad MSRP status {}", f.status));
    out += fmt::format("{:03}", f.status);
    if (!f.comment.empty())
      out += " " + f.comment;
  }
  out += "\r\n";
  for (auto& [n, v] : f.headers)
    if (!is_token(n) || has_ctl_line_break(v))
      return fail(fmt::format("bad MSRP header '{}'", n));
  auto put = [&](const std::pair<std::string, std::string>& h) {
    out += h.first;
    out += ": ";
    out += h.second;
    out += "\r\n";
  };
  // RFC 4975 §7.1: To-Path then From-Path first, Content-Type (and other MIME headers)
  // last before the body.
  for (auto first : {"To-Path", "From-Path"})
    for (auto& h : f.headers)
      if (text::iequals(h.first, first))
        put(h);
  for (auto& h : f.headers)
    if (!text::iequals(h.first, "To-Path") && !text::iequals(h.first, "From-Path") &&
        !text::iequals(h.first, "Content-Type"))
      put(h);
  for (auto& h : f.headers)
    if (text::iequals(h.first, "Content-Type"))
      put(h);
  if (!f.body.empty()) {
    out += "\r\n";
    out += f.body;
    out += "\r\n";
  }
  out += end_line;
  out += f.flag;
  out += "\r\n";
  return out;
}

// ---- Parser ------------------------------------------------------------------------------

struct Parser::State {
  size_t max_frame;
  std::string buf;
  size_t pos = 0;       // start of the frame being parsed in buf
  size_t head_end = 0;  // end of its start line (after CRLF), 0 while unknown
  size_t scanned = 0;   // where the end-line search resumes
  Frame cur;            // start line of the frame being parsed
  std::string end_line; // "\r\n-------" + tid
  std::string tid;
  bool in_body = false; // the blank line after the headers was seen
};

Parser::Parser(size_t max_frame) : m(std::make_shared<State>())
{
  m->max_frame = max_frame;
}

const std::string& Parser::current_tid() const
{
  return m->tid;
}

size_t Parser::buffered() const
{
  return m->buf.size() - m->pos;
}

namespace {

Result<Frame> parse_start_line(std::string_view line)
{
  Frame f;
  if (line.size() < 5 || line.substr(0, 5) != "MSRP ")
    return fail("MSRP start line does not begin with 'MSRP '");
  line.remove_prefix(5);
  auto sp = line.find(' ');
  if (sp == std::string_view::npos)
    return fail("MSRP start line without method or status");
  f.tid = std::string(line.substr(0, sp));
  if (!is_ident(f.tid))
    return fail(fmt::format("bad MSRP transaction id '{}'", f.tid));
  line.remove_prefix(sp + 1);
  if (line.size() >= 3 && is_digit(line[0]) && is_digit(line[1]) && is_digit(line[2]) &&
      (line.size() == 3 || line[3] == ' ')) {
    f.request = false;
    f.status = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (line.size() > 4)
      f.comment = std::string(line.substr(4));
    return f;
  }
  // RFC 4975 §9: method = 1*UPALPHA
  if (line.empty())
    return fail("MSRP start line without method");
  for (char c : line)
    if (c < 'A' || c > 'Z')
      return fail(fmt::format("bad MSRP method '{}'", line));
  f.method = std::string(line);
  return f;
}

// Headers and body between the start line and the end-line; `s` begins with the start
// line's CRLF, so a blank line right after the start line (no headers) is found too.
Result<void> parse_content(std::string_view s, Frame& f)
{
  if (s.size() <= 2) // the end-line follows the start line
    return {};
  std::string_view head = s.substr(2);
  auto blank = s.find("\r\n\r\n");
  if (blank != std::string_view::npos) {
    head = blank >= 2 ? s.substr(2, blank - 2) : std::string_view{};
    f.body = std::string(s.substr(blank + 4));
  } else if (head.size() >= 2 && head.substr(head.size() - 2) == "\r\n") {
    // "Content-Type: x\r\n\r\n" + empty body: the blank line's second CRLF is the end-line's
    head = head.substr(0, head.size() - 2);
  }
  while (!head.empty()) {
    auto eol = head.find("\r\n");
    auto line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos)
      return fail("bare CR or LF in an MSRP header");
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return fail(fmt::format("MSRP header line without ':': '{}'", line.substr(0, 60)));
    auto name = line.substr(0, colon);
    if (!is_token(name))
      return fail(fmt::format("bad MSRP header name '{}'", name.substr(0, 60)));
    f.headers.emplace_back(std::string(name), std::string(text::trim(line.substr(colon + 1))));
  }
  return {};
}

} // namespace

Result<void> Parser::feed(std::string_view bytes, std::vector<Frame>& out)
{
  auto& s = *m;
  s.buf.append(bytes.data(), bytes.size());
  auto compact = [&] {
    if (s.pos > 0) {
      s.buf.erase(0, s.pos);
      if (s.head_end)
        s.head_end -= s.pos;
      if (s.scanned)
        s.scanned -= s.pos;
      s.pos = 0;
    }
  };
  for (;;) {
    std::string_view b(s.buf);
    if (!s.head_end) {
      auto avail = b.substr(s.pos);
      if (avail.empty())
        break;
      auto prefix = std::string_view("MSRP ").substr(0, std::min<size_t>(avail.size(), 5));
      if (avail.substr(0, prefix.size()) != prefix)
        return fail("MSRP frame does not begin with 'MSRP '");
      auto eol = avail.find("\r\n");
      auto lf = avail.find('\n');
      if (lf != std::string_view::npos && (eol == std::string_view::npos || lf < eol + 1))
        return fail("MSRP start line ends with a bare LF");
      if (eol == std::string_view::npos) {
        if (avail.size() > 512)
          return fail("MSRP start line too long");
        break;
      }
      auto f = parse_start_line(avail.substr(0, eol));
      if (!f)
        return tl::unexpected(f.error());
      s.cur = std::move(*f);
      s.tid = s.cur.tid;
      s.end_line = "\r\n-------" + s.tid;
      s.head_end = s.pos + eol + 2;
      s.scanned = s.head_end - 2; // the start line's CRLF may begin the end-line
    }
    // look for CRLF "-------" tid flag CRLF
    size_t hit = b.find(s.end_line, s.scanned);
    if (hit == std::string_view::npos) {
      if (!s.in_body) {
        // Still in the header section: an end-line there must be ours.
        auto region = b.substr(s.head_end - 2);
        auto blank = region.find("\r\n\r\n");
        auto dash = region.find("\r\n-------");
        if (dash != std::string_view::npos && (blank == std::string_view::npos || dash < blank)) {
          auto seen = region.substr(dash, s.end_line.size());
          if (std::string_view(s.end_line).substr(0, seen.size()) != seen)
            return fail(fmt::format("MSRP end-line does not match transaction {}", s.tid));
        }
        if (blank != std::string_view::npos)
          s.in_body = true;
        else if (region.size() > 65536)
          return fail("MSRP header section too long");
      }
      if (b.size() - s.pos > s.max_frame)
        return fail(fmt::format("MSRP frame larger than {} bytes", s.max_frame));
      s.scanned = std::max(s.scanned,
                           b.size() > s.end_line.size() ? b.size() - s.end_line.size() : size_t{0});
      break;
    }
    size_t after = hit + s.end_line.size();
    if (b.size() < after + 3)
      break; // flag and CRLF not here yet
    if (hit + 2 - s.pos > s.max_frame)
      return fail(fmt::format("MSRP frame larger than {} bytes", s.max_frame));
    char flag = b[after];
    if (flag != '$' && flag != '+' && flag != '#')
      return fail(fmt::format("bad MSRP end-line flag in transaction {}", s.tid));
    if (b[after + 1] != '\r' || b[after + 2] != '\n')
      return fail(fmt::format("MSRP end-line of transaction {} not followed by CRLF", s.tid));
    Frame f = std::move(s.cur);
    f.flag = flag;
    auto content = b.substr(s.head_end - 2, hit - (s.head_end - 2));
    if (auto r = parse_content(content, f); !r)
      return r;
    out.push_back(std::move(f));
    s.pos = after + 3;
    s.head_end = 0;
    s.scanned = 0;
    s.in_body = false;
    s.tid.clear();
    s.cur = Frame{};
  }
  compact();
  return {};
}

// ---- Requests and responses ----------------------------------------------------------------

namespace detail {

std::string_view reason(int status)
{
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 403:
    return "Forbidden";
  case 408:
    return "Request Timeout";
  case 413:
    return "Message Too Large";
  case 415:
    return "Unsupported Media Type";
  case 423:
    return "Interval Out-of-Bounds";
  case 481:
    return "Session Does Not Exist";
  case 501:
    return "Not Implemented";
  case 506:
    return "Session Already Bound";
  default:
    return "";
  }
}

} // namespace detail

std::optional<Problem> check_request(const Frame& f)
{
  if (!f.request)
    return Problem{400, "Not a request"};
  for (auto name : {"To-Path", "From-Path"}) {
    if (!f.has_header(name))
      return Problem{400, fmt::format("Missing {}", name)};
    if (!parse_path(f.header(name)))
      return Problem{400, fmt::format("Bad {}", name)};
  }
  bool send = f.method == "SEND";
  bool report = f.method == "REPORT";
  if (!send && !report)
    return Problem{501, "Not Implemented"};
  auto mid = f.header("Message-ID");
  if (mid.empty())
    return Problem{400, "Missing Message-ID"};
  if (!is_ident(mid))
    return Problem{400, "Bad Message-ID"};
  if (f.has_header("Byte-Range") && !parse_byte_range(f.header("Byte-Range")))
    return Problem{400, "Bad Byte-Range"};
  if (!f.body.empty() && f.header("Content-Type").empty())
    return Problem{400, "Missing Content-Type"};
  if (send) {
    auto fr = f.header("Failure-Report");
    if (!fr.empty() && fr != "yes" && fr != "no" && fr != "partial")
      return Problem{400, "Bad Failure-Report"};
    auto sr = f.header("Success-Report");
    if (!sr.empty() && sr != "yes" && sr != "no")
      return Problem{400, "Bad Success-Report"};
  }
  if (report && report_status(f) == 0)
    return Problem{400, "Bad Status"};
  return std::nullopt;
}

namespace {
std::string_view first_word(std::string_view s)
{
  s = text::trim(s);
  auto sp = s.find_first_of(" \t");
  return s.substr(0, sp);
}
std::string_view last_word(std::string_view s)
{
  s = text::trim(s);
  auto sp = s.find_last_of(" \t");
  return sp == std::string_view::npos ? s : s.substr(sp + 1);
}
} // namespace

Frame make_response(const Frame& req, int status, std::string_view comment)
{
  Frame r;
  r.tid = req.tid;
  r.request = false;
  r.status = status;
  r.comment = std::string(comment.empty() ? detail::reason(status) : comment);
  // RFC 4975 §7.2: To-Path is the previous hop (first URI of the request's From-Path),
  // From-Path our own URI (first URI of its To-Path).
  auto req_from = req.header("From-Path");
  auto req_to = req.header("To-Path");
  auto to = first_word(req_from);
  auto from = first_word(req_to);
  if (!to.empty())
    r.headers.emplace_back("To-Path", std::string(to));
  if (!from.empty())
    r.headers.emplace_back("From-Path", std::string(from));
  return r;
}

// ---- Chunking, reassembly, reports ------------------------------------------------------------

namespace detail {

Frame chunk_frame(const Message& m, std::string_view to_path, std::string_view from_path,
                  size_t offset, size_t n)
{
  Frame f;
  f.method = "SEND";
  std::string_view piece = std::string_view(m.body).substr(offset, n);
  do
    f.tid = random_id();
  while (piece.find("-------" + f.tid) != std::string_view::npos);
  f.headers.emplace_back("To-Path", std::string(to_path));
  f.headers.emplace_back("From-Path", std::string(from_path));
  f.headers.emplace_back("Message-ID", m.message_id);
  ByteRange r;
  r.start = offset + 1;
  r.end = offset + piece.size();
  r.total = m.body.size();
  f.headers.emplace_back("Byte-Range", format_byte_range(r));
  if (m.success_report)
    f.headers.emplace_back("Success-Report", "yes");
  if (!m.failure_report.empty() && m.failure_report != "yes")
    f.headers.emplace_back("Failure-Report", m.failure_report);
  if (!piece.empty())
    f.headers.emplace_back("Content-Type",
                           m.content_type.empty() ? "application/octet-stream" : m.content_type);
  f.body = std::string(piece);
  f.flag = offset + piece.size() >= m.body.size() ? '$' : '+';
  return f;
}

} // namespace detail

std::vector<Frame> chunk(const Message& m, const std::vector<Uri>& to_path,
                         const std::vector<Uri>& from_path, size_t max_chunk)
{
  if (max_chunk == 0)
    max_chunk = 2048;
  auto to = format_path(to_path);
  auto from = format_path(from_path);
  std::vector<Frame> out;
  size_t off = 0;
  do {
    out.push_back(detail::chunk_frame(m, to, from, off, max_chunk));
    off += out.back().body.size();
  } while (off < m.body.size());
  return out;
}

struct Reassembler::State {
  struct Pending {
    std::string data;
    std::map<uint64_t, uint64_t> have; // [begin, end) of received bytes, merged
    std::optional<uint64_t> total;
    std::optional<uint64_t> last_end; // end of the '$' chunk
    std::string content_type;
    bool success_report = false;
    std::string failure_report = "yes";
  };
  size_t max_message;
  size_t bytes = 0; // sum of pending buffers
  std::unordered_map<std::string, Pending> pending;
};

Reassembler::Reassembler(size_t max_message) : m(std::make_shared<State>())
{
  m->max_message = max_message;
}

size_t Reassembler::pending() const
{
  return m->pending.size();
}

namespace {
Message message_of(const Frame& f)
{
  Message msg;
  msg.message_id = f.header("Message-ID");
  msg.content_type = f.header("Content-Type");
  msg.success_report = f.header("Success-Report") == "yes";
  auto fr = f.header("Failure-Report");
  if (!fr.empty())
    msg.failure_report = fr;
  return msg;
}
} // namespace

Result<std::optional<Message>> Reassembler::feed(const Frame& send)
{
  auto& s = *m;
  if (!send.request || send.method != "SEND")
    return fail("not a SEND request");
  auto id = send.header("Message-ID");
  if (id.empty())
    return fail("SEND without Message-ID");
  ByteRange r;
  if (send.has_header("Byte-Range")) {
    auto br = parse_byte_range(send.header("Byte-Range"));
    if (!br)
      return tl::unexpected(br.error());
    r = *br;
  }
  auto it = s.pending.find(id);
  if (send.flag == '#') {
    if (it != s.pending.end()) {
      s.bytes -= it->second.data.size();
      s.pending.erase(it);
    }
    return std::optional<Message>{};
  }
  uint64_t begin = r.start - 1;
  uint64_t end = begin + send.body.size();
  auto drop = [&] {
    if (it != s.pending.end()) {
      s.bytes -= it->second.data.size();
      s.pending.erase(it);
    }
  };
  if (end > s.max_message || (r.total && *r.total > s.max_message)) {
    drop();
    return fail(fmt::format("MSRP message {} larger than {} bytes", id, s.max_message), 413);
  }
  // The whole message in one chunk: no copy into the table.
  if (it == s.pending.end() && begin == 0 && send.flag == '$') {
    auto msg = message_of(send);
    msg.body = send.body;
    return std::optional<Message>{std::move(msg)};
  }
  if (it == s.pending.end()) {
    it = s.pending.emplace(id, State::Pending{}).first;
    auto first = message_of(send);
    it->second.content_type = first.content_type;
    it->second.success_report = first.success_report;
    it->second.failure_report = first.failure_report;
  }
  auto& p = it->second;
  if (r.total) {
    if (p.total && *p.total != *r.total) {
      drop();
      return fail(fmt::format("MSRP message {}: Byte-Range total changed", id));
    }
    p.total = r.total;
  }
  if (p.total && begin > *p.total) {
    drop();
    return fail(fmt::format("MSRP message {}: chunk starts after the total", id));
  }
  if (p.content_type.empty())
    p.content_type = send.header("Content-Type");
  if (p.data.size() < end) {
    size_t grow = end - p.data.size();
    if (s.bytes + grow > s.max_message) {
      drop();
      return fail(fmt::format("MSRP messages pending over {} bytes", s.max_message), 413);
    }
    if (p.total && p.data.capacity() < *p.total)
      p.data.reserve(*p.total);
    p.data.resize(end);
    s.bytes += grow;
  }
  std::copy(send.body.begin(), send.body.end(), p.data.begin() + static_cast<ptrdiff_t>(begin));
  if (end > begin) {
    // merge [begin, end) into the received intervals
    uint64_t b = begin, e = end;
    auto at = p.have.upper_bound(b);
    if (at != p.have.begin()) {
      auto prev = std::prev(at);
      if (prev->second >= b) {
        b = prev->first;
        e = std::max(e, prev->second);
        at = p.have.erase(prev);
      }
    }
    while (at != p.have.end() && at->first <= e) {
      e = std::max(e, at->second);
      at = p.have.erase(at);
    }
    p.have.emplace(b, e);
  }
  if (send.flag == '$')
    p.last_end = std::max(p.last_end.value_or(0), end);
  if (p.last_end && (*p.last_end == 0 || (p.have.size() == 1 && p.have.begin()->first == 0 &&
                                          p.have.begin()->second >= *p.last_end))) {
    Message msg;
    msg.message_id = id;
    msg.content_type = std::move(p.content_type);
    msg.success_report = p.success_report;
    msg.failure_report = std::move(p.failure_report);
    uint64_t size = p.have.empty() ? 0 : p.have.begin()->second;
    s.bytes -= p.data.size();
    p.data.resize(size);
    msg.body = std::move(p.data);
    s.pending.erase(it);
    return std::optional<Message>{std::move(msg)};
  }
  return std::optional<Message>{};
}

Frame make_report(const Frame& send, const ByteRange& received, int status,
                  std::string_view comment)
{
  Frame f;
  f.tid = random_id();
  f.method = "REPORT";
  // RFC 4975 §7.1.2: To-Path is the SEND's From-Path, From-Path the report's generator
  // (the last URI of the SEND's To-Path).
  f.headers.emplace_back("To-Path", std::string(text::trim(send.header("From-Path"))));
  auto send_to = send.header("To-Path");
  f.headers.emplace_back("From-Path", std::string(last_word(send_to)));
  f.headers.emplace_back("Message-ID", send.header("Message-ID"));
  f.headers.emplace_back("Byte-Range", format_byte_range(received));
  f.headers.emplace_back("Status", fmt::format("000 {:03} {}", status,
                                               comment.empty() ? detail::reason(status) : comment));
  return f;
}

int report_status(const Frame& report)
{
  auto status = report.header("Status");
  auto st = text::trim(status);
  // Status: namespace SP status-code [SP comment]
  if (st.size() < 7 || st[3] != ' ' || (st.size() > 7 && st[7] != ' '))
    return 0;
  for (size_t i : {0, 1, 2, 4, 5, 6})
    if (!is_digit(st[i]))
      return 0;
  return (st[4] - '0') * 100 + (st[5] - '0') * 10 + (st[6] - '0');
}

} // namespace cpm::msrp
