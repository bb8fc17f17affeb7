#pragma once
// The parts of the focus (focus.hpp) and what they share: a group session (GroupCall) of
// participants (Party). focus.cpp: entry points and the life of sessions and legs;
// focus_inviter.cpp: the inviter's held INVITE and its answer; focus_members.cpp: the
// invitations to members; focus_relay.cpp: MSRP.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/codec/sdp.hpp"
#include "cpm/core/group.hpp"
#include "cpm/rt/msrp_session.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sip.hpp"
#include "focus.hpp"

struct mbuf;
struct sipsess;
struct sipsess_sock;

namespace cpm::groupd {

struct GroupCall;

// One participant: the inviter, an invited member, or a member who joined later.
struct Party {
  GroupCall* conf = nullptr;
  std::string aor;
  bool inviter = false; // the leg whose INVITE started the session (or a rejoin)
  re_ptr<struct sipsess> sess;
  re_ptr<const struct sip_msg> held; // its INVITE, not answered yet
  std::string held_txn;
  std::string answer; // our SDP answer (inviter side), for re-INVITEs too
  std::string offer;  // our SDP offer (member side)
  std::unique_ptr<msrp::Session> msrp;
  bool msrp_active = false; // we connect
  bool msrp_lost = false;   // its MSRP connection closed
  // Armed when its MSRP connection closes: a BYE that has not come by then never will
  // (RFC 4975 §5.4), and the leg ends.
  sip::Timer msrp_grace;
  bool joined = false;
  // Sent 200 with our SDP answer (inviter): chat flows to it from then on, before its ACK.
  bool answered = false;
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

  // The inviter's leg, while it lasts.
  Party* inviter() const;
  // Participants, joined or still being invited.
  size_t alive() const;
};

struct Focus::Impl {
  Env env;
  re_ptr<struct sipsess_sock> sock;
  std::unique_ptr<msrp::Listener> listener;
  std::vector<std::unique_ptr<GroupCall>> confs;
  sip::Timer gc;
  int next_id = 1;
  std::string host; // our address for Contact and MSRP
  uint16_t port = 5060;

  ~Impl();

  // ---- focus.cpp: sessions and legs ----

  void diag(const std::string& s) const;
  void verbose(const std::string& s) const;
  std::string tag(const GroupCall& c) const;
  std::string contact(const GroupCall& c, std::string_view header_name,
                      std::string_view header_value) const;
  GroupCall* running(const std::string& group_uri);
  Party* held_leg(const std::string& txn);
  GroupCall& open_call(const config::Group& g);
  void schedule_gc();
  void collect();
  void closed(Party& l);
  void drop_leg(Party& l);
  void refuse_held(Party& l, int code, const char* reason);
  void end(GroupCall& c, const std::string& why);
  void maybe_end(GroupCall& c);
  static int on_reoffer(struct mbuf** descp, const struct sip_msg* msg, void* arg) noexcept;

  // ---- focus_inviter.cpp: the inviter's side ----

  static void on_connect(const struct sip_msg* msg, void* arg) noexcept;
  void incoming(const struct sip_msg* msg);
  void fail_incoming(const struct sip_msg* msg) noexcept;
  Party& hold(GroupCall& c, const struct sip_msg* msg, const std::string& who,
              const sdp::Description& offer, const sdp::MsrpMedia& media);
  void rejoin(GroupCall& c, Party& leg);
  void invite_members(GroupCall& c, const std::string& who);
  bool accept(Party& l, int code);
  void answer_inviter(GroupCall& c);
  void fail_inviter(GroupCall& c);
  void say(GroupCall& c, group::Setup::Say s);
  bool cancel(const struct sip_msg* msg);
  static void on_inviter_estab(const struct sip_msg* msg, void* arg) noexcept;
  static void on_inviter_close(int err, const struct sip_msg* msg, void* arg) noexcept;
  static int on_late_answer(const struct sip_msg* msg, void* arg) noexcept;

  // ---- focus_members.cpp: the members' side ----

  bool invite_member(GroupCall& c, const std::string& member, const std::string& inviter);
  void expire(GroupCall& c);
  int bad_answer(Party& l, const std::string& why);
  static void on_member_progress(const struct sip_msg* msg, void* arg) noexcept;
  static int on_member_answer(const struct sip_msg* msg, void* arg) noexcept;
  static void on_member_estab(const struct sip_msg* msg, void* arg) noexcept;
  static void on_member_close(int err, const struct sip_msg* msg, void* arg) noexcept;

  // ---- focus_relay.cpp: MSRP ----

  std::unique_ptr<msrp::Session> new_msrp(Party& l);
  void relay(Party& from, const msrp::Message& m);
  void start_msrp(Party& l);
  void msrp_closed(Party& l, int err);
  uint64_t bye_grace_ms() const;
};

// A held INVITE's identity: retransmissions and its CANCEL carry the same.
std::string txn_of(const struct sip_msg* msg);

} // namespace cpm::groupd
