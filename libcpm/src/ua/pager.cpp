// Pager-mode MESSAGEs out, on our own UDP client transactions or on libre's sip_request.
#include "cpm/ua/pager.hpp"

#include <array>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <unordered_map>

#include "cpm/base/text.hpp"
#include "cpm/codec/auth.hpp"
#include "cpm/codec/service.hpp"
#include "cpm/grammar/wire.hpp"
#include "cpm/proxy/branch.hpp"
#include "cpm/proxy/client_transaction.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/timer_queue.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::ua {

struct Pager::Outstanding {
  Pager* self = nullptr;
  uint64_t id = 0;
  re_slot<struct sip_request> req; // libre clears it when the transaction ends
  uint64_t own_branch = 0;         // our own client transaction's, 0: none
  size_t udp_max = sip::k_udp_max; // the stack's (RFC 3261 §18.1.1)
  Message m;                       // its plain form cleared once it has been sent
  std::string tag;                 // the From tag and Call-ID, the same for a resend
  std::string call_id;
  uint32_t cseq = 1;
  sip::Hop hop; // where it goes first (before any move to TCP)
  bool route = false;
  bool plain = false;         // the text/plain resend is out
  std::string head;           // the header lines after Route
  std::string route_uri_text; // the next hop's URI; uri_decode points into it
  struct uri route_uri {};
  re_ptr<struct mbuf> wire;  // what follows libre's request line and Via
  size_t size = 0;           // the encoded request, as libre sent (or refused) it
  std::string sent_to;       // where libre sent it last ("udp:10.0.0.1:5060"), "": nowhere yet
  bool udp_any_size = false; // a hop that names UDP, or after the fallback: no size limit
  bool by_size = false;      // moved to TCP by its size (RFC 3261 §18.1.1): UDP if refused
  int auth_tries = 0;        // challenges answered for this MESSAGE
  uint64_t t0 = 0;
  Done done;
  rt::TimerQueue::Timer timer_f; // of our own client transaction
  rt::TimerQueue::Timer timeout; // send()'s timeout_ms
  ~Outstanding()
  {
    if (own_branch)
      self->retire(*this);
  }
};

// What our client transactions' handler gets: the MESSAGE of a live transaction, none once
// it lingers.
struct Pager::Link {
  Pager* self = nullptr;
  Outstanding* o = nullptr;
};

struct Pager::Own {
  std::unique_ptr<rt::LoopTimerQueue> timers; // first: destroyed after every timer on it
  std::unique_ptr<proxy::ClientTransactions> clients;
  proxy::BranchGenerator branches = proxy::BranchGenerator::random();
  uint64_t next_key = 0; // what a branch is derived from
  // By branch, for as long as the transaction is in `clients` (references stay valid).
  std::unordered_map<uint64_t, Link> links;
  // Retired transactions (until, branch), oldest first, and the timer that erases them.
  std::deque<std::pair<uint64_t, uint64_t>> lingering;
  rt::TimerQueue::Timer purge;
  re_slot<struct sip_lsnr> lsnr;
  // The stack's tap: 1xx and 2xx answers to our transactions, read before libre decodes
  // them (the rest, a challenge or a 415 that libre's form serves, go to `lsnr`).
  sip::Stack* stack = nullptr;
  uint64_t tap_id = 0;
  ~Own()
  {
    if (tap_id)
      stack->remove_udp_tap(tap_id);
  }
  sip::wire::Message rx;
  const struct sip_msg* current = nullptr; // libre's form of the response being handled
  std::string out;                         // the request being written
};

namespace {

using sip::raw_of;

// OpenSSL's CSPRNG (RFC 3261 §19.3: tags and Call-IDs cryptographically random) drawn 512
// bytes at a time: one RAND_bytes call, with its fork check, per 64 numbers instead of one
// per number (10 % of a busy receiver's CPU, each of its notifications needing two). A
// forked child draws afresh.
struct RandomPool {
  std::array<uint64_t, 64> v{};
  size_t next = 64;
  static RandomPool& get()
  {
    static RandomPool pool;
    return pool;
  }
  RandomPool()
  {
    (void)pthread_atfork(nullptr, nullptr, [] { get().next = get().v.size(); });
  }
  uint64_t draw()
  {
    if (next == v.size()) {
      if (RAND_bytes(reinterpret_cast<unsigned char*>(v.data()), int(sizeof v)) != 1)
        return rand_u64(); // libre's own draw, one at a time
      next = 0;
    }
    return v[next++];
  }
};

std::string random_hex()
{
  return fmt::format("{:016x}", RandomPool::get().draw());
}

// libre calls this with the request line and Via written, before the rest: the real size of
// what goes out. RFC 3261 §18.1.1: a request bigger than the stack's udp_max() does not go
// over UDP.
int send_h(enum sip_transp tp, const struct sa* src, const struct sa* dst, struct mbuf* mb,
           void* arg) noexcept
{
  (void)src;
  (void)dst;
  auto* o = static_cast<Pager::Outstanding*>(arg);
  o->size = mb->end + mbuf_get_left(o->wire.get());
  if (dst)
    o->sent_to = text::lower(sip_transp_name(tp)) + ":" + sa_str(*dst);
  if (tp == SIP_TRANSP_UDP && o->size > o->udp_max && !o->udp_any_size)
    return EMSGSIZE;
  return 0;
}

bool has_tcp(const sip::Stack& stack)
{
  for (const auto& b : stack.bound())
    if (b.rfind("tcp:", 0) == 0)
      return true;
  return false;
}

// The header lines of `o` after Route, for its current body and CSeq; `authz` is the
// credentials line (with its CRLF) or "".
std::string head_of(const Pager::Outstanding& o, const std::string& content_type, size_t length,
                    const std::string& authz)
{
  const Message& m = o.m;
  std::string head = fmt::format("To: <{}>\r\nFrom: <{}>;tag={}\r\nCall-ID: {}\r\nCSeq: {} "
                                 "MESSAGE\r\n{}{}",
                                 m.ruri, m.from, o.tag, o.call_id, o.cseq, authz, m.headers);
  if (m.service_indication)
    head += fmt::format("Accept-Contact: {}\r\nP-Preferred-Service: {}\r\n",
                        service::accept_contact(service::k_icsi_msg), service::k_icsi_msg);
  head += fmt::format("Content-Type: {}\r\nContent-Length: {}\r\n\r\n", content_type, length);
  return head;
}

} // namespace

bool transient(const Final& f)
{
  if (f.err)
    return true;
  switch (f.status) {
  case 408: // Request Timeout: a proxy on the way had no answer
  case 480: // Temporarily Unavailable: not registered now
  case 500:
  case 503: // Service Unavailable: overloaded or starting
  case 504:
    return true;
  default:
    return false;
  }
}

Pager::Pager(sip::Stack& stack, sip::Diag on_error)
    : m_stack(stack), m_on_error(std::move(on_error))
{
}

Pager::~Pager() = default;

Result<void> Pager::ensure_own()
{
  if (m_own)
    return {};
  auto own = std::make_unique<Own>();
  auto timers = rt::LoopTimerQueue::create();
  if (!timers)
    return tl::unexpected(timers.error());
  own->timers = std::move(*timers);
  sip::Stack* stack = &m_stack;
  own->clients = std::make_unique<proxy::ClientTransactions>(
      [stack](const struct sa& dst, std::string_view bytes, uint64_t* /*conn: UDP, none*/) {
        return stack->send_udp(nullptr, dst, bytes);
      },
      *own->timers);
  if (int err = sip_listen(own->lsnr.out(), m_stack.get(), false, lsnr_h, this); err)
    return fail(fmt::format("cannot listen for SIP responses: {}", std::strerror(err)), 3);
  Own* o = own.get();
  sip::Stack::UdpTap tap;
  tap.claim = [this, o](std::string_view data, const struct sa&) {
    return sip::guarded(m_on_error, "the pager's tap", false, [&] {
      return !o->links.empty() && sip::wire::parse(data, o->rx).verdict == sip::wire::Verdict::Ok &&
             !o->rx.request && o->rx.status < 300 && o->clients->matches(o->rx);
    });
  };
  tap.serve = [this, o](std::string_view, const struct sa&, const struct sa&, void*) {
    sip::guarded(m_on_error, "the pager's tap", [&] {
      o->current = nullptr;
      (void)o->clients->on_response(o->rx);
    });
  };
  own->stack = &m_stack;
  own->tap_id = m_stack.add_udp_tap(std::move(tap));
  m_own = std::move(own);
  return {};
}

Result<Sent> Pager::send(const Message& m, const sip::Hop& hop, bool route, Done done,
                         uint64_t timeout_ms)
{
  if (auto own = ensure_own(); !own)
    return tl::unexpected(own.error());
  auto o = std::make_unique<Outstanding>();
  o->self = this;
  o->udp_max = m_stack.udp_max();
  o->id = m_next_id++;
  o->done = std::move(done);
  o->m = m;
  o->tag = random_hex();
  o->call_id = random_hex();
  o->hop = hop;
  o->route = route;
  o->head = head_of(*o, m.content_type, m.body.size(), authorization(m.ruri));
  o->t0 = sip::jiffies();
  auto via = launch(*o, hop);
  if (!via)
    return tl::unexpected(via.error());
  auto* raw = o.get();
  if (timeout_ms)
    m_own->timers->start(raw->timeout, timeout_ms, timeout_h, raw);
  m_out.emplace(raw->id, std::move(o));
  return Sent{raw->id, *via};
}

void Pager::timeout_h(void* arg) noexcept
{
  auto* o = static_cast<Outstanding*>(arg);
  Pager* self = o->self;
  o->req.reset(); // libre stops the transaction and calls nothing
  self->retire(*o);
  Final f;
  f.id = o->id;
  f.err = ETIMEDOUT;
  f.timed_out = true;
  f.plain = o->plain;
  f.latency_ms = sip::jiffies() - o->t0;
  sip::guarded(self->m_on_error, "a MESSAGE's timeout handler", [&] { self->end(*o, f); });
}

// Send o's request to `hop`, over TCP when it is too big for UDP (unless the hop names UDP),
// over UDP again when that connection is refused; the hop it went to.
Result<sip::Hop> Pager::launch(Outstanding& o, const sip::Hop& hop)
{
  sip::Hop via = hop;
  o.udp_any_size = o.udp_any_size || (hop.transport == "udp" && hop.transport_named);
  o.by_size = false;
  int err = request(o, via);
  if (err == EMSGSIZE) {
    if (!has_tcp(m_stack))
      return fail(fmt::format("{} bytes need TCP, and there is no tcp listen address", o.size));
    via = hop.over_tcp();
    o.by_size = true;
    err = request(o, via);
    if (err == ECONNREFUSED && send_over_udp(o)) {
      err = 0;
      via = hop;
    }
  }
  if (err && hop.is_name())
    return fail(fmt::format("cannot send MESSAGE: {}", m_stack.send_error(hop, err)), 3);
  if (err)
    return fail(fmt::format("cannot send MESSAGE to {}: {}", o.route_uri_text, std::strerror(err)),
                err == EINVAL ? 2 : 3);
  return via;
}

int Pager::request(Outstanding& o, const sip::Hop& hop)
{
  o.route_uri_text = hop.uri();
  struct pl pl;
  pl_set_str(&pl, o.route_uri_text.c_str());
  if (uri_decode(&o.route_uri, &pl))
    return EINVAL;
  std::string route_header;
  if (o.route) {
    std::string r = o.route_uri_text;
    auto semi = r.find(';');
    r.insert(semi == std::string::npos ? r.size() : semi, ";lr");
    route_header = fmt::format("Route: <{}>\r\n", r);
  }
  retire(o); // a resend: the last transaction is over
  if (int err = request_own(o, hop, route_header); err != ENOTSUP)
    return err;
  const std::string& body = o.plain ? o.m.plain->text : o.m.body;
  // As libre's sip_requestf, which cannot tell us the size of what it sends.
  o.wire.reset(mbuf_alloc(64 + route_header.size() + o.head.size() + body.size()));
  if (!o.wire)
    return ENOMEM;
  int err = mbuf_printf(o.wire.get(), "Max-Forwards: 70\r\n%s%b%b", route_header.c_str(),
                        o.head.data(), o.head.size(), body.data(), body.size());
  if (err)
    return err;
  o.wire->pos = 0;
  return sip_request(o.req.out(), m_stack.get(), true, "MESSAGE", -1, o.m.ruri.c_str(), -1,
                     &o.route_uri, o.wire.get(), 0, send_h, resp_h, &o);
}

// What libre's sip_request would write (the request line, our Via, Max-Forwards, the rest),
// with a branch of our own, on a client transaction of our own: for a UDP hop at an IP
// literal, which needs none of libre's RFC 3263 lookups or connections.
int Pager::request_own(Outstanding& o, const sip::Hop& hop, const std::string& route_header)
{
  if (!m_own || hop.transport != "udp" || hop.is_name())
    return ENOTSUP;
  struct sa dst, laddr;
  if (sa_set_str(&dst, hop.host.c_str(), hop.port) != 0 ||
      sip_transp_laddr(m_stack.get(), &laddr, SIP_TRANSP_UDP, &dst) != 0)
    return ENOTSUP;
  auto& own = *m_own;
  uint64_t branch = 0;
  do { // a hash collision with a transaction still alive (or lingering) takes the next key
    ++own.next_key;
    branch = own.branches.derive(
        std::string_view(reinterpret_cast<const char*>(&own.next_key), sizeof own.next_key), 0);
  } while (own.links.count(branch) != 0 || own.clients->has(branch));
  const std::string& body = o.plain ? o.m.plain->text : o.m.body;
  std::string& out = own.out;
  out.clear();
  out.append("MESSAGE ").append(o.m.ruri).append(" SIP/2.0\r\nVia: SIP/2.0/UDP ");
  out.append(sa_str(laddr)).append(";branch=");
  out.append(proxy::BranchGenerator::format(branch).data()).append(";rport\r\n");
  out.append("Max-Forwards: 70\r\n").append(route_header).append(o.head).append(body);
  o.size = out.size();
  if (o.size > o.udp_max && !o.udp_any_size)
    return EMSGSIZE;
  Link& link = own.links[branch];
  link = Link{this, &o};
  if (int err = own.clients->start(branch, "MESSAGE", dst, out, own_resp_h, &link); err) {
    own.links.erase(branch);
    return err;
  }
  o.own_branch = branch;
  // Timer F (RFC 3261 §17.1.2.2): no final answer within 64*T1 ends the transaction.
  own.timers->start(o.timer_f, 64 * SIP_T1, timer_f_h, &o);
  return 0;
}

void Pager::retire(Outstanding& o) noexcept
{
  o.timer_f.cancel();
  if (!o.own_branch)
    return;
  auto& own = *m_own;
  uint64_t branch = o.own_branch;
  o.own_branch = 0;
  own.clients->stop(branch);
  if (auto it = own.links.find(branch); it != own.links.end())
    it->second.o = nullptr;
  try {
    own.lingering.emplace_back(own.timers->now() + SIP_T4, branch);
    if (!own.purge.armed())
      own.timers->start(own.purge, SIP_T4, purge_h, this);
  } catch (const std::bad_alloc&) { // no room to linger: forgotten now
    own.clients->erase(branch);
    own.links.erase(branch);
  }
}

// Erase the transactions that have lingered T4.
void Pager::purge_h(void* arg) noexcept
{
  auto* self = static_cast<Pager*>(arg);
  auto& own = *self->m_own;
  uint64_t now = own.timers->now();
  while (!own.lingering.empty() && own.lingering.front().first <= now) {
    uint64_t branch = own.lingering.front().second;
    own.lingering.pop_front();
    own.clients->erase(branch);
    own.links.erase(branch);
  }
  if (!own.lingering.empty())
    sip::guarded(self->m_on_error, "the pager's purge timer", [&] {
      own.timers->start(own.purge, own.lingering.front().first - now, purge_h, self);
    });
}

// RFC 3261 §18.1.1 fallback: the TCP connection of a MESSAGE moved to TCP by its size was
// refused, so the same MESSAGE goes to o.hop over UDP (libre writes a new Via), with a
// notice. False when it could not go out.
bool Pager::send_over_udp(Outstanding& o)
{
  o.by_size = false; // once
  o.udp_any_size = true;
  if (request(o, o.hop) != 0)
    return false;
  std::string note = fmt::format("MESSAGE {}: TCP to {} refused; sent over UDP (RFC 3261 "
                                 "§18.1.1 fallback)",
                                 o.m.ruri, o.hop.uri());
  if (m_on_note)
    m_on_note(note);
  else
    fmt::print(stderr, "{}\n", note);
  if (auto* tr = m_stack.tracer())
    tr->write("note", "udp", "", o.route_uri_text, note);
  return true;
}

// RFC 3261 §18.1.1 after RFC 3263: DNS chose UDP for a hop that is a name (its NAPTR or SRV
// records), and the MESSAGE is too big for UDP, so it goes over TCP (the name's _sip._tcp SRV
// records, or its address). False when it could not go out.
bool Pager::send_over_tcp(Outstanding& o)
{
  if (o.by_size || !has_tcp(m_stack))
    return false;
  o.by_size = true;
  return request(o, o.hop.over_tcp()) == 0;
}

// RFC 3261 §8.1.3.5: after a 415 whose Accept takes text/plain, the same MESSAGE (Call-ID,
// From tag, To) with CSeq + 1 and the text/plain body. False when it could not go out.
bool Pager::resend_plain(Outstanding& o, const Final& refused)
{
  o.plain = true;
  ++o.cseq;
  o.head = head_of(o, o.m.plain->content_type, o.m.plain->text.size(), authorization(o.m.ruri));
  if (o.m.on_plain)
    o.m.on_plain(refused);
  auto via = launch(o, o.hop);
  if (!via) {
    m_on_error(
        fmt::format("text/plain resend of a MESSAGE to {}: {}", o.m.ruri, via.error().message));
    return false;
  }
  return true;
}

std::string Pager::authorization(const std::string& ruri)
{
  if (!m_challenge || !m_creds)
    return {};
  auto& c = *m_challenge;
  ++c.nc;
  auto user = m_creds->aor.substr(m_creds->aor.find(':') + 1);
  auto value = auth::respond(c.value, "MESSAGE", ruri, user, m_creds->password, c.cnonce, c.nc);
  if (value.empty())
    return {};
  return fmt::format("{}: {}\r\n", c.proxy ? "Proxy-Authorization" : "Authorization", value);
}

bool Pager::resend_authenticated(Outstanding& o, const struct sip_msg* msg)
{
  if (!m_creds || o.auth_tries >= 2)
    return false;
  bool proxy = msg->scode == 407;
  const struct sip_hdr* h =
      sip_msg_hdr(msg, proxy ? SIP_HDR_PROXY_AUTHENTICATE : SIP_HDR_WWW_AUTHENTICATE);
  if (!h)
    return false;
  if (m_creds->password.empty()) {
    m_creds->log.error(m_creds->missing);
    return false;
  }
  std::string value = pl_string(h->val);
  // The same challenge again, not stale, for credentials we sent: the password is wrong.
  if (o.auth_tries > 0 && m_challenge && m_challenge->value == value)
    return false;
  m_challenge = Challenge{value, proxy, 0, random_hex()};
  auto authz = authorization(o.m.ruri);
  if (authz.empty()) { // not MD5 with qop=auth (or none): nothing we can answer
    m_challenge.reset();
    return false;
  }
  ++o.auth_tries;
  ++o.cseq;
  const std::string& body = o.plain ? o.m.plain->text : o.m.body;
  const std::string& type = o.plain ? o.m.plain->content_type : o.m.content_type;
  o.head = head_of(o, type, body.size(), authz);
  auto via = launch(o, o.hop);
  if (!via) {
    m_on_error(
        fmt::format("authenticated resend of a MESSAGE to {}: {}", o.m.ruri, via.error().message));
    return false;
  }
  return true;
}

void Pager::cancel(uint64_t id)
{
  m_out.erase(id); // its re_slot releases the request: libre cancels it quietly
}

void Pager::end(Outstanding& o, const Final& f)
{
  auto it = m_out.find(o.id);
  if (it == m_out.end())
    return;
  auto owned = std::move(it->second); // lives through its Done handler
  m_out.erase(it);
  // Nothing of it stays on our queue or transactions: its Done handler may end the Pager.
  retire(*owned);
  owned->timeout.cancel();
  if (owned->done)
    owned->done(f);
}

void Pager::resp_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto* o = static_cast<Outstanding*>(arg);
  if (!err && msg && msg->scode < 200)
    return;
  Pager* self = o->self;
  sip::guarded(self->m_on_error, "a MESSAGE's answer handler", [&] { self->answer(*o, err, msg); });
}

// A response to one of our own client transactions: libre's form of it is m_own->current.
bool Pager::lsnr_h(const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Pager*>(arg);
  auto& own = *self->m_own;
  if (own.links.empty())
    return false; // not consumed: the next listener sees it
  return sip::guarded(self->m_on_error, "the pager's response listener", false, [&] {
    if (sip::wire::parse(raw_of(*msg), own.rx).verdict != sip::wire::Verdict::Ok)
      return false;
    own.current = msg; // read only while on_response runs (its handler may end the Pager)
    return own.clients->on_response(own.rx);
  });
}

void Pager::own_resp_h(int err, const sip::wire::Message* msg, void* arg) noexcept
{
  auto& link = *static_cast<Link*>(arg);
  Outstanding* o = link.o;
  if (!o)
    return; // a retransmitted answer to a transaction that is over: absorbed
  if (!err && msg && msg->status < 200)
    return;
  Pager* self = link.self;
  const struct sip_msg* lmsg = err ? nullptr : self->m_own->current;
  sip::guarded(self->m_on_error, "a MESSAGE's answer handler", [&] {
    self->retire(*o);
    self->answer(*o, err, lmsg, err ? nullptr : msg);
  });
}

void Pager::timer_f_h(void* arg) noexcept
{
  auto* o = static_cast<Outstanding*>(arg);
  Pager* self = o->self;
  sip::guarded(self->m_on_error, "a MESSAGE's answer handler", [&] {
    self->retire(*o);
    self->answer(*o, ETIMEDOUT, nullptr);
  });
}

std::string Pager::progress(uint64_t id) const
{
  auto it = m_out.find(id);
  if (it == m_out.end())
    return {};
  const Outstanding& o = *it->second;
  if (!o.sent_to.empty())
    return "last sent to " + o.sent_to;
  if (o.own_branch)
    return {};
  if (o.hop.is_name())
    return m_stack.dns_servers().empty()
               ? fmt::format("nothing sent: '{}' is not resolved, and there is no DNS server",
                             o.hop.host)
               : fmt::format("nothing sent: no DNS answer for '{}' from {}", o.hop.host,
                             m_stack.dns_servers());
  return "nothing sent yet";
}

void Pager::answer(Outstanding& o, int err, const struct sip_msg* msg, const sip::wire::Message* wm)
{
  if (err == ECONNREFUSED && o.by_size && send_over_udp(o))
    return; // the same MESSAGE, now over UDP: its answer ends it
  if (err == EMSGSIZE && send_over_tcp(o))
    return; // a name resolved to UDP (NAPTR, SRV) for a MESSAGE too big for it
  if (err && o.hop.is_name())
    m_on_error(fmt::format("MESSAGE to {}: {}", o.m.ruri, m_stack.send_error(o.hop, err)));
  Final f;
  f.id = o.id;
  f.err = err;
  f.plain = o.plain;
  if (!err && msg) {
    f.status = msg->scode;
    f.reason = pl_string(msg->reason);
    if (f.status == 415)
      f.accept = sip::accept_of(msg);
  } else if (!err && wm) { // 1xx and 2xx only (the tap's): nothing more to read
    f.status = wm->status;
    f.reason = std::string(wm->reason);
  }
  f.latency_ms = sip::jiffies() - o.t0;
  if ((f.status == 401 || f.status == 407) && resend_authenticated(o, msg))
    return;
  if (!o.plain && o.m.plain && plain_retry_allowed(f.status, f.accept) && resend_plain(o, f))
    return;
  end(o, f);
}

} // namespace cpm::ua
