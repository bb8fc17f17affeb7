// Requests and responses rewritten from a received libre message.
#include "cpm/proxy/rewrite.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <string_view>

#include "cpm/base/text.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"

namespace cpm::proxy {

namespace {

void append_header(std::string& s, const struct sip_hdr& h)
{
  s.append(h.name.p, h.name.l).append(": ").append(h.val.p, h.val.l).append("\r\n");
}

void append_body(std::string& s, const struct sip_msg& msg)
{
  s.append(reinterpret_cast<const char*>(mbuf_buf(msg.mb)), body_size(msg));
}

// The top Via of a local response: RFC 3581 rport and RFC 3261 §18.2.1 received.
std::string top_via_for_reply(std::string_view val, const struct sa& src)
{
  std::string v(val);
  char ip[64];
  re_snprintf(ip, sizeof(ip), "%j", &src);
  auto pos = v.find(";rport");
  if (pos != std::string::npos && (pos + 6 == v.size() || v[pos + 6] == ';' || v[pos + 6] == ' ')) {
    v.insert(pos + 6, fmt::format("={};received={}", sa_port(&src), ip));
  } else if (v.find(";received=") == std::string::npos) {
    v += fmt::format(";received={}", ip);
  }
  return v;
}

// Whether the header `name` (compact or long) is one the Action removes.
bool removed(const Action& a, const struct pl& name)
{
  std::string_view n = sip::long_name(pl_view(name));
  for (const auto& r : a.remove_headers)
    if (text::iequals(sip::long_name(r), n))
      return true;
  return false;
}

} // namespace

size_t body_size(const struct ::sip_msg& msg)
{
  size_t body = mbuf_get_left(msg.mb);
  if (pl_isset(&msg.clen))
    body = std::min<size_t>(body, pl_u32(&msg.clen));
  return body;
}

std::string forward_text(const struct ::sip_msg& msg, const sip::Request& req, const Action& a)
{
  std::string s;
  s.reserve(msg.mb->end + 256);
  uint32_t mf = pl_isset(&msg.maxfwd) ? pl_u32(&msg.maxfwd) : 71;
  if (pl_strcmp(&msg.met, "ACK") != 0 || mf > 0)
    s += fmt::format("Max-Forwards: {}\r\n", mf ? mf - 1 : 0);
  for (const auto& r : a.push_routes)
    s.append("Route: ").append(r).append("\r\n");
  size_t routes_total = 0;
  for (struct le* le = msg.hdrl.head; le; le = le->next)
    if (static_cast<const struct sip_hdr*>(le->data)->id == SIP_HDR_ROUTE)
      ++routes_total;
  // The first Routes are ours (sip::to_request removed them from req.routes).
  size_t skip_routes = routes_total - std::min(routes_total, req.routes.size());
  for (struct le* le = msg.hdrl.head; le; le = le->next) {
    auto& h = *static_cast<const struct sip_hdr*>(le->data);
    if (h.id == SIP_HDR_MAX_FORWARDS || h.id == SIP_HDR_CONTENT_LENGTH)
      continue;
    if (h.id == SIP_HDR_ROUTE && skip_routes) {
      --skip_routes;
      continue;
    }
    if (!a.remove_headers.empty() && removed(a, h.name))
      continue;
    append_header(s, h);
  }
  for (const auto& h : a.add_headers)
    s.append(h).append("\r\n");
  s += fmt::format("Content-Length: {}\r\n\r\n", body_size(msg));
  append_body(s, msg);
  return s;
}

std::string response_text(const struct ::sip_msg& msg)
{
  std::string s;
  s.reserve(msg.mb->end + 32);
  s += fmt::format("SIP/2.0 {} {}\r\n", msg.scode, pl_view(msg.reason));
  bool first_via = true;
  for (struct le* le = msg.hdrl.head; le; le = le->next) {
    auto& h = *static_cast<const struct sip_hdr*>(le->data);
    if (h.id == SIP_HDR_VIA && first_via) {
      first_via = false;
      continue;
    }
    if (h.id == SIP_HDR_CONTENT_LENGTH)
      continue;
    append_header(s, h);
  }
  s += fmt::format("Content-Length: {}\r\n\r\n", body_size(msg));
  append_body(s, msg);
  return s;
}

std::string reply_head(const struct ::sip_msg& msg)
{
  std::string s;
  bool top = true;
  for (struct le* le = msg.hdrl.head; le; le = le->next) {
    auto& h = *static_cast<const struct sip_hdr*>(le->data);
    if (h.id != SIP_HDR_VIA)
      continue;
    s.append("Via: ");
    s.append(top ? top_via_for_reply(pl_view(h.val), msg.src) : pl_string(h.val));
    s.append("\r\n");
    top = false;
  }
  s.append("From: ").append(pl_view(sip_msg_hdr(&msg, SIP_HDR_FROM)->val)).append("\r\n");
  s.append("To: ").append(pl_view(sip_msg_hdr(&msg, SIP_HDR_TO)->val)).append("\r\n");
  s.append("Call-ID: ").append(pl_view(msg.callid)).append("\r\n");
  s.append("CSeq: ").append(pl_view(sip_msg_hdr(&msg, SIP_HDR_CSEQ)->val)).append("\r\n");
  return s;
}

} // namespace cpm::proxy
