// MSRP sessions on libre's TCP (RFC 4975 §5.4, §7): one Listener serves many sessions; an
// accepted connection is bound to a session by the first request's To-Path. Never overruns
// libre's send queue (tcp_send would return ENOSPC after a partial write): frames wait in our
// own queue and resume on tcp_set_send.
#include "cpm/codec/msrp.hpp"
#include "cpm/rt/msrp_session.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <list>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "cpm/base/trace.hpp"
#include "cpm/codec/msrp_detail.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::msrp {

namespace detail {

namespace {
// libre's default tcp_conn txqsz limit (TCP_TXQSZ_DEFAULT)
constexpr size_t k_txq_default = 512 * 1024;

std::string sa_str(const struct sa& a)
{
  char buf[64];
  re_snprintf(buf, sizeof(buf), "%J", &a);
  return buf;
}
} // namespace

struct SessionCore;

// One TCP connection: parser, our queue of encoded control frames, the libre connection.
struct Conn : std::enable_shared_from_this<Conn> {
  struct tcp_conn* tc = nullptr;
  Listener::Impl* lst = nullptr;
  SessionCore* session = nullptr; // once bound (or the active side's own)
  Parser parser;
  std::string local, peer;
  bool up = false;
  bool closing = false; // pending connection: close once our answer is written
  bool sendh_on = false;
  size_t txq_max = k_txq_default;
  std::deque<std::string> ctl; // responses, REPORTs, the binding SEND: before message chunks

  // A pump at the end of this turn of the loop: what the turn queues (every message relayed
  // from one read, every line of one stdin read) leaves in one write.
  struct tmr soon;
  Conn() { tmr_init(&soon); }
  ~Conn() { destroy(); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  void destroy()
  {
    tmr_cancel(&soon);
    if (tc) {
      tcp_set_handlers(tc, nullptr, nullptr, nullptr, nullptr);
      tc = static_cast<struct tcp_conn*>(mem_deref(tc));
    }
    up = false;
  }
  void queue(const Frame& f);
  int write(const std::string& frame);
  void want_send(bool on);
  void pump();
  void pump_soon();
  void on_data(std::string_view bytes);
  void on_pending_frame(Frame& f);
  void addresses()
  {
    struct sa a;
    if (!tcp_conn_local_get(tc, &a))
      local = sa_str(a);
    if (!tcp_conn_peer_get(tc, &a))
      peer = sa_str(a);
  }

  static void estab_h(void* arg) noexcept;
  static void recv_h(struct mbuf* mb, void* arg) noexcept;
  static void close_h(int err, void* arg) noexcept;
  static void send_h(void* arg) noexcept;
  static void soon_h(void* arg) noexcept;
};

struct SessionCore {
  Listener::Impl* lst = nullptr;
  Callbacks cb;
  Uri local;
  std::vector<Uri> remote;
  std::string local_s, remote_s; // formatted path values
  std::shared_ptr<Conn> conn;
  bool bound = false;
  std::string bind_tid;
  Reassembler reasm;
  size_t chunk_size = 2048;
  struct Out {
    Message m;
    size_t off = 0;
  };
  std::deque<Out> out;
  size_t out_bytes = 0; // unsent body bytes of `out`
  std::string staged;   // the next chunk, encoded
  std::string staged_tid, staged_mid;
  size_t staged_len = 0;
  bool staged_last = false, staged_track = false;
  struct Txn {
    std::string mid;  // Message-ID
    uint64_t sent_ms; // tmr_jiffies() when it went to the connection
  };
  std::unordered_map<std::string, Txn> txns; // tid -> a SEND awaiting its response
  // RFC 4975 §7.1: no response within 30 s counts as 408.
  uint32_t txn_timeout_ms = 30000;
  struct tmr txn_tmr;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  SessionCore() { tmr_init(&txn_tmr); }
  virtual ~SessionCore()
  {
    tmr_cancel(&txn_tmr);
    *alive = false;
  }
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;
  void arm_txn_timer();
  static void txn_timer_h(void* arg) noexcept;

  void diag(const std::string& s)
  {
    if (cb.on_diag)
      cb.on_diag(s);
  }
  void stage_next();
  void staged_sent();
  void handle(Conn& c, Frame& f);
  void on_response(const Frame& f);
  void fail_message(const std::string& mid, int status);
  void drop_conn(int err); // the connection is gone: callbacks
  void detach();           // close without callbacks
  void respond(Conn& c, const Frame& req, int status, std::string_view comment = {})
  {
    c.queue(make_response(req, status, comment));
  }
};

} // namespace detail

using detail::Conn;
using detail::SessionCore;

struct Session::Impl : detail::SessionCore {};

struct Listener::Impl {
  struct tcp_sock* ts = nullptr;
  std::string host;
  uint16_t port = 0;
  trace::Writer* trace = nullptr;
  std::unordered_map<std::string, SessionCore*> sessions; // by session-id
  std::list<std::shared_ptr<Conn>> pending;               // accepted, not yet bound

  ~Impl()
  {
    for (auto& c : pending)
      c->destroy();
    pending.clear();
    if (ts)
      ts = static_cast<struct tcp_sock*>(mem_deref(ts));
  }
  void forget(Conn* c)
  {
    pending.remove_if([c](const std::shared_ptr<Conn>& p) { return p.get() == c; });
  }
  static void conn_h(const struct sa* peer, void* arg) noexcept;
};

namespace detail {

// ---- Conn ----------------------------------------------------------------------------------

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
  int err = tcp_send(tc, &mb);
  if (!err && lst && lst->trace && lst->trace->is_open())
    lst->trace->write("tx", "tcp", local, peer, frame);
  return err;
}

void Conn::want_send(bool on)
{
  if (on != sendh_on && tc) {
    tcp_set_send(tc, on ? &Conn::send_h : nullptr);
    sendh_on = on;
  }
}

// Write queued frames while they fit libre's queue, all of them in one tcp_send; wait for
// send_h otherwise.
void Conn::pump()
{
  tmr_cancel(&soon);
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
    size_t queued = tcp_conn_txqsz(tc) + batch.size();
    if (queued > 0 && queued + f->size() > txq_max) {
      blocked = true;
      break;
    }
    if (f->size() > txq_max) { // libre's queue is empty: make room for one big frame
      txq_max = f->size();
      tcp_conn_txqsz_set(tc, txq_max);
    }
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
    if (int err = tcp_send(tc, &mb)) {
      if (session) {
        session->diag(fmt::format("msrp: send to {} failed: {}", peer, std::strerror(err)));
        session->drop_conn(err);
      } else if (lst) {
        destroy();
        lst->forget(this);
      }
      return;
    }
    if (lst && lst->trace && lst->trace->is_open()) {
      size_t from = 0;
      for (size_t end : ends) {
        lst->trace->write("tx", "tcp", local, peer,
                          std::string_view(batch).substr(from, end - from));
        from = end;
      }
    }
  }
  if (blocked) {
    want_send(true);
    return;
  }
  if (closing) {
    if (tcp_conn_txqsz(tc) == 0) {
      destroy();
      if (lst)
        lst->forget(this);
      return;
    }
    want_send(true);
    return;
  }
  want_send(false);
}

void Conn::pump_soon()
{
  if (!tmr_isrunning(&soon))
    tmr_start(&soon, 0, &Conn::soon_h, this);
}

void Conn::soon_h(void* arg) noexcept
{
  try {
    static_cast<Conn*>(arg)->pump();
  } catch (...) {
  }
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
        lst->trace->write("rx", "tcp", local, peer, *text);
    if (session)
      session->handle(*this, f);
    else
      on_pending_frame(f);
  }
  if (!tc)
    return;
  if (!r && !closing) {
    // RFC 4975 §7.3: 400 when the transaction is known; the stream cannot be resynchronized.
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
      session->diag(fmt::format("msrp: malformed frame from {}: {}", peer, r.error().message));
      session->drop_conn(EPROTO);
    } else {
      destroy();
      if (lst)
        lst->forget(this);
    }
    return;
  }
  pump();
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
  try {
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
  } catch (...) {
  }
}

void Conn::recv_h(struct mbuf* mb, void* arg) noexcept
{
  auto* c = static_cast<Conn*>(arg);
  try {
    c->on_data(std::string_view(reinterpret_cast<const char*>(mbuf_buf(mb)), mbuf_get_left(mb)));
  } catch (const std::exception& e) {
    if (c->session)
      c->session->diag(fmt::format("msrp: internal error: {}", e.what()));
  }
}

void Conn::close_h(int err, void* arg) noexcept
{
  auto* c = static_cast<Conn*>(arg);
  try {
    auto keep = c->shared_from_this();
    if (c->session)
      c->session->drop_conn(err);
    else {
      c->destroy();
      if (c->lst)
        c->lst->forget(c);
    }
  } catch (...) {
  }
}

void Conn::send_h(void* arg) noexcept
{
  auto* c = static_cast<Conn*>(arg);
  try {
    c->pump();
  } catch (...) {
  }
}

// ---- SessionCore ----------------------------------------------------------------------------

void SessionCore::stage_next()
{
  while (!out.empty() && staged.empty()) {
    auto& o = out.front();
    auto f = chunk_frame(o.m, remote_s, local_s, o.off, chunk_size);
    auto text = encode(f);
    if (!text) {
      diag(fmt::format("msrp: cannot send message {}: {}", o.m.message_id, text.error().message));
      out_bytes -= o.m.body.size() - o.off;
      out.pop_front();
      continue;
    }
    staged = std::move(*text);
    staged_tid = f.tid;
    staged_mid = o.m.message_id;
    staged_len = f.body.size();
    staged_last = f.flag == '$';
    staged_track = o.m.failure_report == "yes";
  }
}

void SessionCore::staged_sent()
{
  if (staged_track) {
    txns.emplace(staged_tid, Txn{staged_mid, tmr_jiffies()});
    arm_txn_timer();
  }
  staged.clear();
  auto& o = out.front();
  o.off += staged_len;
  out_bytes -= staged_len;
  if (staged_last) {
    out_bytes -= o.m.body.size() - o.off; // 0 unless the body was shorter than announced
    out.pop_front();
  }
}

void SessionCore::handle(Conn& c, Frame& f)
{
  if (!f.request) {
    on_response(f);
    return;
  }
  auto problem = check_request(f);
  if (!problem) {
    auto to = parse_path(f.header("To-Path"));
    if (!to || to->front().session_id != local.session_id)
      problem = Problem{481, "Session Does Not Exist"};
  }
  auto fr = f.header("Failure-Report");
  // RFC 4975 §7.1.2: REPORT requests get no response.
  if (problem) {
    diag(fmt::format("msrp: {} {} from {}: {} {}", f.method, f.tid, c.peer, problem->status,
                     problem->comment));
    if (f.method != "REPORT" && fr != "no")
      respond(c, f, problem->status, problem->comment);
    return;
  }
  if (f.method == "REPORT") {
    if (cb.on_report)
      cb.on_report(f.header("Message-ID"), report_status(f));
    return;
  }
  auto res = reasm.feed(f);
  if (!res) {
    diag(fmt::format("msrp: SEND {} from {}: {}", f.tid, c.peer, res.error().message));
    if (fr != "no")
      respond(c, f, res.error().code == 413 ? 413 : 400, res.error().message);
    return;
  }
  if (fr.empty() || fr == "yes")
    respond(c, f, 200);
  if (!*res)
    return;
  Message& msg = **res;
  if (msg.success_report) {
    uint64_t n = msg.body.size();
    c.queue(make_report(f, ByteRange{1, n, n}, 200, "OK"));
  }
  // An empty SEND only binds the connection (RFC 4975 §5.4): nothing to deliver.
  if ((msg.body.empty() && msg.content_type.empty()) || !cb.on_message)
    return;
  cb.on_message(msg);
}

void SessionCore::on_response(const Frame& f)
{
  if (!bind_tid.empty() && f.tid == bind_tid) {
    bind_tid.clear();
    if (f.status == 200) {
      bound = true;
      auto guard = alive;
      if (cb.on_connected)
        cb.on_connected();
      if (*guard && conn)
        conn->pump();
      return;
    }
    diag(fmt::format("msrp: session {} refused by {}: {} {}", local.session_id,
                     conn ? conn->peer : std::string(), f.status, f.comment));
    drop_conn(ECONNREFUSED);
    return;
  }
  auto it = txns.find(f.tid);
  if (it == txns.end())
    return;
  auto mid = it->second.mid;
  txns.erase(it);
  if (f.status >= 300)
    fail_message(mid, f.status);
}

void SessionCore::arm_txn_timer()
{
  if (txns.empty()) {
    tmr_cancel(&txn_tmr);
    return;
  }
  if (tmr_isrunning(&txn_tmr))
    return;
  uint64_t oldest = UINT64_MAX;
  for (auto& [tid, t] : txns)
    oldest = std::min(oldest, t.sent_ms);
  uint64_t now = tmr_jiffies();
  uint64_t due = oldest + txn_timeout_ms;
  tmr_start(&txn_tmr, due > now ? due - now : 0, &SessionCore::txn_timer_h, this);
}

// SENDs without a response for txn_timeout_ms: their messages fail with 408.
void SessionCore::txn_timer_h(void* arg) noexcept
{
  auto* s = static_cast<SessionCore*>(arg);
  try {
    uint64_t now = tmr_jiffies();
    std::vector<std::string> expired;
    for (auto& [tid, t] : s->txns)
      if (t.sent_ms + s->txn_timeout_ms <= now &&
          std::find(expired.begin(), expired.end(), t.mid) == expired.end())
        expired.push_back(t.mid);
    auto guard = s->alive;
    for (auto& mid : expired) {
      s->fail_message(mid, 408);
      if (!*guard)
        return;
    }
    s->arm_txn_timer();
  } catch (...) {
  }
}

void SessionCore::fail_message(const std::string& mid, int status)
{
  std::erase_if(txns, [&](auto& t) { return t.second.mid == mid; });
  if (!out.empty() && out.front().m.message_id == mid) {
    out_bytes -= out.front().m.body.size() - out.front().off;
    out.pop_front();
    staged.clear();
  }
  diag(fmt::format("msrp: message {} failed: {}", mid, status));
  if (cb.on_failure)
    cb.on_failure(mid, status);
}

void SessionCore::detach()
{
  if (conn) {
    conn->session = nullptr;
    conn->destroy();
    conn.reset();
  }
  bound = false;
  bind_tid.clear();
  txns.clear();
  staged.clear();
  if (!out.empty()) { // a partly sent message goes again whole on the next connection
    out_bytes += out.front().off;
    out.front().off = 0;
  }
}

void SessionCore::drop_conn(int err)
{
  std::vector<std::string> failed;
  std::unordered_set<std::string> seen;
  for (auto& [tid, t] : txns)
    if (seen.insert(t.mid).second)
      failed.push_back(t.mid);
  for (auto& o : out)
    if (seen.insert(o.m.message_id).second)
      failed.push_back(o.m.message_id);
  out.clear();
  out_bytes = 0;
  detach();
  auto guard = alive;
  for (auto& mid : failed) {
    if (cb.on_failure)
      cb.on_failure(mid, 0);
    if (!*guard)
      return;
  }
  if (cb.on_closed)
    cb.on_closed(err);
}

} // namespace detail

// ---- Listener --------------------------------------------------------------------------------

void Listener::Impl::conn_h(const struct sa* peer, void* arg) noexcept
{
  auto* l = static_cast<Listener::Impl*>(arg);
  try {
    auto c = std::make_shared<Conn>();
    c->lst = l;
    int err = tcp_accept(&c->tc, l->ts, &Conn::estab_h, &Conn::recv_h, &Conn::close_h, c.get());
    if (err) {
      tcp_reject(l->ts);
      return;
    }
    c->addresses();
    if (c->peer.empty())
      c->peer = detail::sa_str(*peer);
    l->pending.push_back(std::move(c));
  } catch (...) {
    tcp_reject(l->ts);
  }
}

Result<std::unique_ptr<Listener>> Listener::create(const std::string& host, uint16_t port,
                                                   trace::Writer* trace)
{
  struct sa laddr;
  if (sa_set_str(&laddr, host.c_str(), port))
    return fail(fmt::format("msrp: bad listen address '{}'", host), 2);
  std::unique_ptr<Listener> l(new Listener());
  l->m = std::make_unique<Impl>();
  l->m->host = host;
  l->m->trace = trace;
  int err = tcp_listen(&l->m->ts, &laddr, &Impl::conn_h, l->m.get());
  if (err)
    return fail(fmt::format("msrp: cannot listen on {}:{}: {}", host, port, std::strerror(err)), 3);
  struct sa bound;
  if (tcp_sock_local_get(l->m->ts, &bound) == 0)
    l->m->port = sa_port(&bound);
  return l;
}

Listener::~Listener() = default;

uint16_t Listener::port() const
{
  return m->port;
}

const std::string& Listener::host() const
{
  return m->host;
}

std::unique_ptr<Session> Listener::session(Callbacks cb)
{
  std::unique_ptr<Session> s(new Session());
  s->m = std::make_unique<Session::Impl>();
  auto& core = *s->m;
  core.lst = m.get();
  core.cb = std::move(cb);
  core.local.host = m->host;
  core.local.port = m->port;
  do
    core.local.session_id = random_id(16);
  while (m->sessions.count(core.local.session_id));
  core.local_s = format_uri(core.local);
  m->sessions.emplace(core.local.session_id, &core);
  return s;
}

// ---- Session -----------------------------------------------------------------------------------

Session::~Session()
{
  if (!m)
    return;
  m->detach();
  if (m->lst)
    m->lst->sessions.erase(m->local.session_id);
}

const Uri& Session::local() const
{
  return m->local;
}

void Session::set_remote(std::vector<Uri> path)
{
  m->remote = std::move(path);
  m->remote_s = format_path(m->remote);
}

const std::vector<Uri>& Session::remote() const
{
  return m->remote;
}

Result<void> Session::connect()
{
  if (m->remote.empty())
    return fail("msrp: no remote path to connect to");
  if (m->conn)
    return {};
  const Uri& hop = m->remote.front();
  struct sa peer, laddr;
  if (sa_set_str(&peer, hop.host.c_str(), hop.port))
    return fail(fmt::format("msrp: cannot connect to '{}': not an IP address", hop.host), 3);
  auto c = std::make_shared<Conn>();
  c->lst = m->lst;
  c->session = m.get();
  int err = 0;
  if (m->lst && sa_set_str(&laddr, m->lst->host.c_str(), 0) == 0 && sa_af(&laddr) == sa_af(&peer) &&
      !sa_is_any(&laddr))
    err = tcp_connect_bind(&c->tc, &peer, &Conn::estab_h, &Conn::recv_h, &Conn::close_h, &laddr,
                           c.get());
  else
    err = tcp_connect(&c->tc, &peer, &Conn::estab_h, &Conn::recv_h, &Conn::close_h, c.get());
  if (err)
    return fail(fmt::format("msrp: cannot connect to {}: {}", format_uri(hop), std::strerror(err)),
                3);
  c->peer = detail::sa_str(peer);
  m->conn = std::move(c);
  m->bind_tid = "pending"; // replaced by the binding SEND's tid once connected
  return {};
}

bool Session::connected() const
{
  return m->conn && m->bound;
}

std::string Session::send(Message msg)
{
  if (msg.message_id.empty())
    msg.message_id = random_id(16);
  std::string id = msg.message_id;
  m->out_bytes += msg.body.size();
  m->out.push_back({std::move(msg), 0});
  if (m->conn)
    m->conn->pump_soon();
  return id;
}

size_t Session::backlog() const
{
  size_t n = m->out_bytes;
  if (m->conn) {
    for (auto& f : m->conn->ctl)
      n += f.size();
    if (m->conn->tc)
      n += tcp_conn_txqsz(m->conn->tc);
  }
  return n;
}

void Session::set_transaction_timeout(uint32_t ms)
{
  m->txn_timeout_ms = ms == 0 ? 30000 : ms;
}

void Session::set_chunk_size(size_t n)
{
  m->chunk_size = n == 0 ? 2048 : n;
}

void Session::close()
{
  m->detach();
}

} // namespace cpm::msrp
