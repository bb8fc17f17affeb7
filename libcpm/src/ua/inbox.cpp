// Pager-mode MESSAGEs in: from the stack's tap over UDP, else on libre's sip_listen.
#include "cpm/ua/inbox.hpp"

#include <cstring>
#include <fmt/format.h>
#include <optional>

#include "cpm/codec/encoding.hpp"
#include "cpm/grammar/wire.hpp"
#include "cpm/proxy/proxy.hpp"
#include "cpm/proxy/rewrite.hpp"
#include "cpm/proxy/transaction_table.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/timer_queue.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::ua {

namespace {

using Body = tl::expected<std::string, Refusal>;

// Where a request came from, as a hop to answer it at.
sip::Hop source_of(const struct sa& src, enum sip_transp tp)
{
  char buf[64];
  sa_ntop(&src, buf, sizeof(buf));
  sip::Hop hop;
  hop.host = buf;
  hop.port = sa_port(&src);
  hop.transport = tp == SIP_TRANSP_TCP ? "tcp" : "udp";
  return hop;
}

} // namespace

// The tap's side: our own non-INVITE server transactions over libre's UDP socket.
struct Inbox::Fast final : proxy::Upstream {
  struct Txn final : proxy::ServerTransaction {
    struct sa dst;
    re_ptr<void> sock; // libre's UDP socket, answered from
  };
  Inbox& inbox;
  std::unique_ptr<rt::LoopTimerQueue> timers; // before the table: outlives its timers
  std::unique_ptr<proxy::TransactionTable> table;
  uint64_t tap_id = 0;
  sip::wire::Message rx;
  std::string key;

  explicit Fast(Inbox& in) : inbox(in) {}
  ~Fast() override
  {
    if (tap_id)
      inbox.m_stack.remove_udp_tap(tap_id);
    table.reset();
  }
  Fast(const Fast&) = delete;
  Fast& operator=(const Fast&) = delete;

  void send(proxy::ServerTransaction& st, std::string_view response) override
  {
    auto& t = static_cast<Txn&>(st);
    int err = inbox.m_stack.send_udp(t.sock.get(), t.dst, response);
    if (err)
      inbox.m_log.diag(
          fmt::format("cannot answer {} to {}: {}", t.method, sa_str(t.dst), std::strerror(err)));
  }
  void finish(proxy::ServerTransaction&) override {}

  // Ours: an out-of-dialog MESSAGE or OPTIONS that parses, with an RFC 3261 branch. The
  // same test for what libre delivers over UDP (its first messages, before the tap knows
  // the socket): those are answered from this table too, so that a retransmission the tap
  // takes later is absorbed here, not delivered twice.
  bool claim(std::string_view data)
  {
    if (sip::wire::parse(data, rx).verdict != sip::wire::Verdict::Ok || !rx.request)
      return false;
    return (rx.method == "MESSAGE" || rx.method == "OPTIONS") && rx.to_tag().empty() &&
           rx.via.branch.substr(0, 7) == "z9hG4bK" && !rx.via.sent_by.empty();
  }

  void serve(const struct sa& src, void* sock)
  {
    proxy::txn_key(key, rx.via.branch, rx.via.sent_by, rx.method);
    if (table->absorb(key, false))
      return; // a retransmission: answered again, not delivered again
    sip::Hop source = source_of(src, SIP_TRANSP_UDP);
    auto t = std::make_unique<Txn>();
    t->key = key;
    t->method = std::string(rx.method);
    t->call_id = std::string(rx.call_id);
    proxy::reply_head(rx, source.host, source.port, t->head);
    t->to_tagged = false;
    t->dst = proxy::udp_response_address(src, rx);
    t->sock = re_ref(sock);
    auto& st = table->add(std::move(t));
    std::string ctype;
    if (const auto* f = rx.find(sip::wire::Hdr::ContentType))
      ctype = std::string(f->value);
    inbox.serve(rx.method, std::string(rx.from_uri()), rx.to_uri(), ctype,
                rx.method == "MESSAGE" ? decoded_body(rx) : Body(std::string()), source,
                [&](int code, const std::string& reason, const std::vector<std::string>& headers) {
                  // As libre's sip_treply writes it.
                  std::vector<std::string> lines = headers;
                  lines.push_back("Server: " + inbox.m_stack.software());
                  table->reply(st, code, reason, lines);
                });
  }
};

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
  auto timers = rt::LoopTimerQueue::create();
  if (!timers)
    return tl::unexpected(timers.error());
  auto fast = std::make_unique<Fast>(*in);
  fast->timers = std::move(*timers);
  fast->table = std::make_unique<proxy::TransactionTable>(*fast->timers, *fast);
  Fast* f = fast.get();
  sip::Stack::UdpTap tap;
  tap.claim = [f](std::string_view data, const struct sa&) {
    return sip::guarded(f->inbox.m_log.report(), "the MESSAGE tap", false,
                        [&] { return f->claim(data); });
  };
  tap.serve = [f](std::string_view, const struct sa& src, const struct sa&, void* sock) {
    sip::guarded(f->inbox.m_log.report(), "the MESSAGE handler", [&] { f->serve(src, sock); });
  };
  fast->tap_id = stack.add_udp_tap(std::move(tap));
  in->m_fast = std::move(fast);
  return in;
}

void Inbox::serve(std::string_view method, const std::string& from, std::string_view to,
                  std::string_view ctype, const tl::expected<std::string, Refusal>& body,
                  const sip::Hop& source, const Reply& reply)
{
  if (method == "OPTIONS") {
    reply(200, "OK",
          {std::string(k_accept), fmt::format("Accept-Encoding: {}", encoding::k_accepted)});
    return;
  }
  auto refuse = [&](const Refusal& r) {
    m_log.diag(fmt::format("MESSAGE from {}: {}; answered {}", from, r.message, r.code));
    reply(r.code, r.reason, r.headers);
  };
  // RFC 3261 §20.12: a compressed body (liblinphone deflates its notifications) is read inflated.
  if (!body)
    return refuse(body.error());
  auto in = interpret(ctype, *body, from, to);
  if (!in)
    return refuse(in.error());
  reply(200, "OK", {});
  m_on_message(*in, source);
}

bool Inbox::on_request(const struct sip_msg* msg)
{
  if (msg->tp == SIP_TRANSP_UDP && m_fast && m_fast->claim(sip::raw_of(*msg))) {
    m_fast->serve(msg->src, msg->sock);
    return true;
  }
  bool options = pl_strcmp(&msg->met, "OPTIONS") == 0;
  if (!options && pl_strcmp(&msg->met, "MESSAGE") != 0)
    return false;
  std::string from = pl_string(msg->from.auri);
  size_t left = mbuf_get_left(msg->mb);
  if (!options && pl_isset(&msg->clen) && pl_u32(&msg->clen) > left) {
    m_log.diag(fmt::format("MESSAGE from {}: body truncated ({} of {} bytes)", from, left,
                           pl_u32(&msg->clen)));
    (void)sip_treply(nullptr, m_stack.get(), msg, 400, "Truncated Body");
    return true;
  }
  std::string ctype; // as it came: a refusal quotes it
  if (const auto* h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE))
    ctype = pl_string(h->val);
  serve(options ? "OPTIONS" : "MESSAGE", from, pl_string(msg->to.auri), ctype,
        options ? Body(std::string()) : decoded_body(msg), source_of(msg->src, msg->tp),
        [&](int code, const std::string& reason, const std::vector<std::string>& headers) {
          sip::treply(m_stack, msg, code, reason, headers);
        });
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
