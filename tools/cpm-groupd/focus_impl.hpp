#pragma once
// The parts of the focus (focus.hpp) and what they share: a group session (GroupCall) of
// participants (Party). focus.cpp: entry points and the life of sessions and legs;
// focus_inviter.cpp: the inviter's held INVITE and its answer; focus_members.cpp: the
// invitations to members; focus_relay.cpp: MSRP; focus_modify.cpp: a participant's
// re-INVITE (Figures 3 and 4); focus_audio.cpp: RTP and the N-1 mix.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <optional>
#include <unordered_map>

#include "cpm/codec/sdp.hpp"
#include "cpm/core/group.hpp"
#include "cpm/media/mixer.hpp"
#include "cpm/proxy/action.hpp"
#include "cpm/rt/media_clock.hpp"
#include "cpm/rt/msrp_session.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/reinvite.hpp"
#include "cpm/rt/rtp_stream.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/rt/tls.hpp"
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
  std::string answer;                  // our SDP answer (inviter side), for re-INVITEs too
  std::string offer;                   // our SDP offer (member side)
  std::unique_ptr<msrp::Session> msrp; // none for a participant with audio only
  bool msrp_active = false;            // we connect
  bool msrp_lost = false;              // its MSRP connection closed
  // Armed when its MSRP connection closes: a BYE that has not come by then never will
  // (RFC 4975 §5.4), and the leg ends.
  sip::Timer msrp_grace;
  bool joined = false;
  // Sent 200 with our SDP answer (inviter): chat flows to it from then on, before its ACK.
  bool answered = false;
  bool gone = false;
  bool ringing = false; // sent 180 to it (inviter)

  // ---- media (focus_modify.cpp, focus_audio.cpp) ----
  std::string remote; // its latest SDP, offer or answer ("" before any)
  // Our end of its audio stream while one is offered or taken.
  std::unique_ptr<media::RtpStream> rtp;
  media::Mixer::Id mix = 0; // its input in the session's mixer, 0 when not mixed
  bool sending = false;     // the mix goes to it (our direction sendrecv or sendonly)
  bool receiving = false;   // what it says is mixed (our direction sendrecv or recvonly)
  bool rtp_silent = false;  // logged as silent for longer than rtp_timeout_ms
  uint64_t audio_since_ms = 0;
  // Our re-INVITE to it (kept until the next: it may not be freed in its own callback).
  std::unique_ptr<sip::Reinvite> reinvite;
  bool reoffering = false; // that re-INVITE awaits its final answer
  // Our re-offer of audio crossed its own re-INVITE (491): sent again when this fires
  // (RFC 3261 §14.1), at most sip::k_glare_retries times in a row.
  sip::Timer glare_timer;
  int glare_tries = 0;
  // Its re-INVITE, held (a stateless 100) until the others have their re-offers.
  re_ptr<const struct sip_msg> modify;
  std::string modify_txn;
  std::string modify_offer;  // its SDP offer, applied when we answer 200 (not if it cancels)
  std::string modify_answer; // our SDP answer to it, sent once the others answered
  std::string modify_what;   // "audio added" (logs)
  // Its last word on audio was no while audio ran (refused our offer): not asked again until
  // the session's audio starts afresh (man cpm-groupd, "Adding media").
  bool audio_declined = false;
  // Our 200 to its re-INVITE, sent again (T1 doubling up to T2) until its ACK comes (RFC 3261
  // §13.3.1.4: the UAS core retransmits a 2xx, over any transport; libre's transaction does not).
  re_ptr<struct mbuf> ok;
  re_ptr<const struct sip_msg> ok_req;
  uint64_t ok_wait = 0, ok_elapsed = 0;
  sip::Timer ok_timer;
  // Our current SDP towards it: our answer (inviter) or our offer (member), as last agreed.
  std::string& local() { return inviter ? answer : offer; }
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
  // Audio: the session carries it while at least one participant has an active audio
  // stream (is mixed); one mixer and one 20 ms ticker for the whole session, kept once made.
  bool audio = false;
  std::unique_ptr<media::Mixer> mixer;
  std::unique_ptr<media::Ticker> ticker;
  std::unordered_map<media::Mixer::Id, Party*> mixed;
  // Our re-INVITEs in flight for a held modification (Figure 4), and whose it is.
  size_t reoffers = 0;
  Party* modifier = nullptr;
  // Those re-offered audio for the held modification: taken back if it is cancelled.
  std::vector<Party*> reoffered;
  // The held modification was cancelled (487): once its re-offers are answered, whoever took
  // the audio is re-offered without it; no other modification starts meanwhile (491).
  bool cancelled = false;
  std::string started_by; // the inviter's AOR (may_add_media = "inviter")
  // Its inviter's chat came over TLS (msrps:): the members are offered theirs over TLS too.
  bool msrp_tls = false;

  // The inviter's leg, while it lasts.
  Party* inviter() const;
  // Participants, joined or still being invited.
  size_t alive() const;
};

struct Focus::Impl {
  Env env;
  std::unique_ptr<sip::Acks> acks; // before sock: its response listener comes first
  re_ptr<struct sipsess_sock> sock;
  std::unique_ptr<sip::TlsContext> tls; // MSRP's, when the stack has none
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
  Party* hold(GroupCall& c, const struct sip_msg* msg, const std::string& who,
              const sdp::Description& offer, const sdp::MsrpMedia* media);
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

  // ---- focus_modify.cpp: a participant's re-INVITE (Figures 3 and 4) ----

  proxy::Action reinvite(const struct sip_msg* msg);
  Party* leg_of(const struct sip_msg* msg);
  void refuse_modify(const struct sip_msg* msg, int code, const char* reason,
                     const std::string& rule);
  void answer_modify(Party& l);
  void resend_ok(Party& l);
  void acked(const struct sip_msg* msg);
  std::optional<std::string> group_refusal(const GroupCall& c, const Party& l, const sdp::Diff& d);
  bool cancel_modify(const struct sip_msg* msg);
  bool reoffer(GroupCall& c, Party& o);
  // A participant's re-INVITE adding audio is held (not cancelled), its answer ours to give
  // once the others have answered their re-offers.
  bool adding_audio(const GroupCall& c) const;
  void take_back(GroupCall& c, Party& o);
  bool send_offer(GroupCall& c, Party& o, const std::string& offer, const std::string& what);
  void reoffered(Party& o, const std::string& offer, const sip::ReinviteResult& r);
  void offer_audio_on_join(GroupCall& c, Party& l, bool had_audio_line);
  bool retry_reoffer(Party& o, bool waiting);
  void reoffer_again(Party& o);
  void reoffer_done(GroupCall& c);
  std::string modify_contact(const GroupCall& c, const struct sip_msg* msg) const;

  // ---- focus_audio.cpp: RTP and the mix ----

  std::optional<sdp::Media> audio_for(Party& l);
  void start_audio(GroupCall& c);
  void apply_audio(Party& l, const sdp::Description& ours, const sdp::Description& theirs);
  void stop_audio(Party& l);
  void forget_media(Party& l);
  void tick(GroupCall& c);
  void check_rtp(GroupCall& c);
  uint64_t rtp_timeout_ms() const;

  // ---- focus_relay.cpp: MSRP ----

  // A chat session for `l`, over TLS (msrps:) when `secure` (the listener has TLS).
  std::unique_ptr<msrp::Session> new_msrp(Party& l, bool secure);
  // Whether `member` of `c` is offered its chat over TLS: the node's msrp_tls, a session whose
  // inviter's chat is over TLS, a sips: member or a TLS proxy.
  bool member_tls(const GroupCall& c, const std::string& member) const;
  // Our MSRP URI towards `l`, or for a participant with audio only (no MSRP session) one
  // with our address alone, for the o= and c= of our SDP.
  msrp::Uri msrp_local(const Party& l) const;
  // Whether `l`'s SDP must keep a chat stream (it has one) or may be audio alone.
  static sdp::Chat chat_of(const Party& l);
  void relay(Party& from, const msrp::Message& m);
  void start_msrp(Party& l);
  void msrp_closed(Party& l, int err);
  uint64_t bye_grace_ms() const;
};

// Whether SDP text has an m=audio line at all (port 0 too).
bool has_audio_line(const std::string& sdp_text);

// A held INVITE's identity: retransmissions and its CANCEL carry the same.
std::string txn_of(const struct sip_msg* msg);

} // namespace cpm::groupd
