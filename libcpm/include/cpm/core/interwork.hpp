#pragma once
// The participating function's interworking decision (FLOWS.md Figure 7, step 3): which
// messages a served user originates go to the interworking function (IWF) as SMS, which
// numbers are CPM users, and the SMS fallback of a message that found no CPM user.
#include <string>
#include <string_view>
#include <vector>

#include "cpm/config/config.hpp"
#include "cpm/grammar/request.hpp"

namespace cpm::interwork {

// The global E.164 number a URI addresses, visual separators removed: tel:+1-555-0100 (RFC
// 3966) or sip:+15550100@host;user=phone (RFC 3261 §19.1.6); "" for anything else (a local
// number with a phone-context, a SIP URI without user=phone).
std::string number_of(std::string_view uri);

// What the participating function does with a request of its served user.
enum class Kind {
  Cpm,       // a CPM user or domain: route as usual
  Translate, // a number of a CPM user: request URI becomes `ruri` (the user's URI)
  Interwork, // no CPM user: through the core to the node's IWF, request URI unchanged
  Refuse,    // no CPM user and no IWF to reach it: answer `status` `reason`
};

struct Decision {
  Kind kind = Kind::Cpm;
  std::string ruri;   // Translate: the CPM user's URI
  int status = 0;     // Refuse
  std::string reason; // Refuse
  std::string why;    // one line for -v and stderr
};

// The decision for a request that `node`'s served user originates. A number (number_of)
// that is a [[user]]'s `tel` is translated to that user; any other number, and a domain in
// `non_cpm_domains`, is interworked when the request is a MESSAGE (a session or other
// request to it is routed as usual: a core may break out to a telephony peer); without an
// `iwf` such a MESSAGE is refused 404.
Decision decide(const config::File& file, const config::Node& node, const sip::Request& req);

// The Route set of a request sent on to the IWF through the node's core (Figure 7 steps
// 3-4): the Routes left (the core's own, with its odi), else the node's `proxy`, then the
// IWF (loose routes). Empty when the node has no `iwf`, or neither Routes nor a `proxy`.
std::vector<std::string> routes_to_iwf(const config::Node& node,
                                       const std::vector<std::string>& routes_left);

// SMS fallback: the tel: URI that a MESSAGE from `sender` (canonical AOR) to `ruri` (the
// request URI as the participating function forwards it, `original` as it came) goes to
// through the IWF when the terminating side answers 404 or 480 (falls_back). "" when none:
// the sender's `sms_fallback` is off, the node has no `iwf`, or the recipient has no number
// (no [[user]] `tel`, and not addressed by one).
std::string fallback_target(const config::File& file, const config::Node& node,
                            std::string_view sender, std::string_view ruri,
                            std::string_view original);

// The final answers of the terminating side that send a message on as SMS instead: not a
// CPM user (404), not registered (480).
inline bool falls_back(int status)
{
  return status == 404 || status == 480;
}

} // namespace cpm::interwork
