// The incremental MSRP parser: any split of a byte stream in, whole frames out.
#include "cpm/codec/msrp.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/codec/msrp_detail.hpp"

namespace cpm::msrp {

using detail::is_digit;
using detail::is_ident;
using text::is_token;

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

  // Read the start line of the next frame; false while it is incomplete.
  Result<bool> start_frame();
  // No end-line yet: check the header section read so far and the frame's size.
  Result<void> no_end_line();
  // The end-line at `hit`: the frame appended to `out`; false while its flag and CRLF are
  // missing.
  Result<bool> end_frame(size_t hit, std::vector<Frame>& out);
  // Drop the bytes of the frames already parsed.
  void compact();
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

Result<bool> Parser::State::start_frame()
{
  auto avail = std::string_view(buf).substr(pos);
  if (avail.empty())
    return false;
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
    return false;
  }
  auto f = parse_start_line(avail.substr(0, eol));
  if (!f)
    return tl::unexpected(f.error());
  cur = std::move(*f);
  tid = cur.tid;
  end_line = "\r\n-------" + tid;
  head_end = pos + eol + 2;
  scanned = head_end - 2; // the start line's CRLF may begin the end-line
  return true;
}

Result<void> Parser::State::no_end_line()
{
  std::string_view b(buf);
  if (!in_body) {
    // Still in the header section: an end-line there must be ours.
    auto region = b.substr(head_end - 2);
    auto blank = region.find("\r\n\r\n");
    auto dash = region.find("\r\n-------");
    if (dash != std::string_view::npos && (blank == std::string_view::npos || dash < blank)) {
      auto seen = region.substr(dash, end_line.size());
      if (std::string_view(end_line).substr(0, seen.size()) != seen)
        return fail(fmt::format("MSRP end-line does not match transaction {}", tid));
    }
    if (blank != std::string_view::npos)
      in_body = true;
    else if (region.size() > 65536)
      return fail("MSRP header section too long");
  }
  if (b.size() - pos > max_frame)
    return fail(fmt::format("MSRP frame larger than {} bytes", max_frame));
  scanned = std::max(scanned, b.size() > end_line.size() ? b.size() - end_line.size() : size_t{0});
  return {};
}

Result<bool> Parser::State::end_frame(size_t hit, std::vector<Frame>& out)
{
  std::string_view b(buf);
  size_t after = hit + end_line.size();
  if (b.size() < after + 3)
    return false; // flag and CRLF not here yet
  if (hit + 2 - pos > max_frame)
    return fail(fmt::format("MSRP frame larger than {} bytes", max_frame));
  char flag = b[after];
  if (flag != '$' && flag != '+' && flag != '#')
    return fail(fmt::format("bad MSRP end-line flag in transaction {}", tid));
  if (b[after + 1] != '\r' || b[after + 2] != '\n')
    return fail(fmt::format("MSRP end-line of transaction {} not followed by CRLF", tid));
  Frame f = std::move(cur);
  f.flag = flag;
  auto content = b.substr(head_end - 2, hit - (head_end - 2));
  if (auto r = parse_content(content, f); !r)
    return tl::unexpected(r.error());
  out.push_back(std::move(f));
  pos = after + 3;
  head_end = 0;
  scanned = 0;
  in_body = false;
  tid.clear();
  cur = Frame{};
  return true;
}

void Parser::State::compact()
{
  if (pos > 0) {
    buf.erase(0, pos);
    if (head_end)
      head_end -= pos;
    if (scanned)
      scanned -= pos;
    pos = 0;
  }
}

Result<void> Parser::feed(std::string_view bytes, std::vector<Frame>& out)
{
  auto& s = *m;
  s.buf.append(bytes.data(), bytes.size());
  for (;;) {
    if (!s.head_end) {
      auto started = s.start_frame();
      if (!started)
        return tl::unexpected(started.error());
      if (!*started)
        break;
    }
    // look for CRLF "-------" tid flag CRLF
    size_t hit = std::string_view(s.buf).find(s.end_line, s.scanned);
    if (hit == std::string_view::npos) {
      if (auto r = s.no_end_line(); !r)
        return r;
      break;
    }
    auto ended = s.end_frame(hit, out);
    if (!ended)
      return tl::unexpected(ended.error());
    if (!*ended)
      break;
  }
  s.compact();
  return {};
}

} // namespace cpm::msrp
