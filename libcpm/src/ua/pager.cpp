// Pager-mode MESSAGEs out, on libre's sip_request.
#include "cpm/ua/pager.hpp"

#include <cstring>
#include <fmt/format.h>

#include "cpm/codec/service.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re_ptr.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::ua {

struct Pager::Outstanding {
  Pager* self = nullptr;
  uint64_t id = 0;
  re_slot<struct sip_request> req; // libre clears it when the transaction ends
  std::string head;                // the header lines after Route
  std::string body;
  std::string route; // the next hop's URI; uri_decode points into it
  struct uri route_uri {};
  re_ptr<struct mbuf> wire;  // what follows libre's request line and Via
  size_t size = 0;           // the encoded request, as libre sent (or refused) it
  bool udp_any_size = false; // a target that names UDP, or the fallback: no size limit
  // Moved to TCP by its size (RFC 3261 §18.1.1): where it goes over UDP if TCP is refused.
  std::unique_ptr<sip::Hop> udp_hop;
  std::string ruri;       // (with udp_hop) the request URI
  bool use_route = false; // (with udp_hop) a Route header names the hop
  uint64_t t0 = 0;
  Done done;
  sip::Timer timeout;
};

namespace {

std::string random_hex()
{
  return fmt::format("{:016x}", rand_u64());
}

// libre calls this with the request line and Via written, before the rest: the real size of
// what goes out. RFC 3261 §18.1.1: a request bigger than k_udp_max does not go over UDP.
int send_h(enum sip_transp tp, const struct sa* src, const struct sa* dst, struct mbuf* mb,
           void* arg) noexcept
{
  (void)src;
  (void)dst;
  auto* o = static_cast<Pager::Outstanding*>(arg);
  o->size = mb->end + mbuf_get_left(o->wire.get());
  if (tp == SIP_TRANSP_UDP && o->size > sip::k_udp_max && !o->udp_any_size)
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

} // namespace

Pager::Pager(sip::Stack& stack, sip::Diag on_error)
    : m_stack(stack), m_on_error(std::move(on_error))
{
}

Pager::~Pager() = default;

Result<Sent> Pager::send(const Message& m, const sip::Hop& hop, bool route, Done done,
                         uint64_t timeout_ms)
{
  auto o = std::make_unique<Outstanding>();
  o->self = this;
  o->id = m_next_id++;
  o->done = std::move(done);
  o->head = fmt::format("To: <{}>\r\nFrom: <{}>;tag={}\r\nCall-ID: {}\r\nCSeq: 1 MESSAGE\r\n{}",
                        m.ruri, m.from, random_hex(), random_hex(), m.headers);
  if (m.service_indication)
    o->head += fmt::format("Accept-Contact: {}\r\nP-Preferred-Service: {}\r\n",
                           service::accept_contact(service::k_icsi_msg), service::k_icsi_msg);
  o->head +=
      fmt::format("Content-Type: {}\r\nContent-Length: {}\r\n\r\n", m.content_type, m.body.size());
  o->body = m.body;
  o->t0 = sip::jiffies();
  sip::Hop via = hop;
  // A target that names UDP (";transport=udp") is never moved to TCP.
  o->udp_any_size = hop.transport == "udp" && hop.transport_named;
  int err = request(*o, m.ruri, via, route);
  if (err == EMSGSIZE) {
    if (!has_tcp(m_stack))
      return fail(fmt::format("{} bytes need TCP, and there is no tcp listen address", o->size));
    via = hop.over_tcp();
    o->udp_hop = std::make_unique<sip::Hop>(hop);
    o->ruri = m.ruri;
    o->use_route = route;
    err = request(*o, m.ruri, via, route);
    if (err == ECONNREFUSED && send_over_udp(*o))
      err = 0;
  }
  if (err)
    return fail(fmt::format("cannot send MESSAGE to {}: {}", o->route, std::strerror(err)),
                err == EINVAL ? 2 : 3);
  auto* raw = o.get();
  if (timeout_ms)
    raw->timeout.start(timeout_ms, [raw] {
      raw->req.reset(); // libre stops the transaction and calls nothing
      Final f;
      f.id = raw->id;
      f.err = ETIMEDOUT;
      f.timed_out = true;
      f.latency_ms = sip::jiffies() - raw->t0;
      Pager* self = raw->self;
      sip::guarded(self->m_on_error, "a MESSAGE's timeout handler", [&] { self->end(*raw, f); });
    });
  m_out.emplace(raw->id, std::move(o));
  return Sent{raw->id, via};
}

int Pager::request(Outstanding& o, const std::string& ruri, const sip::Hop& hop, bool route)
{
  o.route = hop.uri();
  struct pl pl;
  pl_set_str(&pl, o.route.c_str());
  if (uri_decode(&o.route_uri, &pl))
    return EINVAL;
  std::string route_header;
  if (route) {
    std::string r = o.route;
    auto semi = r.find(';');
    r.insert(semi == std::string::npos ? r.size() : semi, ";lr");
    route_header = fmt::format("Route: <{}>\r\n", r);
  }
  // As libre's sip_requestf, which cannot tell us the size of what it sends.
  o.wire.reset(mbuf_alloc(64 + route_header.size() + o.head.size() + o.body.size()));
  if (!o.wire)
    return ENOMEM;
  int err = mbuf_printf(o.wire.get(), "Max-Forwards: 70\r\n%s%b%b", route_header.c_str(),
                        o.head.data(), o.head.size(), o.body.data(), o.body.size());
  if (err)
    return err;
  o.wire->pos = 0;
  return sip_request(o.req.out(), m_stack.get(), true, "MESSAGE", -1, ruri.c_str(), -1,
                     &o.route_uri, o.wire.get(), 0, send_h, resp_h, &o);
}

bool Pager::send_over_udp(Outstanding& o)
{
  auto hop = std::move(o.udp_hop); // once
  o.udp_any_size = true;
  if (request(o, o.ruri, *hop, o.use_route) != 0)
    return false;
  std::string note = fmt::format("MESSAGE {}: TCP to {} refused; sent over UDP (RFC 3261 "
                                 "§18.1.1 fallback)",
                                 o.ruri, hop->uri());
  if (m_on_note)
    m_on_note(note);
  else
    fmt::print(stderr, "{}\n", note);
  if (auto* tr = m_stack.tracer())
    tr->write("note", "udp", "", o.route, note);
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
  if (owned->done)
    owned->done(f);
}

void Pager::resp_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto* o = static_cast<Outstanding*>(arg);
  if (!err && msg && msg->scode < 200)
    return;
  Pager* self = o->self;
  sip::guarded(self->m_on_error, "a MESSAGE's answer handler", [&] {
    if (err == ECONNREFUSED && o->udp_hop && self->send_over_udp(*o))
      return; // the same MESSAGE, now over UDP: its answer ends it
    Final f;
    f.id = o->id;
    f.err = err;
    if (!err && msg) {
      f.status = msg->scode;
      f.reason = pl_string(msg->reason);
    }
    f.latency_ms = sip::jiffies() - o->t0;
    self->end(*o, f);
  });
}

} // namespace cpm::ua
