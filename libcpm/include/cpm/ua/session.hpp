#pragma once
// INVITE sessions on libre's sipsess: calling out with an SDP offer, accepting an
// invitation (ringing, then 200), the offer/answer of a re-INVITE, and hanging up when a
// Session is released (CANCEL before the answer, BYE after; libre, notes §6).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/reinvite.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/credentials.hpp"
#include "cpm/ua/log.hpp"

struct sipsess;
struct sipsess_sock;
struct sip_lsnr;
struct sip_auth;

namespace cpm::ua {

// How libre ended a session.
struct Ending {
  int err = 0;    // ECONNRESET: the peer hung up (BYE, CANCEL); another errno: a failure
  int status = 0; // the final response that ended it (>= 300: refused), or 0
  std::string reason;
};

// What a session tells its owner. Any of them may release the Session.
struct SessionHandlers {
  std::function<void(int status)> progress;         // a 1xx to our INVITE
  std::function<bool(std::string_view sdp)> answer; // the peer's answer (an ACK's, maybe
                                                    // empty); false fails the session
  // A re-INVITE's offer: our answer, or nullopt to refuse it.
  std::function<std::optional<std::string>(std::string_view sdp)> offer;
  std::function<void()> established;
  // A re-INVITE came while ours was pending (glare, RFC 3261 §14.2): it was answered 491.
  std::function<void()> glare;
  std::function<void(const Ending&)> closed; // not called once the owner released it
};

// A call out.
struct Call {
  std::string to;           // request URI and To
  std::string from;         // From URI
  std::string contact_user; // libre's cuser (sip::sipsess_contact to add parameters)
  std::string route;        // the outbound proxy's URI, or "" to go straight to `to`
  std::string sdp;          // the offer
  std::string headers;      // more header lines, each ending in CRLF
};

class Sessions;

class Session {
public:
  // Hangs up, unless libre has ended the session.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Answer an invitation accepted ringing: 200 with `sdp`. An error's code is 3.
  Result<void> answer(const std::string& sdp, const std::string& headers);
  // Offer `sdp` in a re-INVITE of our own (sip::Reinvite: a refusal is reported with its
  // status and Warning); `done` is called once unless the session is released first. An
  // error (code 1) while another is in flight or before the session is established.
  Result<void> modify(const std::string& sdp, sip::Reinvite::Done done);
  // True while our re-INVITE awaits its answer.
  bool modifying() const { return m_reinvite && m_reinvite->pending(); }
  // Whether we sent the INVITE that made the dialog (its Call-ID is ours: RFC 3261 §14.1).
  bool owns_call_id() const { return m_outgoing; }

private:
  friend class Sessions;
  friend class Invitation;
  Session(Sessions& owner, SessionHandlers h, bool outgoing);
  static void progr_h(const struct sip_msg* msg, void* arg) noexcept;
  static int answer_h(const struct sip_msg* msg, void* arg) noexcept;
  static int offer_h(struct mbuf** descp, const struct sip_msg* msg, void* arg) noexcept;
  static void estab_h(const struct sip_msg* msg, void* arg) noexcept;
  static void close_h(int err, const struct sip_msg* msg, void* arg) noexcept;

  Sessions& m_owner;
  SessionHandlers m_h;
  re_ptr<struct sipsess> m_sess;
  std::string m_cuser;
  bool m_established = false;
  bool m_outgoing = false;
  std::weak_ptr<std::vector<Session*>> m_live;
  std::unique_ptr<sip::Reinvite> m_reinvite;
};

// An INVITE that came in: accept() or reject() it inside the Sessions handler (one left
// alone is answered 500).
class Invitation {
public:
  std::string from;    // the From URI
  std::string contact; // the Contact header's value
  std::string sdp;     // the offer

  // Answer with a final status >= 300.
  void reject(int status, const std::string& reason);
  // Accept it ringing (180, Contact user `cuser`); Session::answer() sends the 200.
  Result<std::unique_ptr<Session>> accept(const std::string& cuser, const std::string& headers,
                                          SessionHandlers h);

private:
  friend class Sessions;
  Invitation(Sessions& owner, const struct sip_msg* msg) : m_owner(owner), m_msg(msg) {}
  Sessions& m_owner;
  const struct sip_msg* m_msg;
  bool m_answered = false;
};

class Sessions {
public:
  using OnInvite = std::function<void(Invitation&)>;

  // Take INVITEs on `stack`; `digest` answers challenges. It outlives its Sessions.
  static Result<std::unique_ptr<Sessions>> listen(sip::Stack& stack, Digest& digest, const Log& log,
                                                  OnInvite on_invite);
  ~Sessions();
  Sessions(const Sessions&) = delete;
  Sessions& operator=(const Sessions&) = delete;

  // Send an INVITE. An error's code is 2 for arguments libre refuses, else 3.
  Result<std::unique_ptr<Session>> connect(const Call& c, SessionHandlers h);

private:
  friend class Session;
  friend class Invitation;
  Sessions(sip::Stack& stack, Digest& digest, const Log& log, OnInvite on_invite);
  // Release a session libre has ended on the next turn of the loop, not inside its handler.
  void reap(re_ptr<struct sipsess> s);
  static void conn_h(const struct sip_msg* msg, void* arg) noexcept;
  // RFC 3261 §14.2: a re-INVITE on a dialog whose own re-INVITE (ours, not sipsess's) is
  // pending gets 491 before sipsess sees it.
  static bool glare_h(const struct sip_msg* msg, void* arg) noexcept;

  sip::Stack& m_stack;
  Digest& m_digest;
  Log m_log;
  OnInvite m_on_invite;
  std::unique_ptr<sip::Acks> m_acks; // before m_sock: its listener must come first
  re_slot<struct sip_lsnr> m_glare;  // before m_sock too
  // The Sessions not yet released (each holds it weakly: a Session may outlive its Sessions).
  std::shared_ptr<std::vector<Session*>> m_live = std::make_shared<std::vector<Session*>>();
  re_ptr<struct sip_auth> m_auth; // for our re-INVITEs
  re_ptr<struct sipsess_sock> m_sock;
  std::vector<re_ptr<struct sipsess>> m_closed;
  sip::Timer m_reap;
};

} // namespace cpm::ua
