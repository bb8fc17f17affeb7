#pragma once
// Service control of the participating function (cpm-groupd): per served user policies
// from the config, applied on the originating or terminating side.
#include <cstdint>
#include <string>
#include <string_view>

#include "cpm/config.hpp"
#include "cpm/route.hpp"

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

// Does `uri` match a policy pattern: an exact URI, "*@domain" or "*"?
bool matches(std::string_view pattern, std::string_view uri);

// Apply the policy of `served` (from [[user]], with `node`'s defaults) to a request.
// Originating: the served user sends to the request URI; terminating: the served user
// receives from P-Asserted-Identity, else From.
Verdict check(const config::File& file, const config::Node& node, const ServedUser& served,
              const route::Request& req);

} // namespace cpm::policy
