// The SMSC's side of SMPP: binds, enquire_link, unbind, and requests both ways.
#include "cpm/rt/smpp_server.hpp"

#include <fmt/format.h>
#include <map>

#include "cpm/rt/loop.hpp"
#include "cpm/rt/smpp_conn.hpp"

namespace cpm::smpp {

namespace {

struct Session {
  SessionId id = 0;
  std::unique_ptr<Connection> conn;
  bool bound = false;
  Command bind = Command::generic_nack;
  std::string system_id;
  uint32_t next_seq = 1;
  std::map<uint32_t, uint64_t> pending; // sequence number -> the owner's tag

  bool receives() const
  {
    return bound && (bind == Command::bind_receiver || bind == Command::bind_transceiver);
  }
  bool transmits() const
  {
    return bound && (bind == Command::bind_transmitter || bind == Command::bind_transceiver);
  }
  uint32_t take_seq()
  {
    uint32_t s = next_seq;
    next_seq = next_seq >= 0x7FFFFFFF ? 1 : next_seq + 1;
    return s;
  }
};

bool is_bind_request(Command c)
{
  return c == Command::bind_transmitter || c == Command::bind_receiver ||
         c == Command::bind_transceiver;
}

} // namespace

struct Server::Impl {
  Options opt;
  Callbacks cb;
  std::unique_ptr<Listener> lst;
  std::map<SessionId, std::unique_ptr<Session>> sessions;
  // Sessions that ended, freed on the loop (their connection may be in its own callback).
  std::vector<std::unique_ptr<Session>> dead;
  sip::Timer reaper;
  SessionId next_id = 1;

  void diag(const std::string& line) const
  {
    if (opt.diag)
      opt.diag(line);
  }

  Session* find(SessionId id) const
  {
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : it->second.get();
  }

  void accept(std::unique_ptr<Connection> c)
  {
    auto s = std::make_unique<Session>();
    s->id = next_id++;
    SessionId id = s->id;
    Connection::Callbacks ccb;
    ccb.on_pdu = [this, id](Pdu& p) { on_pdu(id, p); };
    ccb.on_bad = [this, id](const DecodeError& e, bool closing) {
      Session* from = find(id);
      diag(fmt::format("smpp: bad PDU from {}: {}{}", from ? from->conn->peer() : "?", e.message,
                       closing ? " (closing the connection)" : ""));
    };
    ccb.on_closed = [this, id](int) { end(id); };
    c->set_callbacks(std::move(ccb));
    s->conn = std::move(c);
    sessions.emplace(id, std::move(s));
  }

  void end(SessionId id)
  {
    auto it = sessions.find(id);
    if (it == sessions.end())
      return;
    std::unique_ptr<Session> s = std::move(it->second);
    sessions.erase(it);
    auto pending = std::move(s->pending);
    bool was_bound = s->bound;
    dead.push_back(std::move(s));
    reaper.start(0, [this] { dead.clear(); });
    for (auto& [seq, tag] : pending)
      if (cb.on_response)
        cb.on_response(id, tag, nullptr);
    if (was_bound && cb.on_unbound)
      cb.on_unbound(id);
  }

  void reply(Session& s, const Pdu& r)
  {
    if (auto sent = s.conn->send(r); !sent)
      diag(sent.error().message);
  }

  void on_bind(Session& s, const Pdu& p)
  {
    Pdu r = response(p);
    r.system_id = opt.system_id;
    if (s.bound) {
      r.status = k_esme_ralybnd;
    } else if (!opt.account.empty() && p.system_id != opt.account) {
      r.status = k_esme_rinvsysid;
    } else if (!opt.password.empty() && p.password != opt.password) {
      r.status = k_esme_rinvpaswd;
    }
    if (r.status != k_esme_rok) {
      diag(fmt::format("smpp: {} from {} refused: {}", command_name(p.command), s.conn->peer(),
                       status_name(r.status)));
      reply(s, r);
      return;
    }
    r.set_u8(k_tlv_sc_interface_version, k_interface_version);
    reply(s, r);
    s.bound = true;
    s.bind = p.command;
    s.system_id = p.system_id;
    if (cb.on_bound)
      cb.on_bound(s.id, p);
  }

  void on_response(Session& s, const Pdu& p)
  {
    auto it = s.pending.find(p.sequence);
    if (it == s.pending.end()) {
      if (p.command != Command::unbind_resp)
        diag(fmt::format("smpp: {} seq={} from {} answers nothing we sent", command_name(p.command),
                         p.sequence, s.conn->peer()));
      return;
    }
    uint64_t tag = it->second;
    s.pending.erase(it);
    if (cb.on_response)
      cb.on_response(s.id, tag, &p);
  }

  void on_pdu(SessionId id, Pdu& p)
  {
    Session* s = find(id);
    if (!s)
      return;
    if (is_response(p.command)) {
      on_response(*s, p);
      return;
    }
    if (is_bind_request(p.command)) {
      on_bind(*s, p);
      return;
    }
    switch (p.command) {
    case Command::enquire_link:
      reply(*s, response(p));
      return;
    case Command::unbind: {
      reply(*s, response(p));
      s->conn->close();
      return;
    }
    default:
      break;
    }
    // §2.3: only a bound ESME may submit, and a receiver may not.
    bool allowed = p.command == Command::submit_sm ? s->transmits() : s->bound;
    if (!allowed) {
      diag(fmt::format("smpp: {} from {} while {}", command_name(p.command), s->conn->peer(),
                       s->bound ? "bound as receiver" : "not bound"));
      reply(*s, response(p, k_esme_rinvbndsts));
      return;
    }
    Pdu r = cb.on_request ? cb.on_request(id, p) : response(p, k_esme_rsyserr);
    if ((s = find(id)) != nullptr)
      reply(*s, r);
  }
};

Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::listen(Options opt, Callbacks cb)
{
  std::unique_ptr<Server> srv(new Server());
  srv->m = std::make_unique<Impl>();
  auto* impl = srv->m.get();
  impl->opt = std::move(opt);
  impl->cb = std::move(cb);
  auto l = Listener::listen(
      impl->opt.host, impl->opt.port,
      [impl](std::unique_ptr<Connection> c) { impl->accept(std::move(c)); }, impl->opt.trace);
  if (!l)
    return tl::unexpected(l.error());
  impl->lst = std::move(*l);
  return srv;
}

uint16_t Server::port() const
{
  return m->lst->port();
}

const std::string& Server::host() const
{
  return m->lst->host();
}

std::vector<SessionId> Server::receivers() const
{
  std::vector<SessionId> out;
  for (const auto& [id, s] : m->sessions)
    if (s->receives() && s->conn->is_open())
      out.push_back(id);
  return out;
}

std::string Server::system_id_of(SessionId id) const
{
  const Session* s = m->find(id);
  return s ? s->system_id : std::string();
}

size_t Server::outstanding(SessionId id) const
{
  const Session* s = m->find(id);
  return s ? s->pending.size() : 0;
}

Result<void> Server::send(SessionId id, Pdu request, uint64_t tag)
{
  Session* s = m->find(id);
  if (!s || !s->receives())
    return fail(fmt::format("smpp: session {} is not bound as a receiver", id), 3);
  request.sequence = s->take_seq();
  auto sent = s->conn->send(request);
  if (!sent)
    return sent;
  s->pending.emplace(request.sequence, tag);
  return {};
}

void Server::unbind_all()
{
  for (auto& [id, s] : m->sessions) {
    if (s->bound && s->conn->is_open()) {
      Pdu u;
      u.command = Command::unbind;
      u.sequence = s->take_seq();
      (void)s->conn->send(u);
    }
    s->conn->close();
  }
}

} // namespace cpm::smpp
