// Transaction-stateful SIP relay with its own compact server-transaction table.
#include "cpm/proxy/proxy.hpp"
#include "cpm/base/text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <unordered_map>

#include "cpm/rt/re.hpp"

namespace cpm::proxy {

namespace {

std::string pl_str(const struct pl& p)
{
  return p.p ? std::string(p.p, p.l) : std::string();
}

bool all_digits(std::string_view s)
{
  if (s.empty())
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

// Strip "<" ">" and any name-addr decoration around a Route value.
std::string route_uri(std::string_view v)
{
  v = text::trim(v);
  auto lt = v.find('<');
  if (lt != std::string_view::npos) {
    auto gt = v.find('>', lt);
    if (gt != std::string_view::npos)
      return std::string(v.substr(lt + 1, gt - lt - 1));
  }
  return std::string(v);
}

const char* tp_param(enum sip_transp tp)
{
  return tp == SIP_TRANSP_TCP ? ";transport=tcp" : tp == SIP_TRANSP_TLS ? ";transport=tls" : "";
}

// The Via value of a local response: RFC 3581 rport and RFC 3261 §18.2.1 received.
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

// A libre mbuf holding a copy of `text` (libre may keep a reference: never wrap our memory).
struct MbufRef {
  struct mbuf* mb = nullptr;
  explicit MbufRef(std::string_view text)
  {
    mb = mbuf_alloc(text.size() ? text.size() : 1);
    if (mb) {
      (void)mbuf_write_mem(mb, reinterpret_cast<const uint8_t*>(text.data()), text.size());
      mb->pos = 0;
    }
  }
  ~MbufRef() { mem_deref(mb); }
  MbufRef(const MbufRef&) = delete;
  MbufRef& operator=(const MbufRef&) = delete;
};

} // namespace

std::string txn_key(std::string_view branch, std::string_view sent_by, std::string_view method)
{
  std::string_view m = method;
  if (m == "ACK" || m == "CANCEL")
    m = "INVITE";
  std::string k;
  k.reserve(branch.size() + sent_by.size() + m.size() + 2);
  k.append(branch).append(1, '|').append(sent_by).append(1, '|').append(m);
  return k;
}

std::string with_transport(std::string_view uri, std::string_view transport)
{
  std::string u(uri);
  auto lt = u.find(";transport=");
  if (lt != std::string::npos) {
    auto end = u.find_first_of(";?>", lt + 1);
    u.erase(lt, end == std::string::npos ? std::string::npos : end - lt);
  }
  auto q = u.find_first_of("?>");
  u.insert(q == std::string::npos ? u.size() : q, fmt::format(";transport={}", transport));
  return u;
}

std::string check_request(const sip::Request& req, size_t body_left, size_t datagram_size, bool udp)
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
  if (datagram_size >= 8192 && udp)
    return "Message too large for UDP (truncated at 8192 bytes)";
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

// One server transaction: what retransmissions and local answers need, nothing more.
struct Txn {
  Proxy::Impl* px = nullptr;
  std::string key;
  std::string method;
  std::string call_id;
  std::string head; // Via..., From, To, Call-ID, CSeq lines for local responses
  bool to_tagged = false;
  std::string last; // the last response sent upstream, encoded
  struct sa dst;
  enum sip_transp tp = SIP_TRANSP_UDP;
  void* sock = nullptr; // mem_ref'd transport socket / connection of the request
  struct sip_request* creq = nullptr;
  // Its one timer (non-answer timeout, Timer C or linger) in the proxy's own queue: libre
  // 1.1 keeps timers in one sorted list, so each of these there made every later timer
  // start (libre's own Timer E per client transaction) walk past them.
  struct Slot {
    bool armed = false;
    std::multimap<uint64_t, std::pair<Txn*, int>>::iterator when;
    void (*h)(void*) = nullptr;
  };
  Slot slots[2]; // 0: timeout, Timer C or linger; 1: Timer E of our own client side
  // Our own UDP client transaction (non-INVITE to an IP literal: see Impl::forward), which
  // spares libre's ctrans and its Timer E/F/K in libre's list. Empty branch: libre's.
  uint64_t cbranch = 0; // "z9hG4bK%016llx" of this; 0: libre's client transaction
  std::string ctext;    // the request as sent, for retransmissions
  struct sa cdst;
  uint32_t ctxc = 0;
  bool cproceeding = false;
  int final_code = 0;
  bool invite = false;

  Txn() = default;
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
};

struct Proxy::Impl {
  // Transaction timers by expiry (tmr_jiffies ms), fired from one timerfd on the loop.
  std::multimap<uint64_t, std::pair<Txn*, int>> timers;
  std::unordered_map<uint64_t, Txn*> clients; // our client transactions by branch number
  int tfd = -1;
  uint64_t tfd_at = 0; // the expiry the timerfd is set for, 0: none

  void start_timer(Txn& t, uint64_t ms, void (*h)(void*), int slot = 0)
  {
    cancel_timer(t, slot);
    auto& s = t.slots[slot];
    s.when = timers.emplace(tmr_jiffies() + ms, std::make_pair(&t, slot));
    s.armed = true;
    s.h = h;
    rearm();
  }
  void cancel_timer(Txn& t, int slot = 0)
  {
    auto& s = t.slots[slot];
    if (!s.armed)
      return;
    timers.erase(s.when);
    s.armed = false; // the timerfd may wake early once: harmless
  }
  void rearm()
  {
    if (timers.empty() || tfd < 0)
      return;
    // Fire on 10 ms boundaries: one wake-up for every timer due in that slot instead of
    // one per millisecond under load; a timer fires at most 10 ms late.
    uint64_t first = (timers.begin()->first + 9) / 10 * 10;
    if (tfd_at && tfd_at <= first)
      return;
    tfd_at = first;
    uint64_t now = tmr_jiffies();
    uint64_t d = first > now ? first - now : 0;
    struct itimerspec its {};
    its.it_value.tv_sec = time_t(d / 1000);
    its.it_value.tv_nsec = d ? long(d % 1000) * 1000000L : 1;
    (void)timerfd_settime(tfd, 0, &its, nullptr);
  }
  static void tfd_h(int, void* arg) noexcept
  {
    auto& self = *static_cast<Impl*>(arg);
    uint64_t n;
    while (::read(self.tfd, &n, sizeof(n)) > 0) {
    }
    self.tfd_at = 0;
    uint64_t now = tmr_jiffies();
    while (!self.timers.empty() && self.timers.begin()->first <= now) {
      auto [t, slot] = self.timers.begin()->second;
      self.timers.erase(self.timers.begin());
      t->slots[slot].armed = false;
      t->slots[slot].h(t);
    }
    self.rearm();
  }

  sip::Stack* stack = nullptr;
  struct ::sip* sip = nullptr;
  Options opt;
  RequestHook hook;
  ResponseHook on_response;
  struct sip_lsnr* req_lsnr = nullptr;
  struct sip_lsnr* resp_lsnr = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Txn>> table;
  Stats st;
  bool has_tcp = false;
  // The Record-Route state of the request being forwarded (sendh runs synchronously).
  bool rr_pending = false;
  // Branches of our own client transactions: a keyed bijection of a counter (unique).
  uint64_t branch_key = 0, branch_seq = 0;
  // The number in one of our branches ("z9hG4bK" and 16 lower-case hex digits), else 0.
  static uint64_t branch_number(const struct pl& b)
  {
    if (b.l != 23 || std::memcmp(b.p, "z9hG4bK", 7) != 0)
      return 0;
    uint64_t n = 0;
    for (size_t i = 7; i < 23; ++i) {
      char c = b.p[i];
      int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0)
        return 0;
      n = n << 4 | uint64_t(v);
    }
    return n;
  }
  uint64_t next_branch()
  {
    uint64_t z = branch_key + 0x9e3779b97f4a7c15ULL * ++branch_seq;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // The proxy whose forward() is inside sip_request (send_h runs synchronously there).
  static thread_local Impl* t_sending;
  enum sip_transp rr_in_tp = SIP_TRANSP_UDP;
  struct sa rr_in_addr;

  void diag(const std::string& line)
  {
    if (opt.diag)
      opt.diag(line);
    else
      fmt::print(stderr, "{}: {}\n", opt.name, line);
  }

  // Send `text` upstream for `t` and remember it for retransmissions.
  void send_up(Txn& t, std::string text, int code, bool local)
  {
    MbufRef mb(text);
    int err = mb.mb ? sip_send(sip, t.sock, t.tp, &t.dst, mb.mb) : ENOMEM;
    if (err)
      diag(fmt::format("cannot send {} upstream: {}", code, std::strerror(err)));
    t.last = std::move(text);
    if (code >= 200 && !t.final_code)
      t.final_code = code;
    if (on_response) {
      try {
        on_response(Response{code, t.method, t.call_id, local});
      } catch (...) {
      }
    }
  }

  std::string local_response(const Txn& t, int code, std::string_view reason,
                             const std::vector<std::string>& extra = {}, std::string_view body = {})
  {
    std::string s;
    s.reserve(t.head.size() + 128 + body.size());
    s += fmt::format("SIP/2.0 {} {}\r\n", code, reason);
    s += t.head;
    if (code > 100 && !t.to_tagged) {
      // The To line is the last line of head before Call-ID: add our tag to it.
      auto pos = s.find("\r\nTo: ");
      if (pos != std::string::npos) {
        auto eol = s.find("\r\n", pos + 2);
        s.insert(eol, fmt::format(";tag={:016x}", std::hash<std::string>{}(t.key)));
      }
    }
    for (const auto& h : extra)
      s += h + "\r\n";
    s += fmt::format("Content-Length: {}\r\n\r\n", body.size());
    s.append(body);
    return s;
  }

  void reply_local(Txn& t, int code, std::string_view reason,
                   const std::vector<std::string>& extra = {}, std::string_view body = {})
  {
    if (t.final_code)
      return;
    if (code >= 200)
      ++st.replied;
    send_up(t, local_response(t, code, reason, extra, body), code, true);
    if (code >= 200)
      complete(t);
  }

  // Final response sent: drop the client side, keep the answer for retransmissions a while.
  void complete(Txn& t)
  {
    if (t.creq)
      t.creq = static_cast<struct sip_request*>(mem_deref(t.creq));
    t.head.clear();
    t.head.shrink_to_fit();
    cancel_timer(t);
    cancel_timer(t, 1);
    // Reliable transports retransmit nothing (RFC 3261 Timer J = 0): keep only briefly.
    uint64_t ms = t.tp == SIP_TRANSP_UDP ? uint64_t(opt_linger()) : 1000;
    start_timer(t, ms, linger_h);
  }

  int opt_linger() const { return opt.timeout_ms < 5000 ? opt.timeout_ms + 1000 : 5000; }

  static void linger_h(void* arg) noexcept
  {
    auto* t = static_cast<Txn*>(arg);
    auto* self = t->px;
    std::string key = t->key;
    self->table.erase(key);
  }

  static void timeout_h(void* arg) noexcept
  {
    auto* t = static_cast<Txn*>(arg);
    try {
      t->px->reply_local(*t, 408, "Request Timeout");
    } catch (...) {
    }
  }

  // A request line + headers of a response from downstream, minus our Via.
  static std::string relay_text(const struct sip_msg* msg)
  {
    std::string s;
    size_t body = mbuf_get_left(msg->mb);
    if (pl_isset(&msg->clen)) {
      size_t clen = pl_u32(&msg->clen);
      if (clen < body)
        body = clen;
    }
    s.reserve(msg->mb->end + 32);
    s += fmt::format("SIP/2.0 {} {}\r\n", msg->scode, pl_str(msg->reason));
    bool first_via = true;
    for (struct le* le = msg->hdrl.head; le; le = le->next) {
      auto* h = static_cast<const struct sip_hdr*>(le->data);
      if (h->id == SIP_HDR_VIA && first_via) {
        first_via = false;
        continue;
      }
      s.append(h->name.p, h->name.l).append(": ").append(h->val.p, h->val.l).append("\r\n");
    }
    s += "\r\n";
    s.append(reinterpret_cast<const char*>(mbuf_buf(msg->mb)), body);
    return s;
  }

  static void resp_h(int err, const struct sip_msg* msg, void* arg) noexcept
  {
    auto* t = static_cast<Txn*>(arg);
    auto& self = *t->px;
    try {
      if (!msg) {
        t->creq = nullptr;
        if (err == ETIMEDOUT)
          self.reply_local(*t, 408, "Request Timeout");
        else
          self.reply_local(*t, 503, fmt::format("Next Hop Unreachable ({})", std::strerror(err)));
        return;
      }
      if (msg->scode < 200) {
        if (msg->scode == 100 || t->final_code)
          return;
        self.send_up(*t, relay_text(msg), msg->scode, false);
        if (t->invite)
          self.start_timer(*t, uint64_t(self.opt.timer_c_ms), timeout_h);
        return;
      }
      t->creq = nullptr; // libre cleared its pointer before this final callback
      if (t->final_code)
        return;
      self.send_up(*t, relay_text(msg), msg->scode, false);
      self.complete(*t);
    } catch (const std::exception& e) {
      self.diag(fmt::format("internal error relaying a response: {}", e.what()));
    }
  }

  static int send_h(enum sip_transp tp, const struct sa* src, const struct sa*, struct mbuf* mb,
                    void* arg) noexcept
  {
    (void)arg; // the Txn (or nullptr for an ACK), not the proxy
    Impl* self = t_sending;
    if (!self || !self->rr_pending)
      return 0;
    int err = 0;
    // RFC 5658: two Record-Routes when the transport or address changes.
    bool same = tp == self->rr_in_tp && sa_cmp(src, &self->rr_in_addr, SA_ALL);
    err |= mbuf_printf(mb, "Record-Route: <sip:%J%s;lr>\r\n", src, tp_param(tp));
    if (!same)
      err |= mbuf_printf(mb, "Record-Route: <sip:%J%s;lr>\r\n", &self->rr_in_addr,
                         tp_param(self->rr_in_tp));
    return err;
  }

  // The forwarded request's headers and body (everything after libre's Via).
  std::string build_forward(const struct sip_msg* msg, const sip::Request& req, const Action& a,
                            size_t body)
  {
    std::string s;
    s.reserve(msg->mb->end + 256);
    // Max-Forwards first (decremented, 70 when absent: RFC 3261 §16.6 step 3).
    uint32_t mf = pl_isset(&msg->maxfwd) ? pl_u32(&msg->maxfwd) : 71;
    if (msg->met.l != 3 || std::memcmp(msg->met.p, "ACK", 3) != 0 || mf > 0)
      s += fmt::format("Max-Forwards: {}\r\n", mf ? mf - 1 : 0);
    for (const auto& r : a.push_routes)
      s += "Route: " + r + "\r\n";
    size_t routes_total = 0;
    for (struct le* le = msg->hdrl.head; le; le = le->next)
      if (static_cast<const struct sip_hdr*>(le->data)->id == SIP_HDR_ROUTE)
        ++routes_total;
    size_t skip_routes = routes_total - std::min(routes_total, req.routes.size());
    for (struct le* le = msg->hdrl.head; le; le = le->next) {
      auto* h = static_cast<const struct sip_hdr*>(le->data);
      if (h->id == SIP_HDR_MAX_FORWARDS)
        continue;
      if (h->id == SIP_HDR_ROUTE && skip_routes) {
        --skip_routes;
        continue;
      }
      if (!a.remove_headers.empty()) {
        std::string_view name(h->name.p, h->name.l);
        bool drop = false;
        for (const auto& r : a.remove_headers)
          if (text::iequals(r, name))
            drop = true;
        if (drop)
          continue;
      }
      if (h->id == SIP_HDR_CONTENT_LENGTH)
        continue;
      s.append(h->name.p, h->name.l).append(": ").append(h->val.p, h->val.l).append("\r\n");
    }
    for (const auto& h : a.add_headers)
      s += h + "\r\n";
    s += fmt::format("Content-Length: {}\r\n\r\n", body);
    s.append(reinterpret_cast<const char*>(mbuf_buf(msg->mb)), body);
    return s;
  }

  // Where to send: explicit next hop, else the top Route, else the request URI.
  static std::string next_hop(const Action& a, const sip::Request& req, const std::string& ruri)
  {
    if (!a.next_hop.empty())
      return a.next_hop;
    if (!a.push_routes.empty())
      return route_uri(a.push_routes.front());
    if (!req.routes.empty())
      return route_uri(req.routes.front());
    return ruri;
  }

  // The next hop's address when our own client transaction can serve it: scheme sip, UDP
  // (given or, UDP being listened on, chosen as libre would), an IP literal, no maddr.
  bool own_client_dst(const struct uri& u, struct sa& dst) const
  {
    struct pl v;
    if (pl_strcasecmp(&u.scheme, "sip") != 0 || msg_param_decode(&u.params, "maddr", &v) == 0)
      return false;
    if (msg_param_decode(&u.params, "transport", &v) == 0 && pl_strcasecmp(&v, "udp") != 0)
      return false;
    std::string host = pl_str(u.host);
    if (sa_set_str(&dst, host.c_str(), u.port ? u.port : 5060) != 0)
      return false;
    struct sa laddr;
    return sip_transp_laddr(sip, &laddr, SIP_TRANSP_UDP, &dst) == 0;
  }

  // Timer E of our own client transaction (RFC 3261 §17.1.2.2).
  static void retransmit_h(void* arg) noexcept
  {
    auto* t = static_cast<Txn*>(arg);
    auto& self = *t->px;
    try {
      if (t->final_code)
        return;
      ++t->ctxc;
      uint64_t ms = t->cproceeding ? uint64_t(SIP_T2)
                                   : std::min<uint64_t>(uint64_t(SIP_T1) << std::min(t->ctxc, 8u),
                                                        uint64_t(SIP_T2));
      self.start_timer(*t, ms, retransmit_h, 1);
      MbufRef mb(t->ctext);
      int err = mb.mb ? sip_send(self.sip, nullptr, SIP_TRANSP_UDP, &t->cdst, mb.mb) : ENOMEM;
      if (err) {
        self.cancel_timer(*t, 1);
        self.reply_local(*t, 503, fmt::format("Next Hop Unreachable ({})", std::strerror(err)));
      }
    } catch (const std::exception& e) {
      self.diag(fmt::format("internal error retransmitting a request: {}", e.what()));
    }
  }

  // A response to our own client transaction: what resp_h does for libre's.
  void on_client_response(Txn& t, const struct sip_msg* msg)
  {
    if (t.final_code)
      return; // retransmitted final (libre's Timer K absorbs these the same way)
    if (msg->scode < 200) {
      t.cproceeding = true;
      if (msg->scode != 100)
        send_up(t, relay_text(msg), msg->scode, false);
      return;
    }
    cancel_timer(t, 1);
    send_up(t, relay_text(msg), msg->scode, false);
    complete(t);
  }

  // Hand the request to libre's client side. Returns errno.
  int forward(const struct sip_msg* msg, const sip::Request& req, const Action& a,
              struct sip_request** creq, Txn* t)
  {
    size_t body = mbuf_get_left(msg->mb);
    if (pl_isset(&msg->clen) && pl_u32(&msg->clen) < body)
      body = pl_u32(&msg->clen);
    std::string text = build_forward(msg, req, a, body);
    std::string ruri = a.ruri.empty() ? pl_str(msg->ruri) : a.ruri;
    std::string hop = next_hop(a, req, ruri);
    // RFC 3261 §18.1.1: too big for UDP -> TCP to the same host:port.
    size_t estimate = text.size() + ruri.size() + 200;
    if (estimate > opt.udp_max && hop.find(";transport=") == std::string::npos && has_tcp)
      hop = with_transport(hop, "tcp");
    else if (estimate > opt.udp_max && hop.find(";transport=udp") != std::string::npos && has_tcp)
      hop = with_transport(hop, "tcp");
    struct uri u;
    struct pl hp;
    pl_set_str(&hp, hop.c_str());
    if (uri_decode(&u, &hp))
      return EINVAL;
    MbufRef mb(text);
    if (!mb.mb)
      return ENOMEM;
    bool ack = pl_strcmp(&msg->met, "ACK") == 0;
    bool cancel = pl_strcmp(&msg->met, "CANCEL") == 0;
    bool reg = pl_strcmp(&msg->met, "REGISTER") == 0;
    rr_pending = a.record_route && !ack && !cancel && !reg;
    rr_in_tp = msg->tp;
    rr_in_addr = msg->dst;
    t_sending = this;
    struct Reset {
      ~Reset() { t_sending = nullptr; }
    } reset;
    // A non-INVITE to an IP literal over UDP: we send it (sip_send) and keep the
    // client transaction (Timer E retransmissions, responses by branch in on_response_msg).
    struct sa cdst;
    if (t && !ack && !cancel && !t->invite && own_client_dst(u, cdst)) {
      // What libre's request() would write, with a branch from a keyed counter (libre's
      // rand_u64 per request went through OpenSSL's RAND_bytes: 13% of the CPU).
      struct sa laddr;
      if (int err = sip_transp_laddr(sip, &laddr, SIP_TRANSP_UDP, &cdst); err)
        return err;
      char branch[24];
      uint64_t bnum = 0;
      while (!bnum || clients.count(bnum)) // 0 means "libre's"; a bijection never repeats
        bnum = next_branch();
      re_snprintf(branch, sizeof(branch), "z9hG4bK%016llx", bnum);
      struct mbuf* out = mbuf_alloc(text.size() + ruri.size() + 256);
      if (!out)
        return ENOMEM;
      int err = mbuf_printf(out, "%r %s SIP/2.0\r\n", &msg->met, ruri.c_str());
      err |= mbuf_printf(out, "Via: SIP/2.0/UDP %J;branch=%s;rport\r\n", &laddr, branch);
      err |= send_h(SIP_TRANSP_UDP, &laddr, &cdst, out, t);
      err |= mbuf_write_mem(out, reinterpret_cast<const uint8_t*>(text.data()), text.size());
      rr_pending = false;
      out->pos = 0;
      if (!err)
        err = sip_send(sip, nullptr, SIP_TRANSP_UDP, &cdst, out);
      if (!err)
        t->ctext.assign(reinterpret_cast<const char*>(out->buf), out->end);
      mem_deref(out);
      if (err)
        return err;
      t->cbranch = bnum;
      t->cdst = cdst;
      clients[t->cbranch] = t;
      start_timer(*t, SIP_T1, retransmit_h, 1);
      return 0;
    }
    int err = sip_request(creq, sip, !ack, msg->met.p, int(msg->met.l), ruri.c_str(),
                          int(ruri.size()), &u, mb.mb, 0, send_h, ack ? nullptr : resp_h, t);
    rr_pending = false;
    return err;
  }

  bool on_request(const struct sip_msg* msg)
  {
    // No Via to answer to: nothing can be done but drop it.
    if (!pl_isset(&msg->via.sentby)) {
      ++st.malformed;
      diag(fmt::format("dropped a {} request without a usable Via", pl_str(msg->met)));
      return true;
    }
    bool udp = msg->tp == SIP_TRANSP_UDP;
    // Retransmission or CANCEL of a known transaction?
    std::string branch = pl_str(msg->via.branch);
    std::string method = pl_str(msg->met);
    std::string key;
    if (branch.size() > 7 && branch.compare(0, 7, "z9hG4bK") == 0)
      key = txn_key(branch, pl_str(msg->via.sentby), method);
    else // RFC 2543 matching: Call-ID, CSeq number, From tag, sent-by
      key = txn_key(
          fmt::format("{}|{}|{}", pl_str(msg->callid), msg->cseq.num, pl_str(msg->from.tag)),
          pl_str(msg->via.sentby), method);
    if (method == "CANCEL") {
      auto it = table.find(key);
      if (it == table.end()) {
        if (opt.unmatched_cancel && opt.unmatched_cancel(msg))
          return true;
        (void)sip_reply(sip, msg, 481, "Call/Transaction Does Not Exist");
        return true;
      }
      (void)sip_reply(sip, msg, 200, "OK");
      Txn& t = *it->second;
      if (!t.final_code) {
        if (t.creq) // the destructor of a pending request sends CANCEL (after a 1xx)
          t.creq = static_cast<struct sip_request*>(mem_deref(t.creq));
        reply_local(t, 487, "Request Terminated");
      }
      return true;
    }
    bool ack = method == "ACK";
    if (auto it = table.find(key); it != table.end()) {
      Txn& t = *it->second;
      if (ack) {
        if (t.final_code >= 300)
          return true; // hop-by-hop ACK of our non-2xx answer
      } else {
        ++st.retransmissions;
        if (!t.last.empty()) {
          MbufRef mb(t.last);
          if (mb.mb)
            (void)sip_send(sip, t.sock, t.tp, &t.dst, mb.mb);
        }
        return true;
      }
    }

    sip::Request req = sip::to_request(msg, stack);
    size_t left = mbuf_get_left(msg->mb);
    std::string bad = check_request(req, left, msg->mb->end, udp);
    if (bad.empty() && msg->uri.scheme.l && pl_strcasecmp(&msg->uri.scheme, "sip") != 0 &&
        pl_strcasecmp(&msg->uri.scheme, "sips") != 0) {
      if (!ack)
        (void)sip_reply(sip, msg, 416, "Unsupported URI Scheme");
      diag(fmt::format("{} from {}: unsupported URI scheme in {}", method, req.source, req.ruri));
      ++st.malformed;
      return true;
    }
    if (bad.empty() && pl_isset(&msg->uri.headers))
      bad = "Request-URI must not carry headers";
    if (!bad.empty()) {
      ++st.malformed;
      diag(fmt::format("{} from {}: 400 {}", method, req.source, bad));
      if (!ack)
        (void)sip_reply(sip, msg, 400, bad.c_str());
      return true;
    }
    if (auto* pr = sip_msg_hdr(msg, SIP_HDR_PROXY_REQUIRE); pr && !ack) {
      std::string v = pl_str(pr->val);
      (void)sip_replyf(sip, msg, 420, "Bad Extension",
                       "Unsupported: %s\r\nContent-Length: 0\r\n\r\n", v.c_str());
      return true;
    }

    Incoming in{req, msg, pl_isset(&msg->to.tag), ack};
    Action a;
    try {
      a = hook ? hook(in) : Action::forward();
    } catch (const std::exception& e) {
      diag(fmt::format("internal error deciding {}: {}", method, e.what()));
      a = Action::reply(500, "Server Internal Error");
    }
    if (a.kind == Action::Kind::Pass)
      return false;
    if (a.kind == Action::Kind::Drop)
      return true;
    if (ack) {
      if (a.kind == Action::Kind::Forward) {
        ++st.stateless;
        int err = forward(msg, req, a, nullptr, nullptr);
        if (err)
          diag(fmt::format("cannot forward ACK: {}", std::strerror(err)));
      }
      return true;
    }

    auto t = std::make_unique<Txn>();
    t->px = this;
    t->key = key;
    t->method = method;
    t->call_id = pl_str(msg->callid);
    t->invite = method == "INVITE";
    t->tp = msg->tp;
    // RFC 3581: with ;rport the response goes to the request's source port. (libre's
    // msg_param_exists() answers EINVAL to a null value pointer, so pass one.)
    struct pl rport_pl;
    sip_reply_addr(&t->dst, msg, msg_param_exists(&msg->via.params, "rport", &rport_pl) == 0);
    // Over TCP/TLS responses go back on the request's connection, whose far end is msg->src
    // (libre connects from an ephemeral 127.0.0.1 port, not from the Via's sent-by). libre
    // traces a send on a connection with the dst given here, so the Via-derived address
    // (received IP + sent-by port, where nothing of that peer listens) mislabelled the hop.
    if (msg->tp != SIP_TRANSP_UDP && msg->sock)
      t->dst = msg->src;
    t->sock = mem_ref(msg->sock);
    t->to_tagged = pl_isset(&msg->to.tag);
    bool top = true;
    for (struct le* le = msg->hdrl.head; le; le = le->next) {
      auto* h = static_cast<const struct sip_hdr*>(le->data);
      if (h->id == SIP_HDR_VIA) {
        t->head += "Via: ";
        t->head += top ? top_via_for_reply(pl_str(h->val), msg->src) : pl_str(h->val);
        t->head += "\r\n";
        top = false;
      }
    }
    t->head += "From: " + pl_str(sip_msg_hdr(msg, SIP_HDR_FROM)->val) + "\r\n";
    t->head += "To: " + pl_str(sip_msg_hdr(msg, SIP_HDR_TO)->val) + "\r\n";
    t->head += "Call-ID: " + t->call_id + "\r\n";
    t->head += "CSeq: " + pl_str(sip_msg_hdr(msg, SIP_HDR_CSEQ)->val) + "\r\n";
    Txn& tr = *t;
    table[key] = std::move(t);
    ++st.requests;

    if (a.kind == Action::Kind::Reply) {
      reply_local(tr, a.status, a.reason, a.reply_headers, a.reply_body);
      return true;
    }
    // RFC 3261 §16.3 step 3: Max-Forwards 0 -> 483 (after the hook: a registrar or a UAS
    // behind the hook may still answer it).
    if (pl_isset(&msg->maxfwd) && pl_u32(&msg->maxfwd) == 0) {
      reply_local(tr, 483, "Too Many Hops");
      return true;
    }
    if (tr.invite)
      send_up(tr, local_response(tr, 100, "Trying"), 100, true);
    int err = forward(msg, req, a, &tr.creq, &tr);
    if (err) {
      diag(fmt::format("{} {}: cannot forward: {}", method, req.ruri, std::strerror(err)));
      tr.creq = nullptr;
      reply_local(tr, 503, "Service Unavailable");
      return true;
    }
    ++st.forwarded;
    int ms = a.timeout_ms ? a.timeout_ms : tr.invite ? opt.timer_c_ms : opt.timeout_ms;
    if (tr.cbranch) // libre's Timer F (64*T1) would answer 408 at the latest then
      ms = std::min(ms, 64 * int(SIP_T1));
    start_timer(tr, uint64_t(ms), timeout_h);
    return true;
  }

  // A response no client transaction matched (a retransmitted or forked 2xx): forward it
  // statelessly to the second Via (RFC 3261 §16.7 step 10 / §18.2.2).
  bool on_response_msg(const struct sip_msg* msg)
  {
    if (!clients.empty() && pl_isset(&msg->via.branch)) {
      auto it = clients.find(branch_number(msg->via.branch));
      if (it != clients.end() && pl_strcmp(&msg->cseq.met, it->second->method.c_str()) == 0) {
        on_client_response(*it->second, msg);
        return true;
      }
    }
    int n = 0;
    struct sip_via via;
    bool found = false;
    for (struct le* le = msg->hdrl.head; le; le = le->next) {
      auto* h = static_cast<const struct sip_hdr*>(le->data);
      if (h->id != SIP_HDR_VIA)
        continue;
      if (++n == 1) {
        // Only responses to what we sent: our own top Via.
        struct sip_via top;
        if (sip_via_decode(&top, &h->val) || !sip_transp_isladdr(sip, top.tp, &top.addr))
          return true;
        continue;
      }
      if (sip_via_decode(&via, &h->val) == 0)
        found = true;
      break;
    }
    if (!found)
      return true;
    struct sa dst = via.addr;
    struct pl v;
    if (msg_param_decode(&via.params, "received", &v) == 0)
      (void)sa_set(&dst, &v, sa_port(&via.addr));
    if (msg_param_decode(&via.params, "rport", &v) == 0 && pl_u32(&v))
      sa_set_port(&dst, uint16_t(pl_u32(&v)));
    if (!sa_port(&dst))
      sa_set_port(&dst, via.tp == SIP_TRANSP_TLS ? 5061 : 5060);
    std::string text = relay_text(msg);
    MbufRef mb(text);
    ++st.stateless;
    if (mb.mb)
      (void)sip_send(sip, nullptr, via.tp, &dst, mb.mb);
    return true;
  }

  static bool req_h(const struct sip_msg* msg, void* arg) noexcept
  {
    auto& self = *static_cast<Impl*>(arg);
    try {
      return self.on_request(msg);
    } catch (const std::exception& e) {
      self.diag(fmt::format("internal error: {}", e.what()));
      (void)sip_reply(self.sip, msg, 500, "Server Internal Error");
      return true;
    }
  }

  static bool resp_lsnr_h(const struct sip_msg* msg, void* arg) noexcept
  {
    auto& self = *static_cast<Impl*>(arg);
    try {
      return self.on_response_msg(msg);
    } catch (const std::exception& e) {
      self.diag(fmt::format("internal error: {}", e.what()));
      return true;
    }
  }
};

thread_local Proxy::Impl* Proxy::Impl::t_sending = nullptr;

namespace {

// A 4 MiB receive buffer on the stack's UDP sockets (as Kamailio's maxbuffer): bursts of
// datagrams overflowed the 208 KiB default. libre 1.1 does not expose the transports'
// sockets, so find them among our descriptors by type and bound address (best effort:
// the kernel caps the size at net.core.rmem_max).
void grow_udp_buffers(const sip::Stack& stack)
{
  std::vector<struct sa> want;
  for (const auto& b : stack.bound()) {
    auto l = sip::parse_listen(b);
    struct sa a;
    if (l && l->transport == "udp" && sa_set_str(&a, l->host.c_str(), l->port) == 0)
      want.push_back(a);
  }
  for (int fd = 0; fd < 1024 && !want.empty(); ++fd) {
    int type = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM)
      continue;
    struct sa a;
    sa_init(&a, AF_UNSPEC);
    a.len = sizeof(a.u);
    if (getsockname(fd, &a.u.sa, &a.len) != 0)
      continue;
    for (const auto& w : want)
      if (sa_cmp(&a, &w, SA_ALL)) {
        int size = 4 * 1024 * 1024;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
      }
  }
}

} // namespace

Txn::~Txn()
{
  if (px) {
    px->cancel_timer(*this, 0);
    px->cancel_timer(*this, 1);
    if (cbranch)
      px->clients.erase(cbranch);
  }
  if (creq)
    creq = static_cast<struct sip_request*>(mem_deref(creq));
  if (sock)
    sock = mem_deref(sock);
}

Result<std::unique_ptr<Proxy>> Proxy::create(sip::Stack& stack, Options opt, RequestHook hook,
                                             ResponseHook on_response)
{
  std::unique_ptr<Proxy> p(new Proxy());
  p->m = std::make_unique<Impl>();
  auto& m = *p->m;
  m.stack = &stack;
  m.sip = stack.get();
  m.opt = std::move(opt);
  m.hook = std::move(hook);
  m.on_response = std::move(on_response);
  m.table.reserve(1024);
  m.branch_key = rand_u64();
  grow_udp_buffers(stack);
  for (const auto& b : stack.bound())
    if (b.rfind("tcp:", 0) == 0)
      m.has_tcp = true;
  m.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (m.tfd < 0)
    return fail(fmt::format("cannot create a timer: {}", std::strerror(errno)), 3);
  int err = fd_listen(m.tfd, FD_READ, Impl::tfd_h, &m);
  if (!err)
    err = sip_listen(&m.req_lsnr, m.sip, true, Impl::req_h, &m);
  if (!err)
    err = sip_listen(&m.resp_lsnr, m.sip, false, Impl::resp_lsnr_h, &m);
  if (err)
    return fail(fmt::format("cannot listen for SIP: {}", std::strerror(err)), 3);
  return p;
}

Proxy::~Proxy()
{
  if (m) {
    m->table.clear();
    mem_deref(m->req_lsnr);
    mem_deref(m->resp_lsnr);
    if (m->tfd >= 0) {
      fd_close(m->tfd);
      ::close(m->tfd);
    }
  }
}

void Proxy::set_timeout(int ms)
{
  m->opt.timeout_ms = ms;
}

Stats Proxy::stats() const
{
  Stats s = m->st;
  s.live = m->table.size();
  return s;
}

} // namespace cpm::proxy
