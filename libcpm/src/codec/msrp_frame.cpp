// MSRP frames (RFC 4975 §7): Byte-Range, header access, encoding, the checks of a received
// request and the response to it.
#include "cpm/codec/msrp.hpp"

#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/codec/msrp_detail.hpp"

namespace cpm::msrp {

using detail::is_ident;
using detail::number;
using text::is_token;

namespace {

bool has_ctl_line_break(std::string_view s)
{
  return s.find_first_of("\r\n") != std::string_view::npos;
}

std::string_view first_word(std::string_view s)
{
  s = text::trim(s);
  auto sp = s.find_first_of(" \t");
  return s.substr(0, sp);
}

} // namespace

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

} // namespace cpm::msrp
