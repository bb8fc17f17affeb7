#pragma once
// Service control of the participating function (cpm-groupd): per served user policies
// from the config, applied on the originating or terminating side.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/config/config.hpp"
#include "cpm/grammar/request.hpp"

namespace cpm::policy {

// The outcome of a check: status 0 lets the request through.
struct Verdict {
  int status = 0;
  std::string reason; // SIP reason phrase
  std::string why;    // one line for stderr / --explain
  bool allowed() const { return status == 0; }
};

// The served user and side from a P-Served-User value (RFC 5502):
// "<sip:alice@a.example>;sescase=orig;regstate=reg". Missing sescase means originating.
struct ServedUser {
  std::string aor; // canonical
  config::SessionCase session_case = config::SessionCase::Originating;
};
bool parse_served_user(std::string_view value, ServedUser& out);

// The parameters a participating function puts on its Record-Route URI for an initial INVITE
// of `served`: ";cpm-served=<AoR, percent-escaped>;cpm-case=orig|term". They come back in the
// Route of every in-dialog request, so that the function knows whose side it is on.
// With a `key` they end in ";cpm-sig=<10 hex>": an MD5 of the key, the served user, the case
// and `call_id`, so that a client, which writes the Route set of its in-dialog requests,
// cannot change whose policy they are checked against.
std::string route_params(const ServedUser& served, std::string_view key = {},
                         std::string_view call_id = {});
// The served user from the parameters of our own Route (";lr;cpm-served=...;cpm-case=...");
// false when they carry none or a malformed one.
bool served_from_route(std::string_view params, ServedUser& out);
// Whether those parameters carry the signature route_params(`served`, `key`, `call_id`) gives.
bool route_params_signed(std::string_view params, const ServedUser& served, std::string_view key,
                         std::string_view call_id);

// The Warning header line of a refusal (RFC 3261 §20.43, code 399 "miscellaneous"): the
// node that refused and the rule, quoted: Warning: 399 csA "sip:alice@a.example may not ...".
std::string warning(std::string_view node, std::string_view why);

// Does `uri` match a policy pattern: an exact URI, "*@domain" or "*"?
bool matches(std::string_view pattern, std::string_view uri);

// Apply the policy of `served` (from [[user]], with `node`'s defaults) to a request.
// Originating: the served user sends to the request URI; terminating: the served user
// receives from P-Asserted-Identity, else From.
Verdict check(const config::File& file, const config::Node& node, const ServedUser& served,
              const sip::Request& req);

// Session media of an INVITE or re-INVITE (the SDP's media types with a non-zero port): 488
// when the served user's `media` (else the node's) does not list one of them; empty lists
// allow all. `why` names the rule: sip:alice@a.example may not use audio (media = ["message"]).
Verdict check_media(const config::File& file, const config::Node& node, const ServedUser& served,
                    const std::vector<std::string>& offered);

// What the participating function does with one request it is sent (pager mode and the
// initial INVITE): whose policy and which side, the verdict, and the header edits that add
// the CPM enabler usage indication.
struct Participation {
  ServedUser served;
  bool served_from_header = false; // taken from P-Served-User (else derived)
  Verdict verdict;
  std::vector<std::string> remove_headers; // header names
  std::vector<std::string> add_headers;    // whole lines "Name: value"
};

// The served user comes from P-Served-User when present (a malformed one is a 400);
// otherwise a sender in one of the node's domains makes the request originating, else it
// is terminating for the request URI. INVITE indicates the CPM session ICSI, any other
// method the message ICSI; Accept-Contact and P-Preferred-Service are added when the
// request does not already indicate a CPM service.
Participation participate(const config::File& file, const config::Node& node,
                          const sip::Request& req);

} // namespace cpm::policy
