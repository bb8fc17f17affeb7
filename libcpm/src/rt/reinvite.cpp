// Our own re-INVITE on a sipsess dialog, its ACK, and the ACKs kept for retransmitted 2xx.
#include "cpm/rt/reinvite.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "cpm/rt/guard.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"

namespace cpm::sip {

// A sent ACK: the whole message, where it went, and how long it is kept.
struct Acks::Entry {
  re_ptr<struct mbuf> mb;
  struct sa dst {};
  enum sip_transp tp = SIP_TRANSP_NONE;
  Timer expiry;
};

struct ReinviteAccess {
  // The key of a 2xx (or of the INVITE it answers) among the ACKs sent.
  static std::string key(const struct ::sip_msg* msg)
  {
    return fmt::format("{} {} {}", pl_view(msg->callid), msg->cseq.num, pl_view(msg->from.tag));
  }

  // sipsess's Contact: a cuser with ':' verbatim, else sip:cuser@laddr (libre's contact.c).
  static int contact_h(enum sip_transp tp, const struct sa* src, const struct sa* dst,
                       struct mbuf* mb, void* arg) noexcept
  {
    (void)dst;
    auto* self = static_cast<Reinvite*>(arg);
    struct sip_contact contact;
    sip_contact_set(&contact, self->m_cuser.c_str(), src, tp);
    return mbuf_printf(mb, "%H", sip_contact_print, &contact);
  }

  // Keep the ACK as it was sent.
  static int ack_sent_h(enum sip_transp tp, const struct sa* src, const struct sa* dst,
                        struct mbuf* mb, void* arg) noexcept
  {
    (void)src;
    auto* e = static_cast<Acks::Entry*>(arg);
    e->mb.reset(static_cast<struct mbuf*>(mem_ref(mb)));
    e->dst = *dst;
    e->tp = tp;
    return 0;
  }

  // A 2xx no client transaction took: a retransmission of one we have ACKed is ACKed again.
  static bool retransmitted_h(const struct ::sip_msg* msg, void* arg) noexcept
  {
    auto* self = static_cast<Acks*>(arg);
    return guarded({}, "the re-INVITE's ACK", false, [&] {
      if (msg->scode < 200 || msg->scode > 299 || pl_strcmp(&msg->cseq.met, "INVITE") != 0)
        return false;
      auto it = self->m_sent.find(key(msg));
      if (it == self->m_sent.end())
        return false; // sipsess's own (its listener comes next)
      auto& e = *it->second;
      if (e.mb) {
        e.mb->pos = 0;
        (void)sip_send(self->m_stack.get(), nullptr, e.tp, &e.dst, e.mb.get());
        ++self->m_resent;
      }
      return true;
    });
  }

  static void resp_h(int err, const struct ::sip_msg* msg, void* arg) noexcept
  {
    auto* self = static_cast<Reinvite*>(arg);
    guarded({}, "the re-INVITE's response handler", [&] {
      if (!err && msg && msg->scode < 200)
        return;
      ReinviteResult r;
      r.err = err;
      if (!err && msg) {
        r.status = msg->scode;
        r.reason = pl_string(msg->reason);
        if ((r.status == 401 || r.status == 407) && self->m_auth && !self->m_challenged) {
          self->m_challenged = true;
          int e = sip_auth_authenticate(self->m_auth, msg);
          if (!e && !self->start())
            return; // sent again with credentials
        }
        if (r.status < 300) {
          (void)sip_dialog_update(self->m_dlg.get(), msg);
          r.sdp = std::string(body_of(msg));
          int e = self->m_acks.ack(self->m_dlg.get(), msg, self->m_auth);
          if (e)
            internal_error({}, "the re-INVITE's ACK", std::strerror(e));
        } else {
          (void)sip_msg_hdr_apply(
              msg, true, SIP_HDR_WARNING,
              [](const struct sip_hdr* hdr, const struct ::sip_msg*, void* w) noexcept {
                auto& out = *static_cast<std::string*>(w);
                try {
                  out += (out.empty() ? "" : ", ") + pl_string(hdr->val);
                } catch (...) {
                  return true;
                }
                return false;
              },
              &r.warning);
        }
      }
      auto done = std::move(self->m_done); // it may release this Reinvite
      self->m_done = nullptr;
      if (done)
        done(r);
    });
  }
};

Result<std::unique_ptr<Acks>> Acks::listen(Stack& stack)
{
  std::unique_ptr<Acks> a(new Acks(stack));
  int err =
      sip_listen(a->m_lsnr.out(), stack.get(), false, ReinviteAccess::retransmitted_h, a.get());
  if (err)
    return fail(fmt::format("cannot listen for responses: {}", std::strerror(err)), 3);
  return a;
}

Acks::Acks(Stack& stack) : m_stack(stack) {}

Acks::~Acks() = default;

int Acks::ack(struct sip_dialog* dlg, const struct ::sip_msg* msg, struct sip_auth* auth)
{
  auto key = ReinviteAccess::key(msg);
  auto e = std::make_unique<Entry>();
  int err =
      sip_drequestf(nullptr, m_stack.get(), false, "ACK", dlg, msg->cseq.num, auth,
                    ReinviteAccess::ack_sent_h, nullptr, e.get(), "Content-Length: 0\r\n\r\n");
  if (err)
    return err;
  // RFC 3261 §13.3.1.4: the UAS retransmits its 2xx for 64·T1.
  e->expiry.start(64 * SIP_T1, [this, key] { m_sent.erase(key); });
  m_sent[key] = std::move(e);
  return 0;
}

Result<std::unique_ptr<Reinvite>> Reinvite::send(Stack& stack, Acks& acks, struct sip_dialog* dlg,
                                                 std::string contact_user, std::string sdp,
                                                 Done done, struct sip_auth* auth,
                                                 std::string headers)
{
  if (!dlg)
    return fail("no dialog to re-INVITE on", 3);
  std::unique_ptr<Reinvite> r(new Reinvite(stack, acks));
  r->m_dlg = re_ref(dlg);
  r->m_auth = auth;
  r->m_cuser = std::move(contact_user);
  r->m_sdp = std::move(sdp);
  r->m_headers = std::move(headers);
  r->m_done = std::move(done);
  if (int err = r->start())
    return fail(fmt::format("cannot send the re-INVITE: {}", std::strerror(err)), 3);
  return r;
}

int Reinvite::start()
{
  return sip_drequestf(m_req.out(), m_stack.get(), true, "INVITE", m_dlg.get(), 0, m_auth,
                       ReinviteAccess::contact_h, ReinviteAccess::resp_h, this,
                       "%s"
                       "Content-Type: application/sdp\r\n"
                       "Content-Length: %zu\r\n"
                       "\r\n"
                       "%s",
                       m_headers.c_str(), m_sdp.size(), m_sdp.c_str());
}

uint64_t glare_delay_ms(bool owns_call_id, uint32_t random)
{
  // 191 steps of 10 ms from 2.1 s to 4 s; 201 from 0 to 2 s.
  return owns_call_id ? 2100 + uint64_t(random % 191) * 10 : uint64_t(random % 201) * 10;
}

uint64_t glare_delay_ms(bool owns_call_id)
{
  return glare_delay_ms(owns_call_id, rand_u32());
}

Reinvite::~Reinvite() = default; // the re_slot abandons a request still in flight

} // namespace cpm::sip
