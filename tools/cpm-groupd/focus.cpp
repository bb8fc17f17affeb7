// The controlling function of pre-defined groups: a B2BUA on libre's sipsess with one MSRP
// session per participant, relaying every chat message to all other participants.
//
// The inviter's INVITE is held (no libre server transaction yet, a stateless 100 Trying) until
// the first member rings (180, sipsess_accept) or accepts (200); a failure of every member
// is answered with sip_treply (stateful, ACK absorbed). Legs and conferences are removed on
// a zero-delay timer, never inside the libre callback that ends them.
#include "focus.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <map>

#include "cpm/codec/msrp.hpp"
#include "cpm/codec/sdp.hpp"
#include "cpm/codec/service.hpp"
#include "cpm/core/group.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/rt/msrp_session.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::groupd {

namespace {

std::string pl_str(const struct pl& p)
{
  return p.p ? std::string(p.p, p.l) : std::string();
}

// A held INVITE's identity: retransmissions and its CANCEL carry the same.
std::string txn_of(const struct sip_msg* msg)
{
  return fmt::format("{}|{}|{}", pl_str(msg->callid), msg->cseq.num, pl_str(msg->from.tag));
}

struct MbufOf {
  struct mbuf* mb = nullptr;
  explicit MbufOf(const std::string& s)
  {
    mb = mbuf_alloc(s.size() + 1);
    if (mb) {
      (void)mbuf_write_mem(mb, reinterpret_cast<const uint8_t*>(s.data()), s.size());
      mb->pos = 0;
    }
  }
  ~MbufOf() { mem_deref(mb); }
  MbufOf(const MbufOf&) = delete;
  MbufOf& operator=(const MbufOf&) = delete;
};

} // namespace

struct GroupCall;

// One participant: the inviter, an invited member, or a member who joined later.
struct Party {
  GroupCall* conf = nullptr;
  std::string aor;
  bool inviter = false; // the leg whose INVITE started the session (or a rejoin)
  struct sipsess* sess = nullptr;
  struct sip_msg* held = nullptr; // its INVITE, not answered yet (mem_ref)
  std::string held_txn;
  std::string answer; // our SDP answer (inviter side), for re-INVITEs too
  std::string offer;  // our SDP offer (member side)
  std::unique_ptr<msrp::Session> msrp;
  bool msrp_active = false; // we connect
  bool msrp_lost = false;   // its MSRP connection closed
  bool joined = false;
  bool gone = false;
  bool ringing = false; // sent 180 to it (inviter)
};

// One group session.
struct GroupCall {
  Focus::Impl* impl = nullptr;
  int id = 0;
  config::Group group; // a copy: a SIGHUP may change the file under us
  group::Setup setup{{}};
  std::vector<std::unique_ptr<Party>> legs;
  sip::Timer timeout; // members who have not answered by then are cancelled
  bool ended = false;
  uint64_t relayed = 0;
  uint64_t started_ms = 0; // when the inviter's INVITE arrived

  Party* inviter() const
  {
    for (auto& l : legs)
      if (l->inviter && !l->gone)
        return l.get();
    return nullptr;
  }
  // Participants, joined or still being invited.
  size_t alive() const
  {
    return size_t(std::count_if(legs.begin(), legs.end(), [](auto& l) { return !l->gone; }));
  }
};

struct Focus::Impl {
  Env env;
  struct sipsess_sock* sock = nullptr;
  std::unique_ptr<msrp::Listener> listener;
  std::vector<std::unique_ptr<GroupCall>> confs;
  sip::Timer gc;
  int next_id = 1;
  std::string host; // our address for Contact and MSRP
  uint16_t port = 5060;

  // Stopping: every session ends (BYE to participants, CANCEL to pending invitations).
  ~Impl()
  {
    for (auto& c : confs)
      end(*c, "shutting down");
    for (auto& c : confs)
      for (auto& l : c->legs)
        drop_leg(*l);
    mem_deref(sock);
  }

  void diag(const std::string& s) const
  {
    if (env.diag)
      env.diag(s);
  }
  void verbose(const std::string& s) const
  {
    if (env.verbose)
      env.verbose(s);
  }
  std::string tag(const GroupCall& c) const
  {
    return fmt::format("{} (session {})", c.group.uri, c.id);
  }

  // Contact of the focus with the isfocus feature tag (RFC 4579 §3.3.1), carried by one more
  // header line (sip::sipsess_contact).
  std::string contact(const GroupCall& c, std::string_view header_name,
                      std::string_view header_value) const
  {
    return sip::sipsess_contact(fmt::format("sip:{}@{}:{}", sip::uri_user(c.group.uri), host, port),
                                ";isfocus", header_name, header_value);
  }

  GroupCall* running(const std::string& group_uri)
  {
    for (auto& c : confs)
      if (!c->ended && c->group.uri == group_uri)
        return c.get();
    return nullptr;
  }

  Party* held_leg(const std::string& txn)
  {
    for (auto& c : confs)
      for (auto& l : c->legs)
        if (l->held && l->held_txn == txn)
          return l.get();
    return nullptr;
  }

  void schedule_gc()
  {
    if (!gc.active())
      gc.start(0, [this] { collect(); });
  }

  // Free what the libre callbacks ended (a terminated sipsess sends nothing when freed).
  void collect()
  {
    for (auto& c : confs) {
      for (auto& l : c->legs)
        if (l->gone) {
          l->sess = static_cast<struct sipsess*>(mem_deref(l->sess));
          l->held = static_cast<struct sip_msg*>(mem_deref(l->held));
        }
      c->legs.erase(std::remove_if(c->legs.begin(), c->legs.end(), [](auto& l) { return l->gone; }),
                    c->legs.end());
    }
    confs.erase(std::remove_if(confs.begin(), confs.end(),
                               [](auto& c) { return c->ended && c->legs.empty(); }),
                confs.end());
  }

  // A leg whose sipsess ended (its close handler runs): freed later by collect().
  void closed(Party& l)
  {
    if (l.msrp)
      l.msrp->close();
    l.gone = true;
    schedule_gc();
  }

  // Forget a leg's SIP and MSRP: BYE when established, CANCEL when ringing (libre).
  void drop_leg(Party& l)
  {
    if (l.msrp)
      l.msrp->close();
    l.sess = static_cast<struct sipsess*>(mem_deref(l.sess));
    l.held = static_cast<struct sip_msg*>(mem_deref(l.held));
    l.gone = true;
  }

  // Answer a held INVITE with a failure, statefully (the ACK is absorbed by libre).
  void refuse_held(Party& l, int code, const char* reason)
  {
    if (!l.held)
      return;
    (void)sip_treply(nullptr, env.stack->get(), l.held, uint16_t(code), reason);
    l.held = static_cast<struct sip_msg*>(mem_deref(l.held));
  }

  void end(GroupCall& c, const std::string& why)
  {
    if (c.ended)
      return;
    c.ended = true;
    c.timeout.cancel();
    verbose(fmt::format("{}: ended ({}), {} messages relayed", tag(c), why, c.relayed));
    for (auto& l : c.legs) {
      if (l->held)
        refuse_held(*l, 480, "Temporarily Unavailable");
      if (!l->gone)
        drop_leg(*l);
    }
    schedule_gc();
  }

  // Fewer than two participants (joined or still being invited) left: the session ends.
  void maybe_end(GroupCall& c)
  {
    if (!c.ended && c.alive() < 2)
      end(c, "fewer than two participants");
  }

  // ---- MSRP ----

  std::unique_ptr<msrp::Session> new_msrp(Party& l)
  {
    msrp::Callbacks cb;
    cb.on_message = [this, &l](const msrp::Message& m) { relay(l, m); };
    cb.on_failure = [this, &l](const std::string& id, int status) {
      verbose(fmt::format("{}: MSRP message {} to {} failed: {}", tag(*l.conf), id, l.aor, status));
    };
    cb.on_connected = [this, &l] {
      verbose(fmt::format("{}: MSRP up with {}", tag(*l.conf), l.aor));
    };
    cb.on_closed = [this, &l](int err) {
      l.msrp_lost = true; // nothing more is queued for it (the SIP leg stays until its BYE)
      if (!l.gone)
        verbose(fmt::format("{}: MSRP connection of {} closed{}", tag(*l.conf), l.aor,
                            err ? fmt::format(": {}", std::strerror(err)) : std::string()));
    };
    cb.on_diag = [this, &l](const std::string& s) {
      diag(fmt::format("{}: MSRP {}: {}", tag(*l.conf), l.aor, s));
    };
    return listener->session(std::move(cb));
  }

  // A chat message from `from`: to every other joined participant, unchanged (its CPIM From
  // names the writer).
  void relay(Party& from, const msrp::Message& m)
  {
    GroupCall& c = *from.conf;
    if (c.ended || m.body.empty())
      return;
    for (auto& l : c.legs) {
      if (l.get() == &from || l->gone || !l->joined || !l->msrp || l->msrp_lost)
        continue;
      msrp::Message out;
      out.content_type = m.content_type;
      out.body = m.body;
      l->msrp->send(std::move(out));
      ++c.relayed;
    }
  }

  void start_msrp(Party& l)
  {
    if (l.msrp && l.msrp_active && !l.msrp->connected())
      if (auto r = l.msrp->connect(); !r)
        diag(fmt::format("{}: MSRP connect to {}: {}", tag(*l.conf), l.aor, r.error().message));
  }

  // ---- the inviter's side ----

  static void on_inviter_estab(const struct sip_msg*, void* arg)
  {
    auto& l = *static_cast<Party*>(arg);
    l.joined = true;
    l.conf->impl->verbose(fmt::format("{}: {} joined", l.conf->impl->tag(*l.conf), l.aor));
    l.conf->impl->start_msrp(l);
  }

  static void on_inviter_close(int err, const struct sip_msg* msg, void* arg)
  {
    auto& l = *static_cast<Party*>(arg);
    Impl& self = *l.conf->impl;
    // libre reports the peer's BYE (or CANCEL) as ECONNRESET without a message.
    std::string why = msg                 ? pl_str(msg->met)
                      : err == ECONNRESET ? std::string("BYE")
                                          : std::string(std::strerror(err));
    self.verbose(fmt::format("{}: {} left ({})", self.tag(*l.conf), l.aor, why));
    self.closed(l);
    if (l.inviter && !l.conf->setup.answered())
      self.end(*l.conf, "the inviter gave up");
    self.maybe_end(*l.conf);
    self.schedule_gc();
  }

  // A re-INVITE: answer with the same media (adding streams is Figure 3, not done here).
  static int on_reoffer(struct mbuf** descp, const struct sip_msg*, void* arg)
  {
    auto& l = *static_cast<Party*>(arg);
    const std::string& sdp = l.inviter ? l.answer : l.offer;
    *descp = mbuf_alloc(sdp.size() + 1);
    if (!*descp)
      return ENOMEM;
    (void)mbuf_write_mem(*descp, reinterpret_cast<const uint8_t*>(sdp.data()), sdp.size());
    (*descp)->pos = 0;
    return 0;
  }

  static int on_late_answer(const struct sip_msg*, void*) { return 0; }

  // Accept the held INVITE of `l` with 180 (no body) or 200 (our answer).
  bool accept(Party& l, int code)
  {
    GroupCall& c = *l.conf;
    if (!l.held)
      return false;
    std::string cuser = contact(c, "P-Asserted-Identity", c.group.uri);
    MbufOf body(l.answer);
    int err = sipsess_accept(&l.sess, sock, l.held, uint16_t(code), code == 180 ? "Ringing" : "OK",
                             cuser.c_str(), "application/sdp", code == 200 ? body.mb : nullptr,
                             nullptr, nullptr, false, on_reoffer, on_late_answer, on_inviter_estab,
                             nullptr, nullptr, on_inviter_close, &l, nullptr);
    l.held = static_cast<struct sip_msg*>(mem_deref(l.held));
    if (err) {
      diag(fmt::format("{}: cannot answer {}: {}", tag(c), l.aor, std::strerror(err)));
      l.gone = true;
      return false;
    }
    l.ringing = code == 180;
    if (code == 200)
      l.joined = false; // joined on the ACK
    return true;
  }

  void answer_inviter(GroupCall& c)
  {
    Party* l = c.inviter();
    if (!l)
      return;
    if (l->held) {
      accept(*l, 200);
      return;
    }
    if (l->sess) {
      MbufOf body(l->answer);
      if (int err = sipsess_answer(l->sess, 200, "OK", body.mb, nullptr))
        diag(fmt::format("{}: cannot answer {}: {}", tag(c), l->aor, std::strerror(err)));
    }
  }

  void fail_inviter(GroupCall& c)
  {
    int code = c.setup.failure();
    const char* reason = code == 486 ? "Busy Here" : "Temporarily Unavailable";
    diag(fmt::format("{}: no member accepted: {} {} to the inviter", tag(c), code, reason));
    if (Party* l = c.inviter()) {
      if (l->held)
        refuse_held(*l, code, reason);
      else if (l->sess)
        (void)sipsess_reject(l->sess, uint16_t(code), reason, nullptr);
    }
    end(c, "nobody accepted");
  }

  void say(GroupCall& c, group::Setup::Say s)
  {
    switch (s) {
    case group::Setup::Say::Ringing:
      if (Party* l = c.inviter(); l && l->held)
        accept(*l, 180);
      break;
    case group::Setup::Say::Answer:
      answer_inviter(c);
      break;
    case group::Setup::Say::Fail:
      fail_inviter(c);
      break;
    case group::Setup::Say::Nothing:
      break;
    }
  }

  // ---- the members' side ----

  static void on_member_progress(const struct sip_msg* msg, void* arg)
  {
    auto& l = *static_cast<Party*>(arg);
    if (msg->scode != 180 && msg->scode != 183)
      return;
    Impl& self = *l.conf->impl;
    self.verbose(fmt::format("{}: {} rings", self.tag(*l.conf), l.aor));
    self.say(*l.conf, l.conf->setup.ringing(l.aor));
  }

  static int on_member_answer(const struct sip_msg* msg, void* arg)
  {
    auto& l = *static_cast<Party*>(arg);
    Impl& self = *l.conf->impl;
    auto d = sdp::parse(sip::body_of(msg));
    if (!d)
      return self.bad_answer(l, d.error().message);
    auto m = sdp::msrp_media(*d);
    if (!m)
      return self.bad_answer(l, m.error().message);
    l.msrp->set_remote(m->path);
    l.msrp_active = sdp::we_connect(m->setup, true);
    return 0;
  }

  int bad_answer(Party& l, const std::string& why)
  {
    diag(fmt::format("{}: unusable answer from {}: {}", tag(*l.conf), l.aor, why));
    return EPROTO;
  }

  static void on_member_estab(const struct sip_msg*, void* arg)
  {
    auto& l = *static_cast<Party*>(arg);
    Impl& self = *l.conf->impl;
    l.joined = true;
    self.verbose(fmt::format("{}: {} joined", self.tag(*l.conf), l.aor));
    self.start_msrp(l);
    GroupCall& c = *l.conf;
    self.say(c, c.setup.accepted(l.aor));
    if (c.setup.pending() == 0 && c.setup.joined() == c.setup.legs().size())
      self.verbose(fmt::format("{}: all {} members joined in {} ms", self.tag(c), c.setup.joined(),
                               sip::jiffies() - c.started_ms));
  }

  static void on_member_close(int err, const struct sip_msg* msg, void* arg)
  {
    auto& l = *static_cast<Party*>(arg);
    Impl& self = *l.conf->impl;
    GroupCall& c = *l.conf;
    bool was_joined = l.joined;
    self.closed(l);
    if (!was_joined) {
      int status = msg && msg->scode >= 300 ? msg->scode : (err == ETIMEDOUT ? 408 : 480);
      self.verbose(fmt::format("{}: {} did not join: {}{}", self.tag(c), l.aor, status,
                               msg ? fmt::format(" {}", pl_str(msg->reason)) : std::string()));
      self.say(c, c.setup.failed(l.aor, status));
    } else {
      self.verbose(fmt::format("{}: {} left", self.tag(c), l.aor));
    }
    self.maybe_end(c);
    self.schedule_gc();
  }

  bool invite_member(GroupCall& c, const std::string& member, const std::string& inviter)
  {
    auto l = std::make_unique<Party>();
    l->conf = &c;
    l->aor = member;
    l->msrp = new_msrp(*l);
    l->offer = sdp::format(sdp::msrp_offer(l->msrp->local(), "active"));
    std::string cuser = contact(c, "Referred-By", inviter);
    std::string proxy = sip::to_sip_uri(env.node->proxy);
    const char* routev[1] = {proxy.c_str()};
    MbufOf body(l->offer);
    std::string name = sip::uri_user(c.group.uri);
    int err = sipsess_connect(
        &l->sess, sock, member.c_str(), name.c_str(), c.group.uri.c_str(), cuser.c_str(), routev,
        proxy.empty() ? 0 : 1, "application/sdp", body.mb, nullptr, nullptr, false, on_reoffer,
        on_member_answer, on_member_progress, on_member_estab, nullptr, nullptr, on_member_close,
        l.get(), "Accept-Contact: %s\r\nP-Preferred-Service: %s\r\n",
        service::accept_contact(service::k_icsi_session).c_str(),
        std::string(service::k_icsi_session).c_str());
    if (err) {
      diag(fmt::format("{}: cannot invite {}: {}", tag(c), member, std::strerror(err)));
      return false;
    }
    c.legs.push_back(std::move(l));
    return true;
  }

  // ---- entry points ----

  // The INVITE the proxy passed on (sipsess_listen's connection handler).
  static void on_connect(const struct sip_msg* msg, void* arg)
  {
    static_cast<Impl*>(arg)->incoming(msg);
  }

  void incoming(const struct sip_msg* msg)
  {
    std::string ruri = sip::canonical_aor(pl_str(msg->ruri));
    const config::Group* g = env.file->find_group(ruri);
    if (!g || g->host != env.node->name) {
      (void)sip_treply(nullptr, env.stack->get(), msg, 404, "Not Found");
      return;
    }
    if (held_leg(txn_of(msg)))
      return; // a retransmission (the proxy answered it 100 already)
    auto d = sdp::parse(sip::body_of(msg));
    Result<sdp::MsrpMedia> media = d ? sdp::msrp_media(*d) : tl::unexpected(d.error());
    if (media && !sdp::msrp_answer(*d, msrp::Uri{}))
      media = tl::unexpected(Error{"no MSRP stream to answer"});
    if (!media) {
      diag(fmt::format("INVITE {}: 488: {}", ruri, media.error().message));
      (void)sip_treply(nullptr, env.stack->get(), msg, 488, "Not Acceptable Here");
      return;
    }
    const struct sip_hdr* pai = sip_msg_hdr(msg, SIP_HDR_P_ASSERTED_IDENTITY);
    std::string who = sip::canonical_aor(pai ? pl_str(pai->val) : pl_str(msg->from.auri));

    GroupCall* c = running(g->uri);
    bool rejoin = c != nullptr;
    if (!c) {
      auto conf = std::make_unique<GroupCall>();
      conf->impl = this;
      conf->id = next_id++;
      conf->group = *g;
      conf->started_ms = sip::jiffies();
      confs.push_back(std::move(conf));
      c = confs.back().get();
    }
    auto l = std::make_unique<Party>();
    l->conf = c;
    l->aor = who;
    l->inviter = true;
    l->held = static_cast<struct sip_msg*>(mem_ref(const_cast<struct sip_msg*>(msg)));
    l->held_txn = txn_of(msg);
    l->msrp = new_msrp(*l);
    l->msrp->set_remote(media->path);
    l->msrp_active = sdp::we_connect(media->setup, false);
    l->answer = sdp::format(*sdp::msrp_answer(*d, l->msrp->local()));
    Party& leg = *l;
    c->legs.push_back(std::move(l));

    if (rejoin) {
      diag(fmt::format("{}: {} joins the running session", tag(*c), who));
      // Invited and inviting at once: the focus's own invitation to it is withdrawn.
      for (auto& p : c->legs)
        if (p.get() != &leg && p->aor == who && !p->inviter && !p->joined && !p->gone)
          drop_leg(*p);
      accept(leg, 200);
      say(*c, c->setup.accepted(who)); // the first to accept answers the inviter
      return;
    }
    auto members = group::others(*g, who);
    if (g->max_participants > 0 && members.size() + 1 > size_t(g->max_participants)) {
      diag(fmt::format("{}: max_participants {}: inviting the first {} of {} members", tag(*c),
                       g->max_participants, g->max_participants - 1, members.size()));
      members.resize(size_t(g->max_participants - 1));
    }
    c->setup = group::Setup(members);
    diag(fmt::format("{}: {} invites {} members", tag(*c), who, members.size()));
    for (const auto& m : members)
      if (!invite_member(*c, m, who))
        say(*c, c->setup.failed(m, 500));
    if (c->ended)
      return;
    int ms = g->invite_timeout_ms > 0 ? g->invite_timeout_ms : 60000;
    c->timeout.start(uint64_t(ms), [this, c] { expire(*c); });
  }

  // Members still not answering are cancelled; they count as 408.
  void expire(GroupCall& c)
  {
    for (auto& l : c.legs) {
      if (l->inviter || l->joined || l->gone)
        continue;
      verbose(fmt::format("{}: {} did not answer in time", tag(c), l->aor));
      drop_leg(*l); // CANCEL
      say(c, c.setup.failed(l->aor, 408));
      if (c.ended)
        break;
    }
    maybe_end(c);
    schedule_gc();
  }

  // A CANCEL for a held INVITE.
  bool cancel(const struct sip_msg* msg)
  {
    Party* l = held_leg(txn_of(msg));
    if (!l)
      return false;
    (void)sip_reply(env.stack->get(), msg, 200, "OK");
    refuse_held(*l, 487, "Request Terminated");
    l->gone = true;
    if (l->msrp)
      l->msrp->close();
    l->conf->setup.cancel();
    if (!l->conf->setup.answered())
      end(*l->conf, "the inviter cancelled");
    else
      maybe_end(*l->conf);
    schedule_gc();
    return true;
  }
};

Result<std::unique_ptr<Focus>> Focus::create(Env env)
{
  std::unique_ptr<Focus> f(new Focus);
  f->m = std::make_unique<Impl>();
  Impl& m = *f->m;
  m.env = std::move(env);
  // Our address: the first listen address of the node.
  auto spec = sip::parse_listen(m.env.stack->bound().front());
  if (!spec)
    return tl::unexpected(spec.error());
  m.host = spec->host;
  m.port = spec->port;
  auto l = msrp::Listener::create(m.host, 0, m.env.stack->tracer());
  if (!l)
    return tl::unexpected(l.error());
  m.listener = std::move(*l);
  if (int err = sipsess_listen(&m.sock, m.env.stack->get(), 64, Impl::on_connect, &m))
    return fail(fmt::format("sipsess_listen: {}", std::strerror(err)), 3);
  return f;
}

Focus::~Focus() = default;

proxy::Action Focus::invite(const proxy::Incoming& in, const config::Group& g)
{
  const sip::Request& req = in.req;
  if (m->held_leg(txn_of(in.msg))) {
    (void)sip_reply(m->env.stack->get(), in.msg, 100, "Trying");
    return proxy::Action::drop();
  }
  std::string who = req.asserted.empty() ? req.from_uri : req.asserted;
  GroupCall* c = m->running(g.uri);
  auto v = group::authorize(g, who, c ? c->alive() : 0);
  if (!v.allowed()) {
    m->diag(fmt::format("INVITE {} from {}: {} {} ({})", g.uri, who, v.status, v.reason, v.why));
    return proxy::Action::reply(v.status, v.reason);
  }
  auto d = sdp::parse(sip::body_of(in.msg));
  if (!d) {
    m->diag(fmt::format("INVITE {} from {}: 488: bad SDP: {}", g.uri, who, d.error().message));
    return proxy::Action::reply(488, "Not Acceptable Here");
  }
  auto mv = group::check_media(group::allowed_media(g), sdp::media_types(*d));
  if (!mv.allowed()) {
    m->diag(fmt::format("INVITE {} from {}: {} {} ({})", g.uri, who, mv.status, mv.reason, mv.why));
    return proxy::Action::reply(mv.status, mv.reason);
  }
  if (in.msg->tp == SIP_TRANSP_UDP)
    (void)sip_reply(m->env.stack->get(), in.msg, 100, "Trying");
  return proxy::Action::pass();
}

bool Focus::cancel(const struct ::sip_msg* msg)
{
  return m->cancel(msg);
}

size_t Focus::sessions() const
{
  return size_t(std::count_if(m->confs.begin(), m->confs.end(), [](auto& c) { return !c->ended; }));
}

} // namespace cpm::groupd
