// Validation of received requests (RFC 3261 §16.3 step 1, with the RFC 4475 torture cases).
#include "cpm/proxy/validate.hpp"

#include <string_view>

#include "cpm/base/text.hpp"

namespace cpm::proxy {

namespace {

bool all_digits(std::string_view s)
{
  if (s.empty())
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

} // namespace

std::string check_request(const sip::Request& req, size_t body_left)
{
  size_t n_callid = 0, n_cseq = 0, n_from = 0, n_to = 0, n_clen = 0, n_maxfwd = 0;
  std::string cseq, clen, maxfwd;
  for (const auto& h : req.headers) {
    if (text::iequals(h.name, "Call-ID"))
      ++n_callid;
    else if (text::iequals(h.name, "CSeq"))
      ++n_cseq, cseq = h.value;
    else if (text::iequals(h.name, "From"))
      ++n_from;
    else if (text::iequals(h.name, "To"))
      ++n_to;
    else if (text::iequals(h.name, "Content-Length"))
      ++n_clen, clen = h.value;
    else if (text::iequals(h.name, "Max-Forwards"))
      ++n_maxfwd, maxfwd = h.value;
  }
  if (n_callid == 0)
    return "Missing Call-ID";
  if (n_cseq == 0)
    return "Missing CSeq";
  if (n_from == 0 || req.from_uri.empty())
    return "Missing or bad From";
  if (n_to == 0 || req.to_uri.empty())
    return "Missing or bad To";
  if (n_callid > 1)
    return "Multiple Call-ID";
  if (n_cseq > 1)
    return "Multiple CSeq";
  if (n_from > 1)
    return "Multiple From";
  if (n_to > 1)
    return "Multiple To";
  if (n_maxfwd > 1)
    return "Multiple Max-Forwards";
  if (n_clen > 1)
    return "Multiple Content-Length";
  if (n_maxfwd == 1) {
    auto m = text::trim(maxfwd);
    while (m.size() > 1 && m.front() == '0')
      m.remove_prefix(1);
    if (!all_digits(m) || m.size() > 3 || std::stoul(std::string(m)) > 255)
      return "Bad Max-Forwards";
  }
  // CSeq: 1*DIGIT LWS Method, the number below 2^31 (RFC 3261 §8.1.1.5).
  {
    auto c = text::trim(cseq);
    auto sp = c.find_first_of(" \t\r\n");
    if (sp == std::string_view::npos)
      return "Bad CSeq";
    auto num = c.substr(0, sp);
    auto met = text::trim(c.substr(sp));
    if (!all_digits(num) || num.size() > 10 || std::stoull(std::string(num)) > 2147483647ULL)
      return "Bad CSeq";
    if (met != req.method)
      return "CSeq method does not match the request method";
  }
  if (n_clen == 1) {
    auto c = text::trim(clen);
    if (!all_digits(c) || c.size() > 9)
      return "Bad Content-Length";
    size_t n = std::stoul(std::string(c));
    if (n > body_left)
      return "Content-Length larger than the body";
  }
  return {};
}

} // namespace cpm::proxy
