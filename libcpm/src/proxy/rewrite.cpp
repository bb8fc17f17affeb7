// Requests and responses edited from the received bytes (grammar/wire.hpp views).
#include "cpm/proxy/rewrite.hpp"

#include <charconv>

#include "cpm/base/text.hpp"
#include "cpm/grammar/header.hpp"

namespace cpm::proxy {

namespace wire = sip::wire;

namespace {

void append_number(std::string& out, unsigned long n)
{
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, size_t(r.ptr - buf));
}

void append_content_length(std::string& out, size_t n)
{
  out.append("Content-Length: ");
  append_number(out, n);
  out.append("\r\n\r\n");
}

// Whether the field is one the Action removes (by long name, case-insensitive).
bool removed(const Action& a, const wire::Field& f)
{
  if (a.remove_headers.empty())
    return false;
  std::string_view n = sip::long_name(f.name);
  for (const auto& r : a.remove_headers)
    if (text::iequals(sip::long_name(r), n))
      return true;
  return false;
}

// The elements of a list field after its first one, from the first's end: "" when it has
// one. (", <b>, <c>" -> "<b>, <c>").
std::string_view after_first_element(std::string_view value)
{
  std::string_view first;
  wire::for_each_element(value, [&](std::string_view e) {
    first = e;
    return false;
  });
  if (first.empty())
    return {};
  size_t end = size_t(first.data() + first.size() - value.data());
  auto rest = value.substr(end);
  auto comma = rest.find(',');
  if (comma == std::string_view::npos)
    return {};
  return text::trim(rest.substr(comma + 1));
}

std::string_view first_element(std::string_view value)
{
  std::string_view first;
  wire::for_each_element(value, [&](std::string_view e) {
    first = e;
    return false;
  });
  return first;
}

// The top Via of a local response: RFC 3581 rport and RFC 3261 §18.2.1 received.
void append_top_via_for_reply(std::string& out, std::string_view v, std::string_view ip,
                              uint16_t port)
{
  auto pos = v.find(";rport");
  if (pos != std::string_view::npos &&
      (pos + 6 == v.size() || v[pos + 6] == ';' || v[pos + 6] == ' ')) {
    out.append(v.substr(0, pos + 6)).append("=");
    append_number(out, port);
    out.append(";received=").append(ip).append(v.substr(pos + 6));
  } else {
    out.append(v);
    if (v.find(";received=") == std::string_view::npos)
      out.append(";received=").append(ip);
  }
}

} // namespace

void forward_text(const wire::Message& m, size_t routes_left, const Action& a, std::string& out)
{
  bool ack = m.method == "ACK";
  if (m.max_forwards < 0)
    out.append("Max-Forwards: 70\r\n");
  for (const auto& r : a.push_routes)
    out.append("Route: ").append(r).append("\r\n");
  size_t routes_total = 0;
  wire::for_each_value(m, wire::Hdr::Route, [&](const wire::Field&, std::string_view) {
    ++routes_total;
    return true;
  });
  // The first Routes are ours (sip::to_request left the others in req.routes).
  size_t skip = routes_total - std::min(routes_total, routes_left);
  for (const auto& f : m.fields) {
    switch (f.id) {
    case wire::Hdr::ContentLength:
      continue;
    case wire::Hdr::MaxForwards:
      if (ack && m.max_forwards == 0)
        continue;
      out.append("Max-Forwards: ");
      append_number(out, m.max_forwards > 0 ? unsigned(m.max_forwards - 1) : 0u);
      out.append("\r\n");
      continue;
    case wire::Hdr::Route:
      if (removed(a, f))
        continue;
      if (skip) {
        // Pop our elements of this field; the others stay, in one line.
        size_t n = 0, kept = 0;
        std::string_view first_kept;
        wire::for_each_element(f.value, [&](std::string_view e) {
          if (n++ >= skip && kept++ == 0)
            first_kept = e;
          return true;
        });
        size_t popped = n - kept;
        skip -= popped;
        if (kept) {
          out.append("Route: ");
          out.append(f.value.substr(size_t(first_kept.data() - f.value.data())));
          out.append("\r\n");
        }
        continue;
      }
      break;
    default:
      break;
    }
    if (removed(a, f))
      continue;
    out.append(f.line);
  }
  for (const auto& h : a.add_headers)
    out.append(h).append("\r\n");
  append_content_length(out, m.body.size());
  out.append(m.body);
}

void response_text(const wire::Message& m, std::string& out)
{
  auto eol = m.raw.find("\r\n");
  out.append(m.raw.substr(0, eol == std::string_view::npos ? m.raw.size() : eol + 2));
  bool top = true;
  for (const auto& f : m.fields) {
    if (f.id == wire::Hdr::ContentLength)
      continue;
    if (f.id == wire::Hdr::Via && top) {
      top = false;
      if (auto rest = after_first_element(f.value); !rest.empty())
        out.append("Via: ").append(rest).append("\r\n");
      continue;
    }
    out.append(f.line);
  }
  append_content_length(out, m.body.size());
  out.append(m.body);
}

void reply_head(const wire::Message& m, std::string_view src_ip, uint16_t src_port,
                std::string& out)
{
  bool top = true;
  for (const auto& f : m.fields) {
    if (f.id != wire::Hdr::Via)
      continue;
    if (top) {
      top = false;
      out.append("Via: ");
      append_top_via_for_reply(out, first_element(f.value), src_ip, src_port);
      out.append("\r\n");
      if (auto rest = after_first_element(f.value); !rest.empty())
        out.append("Via: ").append(rest).append("\r\n");
      continue;
    }
    out.append("Via: ").append(f.value).append("\r\n");
  }
  for (auto [id, name] :
       {std::pair{wire::Hdr::From, "From: "}, std::pair{wire::Hdr::To, "To: "},
        std::pair{wire::Hdr::CallId, "Call-ID: "}, std::pair{wire::Hdr::CSeq, "CSeq: "}})
    if (const auto* f = m.find(id))
      out.append(name).append(f->value).append("\r\n");
}

std::string reply_head(const wire::Message& m, std::string_view src_ip, uint16_t src_port)
{
  std::string s;
  reply_head(m, src_ip, src_port, s);
  return s;
}

} // namespace cpm::proxy
