// The Proxy: libre's listeners, the request path (validate, decide, forward) and the
// response path (relay upstream, stray responses statelessly), over the transaction table.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <string_view>
#include <vector>

#include "cpm/base/trace.hpp"
#include "cpm/proxy/client_transaction.hpp"
#include "cpm/proxy/next_hop.hpp"
#include "cpm/proxy/proxy.hpp"
#include "cpm/proxy/rewrite.hpp"
#include "cpm/proxy/transaction_table.hpp"
#include "cpm/proxy/validate.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/timer_queue.hpp"

namespace cpm::proxy {

namespace {

const char* tp_param(enum sip_transp tp)
{
  return tp == SIP_TRANSP_TCP ? ";transport=tcp" : tp == SIP_TRANSP_TLS ? ";transport=tls" : "";
}

// Our Record-Route (RFC 3261 §16.6 step 4) for a request that came in on `in_tp`/`in` and
// leaves on `tp`/`out`: two when the transport or address changes (RFC 5658).
// `params` is the owner's (Action::record_route_params), on each.
int record_route(struct mbuf* mb, enum sip_transp tp, const struct sa& out, enum sip_transp in_tp,
                 const struct sa& in, const std::string& params)
{
  int err =
      mbuf_printf(mb, "Record-Route: <sip:%J%s;lr%s>\r\n", &out, tp_param(tp), params.c_str());
  if (tp != in_tp || !sa_cmp(&out, &in, SA_ALL))
    err |=
        mbuf_printf(mb, "Record-Route: <sip:%J%s;lr%s>\r\n", &in, tp_param(in_tp), params.c_str());
  return err;
}

// The receive buffer of the stack's UDP sockets (as Kamailio's maxbuffer): bursts of
// datagrams overflowed the 208 KiB default (the kernel caps it at net.core.rmem_max).
constexpr int k_udp_buffer = 4 * 1024 * 1024;

} // namespace

// What it takes to send a request again, once, when its next hop refuses the connection:
// a request that the size rule (RFC 3261 §18.1.1) moved to TCP goes over UDP (many clients
// listen on UDP only); a request to a TCP flow that is gone goes to the registered Contact.
struct Fallback {
  enum class Why { TcpBySize, FlowGone };
  std::string ruri;
  std::string text; // the forwarded request after the Via and Record-Route
  std::string hop;  // UDP: the next hop as it was, before ";transport=tcp"; flow: the Contact
  Why why = Why::TcpBySize;
  std::string refused; // the hop that refused
};

// A second target (Action::Retry) made ready when the request was forwarded: what it
// takes to send it once the first target's answer is one of `on_status`.
struct SecondTarget {
  std::vector<int> on_status;
  std::string ruri;
  std::string text; // the rewritten request after the Via and Record-Route
  std::string hop;
  std::string why;
};

namespace {

// Whether `err` from the next hop calls for `f`: a refused connection; for a flow, also a
// connection that broke under the request.
bool falls_back(int err, const Fallback& f)
{
  return err == ECONNREFUSED ||
         (f.why == Fallback::Why::FlowGone && (err == ECONNRESET || err == EPIPE));
}

} // namespace

// One relayed request: its server transaction, where responses go, and its client side.
struct RelayTxn final : ServerTransaction {
  Proxy::Impl* px = nullptr;
  struct sa dst; // where responses go
  enum sip_transp tp = SIP_TRANSP_UDP;
  re_ptr<void> sock;                // the request's UDP socket or connection
  re_slot<struct sip_request> creq; // libre's client transaction, or
  uint64_t own_branch = 0;          // ours (ClientTransactions), 0: none
  // Record-Route: whether to add ours, and where the request came in (libre's send hook
  // reads them whenever it sends, after a DNS lookup too).
  bool record_route = false;
  std::string rr_params;
  enum sip_transp in_tp = SIP_TRANSP_UDP;
  struct sa in_addr;
  // Only for a request moved to TCP by its size, or sent to a TCP flow with a Contact
  // behind it (ordinary requests keep no copy).
  std::unique_ptr<Fallback> fallback;
  // Only for a request whose owner gave a second target (Action::retry).
  std::unique_ptr<SecondTarget> retry;
  uint64_t first_branch = 0; // our client transaction of the first target, once retried

  ~RelayTxn() override;
};

struct Proxy::Impl final : Upstream {
  sip::Stack* stack = nullptr;
  // A TLS next hop (a registered Contact too) is a host whose certificate may be shown to us
  // (sip::TlsContext::expect_peer: libre 1.1 does not say which connection is for whom).
  void expect_tls(const std::string& hop) const
  {
    if (auto h = sip::hop_of_uri(hop); h && stack)
      stack->expect_tls_peer(*h);
  }
  struct ::sip* sip = nullptr;
  Options opt;
  RequestHook hook;
  bool has_tcp = false;
  std::vector<const void*> grown; // UDP sockets whose buffers grew
  std::unique_ptr<rt::LoopTimerQueue> timers;
  std::unique_ptr<ClientTransactions> clients;
  std::unique_ptr<BranchGenerator> branches; // of our own client transactions
  std::unique_ptr<TransactionTable> table;
  std::unique_ptr<FloodLimiter> limiter;
  re_slot<struct sip_lsnr> req_lsnr;
  re_slot<struct sip_lsnr> resp_lsnr;

  ~Impl() override
  {
    req_lsnr.reset();
    resp_lsnr.reset();
    table.reset(); // before the client transactions and timers its entries use
  }

  // opt.diag as rt/guard.hpp's sink, built once (callbacks run per message).
  sip::Diag diag_sink;

  void diag(const std::string& line)
  {
    if (opt.diag)
      opt.diag(line);
    else
      fmt::print(stderr, "{}: {}\n", opt.name, line);
  }

  void send(ServerTransaction& st, std::string_view response) override
  {
    auto& t = static_cast<RelayTxn&>(st);
    auto mb = mbuf_copy(response);
    int err = mb ? sip_send(sip, t.sock.get(), t.tp, &t.dst, mb.get()) : ENOMEM;
    if (err)
      diag(fmt::format("cannot send {} upstream: {}", response.substr(8, 3), std::strerror(err)));
  }

  void finish(ServerTransaction& st) override
  {
    auto& t = static_cast<RelayTxn&>(st);
    t.creq.reset();
    if (t.own_branch)
      clients->stop(t.own_branch);
    // What only an unanswered request needs goes now, not after the linger.
    t.fallback.reset();
    t.retry.reset();
    std::string().swap(t.call_id);
  }

  // The cap on lingering transactions made one leave before Timer J: said on stderr at
  // most once a minute, with the count so far.
  uint64_t early_said_at = 0;
  void left_early(const ServerTransaction&, uint64_t total) override
  {
    uint64_t now = timers->now();
    if (total > 1 && now < early_said_at + 60000)
      return;
    early_said_at = now;
    diag(fmt::format("max_lingering ({}) reached: the oldest completed transactions leave "
                     "before Timer J ({} s); {} so far",
                     table->limits().max_lingering, k_timer_j_ms / 1000, total));
  }

  // libre 1.1 creates the transports' UDP sockets inside sip_transp_add and exposes them
  // only as the `sock` of the messages they deliver, so each grows its buffer on its first
  // request (issue 13 gives the core sockets of its own).
  void grow_udp_buffer(const struct sip_msg& msg)
  {
    if (msg.tp != SIP_TRANSP_UDP || !msg.sock ||
        std::find(grown.begin(), grown.end(), msg.sock) != grown.end())
      return;
    (void)udp_sockbuf_set(static_cast<struct udp_sock*>(msg.sock), k_udp_buffer);
    grown.push_back(msg.sock);
  }

  bool admit(const struct sip_msg& msg);
  bool on_request(const struct sip_msg& msg);
  bool on_cancel(const struct sip_msg& msg, const std::string& key);
  bool acceptable(const struct sip_msg& msg, const sip::Request& req, bool ack);
  Action decide(const struct sip_msg& msg, sip::Request& req, bool ack);
  void start_transaction(const struct sip_msg& msg, const sip::Request& req, const Action& a,
                         std::string key, std::string method);
  RelayTxn& add_transaction(const struct sip_msg& msg, std::string key, std::string method);
  int forward(const struct sip_msg& msg, const sip::Request& req, const Action& a, RelayTxn* t);
  bool own_client_dst(const struct uri& u, struct sa& dst, struct sa& laddr) const;
  int forward_own(const std::string& ruri, const std::string& text, const struct sa& dst,
                  const struct sa& laddr, RelayTxn& t, uint32_t target);
  int send_fallback(RelayTxn& t);
  void prepare_retry(const struct sip_msg& msg, const sip::Request& req, const Retry& r,
                     RelayTxn& t);
  bool send_retry(RelayTxn& t, const struct sip_msg& answer);
  void on_client_response(RelayTxn& t, int err, const struct sip_msg* msg);
  bool forward_stray(const struct sip_msg& msg);

  static bool req_h(const struct sip_msg* msg, void* arg) noexcept;
  static bool resp_lsnr_h(const struct sip_msg* msg, void* arg) noexcept;
  static void resp_h(int err, const struct sip_msg* msg, void* arg) noexcept;
  static int send_h(enum sip_transp tp, const struct sa* src, const struct sa* dst, struct mbuf* mb,
                    void* arg) noexcept;
};

RelayTxn::~RelayTxn()
{
  if (own_branch)
    px->clients->erase(own_branch);
  if (first_branch)
    px->clients->erase(first_branch);
}

namespace {

// The server-transaction key of a request (RFC 3261 §17.2.3), or for a branch without the
// magic cookie the RFC 2543 match: Call-ID, CSeq number, From tag, sent-by.
std::string request_key(const struct sip_msg& msg, std::string_view method)
{
  std::string_view branch = pl_view(msg.via.branch);
  if (branch.size() > 7 && branch.substr(0, 7) == "z9hG4bK")
    return txn_key(branch, pl_view(msg.via.sentby), method);
  return txn_key(fmt::format("{}|{}|{}", pl_view(msg.callid), msg.cseq.num, pl_view(msg.from.tag)),
                 pl_view(msg.via.sentby), method);
}

} // namespace

bool Proxy::Impl::on_request(const struct sip_msg& msg)
{
  if (!pl_isset(&msg.via.sentby)) { // no Via to answer to: nothing to do but drop it
    diag(fmt::format("dropped a {} request without a usable Via", pl_view(msg.met)));
    return true;
  }
  if (!admit(msg))
    return true;
  grow_udp_buffer(msg);
  std::string method(pl_view(msg.met));
  std::string key = request_key(msg, method);
  if (method == "CANCEL")
    return on_cancel(msg, key);
  bool ack = method == "ACK";
  if (table->absorb(key, ack))
    return true;
  sip::Request req = sip::to_request(&msg, stack);
  if (!acceptable(msg, req, ack))
    return true;
  Action a = decide(msg, req, ack);
  if (a.kind == Action::Kind::Pass)
    return false;
  if (a.kind == Action::Kind::Drop)
    return true;
  if (ack) { // stateless (a Reply is dropped: an ACK is never answered)
    if (a.kind == Action::Kind::Forward)
      if (int err = forward(msg, req, a, nullptr); err)
        diag(fmt::format("cannot forward ACK: {}", std::strerror(err)));
    return true;
  }
  start_transaction(msg, req, a, std::move(key), std::move(method));
  return true;
}

// The flood limits (flood.hpp), before anything else is read: a source over its rate gets
// 503 with Retry-After once and then silence; a request too large, 513. False: answered
// or dropped here.
bool Proxy::Impl::admit(const struct sip_msg& msg)
{
  bool ack = pl_strcmp(&msg.met, "ACK") == 0;
  if (limiter->limits_rate()) {
    char src[64];
    (void)re_snprintf(src, sizeof src, "%j", &msg.src);
    // Over a connection, the top Via's host too (FloodLimiter::check).
    char via[64] = "";
    if (msg.tp != SIP_TRANSP_UDP && sa_isset(&msg.via.addr, SA_ADDR))
      (void)re_snprintf(via, sizeof via, "%j", &msg.via.addr);
    auto d = limiter->check(src, timers->now(), via);
    if (d.dropped)
      diag(fmt::format("flood: {} served again after {} s; {} requests were dropped", src,
                       limiter->retry_after_s(), d.dropped));
    if (d.verdict == FloodLimiter::Verdict::Drop)
      return false;
    if (d.verdict == FloodLimiter::Verdict::Refuse) {
      const auto& l = limiter->limits();
      diag(fmt::format("flood: {} sent {} requests within {} ms (flood_limit {}): {} {}, then "
                       "silence for {} s",
                       src, d.count, l.window_ms, l.max_requests, pl_view(msg.met),
                       ack ? "not answered (an ACK)"
                           : fmt::format("answered 503 with Retry-After: {}", l.block_s),
                       l.block_s));
      if (!ack)
        (void)sip_replyf(sip, &msg, 503, "Service Unavailable",
                         "Retry-After: %u\r\nContent-Length: 0\r\n\r\n", l.block_s);
      return false;
    }
  }
  // The whole message from its first byte (a TCP connection's buffer holds those before it).
  size_t offset = size_t(reinterpret_cast<const uint8_t*>(msg.met.p) - msg.mb->buf);
  size_t size = msg.mb->end > offset ? msg.mb->end - offset : 0;
  if (auto why = limiter->too_large(size, msg.tp == SIP_TRANSP_UDP); !why.empty()) {
    char src[64];
    (void)re_snprintf(src, sizeof src, "%J", &msg.src);
    diag(fmt::format("{} from {}: 513 Message Too Large: {}", pl_view(msg.met), src, why));
    if (!ack)
      (void)sip_reply(sip, &msg, 513, "Message Too Large");
    return false;
  }
  return true;
}

bool Proxy::Impl::on_cancel(const struct sip_msg& msg, const std::string& key)
{
  ServerTransaction* t = table->find(key);
  if (!t) {
    if (!opt.unmatched_cancel || !opt.unmatched_cancel(&msg))
      (void)sip_reply(sip, &msg, 481, "Call/Transaction Does Not Exist");
    return true;
  }
  (void)sip_reply(sip, &msg, 200, "OK");
  table->cancel(*t);
  return true;
}

// RFC 3261 §16.3: a request we cannot relay gets its error answer here (ACKs none).
bool Proxy::Impl::acceptable(const struct sip_msg& msg, const sip::Request& req, bool ack)
{
  std::string bad = check_request(req, mbuf_get_left(msg.mb));
  // tel: too (RFC 3966): a number is routed by triggers, a Route set or a "tel" peer.
  if (bad.empty() && msg.uri.scheme.l && pl_strcasecmp(&msg.uri.scheme, "sip") != 0 &&
      pl_strcasecmp(&msg.uri.scheme, "sips") != 0 && pl_strcasecmp(&msg.uri.scheme, "tel") != 0) {
    if (!ack)
      (void)sip_reply(sip, &msg, 416, "Unsupported URI Scheme");
    diag(fmt::format("{} from {}: unsupported URI scheme in {}", req.method, req.source, req.ruri));
    return false;
  }
  if (bad.empty() && pl_isset(&msg.uri.headers))
    bad = "Request-URI must not carry headers";
  if (!bad.empty()) {
    diag(fmt::format("{} from {}: 400 {}", req.method, req.source, bad));
    if (!ack)
      (void)sip_reply(sip, &msg, 400, bad.c_str());
    return false;
  }
  if (auto* pr = sip_msg_hdr(&msg, SIP_HDR_PROXY_REQUIRE); pr && !ack) {
    std::string v(pl_view(pr->val));
    (void)sip_replyf(sip, &msg, 420, "Bad Extension",
                     "Unsupported: %s\r\nContent-Length: 0\r\n\r\n", v.c_str());
    return false;
  }
  return true;
}

// The owner's hook; an exception there becomes a 500.
Action Proxy::Impl::decide(const struct sip_msg& msg, sip::Request& req, bool ack)
{
  Incoming in{req, &msg, pl_isset(&msg.to.tag), ack};
  try {
    return hook ? hook(in) : Action::forward();
  } catch (const std::exception& e) {
    diag(fmt::format("internal error deciding {}: {}", req.method, e.what()));
    return Action::reply(500, "Server Internal Error");
  }
}

RelayTxn& Proxy::Impl::add_transaction(const struct sip_msg& msg, std::string key,
                                       std::string method)
{
  auto t = std::make_unique<RelayTxn>();
  t->px = this;
  t->key = std::move(key);
  t->method = std::move(method);
  t->call_id = pl_view(msg.callid);
  t->invite = t->method == "INVITE";
  t->tp = msg.tp;
  t->reliable = msg.tp != SIP_TRANSP_UDP;
  // RFC 3581: with ;rport the response goes to the request's source port. (libre's
  // msg_param_exists() answers EINVAL to a null value pointer, so pass one.)
  struct pl rport;
  sip_reply_addr(&t->dst, &msg, msg_param_exists(&msg.via.params, "rport", &rport) == 0);
  // Over TCP/TLS responses go back on the request's connection, whose far end is msg.src
  // (libre connects from an ephemeral port, not from the Via's sent-by; libre traces a
  // send on a connection with the dst given here, so the Via's address mislabelled the hop).
  if (msg.tp != SIP_TRANSP_UDP && msg.sock)
    t->dst = msg.src;
  t->sock = re_adopt(mem_ref(msg.sock));
  t->to_tagged = pl_isset(&msg.to.tag);
  t->head = reply_head(msg);
  return static_cast<RelayTxn&>(table->add(std::move(t)));
}

void Proxy::Impl::start_transaction(const struct sip_msg& msg, const sip::Request& req,
                                    const Action& a, std::string key, std::string method)
{
  RelayTxn& t = add_transaction(msg, std::move(key), std::move(method));
  if (a.kind == Action::Kind::Reply) {
    table->reply(t, a.status, a.reason, a.reply_headers, a.reply_body);
    return;
  }
  // RFC 3261 §16.3 step 3: Max-Forwards 0 -> 483 (after the hook: a registrar or a UAS
  // behind the hook may still answer it).
  if (pl_isset(&msg.maxfwd) && pl_u32(&msg.maxfwd) == 0) {
    table->reply(t, 483, "Too Many Hops");
    return;
  }
  if (t.invite)
    table->reply(t, 100, "Trying");
  if (int err = forward(msg, req, a, &t); err == EEXIST) {
    // Absorbed: the same branch is being sent already; this transaction waits for its timeout.
    diag(fmt::format("{} {}: its branch is in use by a live client transaction; not sent again",
                     t.method, req.ruri));
  } else if (err) {
    diag(fmt::format("{} {}: cannot forward: {}", t.method, req.ruri, std::strerror(err)));
    table->reply(t, 503, "Service Unavailable");
    return;
  }
  int ms = a.timeout_ms ? a.timeout_ms : t.invite ? opt.timer_c_ms : opt.timeout_ms;
  if (t.own_branch) // libre's Timer F (64*T1) would answer 408 at the latest then
    ms = std::min(ms, 64 * int(SIP_T1));
  table->expect_final(t, uint64_t(ms));
}

// Send the request on: statelessly (ACK, `t` null), through our own client transaction,
// or through libre's. Returns errno.
int Proxy::Impl::forward(const struct sip_msg& msg, const sip::Request& req, const Action& a,
                         RelayTxn* t)
{
  std::string text = forward_text(msg, req, a);
  std::string ruri = a.ruri.empty() ? pl_string(msg.ruri) : a.ruri;
  std::string hop = next_hop(a, req, ruri);
  std::unique_ptr<Fallback> back;
  if (moves_to_tcp(hop, text.size() + ruri.size() + 200, opt.udp_max, has_tcp)) {
    std::string tcp = with_transport(hop, "tcp");
    if (t) // a transaction can fall back to UDP; an ACK just goes
      back = std::make_unique<Fallback>(
          Fallback{ruri, {}, std::move(hop), Fallback::Why::TcpBySize, tcp});
    hop = std::move(tcp);
  } else if (t && !a.alternate_hop.empty()) {
    back = std::make_unique<Fallback>(
        Fallback{ruri, {}, a.alternate_hop, Fallback::Why::FlowGone, hop});
  }
  struct uri u;
  struct pl hp;
  pl_set_str(&hp, hop.c_str());
  if (uri_decode(&u, &hp))
    return EINVAL;
  if (t) {
    t->record_route = a.record_route && t->method != "REGISTER";
    t->rr_params = a.record_route_params;
    t->in_tp = msg.tp;
    t->in_addr = msg.dst;
  }
  if (t && !t->invite && a.retry)
    prepare_retry(msg, req, *a.retry, *t);
  struct sa dst, laddr;
  if (t && !t->invite && own_client_dst(u, dst, laddr))
    return forward_own(ruri, text, dst, laddr, *t, 0);
  auto mb = mbuf_copy(text);
  if (!mb)
    return ENOMEM;
  if (back) {
    back->text = std::move(text);
    t->fallback = std::move(back);
  }
  expect_tls(hop);
  int err =
      sip_request(t ? t->creq.out() : nullptr, sip, t != nullptr, msg.met.p, int(msg.met.l),
                  ruri.c_str(), int(ruri.size()), &u, mb.get(), 0, send_h, t ? resp_h : nullptr, t);
  if (t && t->fallback && falls_back(err, *t->fallback))
    err = send_fallback(*t);
  return err;
}

// The next hop refused the connection: send the same request, once, where `t.fallback`
// says (libre writes a new Via, and send_h the Record-Route of the transport actually
// used). RFC 3261 §18.1.1: a request moved to TCP by its size goes over UDP; a TCP flow
// that is gone: the registered Contact. Returns errno.
int Proxy::Impl::send_fallback(RelayTxn& t)
{
  auto back = std::move(t.fallback); // once
  struct uri u;
  struct pl hp;
  pl_set_str(&hp, back->hop.c_str());
  if (uri_decode(&u, &hp))
    return EINVAL;
  // The second target of this request: its own branch, the same each time it is forwarded.
  struct sa dst, laddr;
  int err = 0;
  if (!t.invite && own_client_dst(u, dst, laddr)) {
    err = forward_own(back->ruri, back->text, dst, laddr, t, 1);
  } else {
    // libre's sip_request writes a random branch of its own (libre 1.1 takes none from us).
    auto mb = mbuf_copy(back->text);
    if (!mb)
      return ENOMEM;
    expect_tls(back->hop);
    err = sip_request(t.creq.out(), sip, true, t.method.c_str(), int(t.method.size()),
                      back->ruri.c_str(), int(back->ruri.size()), &u, mb.get(), 0, send_h, resp_h,
                      &t);
  }
  if (err)
    return err;
  std::string note =
      back->why == Fallback::Why::TcpBySize
          ? fmt::format("{} {}: TCP to {} refused; sent over UDP (RFC 3261 §18.1.1 fallback)",
                        t.method, back->ruri, back->hop)
          : fmt::format("{} {}: flow {} refused (its connection is gone); sent to the "
                        "registered Contact {}",
                        t.method, back->ruri, back->refused, back->hop);
  diag(note);
  if (auto* tr = stack->tracer())
    tr->write("note", back->hop.find(";transport=tcp") == std::string::npos ? "udp" : "tcp", "",
              back->hop, fmt::format("{}\r\nCall-ID: {}\r\n", note, t.call_id));
  return 0;
}

// Keep what the second target needs: its request rewritten now, while the received message
// is at hand (the first target's answer comes later).
void Proxy::Impl::prepare_retry(const struct sip_msg& msg, const sip::Request& req, const Retry& r,
                                RelayTxn& t)
{
  Action b = Action::forward();
  b.ruri = r.ruri;
  b.push_routes = r.push_routes;
  b.remove_headers = r.remove_headers;
  b.add_headers = r.add_headers;
  auto st = std::make_unique<SecondTarget>();
  st->on_status = r.on_status;
  st->text = forward_text(msg, req, b);
  st->ruri = r.ruri.empty() ? pl_string(msg.ruri) : r.ruri;
  st->hop = next_hop(b, req, st->ruri);
  if (moves_to_tcp(st->hop, st->text.size() + st->ruri.size() + 200, opt.udp_max, has_tcp))
    st->hop = with_transport(st->hop, "tcp");
  st->why = r.why;
  t.retry = std::move(st);
}

// The first target answered one of the second target's statuses: send the request there
// instead (once), as target 2 of this transaction. False when it could not be sent: the
// answer is relayed as it is.
bool Proxy::Impl::send_retry(RelayTxn& t, const struct sip_msg& answer)
{
  auto r = std::move(t.retry); // once
  t.fallback.reset();          // the first target's
  if (t.own_branch) {          // its answer may come again; still ours to absorb
    t.first_branch = t.own_branch;
    clients->stop(t.own_branch);
    t.own_branch = 0;
  }
  struct uri u;
  struct pl hp;
  pl_set_str(&hp, r->hop.c_str());
  struct sa dst, laddr;
  int err = 0;
  if (uri_decode(&u, &hp)) {
    err = EINVAL;
  } else if (own_client_dst(u, dst, laddr)) {
    err = forward_own(r->ruri, r->text, dst, laddr, t, 2);
  } else if (auto mb = mbuf_copy(r->text); !mb) {
    err = ENOMEM;
  } else {
    // libre cleared creq before calling us with the first target's final answer.
    expect_tls(r->hop);
    err = sip_request(t.creq.out(), sip, true, t.method.c_str(), int(t.method.size()),
                      r->ruri.c_str(), int(r->ruri.size()), &u, mb.get(), 0, send_h, resp_h, &t);
  }
  std::string note =
      fmt::format("{} {}: {} {} from the first target; {}: sent to {} via {}{}", t.method,
                  pl_view(answer.to.auri), answer.scode, pl_view(answer.reason),
                  r->why.empty() ? "retry" : r->why, r->ruri, r->hop,
                  err ? fmt::format(" failed ({})", std::strerror(err)) : "");
  diag(note);
  if (auto* tr = stack->tracer())
    tr->write("note", r->hop.find(";transport=tcp") == std::string::npos ? "udp" : "tcp", "",
              r->hop, fmt::format("{}\r\nCall-ID: {}\r\n", note, t.call_id));
  if (err)
    return false;
  int ms = opt.timeout_ms;
  if (t.own_branch)
    ms = std::min(ms, 64 * int(SIP_T1));
  table->expect_final(t, uint64_t(ms));
  return true;
}

// Whether our own client transaction can serve the next hop `u`: scheme sip, UDP (given,
// or chosen as libre would when we listen on UDP), an IP literal, no maddr. Sets the
// destination and our address towards it.
bool Proxy::Impl::own_client_dst(const struct uri& u, struct sa& dst, struct sa& laddr) const
{
  struct pl v;
  if (pl_strcasecmp(&u.scheme, "sip") != 0 || msg_param_decode(&u.params, "maddr", &v) == 0)
    return false;
  if (msg_param_decode(&u.params, "transport", &v) == 0 && pl_strcasecmp(&v, "udp") != 0)
    return false;
  std::string host(pl_view(u.host));
  if (sa_set_str(&dst, host.c_str(), u.port ? u.port : 5060) != 0)
    return false;
  return sip_transp_laddr(sip, &laddr, SIP_TRANSP_UDP, &dst) == 0;
}

// What libre's request() would write, with a branch of our own: derived from the server
// transaction's key and the `target` index (BranchGenerator), so that the same request
// forwarded again (a late retransmission whose transaction is gone) carries the same branch
// and the next hop absorbs it. A branch whose client transaction is still alive (only a
// hash collision can do that: the table absorbed retransmissions of a live transaction)
// is not sent again: EEXIST.
int Proxy::Impl::forward_own(const std::string& ruri, const std::string& text, const struct sa& dst,
                             const struct sa& laddr, RelayTxn& t, uint32_t target)
{
  uint64_t branch = branches->derive(t.key, target);
  if (clients->has(branch))
    return EEXIST;
  auto out = re_adopt(mbuf_alloc(text.size() + ruri.size() + 256));
  if (!out)
    return ENOMEM;
  int err = mbuf_printf(out.get(), "%s %s SIP/2.0\r\n", t.method.c_str(), ruri.c_str());
  err |= mbuf_printf(out.get(), "Via: SIP/2.0/UDP %J;branch=%s;rport\r\n", &laddr,
                     BranchGenerator::format(branch).data());
  err |= send_h(SIP_TRANSP_UDP, &laddr, &dst, out.get(), &t);
  err |= mbuf_write_mem(out.get(), reinterpret_cast<const uint8_t*>(text.data()), text.size());
  if (err)
    return err;
  out->pos = 0;
  if (err = clients->start(branch, t.method, dst, *out, resp_h, &t); err)
    return err;
  t.own_branch = branch;
  return 0;
}

// A response from downstream (libre's client transaction or ours), or its failure.
void Proxy::Impl::on_client_response(RelayTxn& t, int err, const struct sip_msg* msg)
{
  if (!msg) {
    if (t.fallback && falls_back(err, *t.fallback) && !t.final_code && send_fallback(t) == 0)
      return;
    if (err == ETIMEDOUT)
      table->reply(t, 408, "Request Timeout");
    else
      table->reply(t, 503, fmt::format("Next Hop Unreachable ({})", std::strerror(err)));
    return;
  }
  if (t.final_code || msg->scode == 100)
    return;
  if (msg->scode >= 200 && t.retry &&
      std::find(t.retry->on_status.begin(), t.retry->on_status.end(), int(msg->scode)) !=
          t.retry->on_status.end() &&
      send_retry(t, *msg))
    return;
  table->respond(t, response_text(*msg), msg->scode);
  if (msg->scode < 200 && t.invite)
    table->expect_final(t, uint64_t(opt.timer_c_ms));
}

// A response no client transaction matched (a retransmitted or forked 2xx): forward it
// statelessly to the second Via (RFC 3261 §16.7 step 10 / §18.2.2). False when it is not
// ours to relay: only our own Via (a 2xx retransmitted to a UA on this stack, whose ACK
// sipsess must send again, RFC 3261 §13.2.2.4), or another's top Via.
bool Proxy::Impl::forward_stray(const struct sip_msg& msg)
{
  int n = 0;
  struct sip_via via;
  bool found = false;
  for (struct le* le = msg.hdrl.head; le && !found; le = le->next) {
    auto* h = static_cast<const struct sip_hdr*>(le->data);
    if (h->id != SIP_HDR_VIA)
      continue;
    if (++n == 1) { // only responses to what we sent: our own top Via
      struct sip_via top;
      if (sip_via_decode(&top, &h->val) || !sip_transp_isladdr(sip, top.tp, &top.addr))
        return false;
      continue;
    }
    if (sip_via_decode(&via, &h->val) != 0)
      return true; // ours, but broken: dropped
    found = true;
  }
  if (!found)
    return false;
  struct sa dst = via.addr;
  struct pl v;
  if (msg_param_decode(&via.params, "received", &v) == 0)
    (void)sa_set(&dst, &v, sa_port(&via.addr));
  if (msg_param_decode(&via.params, "rport", &v) == 0 && pl_u32(&v))
    sa_set_port(&dst, uint16_t(pl_u32(&v)));
  if (!sa_port(&dst))
    sa_set_port(&dst, via.tp == SIP_TRANSP_TLS ? 5061 : 5060);
  if (auto mb = mbuf_copy(response_text(msg)))
    (void)sip_send(sip, nullptr, via.tp, &dst, mb.get());
  return true;
}

bool Proxy::Impl::req_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto& self = *static_cast<Impl*>(arg);
  int handled = sip::guarded(self.diag_sink, "the proxy's request handler", -1,
                             [&] { return self.on_request(*msg) ? 1 : 0; });
  if (handled < 0) // STYLE.md: the request that broke us still gets an answer
    (void)sip_reply(self.sip, msg, 500, "Server Internal Error");
  return handled != 0;
}

bool Proxy::Impl::resp_lsnr_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto& self = *static_cast<Impl*>(arg);
  // Not consumed: the next listener (the focus's sipsess) sees it.
  return sip::guarded(self.diag_sink, "the proxy's response handler", true,
                      [&] { return self.clients->on_response(*msg) || self.forward_stray(*msg); });
}

void Proxy::Impl::resp_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto& t = *static_cast<RelayTxn*>(arg);
  auto& self = *t.px;
  sip::guarded(self.diag_sink, "relaying a response",
               [&] { self.on_client_response(t, err, msg); });
}

// libre's send hook: our Record-Route, for a request whose transaction wants it.
int Proxy::Impl::send_h(enum sip_transp tp, const struct sa* src, const struct sa*, struct mbuf* mb,
                        void* arg) noexcept
{
  auto* t = static_cast<RelayTxn*>(arg); // nullptr for an ACK
  if (!t || !t->record_route)
    return 0;
  return record_route(mb, tp, *src, t->in_tp, t->in_addr, t->rr_params);
}

Result<std::unique_ptr<Proxy>> Proxy::create(sip::Stack& stack, Options opt, RequestHook hook)
{
  std::unique_ptr<Proxy> p(new Proxy());
  p->m = std::make_unique<Impl>();
  auto& m = *p->m;
  m.stack = &stack;
  m.sip = stack.get();
  m.opt = std::move(opt);
  m.hook = std::move(hook);
  m.diag_sink = [&m](const std::string& line) { m.diag(line); };
  for (const auto& b : stack.bound())
    if (b.rfind("tcp:", 0) == 0)
      m.has_tcp = true;
  auto timers = rt::LoopTimerQueue::create();
  if (!timers)
    return tl::unexpected(timers.error());
  m.timers = std::move(*timers);
  m.clients = std::make_unique<ClientTransactions>(*m.sip, *m.timers);
  m.branches = std::make_unique<BranchGenerator>(m.opt.branch_secret.empty()
                                                     ? BranchGenerator::random()
                                                     : BranchGenerator(m.opt.branch_secret));
  Limits limits;
  if (m.opt.max_lingering)
    limits.max_lingering = m.opt.max_lingering;
  m.table = std::make_unique<TransactionTable>(*m.timers, m, limits);
  m.limiter = std::make_unique<FloodLimiter>(m.opt.flood);
  int err = sip_listen(m.req_lsnr.out(), m.sip, true, Impl::req_h, &m);
  if (!err)
    err = sip_listen(m.resp_lsnr.out(), m.sip, false, Impl::resp_lsnr_h, &m);
  if (err)
    return fail(fmt::format("cannot listen for SIP: {}", std::strerror(err)), 3);
  return p;
}

Proxy::~Proxy() = default;

} // namespace cpm::proxy
