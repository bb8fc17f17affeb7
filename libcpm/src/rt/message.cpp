// Reading libre's messages (bodies, content types, SIP text given to --explain) and what
// libre's sipsess and digest handlers want of ours.
#include "cpm/rt/sip.hpp"

#include <cstring>
#include <fmt/format.h>

#include "cpm/base/text.hpp"

#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"

namespace cpm::sip {

Result<sip::Request> parse_request_text(std::string_view text)
{
  // Operators paste files with LF line ends: normalise to CRLF and end the header block.
  std::string wire;
  wire.reserve(text.size() + 64);
  size_t head_end = text.find("\n\n");
  if (auto crlf = text.find("\r\n\r\n");
      crlf != std::string_view::npos && (head_end == std::string_view::npos || crlf < head_end))
    head_end = std::string_view::npos, wire.assign(text);
  if (wire.empty()) {
    std::string_view head = head_end == std::string_view::npos ? text : text.substr(0, head_end);
    std::string_view body =
        head_end == std::string_view::npos ? std::string_view() : text.substr(head_end + 2);
    for (char ch : head) {
      if (ch == '\n')
        wire += "\r\n";
      else if (ch != '\r')
        wire += ch;
    }
    while (wire.size() >= 2 && wire.compare(wire.size() - 2, 2, "\r\n") == 0)
      wire.resize(wire.size() - 2);
    wire += "\r\n\r\n";
    wire.append(body);
  }
  auto mb = mbuf_copy(wire);
  if (!mb)
    return fail("out of memory", 3);
  re_ptr<struct sip_msg> msg;
  int err = sip_msg_decode(re_out(msg), mb.get());
  if (err)
    return fail(fmt::format("not a SIP message: {}", std::strerror(err)));
  if (!msg->req)
    return fail("not a SIP request (a response was given)");
  auto r = to_request(msg.get(), nullptr);
  r.source = "file";
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
