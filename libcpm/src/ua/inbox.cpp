// Pager-mode MESSAGEs in, on libre's sip_listen.
#include "cpm/ua/inbox.hpp"

#include <cstring>
#include <fmt/format.h>
#include <optional>

#include "cpm/codec/encoding.hpp"
#include "cpm/rt/pl.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::ua {

namespace {

sip::Hop source_of(const struct sip_msg* msg)
{
  char buf[64];
  sa_ntop(&msg->src, buf, sizeof(buf));
  sip::Hop hop;
  hop.host = buf;
  hop.port = sa_port(&msg->src);
  hop.transport = msg->tp == SIP_TRANSP_TCP ? "tcp" : "udp";
  return hop;
}

} // namespace

Inbox::Inbox(sip::Stack& stack, const Log& log, Handler h)
    : m_stack(stack), m_log(log), m_on_message(std::move(h))
{
}

Inbox::~Inbox() = default;

Result<std::unique_ptr<Inbox>> Inbox::listen(sip::Stack& stack, const Log& log, Handler on_message)
{
  std::unique_ptr<Inbox> in(new Inbox(stack, log, std::move(on_message)));
  int err = sip_listen(in->m_lsnr.out(), stack.get(), true, req_h, in.get());
  if (err)
    return fail(fmt::format("cannot listen: {}", std::strerror(err)), 3);
  return in;
}

bool Inbox::on_request(const struct sip_msg* msg)
{
  if (pl_strcmp(&msg->met, "OPTIONS") == 0) {
    sip::treply(m_stack, msg, 200, "OK",
                {std::string(k_accept), fmt::format("Accept-Encoding: {}", encoding::k_accepted)});
    return true;
  }
  if (pl_strcmp(&msg->met, "MESSAGE") != 0)
    return false;
  std::string from = pl_string(msg->from.auri);
  size_t left = mbuf_get_left(msg->mb);
  if (pl_isset(&msg->clen) && pl_u32(&msg->clen) > left) {
    m_log.diag(fmt::format("MESSAGE from {}: body truncated ({} of {} bytes)", from, left,
                           pl_u32(&msg->clen)));
    (void)sip_treply(nullptr, m_stack.get(), msg, 400, "Truncated Body");
    return true;
  }
  auto refuse = [&](const Refusal& r) {
    m_log.diag(fmt::format("MESSAGE from {}: {}; answered {}", from, r.message, r.code));
    sip::treply(m_stack, msg, r.code, r.reason, r.headers);
    return true;
  };
  std::string ctype; // as it came: a refusal quotes it
  if (const auto* h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE))
    ctype = pl_string(h->val);
  // RFC 3261 §20.12: a compressed body (liblinphone deflates its notifications) is read inflated.
  auto body = decoded_body(msg);
  if (!body)
    return refuse(body.error());
  auto in = interpret(ctype, *body, from, pl_string(msg->to.auri));
  if (!in)
    return refuse(in.error());
  (void)sip_treply(nullptr, m_stack.get(), msg, 200, "OK");
  m_on_message(*in, source_of(msg));
  return true;
}

bool Inbox::req_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Inbox*>(arg);
  auto handled = sip::guarded(self->m_log.report(), "the MESSAGE handler", std::optional<bool>(),
                              [&] { return std::optional<bool>(self->on_request(msg)); });
  if (!handled)
    (void)sip_treply(nullptr, self->m_stack.get(), msg, 500, "Server Internal Error");
  return handled.value_or(true);
}

} // namespace cpm::ua
