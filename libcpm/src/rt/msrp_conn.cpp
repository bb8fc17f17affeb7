// MSRP connections on libre's TCP, with libre's TLS on it for msrps: (RFC 4975 §5.4, §7,
// §14): the parser, our queue of frames, and the first request that binds an accepted
// connection to a session by its To-Path. Never overruns libre's send queue (tcp_send would
// return ENOSPC after a partial write): frames wait in our own queue and resume on
// tcp_set_send.
#include "cpm/rt/msrp_detail.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "cpm/base/trace.hpp"
#include "cpm/codec/msrp_detail.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/tls.hpp"

namespace cpm::msrp::detail {

void Conn::destroy()
{
  soon.cancel();
  if (tc) {
    tcp_set_handlers(tc.get(), nullptr, nullptr, nullptr, nullptr);
    tls.reset(); // its close_notify goes out on tc, which it holds a reference to
    tc.reset();
  }
  up = false;
}

void Conn::discard()
{
  destroy();
  if (lst)
    lst->forget(this);
}

void Conn::addresses()
{
  struct sa a;
  if (!tcp_conn_local_get(tc.get(), &a))
    local = sa_str(a);
  if (!tcp_conn_peer_get(tc.get(), &a))
    peer = sa_str(a);
}

void Conn::trace(const char* dir, std::string_view frame) const
{
  if (lst && lst->trace && lst->trace->is_open())
    lst->trace->write(dir, transport_of(*this), local, peer, frame);
}

void Conn::set_txq_limit(size_t max)
{
  txq_max = max;
  if (tc)
    tcp_conn_txqsz_set(tc.get(), tls ? max + max / 8 + 64 * 1024 : max);
}

std::string Conn::failure(int err) const
{
  if (!tls || up)
    return {};
  // The handshake failed: libre says EPROTO whatever went wrong; the context's verification
  // says whether it was the peer's certificate, and why.
  if (verifying && tls_peer_verify(tls.get()) != 0) {
    std::string why = lst && lst->tls ? lst->tls->last_refusal() : std::string();
    return fmt::format("msrp: TLS to {} refused: {}", peer,
                       why.empty() ? "its certificate was not verified (tls_ca)" : why);
  }
  return fmt::format("msrp: TLS to {} failed: {}", peer,
                     err ? std::strerror(err) : "closed during the handshake");
}

void Conn::queue(const Frame& f)
{
  auto text = encode(f);
  if (text)
    ctl.push_back(std::move(*text));
}

int Conn::write(const std::string& frame)
{
  struct mbuf mb {};
  mb.buf = reinterpret_cast<uint8_t*>(const_cast<char*>(frame.data()));
  mb.size = frame.size();
  mb.pos = 0;
  mb.end = frame.size();
  int err = tcp_send(tc.get(), &mb);
  if (!err)
    trace("tx", frame);
  return err;
}

void Conn::want_send(bool on)
{
  if (on != sendh_on && tc) {
    tcp_set_send(tc.get(), on ? &Conn::send_h : nullptr);
    sendh_on = on;
  }
}

// Write queued frames while they fit libre's queue, all of them in one tcp_send; wait for
// send_h otherwise.
void Conn::pump()
{
  soon.cancel();
  if (!tc || !up)
    return;
  auto keep = shared_from_this();
  std::string batch;
  std::vector<size_t> ends; // where each frame ends in `batch` (the trace has one per frame)
  bool blocked = false;
  for (;;) {
    std::string* f = nullptr;
    bool chunk = false;
    if (!ctl.empty()) {
      f = &ctl.front();
    } else if (session && session->bound && session->conn.get() == this) {
      if (session->staged.empty())
        session->stage_next();
      if (!session->staged.empty()) {
        f = &session->staged;
        chunk = true;
      }
    }
    if (!f)
      break;
    size_t queued = tcp_conn_txqsz(tc.get()) + batch.size();
    if (queued > 0 && queued + f->size() > txq_max) {
      blocked = true;
      break;
    }
    if (f->size() > txq_max) // libre's queue is empty: make room for one big frame
      set_txq_limit(f->size());
    batch += *f;
    ends.push_back(batch.size());
    if (chunk)
      session->staged_sent();
    else
      ctl.pop_front();
  }
  if (!batch.empty()) {
    struct mbuf mb {};
    mb.buf = reinterpret_cast<uint8_t*>(batch.data());
    mb.size = batch.size();
    mb.end = batch.size();
    if (int err = tcp_send(tc.get(), &mb)) {
      if (session) {
        session->diag(fmt::format("msrp: send to {} failed: {}", peer, std::strerror(err)));
        session->drop_conn(err);
      } else {
        discard();
      }
      return;
    }
    size_t from = 0;
    for (size_t end : ends) {
      trace("tx", std::string_view(batch).substr(from, end - from));
      from = end;
    }
  }
  if (blocked) {
    want_send(true);
    return;
  }
  if (closing) {
    if (tcp_conn_txqsz(tc.get()) == 0) {
      discard();
      return;
    }
    want_send(true);
    return;
  }
  want_send(false);
}

void Conn::pump_soon()
{
  if (!soon.active())
    soon.start(0, [this] { send_h(this); });
}

void Conn::on_data(std::string_view bytes)
{
  auto keep = shared_from_this();
  std::vector<Frame> frames;
  auto r = parser.feed(bytes, frames);
  for (auto& f : frames) {
    if (!tc || closing)
      break;
    if (lst && lst->trace && lst->trace->is_open())
      if (auto text = encode(f))
        trace("rx", *text);
    if (session)
      session->handle(*this, f);
    else
      on_pending_frame(f);
  }
  if (!tc)
    return;
  if (!r && !closing) {
    on_bad_frame(r.error());
    return;
  }
  pump();
}

// RFC 4975 §7.3: 400 when the transaction is known; the stream cannot be resynchronized, so
// the connection closes.
void Conn::on_bad_frame(const Error& e)
{
  if (!parser.current_tid().empty()) {
    Frame err;
    err.tid = parser.current_tid();
    err.request = false;
    err.status = 400;
    err.comment = "Bad Request";
    if (session) {
      if (!session->remote.empty())
        err.headers.emplace_back("To-Path", format_uri(session->remote.front()));
      err.headers.emplace_back("From-Path", session->local_s);
    }
    if (auto text = encode(err))
      (void)write(*text);
  }
  if (session) {
    session->diag(fmt::format("msrp: malformed frame from {}: {}", peer, e.message));
    session->drop_conn(EPROTO);
  } else {
    discard();
  }
}

// The first request on an accepted connection names the session (RFC 4975 §5.4).
void Conn::on_pending_frame(Frame& f)
{
  closing = true; // unless bound below
  if (!f.request)
    return;
  auto to = parse_path(f.header("To-Path"));
  if (!to) {
    queue(make_response(f, 400, "Bad To-Path"));
    return;
  }
  auto it = lst->sessions.find(to->front().session_id);
  if (it == lst->sessions.end() || !same_uri(to->front(), it->second->local)) {
    if (f.method != "REPORT")
      queue(make_response(f, 481));
    return;
  }
  SessionCore& s = *it->second;
  if (s.conn) {
    if (f.method != "REPORT")
      queue(make_response(f, 506));
    return;
  }
  closing = false;
  auto self = shared_from_this();
  lst->forget(this);
  s.conn = self;
  session = &s;
  s.bound = true;
  if (s.remote.empty())
    if (auto from = parse_path(f.header("From-Path"))) {
      s.remote = std::move(*from);
      s.remote_s = format_path(s.remote);
    }
  auto alive = s.alive;
  if (s.cb.on_connected)
    s.cb.on_connected();
  if (!*alive || !tc)
    return;
  s.handle(*this, f);
}

void Conn::estab_h(void* arg) noexcept
{
  auto* c = static_cast<Conn*>(arg);
  sip::guarded({}, "the MSRP connect handler", [c] {
    auto keep = c->shared_from_this();
    c->up = true;
    c->addresses();
    if (c->session && !c->session->bound && !c->session->bind_tid.empty()) {
      // RFC 4975 §5.4: the active side binds the connection with a first (empty) SEND.
      Message bind;
      bind.message_id = random_id(16);
      auto f = chunk_frame(bind, c->session->remote_s, c->session->local_s, 0, 0);
      c->session->bind_tid = f.tid;
      c->queue(f);
    }
    c->pump();
  });
}

void Conn::recv_h(struct mbuf* mb, void* arg) noexcept
{
  auto* c = static_cast<Conn*>(arg);
  try {
    c->on_data(std::string_view(reinterpret_cast<const char*>(mbuf_buf(mb)), mbuf_get_left(mb)));
  } catch (const std::exception& e) {
    if (c->session)
      c->session->diag(fmt::format("msrp: internal error: {}", e.what()));
  } catch (...) {
  }
}

void Conn::close_h(int err, void* arg) noexcept
{
  auto* c = static_cast<Conn*>(arg);
  sip::guarded({}, "the MSRP close handler", [c, err] {
    auto keep = c->shared_from_this();
    if (c->session) {
      if (auto why = c->failure(err); !why.empty())
        c->session->diag(why);
      c->session->drop_conn(err);
    } else {
      c->discard();
    }
  });
}

void Conn::send_h(void* arg) noexcept
{
  auto* c = static_cast<Conn*>(arg);
  sip::guarded({}, "the MSRP send handler", [c] { c->pump(); });
}

} // namespace cpm::msrp::detail
