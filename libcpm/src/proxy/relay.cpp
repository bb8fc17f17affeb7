// The Proxy: the receive paths (our own UDP sockets and TCP listener, libre's listeners for
// TLS and its own UDP and TCP transports), the request path (parse, validate, decide, forward) and
// the response path (relay upstream, stray responses statelessly), over the transaction table.
// Every message is read with our parser (grammar/wire.hpp) and forwarded as the received
// bytes with edits (rewrite.hpp), whoever received it.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <iterator>
#include <string_view>
#include <vector>

#include "cpm/base/text.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/proxy/client_transaction.hpp"
#include "cpm/proxy/next_hop.hpp"
#include "cpm/proxy/proxy.hpp"
#include "cpm/proxy/rewrite.hpp"
#include "cpm/proxy/transaction_table.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/sip_tcp.hpp"
#include "cpm/rt/timer_queue.hpp"
#include "cpm/rt/udp_socket.hpp"

namespace cpm::proxy {

namespace wire = sip::wire;

namespace {

const char* tp_param(enum sip_transp tp)
{
  return tp == SIP_TRANSP_TCP ? ";transport=tcp" : tp == SIP_TRANSP_TLS ? ";transport=tls" : "";
}

const char* tp_name(enum sip_transp tp)
{
  return tp == SIP_TRANSP_TCP ? "tcp" : tp == SIP_TRANSP_TLS ? "tls" : "udp";
}

// The text of the addresses a proxy writes again and again (its own, its peers').
SaText& sa_text()
{
  thread_local SaText t;
  return t;
}

// "127.0.0.1:5060", "[::1]:5060" appended.
void append_sa(std::string& out, const struct sa& a)
{
  out.append(sa_text().host_port(a));
}

// Our Record-Route (RFC 3261 §16.6 step 4) for a request that came in on `in_tp`/`in` and
// leaves on `tp`/`out`: two when the transport or address changes (RFC 5658).
// `params` is the owner's (Action::record_route_params), on each.
void record_route(std::string& s, enum sip_transp tp, const struct sa& out, enum sip_transp in_tp,
                  const struct sa& in, const std::string& params)
{
  auto one = [&](enum sip_transp t, const struct sa& a) {
    s.append("Record-Route: <sip:");
    append_sa(s, a);
    s.append(tp_param(t)).append(";lr").append(params).append(">\r\n");
  };
  one(tp, out);
  if (tp != in_tp || !sa_cmp(&out, &in, SA_ALL))
    one(in_tp, in);
}

using sip::raw_of;

bool starts_with_nocase(std::string_view s, std::string_view prefix)
{
  return s.size() >= prefix.size() && text::iequals(s.substr(0, prefix.size()), prefix);
}

} // namespace

// Where a request came from and how to answer it: over one of our own UDP sockets, on a
// connection of our own TCP listener, or through libre (its message, transport and socket
// or connection; or only its UDP socket, for a datagram the stack's tap gave us).
struct Inbound {
  enum sip_transp tp = SIP_TRANSP_UDP;
  struct sa src; // the peer
  struct sa dst; // our address it came to
  rt::UdpSocket* own = nullptr;
  rt::SipTcp* tcp = nullptr; // with its connection
  rt::SipTcp::ConnId conn = 0;
  const struct sip_msg* lmsg = nullptr; // libre's message, when libre received it
  void* lsock = nullptr;                // libre's UDP socket, when its tap gave us the datagram
};

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
  rt::UdpSocket* own = nullptr; // the request came on our socket, or
  rt::SipTcp* tcp = nullptr;    // on our connection `conn`, or
  rt::SipTcp::ConnId conn = 0;  //
  re_ptr<void> sock;            // libre's UDP socket or connection
  // Over our TCP, where responses go when `conn` is gone (RFC 3261 §18.2.2).
  struct sa reopen;
  re_slot<struct sip_request> creq; // libre's client transaction, or
  uint64_t own_branch = 0;          // ours (ClientTransactions), 0: none
  bool own_tcp = false;             // which of ours: tcp_clients
  // An INVITE of ours over TCP (to a connection the peer keeps open: its REGISTER's flow):
  // the request as sent and where, for the CANCEL and the ACK of a failure we send
  // ourselves (RFC 3261 §9.1, §17.1.1.3); whether it was answered 1xx, and finally.
  std::string invite_sent;
  struct sa invite_dst;
  bool down_provisional = false;
  bool down_final = false;
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
  // Ready for the next request (Proxy::Impl::release): no client side, strings emptied
  // with their capacity kept.
  void recycle();

private:
  // Our client transactions of this request leave their tables: later answers to them
  // match nothing.
  void forget_client_side() noexcept;
};

struct Proxy::Impl final : Upstream {
  // Where our own client side sends: to `dst` from `laddr`, over UDP or our TCP.
  struct OwnDst {
    struct sa dst, laddr;
    bool tcp = false;
  };
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
  // The hook's Action, handed back to it for the next request (Incoming::reuse).
  Action hook_action;
  bool has_tcp = false;
  std::vector<rt::UdpSocket*> own_udp; // the stack's UDP sockets of our own (rt/udp_socket.hpp)
  std::vector<rt::SipTcp*> own_tcp;    // its TCP listeners of our own (rt/sip_tcp.hpp)
  std::unique_ptr<rt::LoopTimerQueue> timers;
  std::unique_ptr<ClientTransactions> clients;
  // Our non-INVITE client transactions over our own TCP: reliable, so no Timer E.
  std::unique_ptr<ClientTransactions> tcp_clients;
  ClientTransactions& clients_of(const RelayTxn& t) { return t.own_tcp ? *tcp_clients : *clients; }
  std::unique_ptr<BranchGenerator> branches; // of our own client transactions
  std::unique_ptr<TransactionTable> table;
  std::unique_ptr<FloodLimiter> limiter;
  re_slot<struct sip_lsnr> req_lsnr;
  re_slot<struct sip_lsnr> resp_lsnr;
  // Reused per message, so that steady state allocates none of them.
  wire::Message rx_req, rx_resp;
  sip::Request req_view;
  sip::IsLocal is_local;
  std::string out_text, out_wire;
  std::string rx_key;             // the received request's transaction key
  std::string fwd_ruri, fwd_hop;  // where forward() sends it
  std::string out_resp;           // a relayed response
  std::string reply_key, reply_h; // a response outside any transaction: its tag key, head
  std::string reply_out;
  // Transactions the table has released, for the next requests (at most k_spare_txns):
  // a RelayTxn keeps its strings' capacity, its timer its queue node.
  static constexpr size_t k_spare_txns = 4096;
  std::vector<std::unique_ptr<RelayTxn>> spare_txns;
  // The last next hop decoded for our own client transactions, and what it gave (most
  // requests of a busy core go to the same few hops).
  std::string last_hop;
  bool last_own = false;
  OwnDst last_dst;

  ~Impl() override
  {
    if (tap_id)
      stack->remove_udp_tap(tap_id);
    for (auto* s : own_udp)
      s->set_handler({});
    for (auto* s : own_tcp) {
      s->set_handler({});
      s->set_close_handler({});
    }
    req_lsnr.reset();
    resp_lsnr.reset();
    table.reset(); // before the client transactions and timers its entries use
    spare_txns.clear();
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

  // Our UDP socket towards `dst`'s address family, nullptr when we own none.
  rt::UdpSocket* own_socket_for(const struct sa& dst) const
  {
    for (auto* s : own_udp)
      if (sa_af(&s->local()) == sa_af(&dst))
        return s;
    return nullptr;
  }

  // Our TCP listener for `dst`'s address family, nullptr when we own none.
  rt::SipTcp* own_tcp_for(const struct sa& dst) const
  {
    for (auto* s : own_tcp)
      if (sa_af(&s->local()) == sa_af(&dst))
        return s;
    return nullptr;
  }

  // Over our own TCP, a message to `dst`: on the open connection to it (accepted or
  // opened), else on a new one from our own address. Returns errno; `conn` gets the
  // connection used.
  int send_tcp(const struct sa& dst, std::string_view bytes, rt::SipTcp::ConnId* conn = nullptr)
  {
    auto* s = own_tcp_for(dst);
    return s ? s->send_to(dst, bytes, conn) : EAFNOSUPPORT;
  }

  // Inside a burst of received datagrams, what we send is queued for one sendmmsg at its
  // end (UdpSocket::flush); outside (a timer, a message libre received) or on another
  // socket, it goes at once.
  rt::UdpSocket* in_burst = nullptr;
  int udp_out(rt::UdpSocket& s, const struct sa& dst, std::string_view bytes)
  {
    return in_burst == &s ? s.queue(dst, bytes) : s.send_now(dst, bytes);
  }

  // Send a datagram from our socket when we own one for that family, else through libre's
  // UDP transport. Returns errno.
  int send_udp(const struct sa& dst, std::string_view bytes)
  {
    if (auto* s = own_socket_for(dst))
      return udp_out(*s, dst, bytes);
    return stack->send_udp(nullptr, dst, bytes);
  }

  void send(ServerTransaction& st, std::string_view response) override
  {
    auto& t = static_cast<RelayTxn&>(st);
    int err = 0;
    if (t.own) {
      err = udp_out(*t.own, t.dst, response);
    } else if (t.tcp) {
      // Back on the request's connection; when it is gone, on a connection to the Via's
      // received address and sent-by port (RFC 3261 §18.2.2), which send_to opens.
      err = t.tcp->send(t.conn, response);
      if (err == ENOTCONN)
        err = t.tcp->send_to(t.reopen, response, &t.conn);
    } else if (t.tp == SIP_TRANSP_UDP) {
      err = stack->send_udp(t.sock.get(), t.dst, response);
    } else {
      auto mb = mbuf_copy(response);
      err = mb ? sip_send(sip, t.sock.get(), t.tp, &t.dst, mb.get()) : ENOMEM;
    }
    if (err)
      diag(fmt::format("cannot send {} upstream: {}", response.substr(8, 3), std::strerror(err)));
  }

  void finish(ServerTransaction& st) override
  {
    auto& t = static_cast<RelayTxn&>(st);
    // Our INVITE over TCP, answered 1xx and not finally (CANCEL from upstream, Timer C):
    // CANCEL it (RFC 3261 §16.10). Before any 1xx a CANCEL must not be sent (§9.1); over a
    // connection the callee's final answer then still comes, and is ACKed.
    if (!t.invite_sent.empty() && t.down_provisional && !t.down_final)
      send_invite_sibling(t, "CANCEL", nullptr);
    t.creq.reset();
    if (t.own_branch)
      clients_of(t).stop(t.own_branch);
    // What only an unanswered request needs goes now, not after the linger (the table
    // gives back the head and Call-ID buffers).
    t.fallback.reset();
    t.retry.reset();
  }

  void release(std::unique_ptr<ServerTransaction> st) override
  {
    std::unique_ptr<RelayTxn> t(static_cast<RelayTxn*>(st.release()));
    t->recycle();
    if (spare_txns.size() < spare_txns.capacity()) // reserved: no allocation
      spare_txns.push_back(std::move(t));
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

  // The address a response to `wm` goes to (RFC 3261 §18.2.2, RFC 3581): over UDP the
  // source address, with the Via's port unless it asked for rport (maddr: there); over a
  // connection, back on it.
  static struct sa reply_addr(const Inbound& in, const wire::Message& wm)
  {
    return in.tp == SIP_TRANSP_UDP ? udp_response_address(in.src, wm) : in.src;
  }

  // Over a connection that is gone, RFC 3261 §18.2.2: the source's address (the Via's
  // received) at the Via's sent-by port.
  static struct sa reopen_addr(const Inbound& in, const wire::Message& wm)
  {
    struct sa a = in.src;
    sa_set_port(&a, wm.via.port ? wm.via.port : in.tp == SIP_TRANSP_TLS ? 5061 : 5060);
    return a;
  }

  void send_to(const Inbound& in, const struct sa& dst, std::string_view bytes,
               const struct sa* reopen = nullptr)
  {
    int err = 0;
    if (in.own) {
      err = udp_out(*in.own, dst, bytes);
    } else if (in.tcp) {
      err = in.tcp->send(in.conn, bytes);
      if (err == ENOTCONN && reopen)
        err = in.tcp->send_to(*reopen, bytes);
    } else if (void* sock = in.lmsg ? in.lmsg->sock : in.lsock; in.tp == SIP_TRANSP_UDP) {
      err = stack->send_udp(sock, dst, bytes);
    } else if (auto mb = mbuf_copy(bytes); !mb) {
      err = ENOMEM;
    } else {
      err = sip_send(sip, sock, in.tp, &dst, mb.get());
    }
    if (err)
      diag(fmt::format("cannot send a response to {}: {}", sa_str(dst), std::strerror(err)));
  }

  // A response outside any transaction (flood limits, malformed requests, CANCEL): the
  // table's builder, local_response, on a head and tag key of our own.
  void reply(const Inbound& in, const wire::Message& wm, int code, std::string_view reason,
             const std::vector<std::string>& extra = {})
  {
    char ip[64];
    (void)re_snprintf(ip, sizeof ip, "%j", &in.src);
    reply_h.clear();
    reply_head(wm, ip, sa_port(&in.src), reply_h);
    reply_key.clear();
    fmt::format_to(std::back_inserter(reply_key), "{}|{}|{}", wm.call_id, wm.via.branch, wm.cseq);
    reply_out.clear();
    local_response(reply_out, reply_h, reply_key, !wm.to_tag().empty(), code, reason, extra);
    struct sa reopen = reopen_addr(in, wm);
    send_to(in, reply_addr(in, wm), reply_out, &reopen);
  }

  bool admit(const Inbound& in, const wire::Message& wm);
  bool on_request(const Inbound& in, wire::Message& wm, const wire::Parsed& p);
  void on_response(wire::Message& wm);
  bool on_cancel(const Inbound& in, const wire::Message& wm, const std::string& key);
  bool acceptable(const Inbound& in, const wire::Message& wm, const sip::Request& req, bool ack);
  Action decide(const Inbound& in, const wire::Message& wm, sip::Request& req, bool ack);
  void start_transaction(const Inbound& in, const wire::Message& wm, const sip::Request& req,
                         const Action& a, std::string_view key);
  RelayTxn& add_transaction(const Inbound& in, const wire::Message& wm, std::string_view key);
  int forward(const Inbound& in, const wire::Message& wm, const sip::Request& req, const Action& a,
              RelayTxn* t, const std::string& key);
  bool own_client_dst(const std::string& hop, OwnDst& d);
  int forward_own(const std::string& ruri, std::string_view text, const OwnDst& d, RelayTxn& t,
                  uint32_t target);
  int forward_ack(const std::string& ruri, std::string_view text, const OwnDst& d,
                  const std::string& key);
  int send_fallback(RelayTxn& t);
  void prepare_retry(const wire::Message& wm, const sip::Request& req, const Retry& r, RelayTxn& t);
  bool send_retry(RelayTxn& t, const wire::Message& answer);
  void on_client_response(RelayTxn& t, int err, const wire::Message* msg);
  void send_invite_sibling(RelayTxn& t, std::string_view method, const wire::Message* answer);
  bool flow_open(const struct sa& dst) const
  {
    auto* s = own_tcp_for(dst);
    return s && s->find(dst) != 0;
  }
  bool forward_stray(const wire::Message& wm);

  void on_datagram(rt::UdpSocket& sock, std::string_view data, const struct sa& src);
  // The stack's tap on libre's UDP sockets (a node without sockets of its own: a
  // conversation server, whose sessions are libre's): the proxy takes out-of-dialog
  // MESSAGE requests and the responses to its own client transactions there, parsed once
  // by wire::parse, and leaves the rest (INVITE and every dialog, what wire::parse refuses)
  // to libre's decoder, sip_listen and sipsess.
  bool tap_claim(std::string_view data);
  void tap_serve(const struct sa& src, const struct sa& local, void* sock);
  wire::Parsed tap_parsed;
  uint64_t tap_id = 0;
  void on_stream(rt::SipTcp& tcp, const rt::SipTcp::Received& r);
  void on_closed(rt::SipTcp::ConnId conn, int err);
  static bool req_h(const struct sip_msg* msg, void* arg) noexcept;
  static bool resp_lsnr_h(const struct sip_msg* msg, void* arg) noexcept;
  static void resp_h(int err, const struct sip_msg* msg, void* arg) noexcept;
  static void own_resp_h(int err, const wire::Message* msg, void* arg) noexcept;
  static int send_h(enum sip_transp tp, const struct sa* src, const struct sa* dst, struct mbuf* mb,
                    void* arg) noexcept;
};

void RelayTxn::forget_client_side() noexcept
{
  if (own_branch)
    px->clients_of(*this).erase(own_branch);
  if (first_branch) { // either table: a branch is in one of them at most
    px->clients->erase(first_branch);
    px->tcp_clients->erase(first_branch);
  }
  own_branch = first_branch = 0;
}

RelayTxn::~RelayTxn()
{
  forget_client_side();
}

void RelayTxn::recycle()
{
  forget_client_side();
  creq.reset();
  sock.reset();
  own = nullptr;
  tcp = nullptr;
  conn = 0;
  own_tcp = false;
  invite_sent.clear();
  down_provisional = down_final = false;
  tp = in_tp = SIP_TRANSP_UDP;
  record_route = false;
  rr_params.clear();
  fallback.reset();
  retry.reset();
  reuse();
}

namespace {

// The server-transaction key of a request (RFC 3261 §17.2.3), or for a branch without the
// magic cookie the RFC 2543 match: Call-ID, CSeq number, From tag, sent-by. Written over
// `out`.
void request_key(const wire::Message& wm, std::string& out)
{
  if (wm.via.branch.size() > 7 && wm.via.branch.substr(0, 7) == "z9hG4bK")
    txn_key(out, wm.via.branch, wm.via.sent_by, wm.method);
  else
    txn_key(out, fmt::format("{}|{}|{}", wm.call_id, wm.cseq, wm.from_tag()), wm.via.sent_by,
            wm.method);
}

} // namespace

struct sa udp_response_address(const struct sa& src, const wire::Message& wm)
{
  struct sa a = src;
  if (auto maddr = sip::find_param(wm.via.params, "maddr"); maddr && !maddr->empty()) {
    std::string host(*maddr);
    if (sa_set_str(&a, host.c_str(), wm.via.port ? wm.via.port : 5060) == 0)
      return a;
    a = src;
  }
  if (!wm.via.rport)
    sa_set_port(&a, wm.via.port ? wm.via.port : 5060);
  return a;
}

// A datagram on one of our own UDP sockets: a request, a response, or a keep-alive.
void Proxy::Impl::on_datagram(rt::UdpSocket& sock, std::string_view data, const struct sa& src)
{
  if (data.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return; // a keep-alive (RFC 5626 §4.4.1 sends CRLFs over streams; some UAs over UDP)
  auto p = wire::parse(data, rx_req, wire::Framing::Datagram);
  if (!rx_req.request) {
    if (p.verdict != wire::Verdict::Ok) {
      diag(fmt::format("dropped a response from {}: {}", sa_str(src), p.why));
      return;
    }
    std::swap(rx_req, rx_resp); // the response path keeps its own (it may forward requests)
    on_response(rx_resp);
    return;
  }
  Inbound in;
  in.tp = SIP_TRANSP_UDP;
  in.src = src;
  in.dst = sock.local();
  in.own = &sock;
  on_request(in, rx_req, p);
}

bool Proxy::Impl::tap_claim(std::string_view data)
{
  tap_parsed = wire::parse(data, rx_req, wire::Framing::Datagram);
  if (tap_parsed.verdict != wire::Verdict::Ok)
    return false; // libre's decoder says what it says of it, as before the tap
  if (!rx_req.request)
    return clients->matches(rx_req);
  return rx_req.method == "MESSAGE" && rx_req.to_tag().empty();
}

void Proxy::Impl::tap_serve(const struct sa& src, const struct sa& local, void* sock)
{
  if (!rx_req.request) {
    std::swap(rx_req, rx_resp); // as on_datagram
    (void)clients->on_response(rx_resp);
    return;
  }
  Inbound in;
  in.tp = SIP_TRANSP_UDP;
  in.src = src;
  in.dst = local;
  in.lsock = sock;
  on_request(in, rx_req, tap_parsed);
}

// A message on a connection of our own TCP listener (framed, keep-alives answered by
// rt::SipTcp): a request, or a response to one of our client transactions or stray.
void Proxy::Impl::on_stream(rt::SipTcp& tcp, const rt::SipTcp::Received& r)
{
  if (!r.message.request) {
    if (r.parsed.verdict != wire::Verdict::Ok) {
      diag(fmt::format("dropped a response from tcp:{}: {}", sa_str(r.peer), r.parsed.why));
      return;
    }
    on_response(r.message);
    return;
  }
  Inbound in;
  in.tp = SIP_TRANSP_TCP;
  in.src = r.peer;
  in.dst = tcp.local(); // the listen address, which our Via and Record-Route name
  in.tcp = &tcp;
  in.conn = r.conn;
  on_request(in, r.message, r.parsed);
}

// A connection of ours is gone: a client transaction still waiting on it learns why (a
// refused connection falls back as libre's would; anything else ends in 503). Responses
// that were to go back on it take a new connection (RelayTxn::reopen).
void Proxy::Impl::on_closed(rt::SipTcp::ConnId conn, int err)
{
  // A peer that closes with a request of ours unanswered will not answer it.
  tcp_clients->fail_connection(conn, err ? err : ECONNRESET);
}

bool Proxy::Impl::on_request(const Inbound& in, wire::Message& wm, const wire::Parsed& p)
{
  if (p.verdict == wire::Verdict::Drop || wm.via.sent_by.empty()) {
    diag(fmt::format("dropped a request from {}: {}", sa_str(in.src),
                     p.verdict == wire::Verdict::Drop ? p.why : "no usable Via to answer to"));
    return true;
  }
  if (!admit(in, wm))
    return true;
  bool ack = wm.method == "ACK";
  if (p.verdict != wire::Verdict::Ok) {
    int code = p.verdict == wire::Verdict::Version ? 505 : 400;
    diag(fmt::format("{} from {}: {} {}", wm.method, sa_str(in.src), code, p.why));
    if (!ack)
      reply(in, wm, code, code == 505 ? "Version Not Supported" : p.why);
    return true;
  }
  request_key(wm, rx_key);
  const std::string& key = rx_key;
  if (wm.method == "CANCEL")
    return on_cancel(in, wm, key);
  if (table->absorb(key, ack))
    return true;
  char source[80];
  auto end =
      fmt::format_to_n(source, sizeof source, "{}:{}", tp_name(in.tp), sa_text().host_port(in.src));
  sip::fill_request(wm, std::string_view(source, size_t(end.out - source)), is_local, req_view);
  sip::Request& req = req_view;
  if (!acceptable(in, wm, req, ack))
    return true;
  Action a = decide(in, wm, req, ack);
  // Its storage goes back for the next request's hook, whichever way this one ends.
  struct GiveBack {
    Action& a;
    Action& to;
    ~GiveBack() { to = std::move(a); }
  } give_back{a, hook_action};
  if (a.kind == Action::Kind::Pass) {
    if (in.lmsg)
      return false;
    // Only libre's listeners can take a request further (a B2BUA's sipsess).
    diag(fmt::format("{} {}: passed on, but nothing behind the proxy takes it over {}", req.method,
                     req.ruri, tp_name(in.tp)));
    if (!ack)
      reply(in, wm, 500, "Server Internal Error");
    return true;
  }
  if (a.kind == Action::Kind::Drop)
    return true;
  if (ack) { // stateless (a Reply is dropped: an ACK is never answered)
    if (a.kind == Action::Kind::Forward)
      if (int err = forward(in, wm, req, a, nullptr, key); err)
        diag(fmt::format("cannot forward ACK: {}", std::strerror(err)));
    return true;
  }
  start_transaction(in, wm, req, a, key);
  return true;
}

// The flood limits (flood.hpp), before anything else is done: a source over its rate gets
// 503 with Retry-After once and then silence; a request too large, 513. False: answered
// or dropped here.
bool Proxy::Impl::admit(const Inbound& in, const wire::Message& wm)
{
  bool ack = wm.method == "ACK";
  if (limiter->limits_rate()) {
    char src[64];
    (void)re_snprintf(src, sizeof src, "%j", &in.src);
    // Over a connection, the top Via's host too (FloodLimiter::check).
    std::string_view via = in.tp != SIP_TRANSP_UDP ? wm.via.host : std::string_view();
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
                       src, d.count, l.window_ms, l.max_requests, wm.method,
                       ack ? "not answered (an ACK)"
                           : fmt::format("answered 503 with Retry-After: {}", l.block_s),
                       l.block_s));
      if (!ack)
        reply(in, wm, 503, "Service Unavailable", {fmt::format("Retry-After: {}", l.block_s)});
      return false;
    }
  }
  // libre cuts what it receives over UDP at its 8192-byte buffer; our sockets take a whole
  // datagram.
  if (auto why = limiter->too_large(wm.raw.size(), in.tp == SIP_TRANSP_UDP && !in.own);
      !why.empty()) {
    diag(fmt::format("{} from {}: 513 Message Too Large: {}", wm.method, sa_str(in.src), why));
    if (!ack)
      reply(in, wm, 513, "Message Too Large");
    return false;
  }
  return true;
}

bool Proxy::Impl::on_cancel(const Inbound& in, const wire::Message& wm, const std::string& key)
{
  ServerTransaction* t = table->find(key);
  if (!t) {
    if (!in.lmsg || !opt.unmatched_cancel || !opt.unmatched_cancel(in.lmsg))
      reply(in, wm, 481, "Call/Transaction Does Not Exist");
    return true;
  }
  reply(in, wm, 200, "OK");
  table->cancel(*t);
  return true;
}

// RFC 3261 §16.3: a request we cannot relay gets its error answer here (ACKs none). The
// parser (wire::parse) has refused what is malformed.
bool Proxy::Impl::acceptable(const Inbound& in, const wire::Message& wm, const sip::Request& req,
                             bool ack)
{
  // tel: too (RFC 3966): a number is routed by triggers, a Route set or a "tel" peer.
  if (!starts_with_nocase(wm.ruri, "sip:") && !starts_with_nocase(wm.ruri, "sips:") &&
      !starts_with_nocase(wm.ruri, "tel:")) {
    if (!ack)
      reply(in, wm, 416, "Unsupported URI Scheme");
    diag(fmt::format("{} from {}: unsupported URI scheme in {}", req.method, req.source, req.ruri));
    return false;
  }
  if (const auto* pr = wm.find(wire::Hdr::ProxyRequire); pr && !ack) {
    reply(in, wm, 420, "Bad Extension", {fmt::format("Unsupported: {}", pr->value)});
    return false;
  }
  return true;
}

// The owner's hook; an exception there becomes a 500.
Action Proxy::Impl::decide(const Inbound& in, const wire::Message& wm, sip::Request& req, bool ack)
{
  hook_action.clear();
  Incoming inc{req, in.lmsg, !wm.to_tag().empty(), ack, &hook_action, &wm};
  try {
    return hook ? hook(inc) : Action::forward();
  } catch (const std::exception& e) {
    diag(fmt::format("internal error deciding {}: {}", req.method, e.what()));
    return Action::reply(500, "Server Internal Error");
  }
}

RelayTxn& Proxy::Impl::add_transaction(const Inbound& in, const wire::Message& wm,
                                       std::string_view key)
{
  std::unique_ptr<RelayTxn> t;
  if (spare_txns.empty()) {
    t = std::make_unique<RelayTxn>();
  } else { // one the table released: its strings keep their capacity
    t = std::move(spare_txns.back());
    spare_txns.pop_back();
  }
  t->px = this;
  t->key.assign(key);
  t->method.assign(wm.method);
  // A buffer a completed transaction gave back (a released one kept its own when it left
  // unanswered).
  const size_t small = std::string().capacity();
  if (t->call_id.capacity() <= small)
    t->call_id = table->spare_string();
  t->call_id.assign(wm.call_id);
  t->invite = t->method == "INVITE";
  t->tp = in.tp;
  t->reliable = in.tp != SIP_TRANSP_UDP;
  // Over TCP/TLS responses go back on the request's connection, whose far end is the
  // source (libre connects from an ephemeral port, not from the Via's sent-by).
  t->dst = reply_addr(in, wm);
  t->own = in.own;
  t->tcp = in.tcp;
  t->conn = in.conn;
  if (in.tcp)
    t->reopen = reopen_addr(in, wm);
  if (in.lmsg || in.lsock)
    t->sock = re_adopt(mem_ref(in.lmsg ? in.lmsg->sock : in.lsock));
  t->to_tagged = !wm.to_tag().empty();
  if (t->head.capacity() <= small)
    t->head = table->spare_string();
  reply_head(wm, sa_text().host(in.src), sa_port(&in.src), t->head);
  return static_cast<RelayTxn&>(table->add(std::move(t)));
}

void Proxy::Impl::start_transaction(const Inbound& in, const wire::Message& wm,
                                    const sip::Request& req, const Action& a, std::string_view key)
{
  RelayTxn& t = add_transaction(in, wm, key);
  if (a.kind == Action::Kind::Reply) {
    table->reply(t, a.status, a.reason, a.reply_headers, a.reply_body);
    return;
  }
  // RFC 3261 §16.3 step 3: Max-Forwards 0 -> 483 (after the hook: a registrar or a UAS
  // behind the hook may still answer it).
  if (wm.max_forwards == 0) {
    table->reply(t, 483, "Too Many Hops");
    return;
  }
  if (t.invite)
    table->reply(t, 100, "Trying");
  if (int err = forward(in, wm, req, a, &t, t.key); err == EEXIST) {
    // Absorbed: the same branch is being sent already; this transaction waits for its timeout.
    diag(fmt::format("{} {}: its branch is in use by a live client transaction; not sent again",
                     t.method, req.ruri));
  } else if (err) {
    diag(fmt::format("{} {}: cannot forward: {}", t.method, req.ruri, std::strerror(err)));
    table->reply(t, 503, "Service Unavailable");
    return;
  }
  int ms = a.timeout_ms ? a.timeout_ms : t.invite ? opt.timer_c_ms : opt.timeout_ms;
  if (t.own_branch && !t.invite) // libre's Timer F (64*T1) would answer 408 at the latest then
    ms = std::min(ms, 64 * int(SIP_T1));
  table->expect_final(t, uint64_t(ms));
}

// Send the request on: statelessly (ACK, `t` null), through our own client transaction,
// or through libre's. Returns errno.
int Proxy::Impl::forward(const Inbound& in, const wire::Message& wm, const sip::Request& req,
                         const Action& a, RelayTxn* t, const std::string& key)
{
  out_text.clear();
  forward_text(wm, req.routes.size(), a, out_text);
  std::string& ruri = fwd_ruri;
  ruri.assign(a.ruri.empty() ? wm.ruri : std::string_view(a.ruri));
  std::string& hop = fwd_hop;
  hop.assign(next_hop_view(a, req, ruri));
  std::unique_ptr<Fallback> back;
  if (moves_to_tcp(hop, out_text.size() + ruri.size() + 200, opt.udp_max, has_tcp)) {
    std::string tcp = with_transport(hop, "tcp");
    if (t) // a transaction can fall back to UDP; an ACK just goes
      back = std::make_unique<Fallback>(Fallback{ruri, {}, hop, Fallback::Why::TcpBySize, tcp});
    hop = std::move(tcp);
  } else if (t && !a.alternate_hop.empty()) {
    back = std::make_unique<Fallback>(
        Fallback{ruri, {}, a.alternate_hop, Fallback::Why::FlowGone, hop});
  }
  if (t) {
    t->record_route = a.record_route && t->method != "REGISTER";
    t->rr_params = a.record_route_params;
    t->in_tp = in.tp;
    t->in_addr = in.dst;
  }
  if (t && !t->invite && a.retry)
    prepare_retry(wm, req, *a.retry, *t);
  // INVITE stays on libre's client transactions (Timers A/B, its ACK to a failure, CANCEL),
  // over TCP too: connected by libre, unbound (cpm-core-route(1)); except to a connection
  // open on our own TCP (a client's REGISTER flow), which libre cannot reach: ours then,
  // with no retransmissions to make (reliable), Timer C on the server side, and the CANCEL
  // and the ACK of a failure sent here.
  OwnDst d;
  if (own_client_dst(hop, d) && (!t || !t->invite || (d.tcp && flow_open(d.dst)))) {
    if (!t)
      return forward_ack(ruri, out_text, d, key);
    if (back && d.tcp) { // over UDP nothing tells of a refusal
      back->text = out_text;
      t->fallback = std::move(back);
    }
    int err = forward_own(ruri, out_text, d, *t, 0);
    if (t->fallback && falls_back(err, *t->fallback))
      err = send_fallback(*t);
    return err;
  }
  struct uri u;
  struct pl hp;
  pl_set_str(&hp, hop.c_str());
  if (uri_decode(&u, &hp))
    return EINVAL;
  auto mb = mbuf_copy(out_text);
  if (!mb)
    return ENOMEM;
  if (back) {
    back->text = out_text;
    t->fallback = std::move(back);
  }
  expect_tls(hop);
  int err = sip_request(t ? t->creq.out() : nullptr, sip, t != nullptr, wm.method.data(),
                        int(wm.method.size()), ruri.c_str(), int(ruri.size()), &u, mb.get(), 0,
                        send_h, t ? resp_h : nullptr, t);
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
  // The second target of this request: its own branch, the same each time it is forwarded.
  OwnDst d;
  int err = 0;
  if (!t.invite && own_client_dst(back->hop, d)) {
    if (t.own_branch) { // the refused one: nothing comes on a connection never opened
      clients_of(t).erase(t.own_branch);
      t.own_branch = 0;
    }
    err = forward_own(back->ruri, back->text, d, t, 1);
  } else {
    if (t.own_branch) { // an INVITE of ours whose flow is gone: libre's from now on
      clients_of(t).erase(t.own_branch);
      t.own_branch = 0;
      t.invite_sent.clear();
    }
    struct uri u;
    struct pl hp;
    pl_set_str(&hp, back->hop.c_str());
    if (uri_decode(&u, &hp))
      return EINVAL;
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
void Proxy::Impl::prepare_retry(const wire::Message& wm, const sip::Request& req, const Retry& r,
                                RelayTxn& t)
{
  Action b = Action::forward();
  b.ruri = r.ruri;
  b.push_routes = r.push_routes;
  b.remove_headers = r.remove_headers;
  b.add_headers = r.add_headers;
  auto st = std::make_unique<SecondTarget>();
  st->on_status = r.on_status;
  forward_text(wm, req.routes.size(), b, st->text);
  st->ruri = r.ruri.empty() ? std::string(wm.ruri) : r.ruri;
  st->hop = next_hop(b, req, st->ruri);
  if (moves_to_tcp(st->hop, st->text.size() + st->ruri.size() + 200, opt.udp_max, has_tcp))
    st->hop = with_transport(st->hop, "tcp");
  st->why = r.why;
  t.retry = std::move(st);
}

// The first target answered one of the second target's statuses: send the request there
// instead (once), as target 2 of this transaction. False when it could not be sent: the
// answer is relayed as it is.
bool Proxy::Impl::send_retry(RelayTxn& t, const wire::Message& answer)
{
  auto r = std::move(t.retry); // once
  t.fallback.reset();          // the first target's
  if (t.own_branch) {          // its answer may come again; still ours to absorb
    t.first_branch = t.own_branch;
    clients_of(t).stop(t.own_branch);
    t.own_branch = 0;
  }
  std::string note = fmt::format("{} {}: {} {} from the first target; {}: sent to {} via {}",
                                 t.method, answer.to_uri(), answer.status, answer.reason,
                                 r->why.empty() ? "retry" : r->why, r->ruri, r->hop);
  struct uri u;
  struct pl hp;
  pl_set_str(&hp, r->hop.c_str());
  OwnDst d;
  int err = 0;
  if (own_client_dst(r->hop, d)) {
    err = forward_own(r->ruri, r->text, d, t, 2);
  } else if (uri_decode(&u, &hp)) {
    err = EINVAL;
  } else if (auto mb = mbuf_copy(r->text); !mb) {
    err = ENOMEM;
  } else {
    // libre cleared creq before calling us with the first target's final answer.
    expect_tls(r->hop);
    err = sip_request(t.creq.out(), sip, true, t.method.c_str(), int(t.method.size()),
                      r->ruri.c_str(), int(r->ruri.size()), &u, mb.get(), 0, send_h, resp_h, &t);
  }
  if (err)
    note += fmt::format(" failed ({})", std::strerror(err));
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

// Whether our own client transaction can serve the next hop `hop`: scheme sip, an IP
// literal, no maddr, and UDP (given, or chosen as libre would when we listen on UDP) or
// TCP when we own a TCP listener of its family (sent from our own address). Sets the
// destination and our address towards it. The last hop's answer is kept.
bool Proxy::Impl::own_client_dst(const std::string& hop, OwnDst& d)
{
  if (hop == last_hop) {
    d = last_dst;
    return last_own;
  }
  last_hop = hop;
  last_own = false;
  struct uri u;
  struct pl hp, v;
  pl_set_str(&hp, last_hop.c_str());
  if (uri_decode(&u, &hp) || pl_strcasecmp(&u.scheme, "sip") != 0 ||
      msg_param_decode(&u.params, "maddr", &v) == 0)
    return false;
  bool tcp = false;
  if (msg_param_decode(&u.params, "transport", &v) == 0) {
    tcp = pl_strcasecmp(&v, "tcp") == 0;
    if (!tcp && pl_strcasecmp(&v, "udp") != 0)
      return false;
  }
  std::string host(pl_view(u.host));
  OwnDst& o = last_dst;
  o.tcp = tcp;
  if (sa_set_str(&o.dst, host.c_str(), u.port ? u.port : 5060) != 0)
    return false;
  if (tcp) {
    auto* s = own_tcp_for(o.dst);
    if (!s)
      return false;
    o.laddr = s->local();
  } else if (auto* s = own_socket_for(o.dst)) {
    o.laddr = s->local();
  } else if (sip_transp_laddr(sip, &o.laddr, SIP_TRANSP_UDP, &o.dst) != 0) {
    return false;
  }
  last_own = true;
  d = o;
  return true;
}

namespace {

// "METHOD ruri SIP/2.0" and our Via with `branch`, the start of what we send ourselves.
void request_start(std::string& s, std::string_view method, std::string_view ruri,
                   const struct sa& laddr, bool tcp, uint64_t branch)
{
  s.append(method).append(" ").append(ruri).append(tcp ? " SIP/2.0\r\nVia: SIP/2.0/TCP "
                                                       : " SIP/2.0\r\nVia: SIP/2.0/UDP ");
  append_sa(s, laddr);
  s.append(";branch=").append(BranchGenerator::format(branch).data()).append(";rport\r\n");
}

} // namespace

// What libre's request() would write, with a branch of our own: derived from the server
// transaction's key and the `target` index (BranchGenerator), so that the same request
// forwarded again (a late retransmission whose transaction is gone) carries the same branch
// and the next hop absorbs it. A branch whose client transaction is still alive (only a
// hash collision can do that: the table absorbed retransmissions of a live transaction)
// is not sent again: EEXIST.
int Proxy::Impl::forward_own(const std::string& ruri, std::string_view text, const OwnDst& d,
                             RelayTxn& t, uint32_t target)
{
  uint64_t branch = branches->derive(t.key, target);
  if (clients->has(branch) || tcp_clients->has(branch))
    return EEXIST;
  out_wire.clear();
  request_start(out_wire, t.method, ruri, d.laddr, d.tcp, branch);
  if (t.record_route)
    record_route(out_wire, d.tcp ? SIP_TRANSP_TCP : SIP_TRANSP_UDP, d.laddr, t.in_tp, t.in_addr,
                 t.rr_params);
  out_wire.append(text);
  auto& c = d.tcp ? *tcp_clients : *clients;
  if (int err = c.start(branch, t.method, d.dst, out_wire, own_resp_h, &t); err)
    return err;
  t.own_branch = branch;
  t.own_tcp = d.tcp;
  if (t.invite) {
    t.invite_sent.assign(out_wire);
    t.invite_dst = d.dst;
  }
  return 0;
}

// An ACK forwarded statelessly from our socket: its branch derived from its own key (a 2xx's
// ACK is a transaction of its own, RFC 3261 §17.1.1.3), the same if it comes again.
int Proxy::Impl::forward_ack(const std::string& ruri, std::string_view text, const OwnDst& d,
                             const std::string& key)
{
  out_wire.clear();
  request_start(out_wire, "ACK", ruri, d.laddr, d.tcp, branches->derive(key, 3));
  out_wire.append(text);
  return d.tcp ? send_tcp(d.dst, out_wire) : send_udp(d.dst, out_wire);
}

// A response from downstream (libre's client transaction or ours), or its failure.
void Proxy::Impl::on_client_response(RelayTxn& t, int err, const wire::Message* msg)
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
  if (!t.invite_sent.empty()) {
    if (msg->status < 200) {
      t.down_provisional = true;
    } else {
      t.down_final = true;
      if (msg->status >= 300) // ours to acknowledge, hop by hop (a 2xx's ACK is the caller's)
        send_invite_sibling(t, "ACK", msg);
    }
  }
  if (t.final_code || msg->status == 100)
    return;
  if (msg->status >= 200 && t.retry &&
      std::find(t.retry->on_status.begin(), t.retry->on_status.end(), msg->status) !=
          t.retry->on_status.end() &&
      send_retry(t, *msg))
    return;
  out_resp.clear();
  response_text(*msg, out_resp);
  table->respond(t, out_resp, msg->status);
  if (msg->status < 200 && t.invite)
    table->expect_final(t, uint64_t(opt.timer_c_ms));
}

// The CANCEL of our INVITE over TCP, or the ACK of its failure `answer`: its Request-URI,
// top Via, Route, From, Call-ID and CSeq number, and the To of the answer for an ACK
// (RFC 3261 §9.1, §17.1.1.3), sent where the INVITE went.
void Proxy::Impl::send_invite_sibling(RelayTxn& t, std::string_view method,
                                      const wire::Message* answer)
{
  wire::Message inv;
  if (wire::parse(t.invite_sent, inv).verdict != wire::Verdict::Ok)
    return;
  std::string s;
  s.append(method).append(" ").append(inv.ruri).append(" SIP/2.0\r\n");
  bool via = false;
  for (const auto& f : inv.fields) {
    if (f.id == wire::Hdr::Via && !via) {
      via = true; // ours, a line of its own (request_start)
      s.append(f.line);
    } else if (f.id == wire::Hdr::Route || f.id == wire::Hdr::From || f.id == wire::Hdr::CallId) {
      s.append(f.line);
    } else if (f.id == wire::Hdr::To) {
      const auto* to = answer ? answer->find(wire::Hdr::To) : nullptr;
      s.append(to ? to->line : f.line);
    }
  }
  fmt::format_to(std::back_inserter(s), "Max-Forwards: 70\r\nCSeq: {} {}\r\n", inv.cseq, method);
  s.append("Content-Length: 0\r\n\r\n");
  if (int err = send_tcp(t.invite_dst, s); err)
    diag(fmt::format("cannot send {} for INVITE {}: {}", method, t.call_id, std::strerror(err)));
}

// A response on one of our sockets: to one of our client transactions, else stray.
void Proxy::Impl::on_response(wire::Message& wm)
{
  if (!clients->on_response(wm) && !tcp_clients->on_response(wm))
    (void)forward_stray(wm);
}

// A response no client transaction matched (a retransmitted or forked 2xx): forward it
// statelessly to the second Via (RFC 3261 §16.7 step 10 / §18.2.2). False when it is not
// ours to relay: only our own Via (a 2xx retransmitted to a UA on this stack, whose ACK
// sipsess must send again, RFC 3261 §13.2.2.4), or another's top Via.
bool Proxy::Impl::forward_stray(const wire::Message& wm)
{
  if (wm.via.sent_by.empty() || !stack->is_local(wm.via.host, wm.via.port))
    return false;
  std::string_view second;
  int n = 0;
  wire::for_each_value(wm, wire::Hdr::Via, [&](const wire::Field&, std::string_view e) {
    if (++n == 2)
      second = e;
    return n < 2;
  });
  wire::Via via;
  if (second.empty())
    return false;
  if (!wire::parse_via(second, via))
    return true; // ours, but broken: dropped
  std::string host(via.received.empty() ? via.host : via.received);
  enum sip_transp tp = text::iequals(via.transport, "TCP")   ? SIP_TRANSP_TCP
                       : text::iequals(via.transport, "TLS") ? SIP_TRANSP_TLS
                                                             : SIP_TRANSP_UDP;
  uint16_t port = via.rport_value ? via.rport_value : via.port;
  if (!port)
    port = tp == SIP_TRANSP_TLS ? 5061 : 5060;
  struct sa dst;
  if (sa_set_str(&dst, host.c_str(), port) != 0)
    return true; // a name: nowhere to send it statelessly
  std::string& text = out_resp;
  text.clear();
  response_text(wm, text);
  if (tp == SIP_TRANSP_UDP)
    (void)send_udp(dst, text);
  else if (tp == SIP_TRANSP_TCP && own_tcp_for(dst))
    (void)send_tcp(dst, text);
  else if (auto mb = mbuf_copy(text))
    (void)sip_send(sip, nullptr, tp, &dst, mb.get());
  return true;
}

bool Proxy::Impl::req_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto& self = *static_cast<Impl*>(arg);
  Inbound in;
  in.tp = msg->tp;
  in.src = msg->src;
  in.dst = msg->dst;
  in.lmsg = msg;
  int handled = sip::guarded(self.diag_sink, "the proxy's request handler", -1, [&] {
    auto p = wire::parse(raw_of(*msg), self.rx_req, wire::Framing::Datagram);
    return self.on_request(in, self.rx_req, p) ? 1 : 0;
  });
  if (handled < 0) // STYLE.md: the request that broke us still gets an answer
    (void)sip_reply(self.sip, msg, 500, "Server Internal Error");
  return handled != 0;
}

bool Proxy::Impl::resp_lsnr_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto& self = *static_cast<Impl*>(arg);
  // Not consumed: the next listener (the focus's sipsess) sees it.
  return sip::guarded(self.diag_sink, "the proxy's response handler", true, [&] {
    if (wire::parse(raw_of(*msg), self.rx_resp).verdict != wire::Verdict::Ok)
      return false;
    return self.clients->on_response(self.rx_resp) || self.tcp_clients->on_response(self.rx_resp) ||
           self.forward_stray(self.rx_resp);
  });
}

void Proxy::Impl::resp_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto& t = *static_cast<RelayTxn*>(arg);
  auto& self = *t.px;
  sip::guarded(self.diag_sink, "relaying a response", [&] {
    if (!msg) {
      self.on_client_response(t, err, nullptr);
      return;
    }
    if (auto p = wire::parse(raw_of(*msg), self.rx_resp); p.verdict != wire::Verdict::Ok) {
      self.diag(fmt::format("dropped a response to {} {}: {}", t.method, t.call_id, p.why));
      return;
    }
    self.on_client_response(t, err, &self.rx_resp);
  });
}

void Proxy::Impl::own_resp_h(int err, const wire::Message* msg, void* arg) noexcept
{
  auto& t = *static_cast<RelayTxn*>(arg);
  auto& self = *t.px;
  sip::guarded(self.diag_sink, "relaying a response",
               [&] { self.on_client_response(t, err, msg); });
}

// libre's send hook: our Record-Route, for a request whose transaction wants it. Over UDP
// it names our own socket when we have one (libre's UDP transport then sits on another
// port, and the dialog's requests must come to the listen address).
int Proxy::Impl::send_h(enum sip_transp tp, const struct sa* src, const struct sa*, struct mbuf* mb,
                        void* arg) noexcept
{
  auto* t = static_cast<RelayTxn*>(arg); // nullptr for an ACK
  if (!t || !t->record_route)
    return 0;
  const struct sa* out = src;
  if (tp == SIP_TRANSP_UDP) {
    if (auto* s = t->px->own_socket_for(*src))
      out = &s->local();
  } else if (tp == SIP_TRANSP_TCP) {
    if (auto* s = t->px->own_tcp_for(*src))
      out = &s->local();
  }
  try {
    std::string rr;
    record_route(rr, tp, *out, t->in_tp, t->in_addr, t->rr_params);
    return mbuf_write_mem(mb, reinterpret_cast<const uint8_t*>(rr.data()), rr.size());
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

Result<std::unique_ptr<Proxy>> Proxy::create(sip::Stack& stack, Options opt, RequestHook hook)
{
  std::unique_ptr<Proxy> p(new Proxy());
  p->m = std::make_unique<Impl>();
  auto& m = *p->m;
  m.stack = &stack;
  m.sip = stack.get();
  m.opt = std::move(opt);
  if (!m.opt.udp_max)
    m.opt.udp_max = stack.udp_max();
  m.hook = std::move(hook);
  m.diag_sink = [&m](const std::string& line) { m.diag(line); };
  m.is_local = [&stack](std::string_view host, uint16_t port) {
    return stack.is_local(host, port);
  };
  for (const auto& b : stack.bound())
    if (b.rfind("tcp:", 0) == 0)
      m.has_tcp = true;
  auto timers = rt::LoopTimerQueue::create();
  if (!timers)
    return tl::unexpected(timers.error());
  m.timers = std::move(*timers);
  m.clients =
      std::make_unique<ClientTransactions>([&m](const struct sa& dst, std::string_view bytes,
                                                uint64_t*) { return m.send_udp(dst, bytes); },
                                           *m.timers);
  m.tcp_clients = std::make_unique<ClientTransactions>(
      [&m](const struct sa& dst, std::string_view bytes, uint64_t* conn) {
        return m.send_tcp(dst, bytes, conn);
      },
      *m.timers, true);
  m.branches = std::make_unique<BranchGenerator>(m.opt.branch_secret.empty()
                                                     ? BranchGenerator::random()
                                                     : BranchGenerator(m.opt.branch_secret));
  Limits limits;
  if (m.opt.max_lingering)
    limits.max_lingering = m.opt.max_lingering;
  m.table = std::make_unique<TransactionTable>(*m.timers, m, limits);
  m.spare_txns.reserve(Impl::k_spare_txns);
  m.limiter = std::make_unique<FloodLimiter>(m.opt.flood);
  int err = sip_listen(m.req_lsnr.out(), m.sip, true, Impl::req_h, &m);
  if (!err)
    err = sip_listen(m.resp_lsnr.out(), m.sip, false, Impl::resp_lsnr_h, &m);
  if (err)
    return fail(fmt::format("cannot listen for SIP: {}", std::strerror(err)), 3);
  m.own_udp = stack.own_udp();
  for (auto* s : m.own_udp)
    s->set_handler([&m, s](std::string_view data, const struct sa& src) {
      m.in_burst = s;
      sip::guarded(m.diag_sink, "the proxy's datagram handler",
                   [&] { m.on_datagram(*s, data, src); });
      m.in_burst = nullptr;
    });
  if (m.own_udp.empty()) {
    sip::Stack::UdpTap tap;
    tap.claim = [&m](std::string_view data, const struct sa&) {
      return sip::guarded(m.diag_sink, "the proxy's tap", false, [&] { return m.tap_claim(data); });
    };
    tap.serve = [&m](std::string_view, const struct sa& src, const struct sa& local, void* sock) {
      sip::guarded(m.diag_sink, "the proxy's tap", [&] { m.tap_serve(src, local, sock); });
    };
    m.tap_id = stack.add_udp_tap(std::move(tap));
  }
  m.own_tcp = stack.own_tcp();
  for (auto* s : m.own_tcp) {
    s->set_handler([&m, s](const rt::SipTcp::Received& r) {
      sip::guarded(m.diag_sink, "the proxy's TCP handler", [&] { m.on_stream(*s, r); });
    });
    s->set_close_handler([&m](rt::SipTcp::ConnId conn, int why) {
      sip::guarded(m.diag_sink, "the proxy's TCP close handler", [&] { m.on_closed(conn, why); });
    });
  }
  return p;
}

Proxy::~Proxy() = default;

} // namespace cpm::proxy
