#pragma once
// Pre-defined groups (the controlling function of cpm-groupd): who may invite or message a
// group, whom to invite, which media a session may carry, and the setup state machine of a
// group session (first 180 / first 200 towards the inviter, FLOWS.md Figures 1 and 2).
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/codec/sdp.hpp"
#include "cpm/config/config.hpp"
#include "cpm/core/policy.hpp"

namespace cpm::group {

// Is `uri` (any form: "sip:bob@b.example;x", "<sip:bob@...>") a member of `g`?
bool is_member(const config::Group& g, std::string_view uri);
// May `who` start a session with or send a message to `g`? `participants` is how many take
// part already (a running session), for max_participants. 403 on refusal.
policy::Verdict authorize(const config::Group& g, std::string_view who, size_t participants = 0);
// The members other than `who`, in config order, canonical AORs.
std::vector<std::string> others(const config::Group& g, std::string_view who);
// The media a session of `g` may carry ("message" when the group names none).
std::vector<std::string> allowed_media(const config::Group& g);
// 488 when `offered` holds a media type outside `allowed` (empty allowed: anything goes),
// or when nothing is offered at all.
policy::Verdict check_media(const std::vector<std::string>& allowed,
                            const std::vector<std::string>& offered);
// A participant's change of a running session's media (a re-INVITE, FLOWS.md Figure 4): may
// `who` make `change` in a session of `g` started by `inviter`? An added medium must be one
// of allowed_media(g) and `who` must be allowed by may_add_media ("participants": anyone
// taking part; "inviter": only the one who started the session; "nobody"); a modified one
// must be one of allowed_media(g); removing is always allowed. 488 on refusal, `why` naming
// the rule (the focus sends it as the Warning text).
policy::Verdict check_media_change(const config::Group& g, std::string_view who,
                                   std::string_view inviter, const sdp::Diff& change);

// The setup of one group session: the inviter's INVITE is answered from the members' legs.
class Setup {
public:
  // What to tell the inviter after an event.
  enum class Say {
    Nothing, // keep waiting
    Ringing, // send 180 (only ever once)
    Answer,  // send 200 (only ever once)
    Fail,    // send the final failure failure() (only ever once)
  };
  // One leg per invited member.
  explicit Setup(const std::vector<std::string>& members);

  Say ringing(const std::string& member);            // a 180 (or 183) from a member's leg
  Say accepted(const std::string& member);           // a 2xx: the member joins
  Say failed(const std::string& member, int status); // a final >= 300, a timeout (408)
  // The inviter gave up (CANCEL) or the session ended: nothing more is said.
  void cancel();

  bool answered() const { return m_answered; }
  bool done() const { return m_answered || m_failed || m_cancelled; }
  // The status to send when Fail: 480 when every member timed out or was unavailable,
  // 486 when every member was busy/declined (486, 600, 603), else 480.
  int failure() const;
  size_t pending() const;                                           // legs without a final response
  size_t joined() const;                                            // legs that accepted
  const std::map<std::string, int>& legs() const { return m_legs; } // member -> 0 / final status

private:
  std::map<std::string, int> m_legs;
  bool m_ringing = false;
  bool m_answered = false;
  bool m_failed = false;
  bool m_cancelled = false;
};

} // namespace cpm::group
