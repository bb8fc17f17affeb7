#pragma once
// Our own re-INVITE on a sipsess dialog. libre's sipsess_modify tells its owner nothing of
// a final answer >= 300 (other than 401/407/408/481/491/500; notes §6), so a refused
// modification (488 with a Warning) would go unseen: this sends the INVITE on the session's
// dialog itself, reports the 2xx with its answer or the refusal with its status and
// Warning, ACKs the 2xx and ACKs it again when it is retransmitted (RFC 3261 §13.2.2.4).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "cpm/base/error.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sip.hpp"

struct sip_dialog;
struct sip_auth;
struct sip_request;
struct sip_lsnr;

namespace cpm::sip {

// The ACKs sent for our re-INVITEs' 2xx, each kept 64·T1 (32 s) and sent again when its 2xx
// comes again. libre runs response listeners in the order they were registered and
// sipsess_listen's takes every 2xx to an INVITE: create this one before sipsess_listen on
// the same stack.
class Acks {
public:
  static Result<std::unique_ptr<Acks>> listen(Stack& stack);
  ~Acks();
  Acks(const Acks&) = delete;
  Acks& operator=(const Acks&) = delete;

  // Send the ACK of the 2xx `msg` on `dlg` and keep it for its retransmissions.
  int ack(struct sip_dialog* dlg, const struct ::sip_msg* msg, struct sip_auth* auth);
  // How many ACKs were sent again (tests).
  unsigned resent() const { return m_resent; }

private:
  struct Entry;
  friend struct ReinviteAccess;
  explicit Acks(Stack& stack);

  Stack& m_stack;
  re_slot<struct sip_lsnr> m_lsnr;
  // By "Call-ID CSeq".
  std::unordered_map<std::string, std::unique_ptr<Entry>> m_sent;
  unsigned m_resent = 0;
};

// What became of a re-INVITE.
struct ReinviteResult {
  int err = 0;         // an errno when no final answer came (ETIMEDOUT, ECONNABORTED, ...)
  int status = 0;      // the final status (2xx: accepted; >= 300: refused), or 0
  std::string reason;  // its reason phrase
  std::string sdp;     // a 2xx's body: the answer
  std::string warning; // a refusal's Warning values, joined by ", ", or ""
  bool ok() const { return err == 0 && status >= 200 && status < 300; }
};

// RFC 3261 §14.1: how many times a re-INVITE answered 491 (glare) is sent again before its
// change is given up (cpm-invite's own changes, cpm-groupd's re-offers of audio).
constexpr int k_glare_retries = 2;

// RFC 3261 §14.1: how long to wait before sending again a re-INVITE answered 491 (the peer
// had its own pending: glare), in milliseconds: 2100..4000 for the owner of the dialog's
// Call-ID (the side that sent the first INVITE), else 0..2000, in units of 10 ms, chosen by
// `random`.
uint64_t glare_delay_ms(bool owns_call_id, uint32_t random);
// The same with a random value of libre's.
uint64_t glare_delay_ms(bool owns_call_id);

// One re-INVITE in flight. Releasing it before its answer abandons it (no report).
class Reinvite {
public:
  using Done = std::function<void(const ReinviteResult&)>;

  // Send `sdp` as the offer of a re-INVITE on `dlg` (sipsess_dialog(sess)); `contact_user`
  // is libre's cuser (a URI is used verbatim, as sipsess does); `auth` answers one
  // 401/407 when given; `headers` are more header lines, each ending in CRLF. `done` is
  // called once, after the ACK of a 2xx has gone. An error's code is 3.
  static Result<std::unique_ptr<Reinvite>> send(Stack& stack, Acks& acks, struct sip_dialog* dlg,
                                                std::string contact_user, std::string sdp,
                                                Done done, struct sip_auth* auth = nullptr,
                                                std::string headers = {});
  ~Reinvite();
  Reinvite(const Reinvite&) = delete;
  Reinvite& operator=(const Reinvite&) = delete;

  bool pending() const { return static_cast<bool>(m_req); }

private:
  friend struct ReinviteAccess;
  Reinvite(Stack& stack, Acks& acks) : m_stack(stack), m_acks(acks) {}
  int start();

  Stack& m_stack;
  Acks& m_acks;
  re_ptr<struct sip_dialog> m_dlg;
  struct sip_auth* m_auth = nullptr;
  std::string m_cuser, m_sdp, m_headers;
  Done m_done;
  bool m_challenged = false;
  re_slot<struct sip_request> m_req;
};

} // namespace cpm::sip
