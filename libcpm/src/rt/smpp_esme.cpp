// The ESME link: one smpp::Connection at a time, bound as a transceiver, with its window,
// keep-alive, throttling pauses and reconnects.
#include "cpm/rt/smpp_esme.hpp"

#include <algorithm>
#include <deque>
#include <fmt/format.h>
#include <map>

#include "cpm/grammar/address.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/resolve.hpp"
#include "cpm/rt/smpp_conn.hpp"

namespace cpm::smpp {

namespace {

enum class State { Idle, Connecting, Binding, Bound, Unbinding, Stopped };

// A request on its way: its PDU (kept to resend when throttled) and its owner's tag.
struct Out {
  Pdu pdu;
  uint64_t tag = 0;
  bool own = false; // bind, enquire_link, unbind: the link's, not the owner's
  uint64_t sent_ms = 0;
};

} // namespace

struct Esme::Impl {
  Options opt;
  Callbacks cb;
  State state = State::Idle;
  std::unique_ptr<Connection> conn;
  std::unique_ptr<Connection> dead; // a closed connection, freed off its own callback
  uint32_t seq = 0;
  std::map<uint32_t, Out> outstanding;
  std::deque<Out> throttled; // refused for throttling: sent again after the pause
  int backoff_ms = 0;        // the next reconnect wait
  int pause_ms = 0;          // the current throttling pause
  bool paused = false;
  bool wanted_room = false;
  sip::Timer reconnect_timer, keepalive_timer, pause_timer, reaper;
  std::unique_ptr<sip::HostLookup> lookup; // the SMSC's name, asked again before each connect
  std::string address;                     // what the name was last (said when it changes)

  void diag(const std::string& s) const
  {
    if (opt.diag)
      opt.diag(s);
  }

  uint32_t next_seq()
  {
    seq = seq >= 0x7FFFFFFF ? 1 : seq + 1;
    return seq;
  }

  size_t room() const
  {
    if (state != State::Bound || paused)
      return 0;
    size_t used = outstanding.size() + throttled.size();
    return used >= opt.window ? 0 : opt.window - used;
  }

  void connect()
  {
    if (state == State::Stopped)
      return;
    state = State::Connecting;
    if (opt.dnsc && sip::is_host_name(opt.host)) {
      lookup =
          sip::HostLookup::start(opt.dnsc, opt.host, [this](auto r) { resolved(std::move(r)); });
      return;
    }
    connect_to(opt.host);
  }

  // The SMSC's name resolved (or not): connect to its first address, or try again later.
  void resolved(Result<std::vector<std::string>> r)
  {
    if (state != State::Connecting)
      return;
    if (!r) {
      diag(fmt::format("SMSC {}:{}: {}", opt.host, opt.port, r.error().message));
      state = State::Idle;
      schedule_reconnect();
      return;
    }
    if (r->front() != address) {
      address = r->front();
      diag(fmt::format("SMSC {}:{}: {} is {}", opt.host, opt.port, opt.host, address));
    }
    connect_to(address);
  }

  void connect_to(const std::string& ip)
  {
    Connection::Callbacks ccb;
    ccb.on_connected = [this] { bind(); };
    ccb.on_pdu = [this](Pdu& p) { pdu(p); };
    ccb.on_bad = [this](const DecodeError& e, bool closing) {
      diag(fmt::format("SMSC {}:{}: unreadable PDU ({}){}", opt.host, opt.port, e.message,
                       closing ? ": connection closed" : ": generic_nack sent"));
    };
    ccb.on_closed = [this](int err) { closed(err); };
    auto c = Connection::connect(ip, opt.port, opt.local_host, std::move(ccb), opt.trace);
    if (!c) {
      diag(fmt::format("SMSC {}:{}: {}", opt.host, opt.port, c.error().message));
      state = State::Idle;
      schedule_reconnect();
      return;
    }
    conn = std::move(*c);
  }

  Result<void> send_own(Pdu p)
  {
    p.sequence = next_seq();
    Out o{p, 0, true, sip::jiffies()};
    auto r = conn->send(p);
    if (r)
      outstanding.emplace(p.sequence, std::move(o));
    return r;
  }

  void bind()
  {
    state = State::Binding;
    Pdu b;
    b.command = Command::bind_transceiver;
    b.system_id = opt.system_id;
    b.password = opt.password;
    b.system_type = opt.system_type;
    if (auto r = send_own(b); !r) {
      diag(fmt::format("SMSC {}:{}: bind: {}", opt.host, opt.port, r.error().message));
      conn->close();
    }
  }

  void schedule_reconnect()
  {
    if (state == State::Stopped)
      return;
    int wait = backoff_ms > 0 ? backoff_ms : opt.reconnect_ms;
    backoff_ms = std::min(wait * 2, opt.reconnect_max_ms);
    reconnect_timer.start(uint64_t(wait), [this] { connect(); });
  }

  // The connection ended: every request of the owner still open is answered with nothing.
  void closed(int err)
  {
    const bool was_bound = state == State::Bound || state == State::Unbinding;
    if (state != State::Stopped) {
      if (was_bound || err)
        diag(fmt::format("SMSC {}:{}: connection {}{}", opt.host, opt.port,
                         err ? std::string("lost: ") + std::strerror(err) : std::string("closed"),
                         "; reconnecting"));
      state = State::Idle;
    }
    keepalive_timer.cancel();
    pause_timer.cancel();
    paused = false;
    auto open = std::move(outstanding);
    outstanding.clear();
    auto held = std::move(throttled);
    throttled.clear();
    dead = std::move(conn);
    reaper.start(0, [this] { dead.reset(); });
    for (auto& [s, o] : open)
      if (!o.own && cb.on_response)
        cb.on_response(o.tag, nullptr);
    for (auto& o : held)
      if (cb.on_response)
        cb.on_response(o.tag, nullptr);
    schedule_reconnect();
  }

  void keepalive()
  {
    if (state != State::Bound)
      return;
    // A request unanswered too long: the SMSC is gone without the connection knowing.
    const uint64_t now = sip::jiffies();
    for (const auto& [s, o] : outstanding)
      if (now - o.sent_ms > uint64_t(opt.response_timeout_ms)) {
        diag(fmt::format("SMSC {}:{}: no response to {} seq={} in {} ms: reconnecting", opt.host,
                         opt.port, command_name(o.pdu.command), s, opt.response_timeout_ms));
        conn->close();
        return;
      }
    Pdu e;
    e.command = Command::enquire_link;
    (void)send_own(e);
    keepalive_timer.start(uint64_t(std::min(opt.enquire_link_ms, opt.response_timeout_ms)),
                          [this] { keepalive(); });
  }

  void pdu(Pdu& p)
  {
    if (is_response(p.command) || p.command == Command::generic_nack) {
      response(p);
      return;
    }
    switch (p.command) {
    case Command::enquire_link:
      (void)conn->send(smpp::response(p));
      return;
    case Command::deliver_sm:
    case Command::data_sm: {
      uint32_t st = state == State::Bound && cb.on_deliver ? cb.on_deliver(p) : k_esme_rinvbndsts;
      if (conn)
        (void)conn->send(smpp::response(p, st));
      return;
    }
    case Command::unbind:
      (void)conn->send(smpp::response(p));
      state = State::Unbinding;
      conn->close();
      return;
    default:
      (void)conn->send(generic_nack(p.sequence, k_esme_rinvcmdid));
      diag(fmt::format("SMSC {}:{}: {} is not for an ESME: generic_nack", opt.host, opt.port,
                       command_name(p.command)));
    }
  }

  void response(const Pdu& p)
  {
    auto it = outstanding.find(p.sequence);
    if (it == outstanding.end()) {
      diag(fmt::format("SMSC {}:{}: {} seq={} answers nothing we sent", opt.host, opt.port,
                       command_name(p.command), p.sequence));
      return;
    }
    Out o = std::move(it->second);
    outstanding.erase(it);
    if (o.own) {
      if (o.pdu.command == Command::bind_transceiver)
        bound(p);
      return;
    }
    if (p.status == k_esme_rthrottled || p.status == k_esme_rmsgqful) {
      throttle(std::move(o), p.status);
      return;
    }
    if (cb.on_response)
      cb.on_response(o.tag, &p);
    room_again();
  }

  void bound(const Pdu& p)
  {
    if (p.status != k_esme_rok) {
      diag(fmt::format("SMSC {}:{}: bind_transceiver as '{}' refused: {}", opt.host, opt.port,
                       opt.system_id, status_name(p.status)));
      conn->close();
      return;
    }
    state = State::Bound;
    backoff_ms = 0;
    diag(fmt::format("SMSC {}:{}: bound as '{}' (transceiver)", opt.host, opt.port, opt.system_id));
    keepalive_timer.start(uint64_t(std::min(opt.enquire_link_ms, opt.response_timeout_ms)),
                          [this] { keepalive(); });
    if (cb.on_bound)
      cb.on_bound();
  }

  // The SMSC asks us to slow down: this request waits, and so does every new one.
  void throttle(Out o, uint32_t status)
  {
    throttled.push_back(std::move(o));
    if (paused)
      return;
    paused = true;
    pause_ms = pause_ms > 0 ? std::min(pause_ms * 2, 5000) : 100;
    diag(fmt::format("SMSC {}:{}: {}: pausing {} ms", opt.host, opt.port, status_name(status),
                     pause_ms));
    pause_timer.start(uint64_t(pause_ms), [this] { resume(); });
  }

  void resume()
  {
    paused = false;
    auto held = std::move(throttled);
    throttled.clear();
    for (auto& o : held) {
      o.pdu.sequence = next_seq();
      o.sent_ms = sip::jiffies();
      if (!conn || !conn->send(o.pdu)) {
        if (cb.on_response)
          cb.on_response(o.tag, nullptr);
        continue;
      }
      outstanding.emplace(o.pdu.sequence, std::move(o));
    }
    if (!held.empty() && outstanding.empty())
      pause_ms = 0;
    room_again();
  }

  void room_again()
  {
    if (!paused && throttled.empty() && outstanding.size() < opt.window / 2 + 1)
      pause_ms = std::max(0, pause_ms / 2);
    if (room() > 0 && cb.on_room)
      cb.on_room();
  }
};

Result<std::unique_ptr<Esme>> Esme::create(Options opt, Callbacks cb)
{
  if (opt.window == 0)
    opt.window = 1;
  std::unique_ptr<Esme> e(new Esme());
  e->m = std::make_unique<Impl>();
  e->m->opt = std::move(opt);
  e->m->cb = std::move(cb);
  return e;
}

Esme::~Esme()
{
  if (m) {
    m->state = State::Stopped;
    if (m->conn)
      m->conn->close();
  }
}

void Esme::start()
{
  m->connect();
}

size_t Esme::room() const
{
  return m->room();
}

bool Esme::bound() const
{
  return m->state == State::Bound;
}

Result<void> Esme::send(Pdu request, uint64_t tag)
{
  if (m->state != State::Bound || !m->conn)
    return fail("not bound to the SMSC", 3);
  request.sequence = m->next_seq();
  Out o{request, tag, false, sip::jiffies()};
  if (auto r = m->conn->send(request); !r)
    return r;
  m->outstanding.emplace(request.sequence, std::move(o));
  return {};
}

void Esme::stop()
{
  m->cb = {};
  m->lookup.reset();
  m->reconnect_timer.cancel();
  m->keepalive_timer.cancel();
  m->pause_timer.cancel();
  if (m->conn && m->state == State::Bound) {
    Pdu u;
    u.command = Command::unbind;
    (void)m->send_own(u);
  }
  m->state = State::Stopped;
  if (m->conn)
    m->conn->close();
}

} // namespace cpm::smpp
