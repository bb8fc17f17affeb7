#pragma once
// A peer that takes only text/plain (baresip, many phones) answers a message/cpim MESSAGE
// 415 with an Accept header. RFC 3261 §8.1.3.5 (and §21.4.13): the UAC may send the request
// again with a body the Accept allows. This is the decision every sender shares (cpm-send,
// the group pager, the IWF): does this answer allow a text/plain resend, and what is the
// text/plain form of a CPIM message.
#include <optional>
#include <string>
#include <string_view>

namespace cpm::cpim {
struct Message;
}

namespace cpm::ua {

// A body and its Content-Type (with parameters: "text/plain;charset=utf-8").
struct Body {
  std::string content_type;
  std::string text;
};

// True when an Accept value (several Accept headers joined by ',') takes text/plain: the
// most specific media range that matches it (text/plain, else text/*, else */*) has a q
// other than 0 (RFC 3261 §20.1, RFC 7231 §5.3.2). An empty or absent Accept takes nothing.
bool accepts_plain(std::string_view accept);

// True when a MESSAGE answered `status` with the Accept value `accept` may be sent again
// as text/plain: a 415 whose Accept takes text/plain.
bool plain_retry_allowed(int status, std::string_view accept);

// The text/plain form of a message/cpim body: its inner content with its own Content-Type
// when that is text/plain; nullopt when it is not (an image, HTML, an IMDN) or the CPIM is
// malformed.
std::optional<Body> plain_of_cpim(std::string_view cpim);
// The same of a CPIM message already decoded.
std::optional<Body> plain_of(const cpim::Message& m);

} // namespace cpm::ua
