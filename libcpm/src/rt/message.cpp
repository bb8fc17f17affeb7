// Reading libre's messages (bodies, content types, SIP text given to --explain) and what
// libre's sipsess and digest handlers want of ours.
#include "cpm/rt/sip.hpp"

#include <cstring>
#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/grammar/wire.hpp"

#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"

namespace cpm::sip {

Result<sip::Request> parse_request_text(std::string_view text)
{
  // The parser of our own, as the core reads what it receives (LF line ends, as operators
  // paste files, are line ends to it; the body is what follows the empty line): a request
  // the core would refuse is refused here with the core's reason.
  // A bare LF becomes CRLF first: a request copied into a file (or out of a trace) often
  // lost its CRs, and its Content-Length counted them.
  std::string crlf;
  crlf.reserve(text.size() + 64);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      crlf += '\r';
    crlf += text[i];
  }
  wire::Message m;
  auto p = wire::parse(crlf, m);
  if (!m.request && m.status)
    return fail("not a SIP request (a response was given)");
  switch (p.verdict) {
  case wire::Verdict::Ok:
    break;
  case wire::Verdict::Bad:
    return fail(fmt::format("not a valid SIP request (the core answers 400 {})", p.why));
  case wire::Verdict::Version:
    return fail(fmt::format("not a SIP/2.0 request (the core answers 505 {})", p.why));
  default:
    return fail(fmt::format("not a SIP request: {}", p.why));
  }
  sip::Request r;
  sip::fill_request(m, "file", nullptr, r);
  return r;
}

std::string_view body_of(const struct ::sip_msg* msg)
{
  if (!msg || !msg->mb)
    return {};
  size_t left = mbuf_get_left(msg->mb);
  if (msg->clen.p) {
    uint32_t clen = pl_u32(&msg->clen);
    if (clen < left)
      left = clen;
  }
  return {reinterpret_cast<const char*>(mbuf_buf(msg->mb)), left};
}

std::string_view raw_of(const struct ::sip_msg& msg)
{
  const char* start = reinterpret_cast<const char*>(msg.req ? msg.met.p : msg.ver.p);
  const char* end = reinterpret_cast<const char*>(msg.mb->buf + msg.mb->end);
  return start && end > start ? std::string_view(start, size_t(end - start)) : std::string_view();
}

std::string content_type_of(const struct ::sip_msg* msg)
{
  if (!msg || !msg->ctyp.type.p)
    return {};
  return text::lower(pl_string(msg->ctyp.type) + "/" + pl_string(msg->ctyp.subtype));
}

namespace {

// The values of every header `id` of `msg`, joined by ", ", or "".
std::string joined_values(const struct ::sip_msg* msg, enum sip_hdrid id)
{
  std::string out;
  if (!msg)
    return out;
  (void)sip_msg_hdr_apply(
      msg, true, id,
      [](const struct sip_hdr* hdr, const struct ::sip_msg*, void* arg) noexcept {
        auto& o = *static_cast<std::string*>(arg);
        try {
          o += (o.empty() ? "" : ", ") + pl_string(hdr->val);
        } catch (...) {
          return true; // out of memory: what was read so far
        }
        return false;
      },
      &out);
  return out;
}

} // namespace

std::string content_encoding_of(const struct ::sip_msg* msg)
{
  return joined_values(msg, SIP_HDR_CONTENT_ENCODING);
}

std::string accept_of(const struct ::sip_msg* msg)
{
  return joined_values(msg, SIP_HDR_ACCEPT);
}

void treply(const Stack& stack, const struct ::sip_msg* msg, int status, const std::string& reason,
            const std::vector<std::string>& headers)
{
  if (headers.empty()) {
    (void)sip_treply(nullptr, stack.get(), msg, static_cast<uint16_t>(status), reason.c_str());
    return;
  }
  std::string extra;
  for (const auto& h : headers)
    extra += h + "\r\n";
  (void)sip_treplyf(nullptr, nullptr, stack.get(), msg, false, static_cast<uint16_t>(status),
                    reason.c_str(), "%sContent-Length: 0\r\n\r\n", extra.c_str());
}

int digest_credentials(std::string_view aor, const std::string& password, char** user, char** pass)
{
  std::string u(aor.substr(aor.find(':') + 1));
  int err = str_dup(user, u.c_str());
  err |= str_dup(pass, password.c_str());
  return err;
}

std::string sipsess_contact(std::string_view uri, std::string_view params,
                            std::string_view header_name, std::string_view header_value)
{
  return fmt::format("{}>{}\r\n{}: <{}", uri, params, header_name, header_value);
}

} // namespace cpm::sip
