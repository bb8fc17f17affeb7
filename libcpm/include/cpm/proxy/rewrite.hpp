#pragma once
// The texts a proxy sends, rewritten from the libre message it received (as Kamailio edits
// the received buffer instead of rebuilding a message): the forwarded request, the relayed
// response, and the head of its own responses.
#include <cstddef>
#include <string>

#include "cpm/grammar/request.hpp"
#include "cpm/proxy/action.hpp"

struct sip_msg;

namespace cpm::proxy {

// The body size of `msg`: what was received, clamped to its Content-Length.
size_t body_size(const struct ::sip_msg& msg);
// The forwarded request after the request line and our Via: Max-Forwards first,
// decremented (70 when absent: RFC 3261 §16.6 step 3; an ACK with 0 keeps none), the
// Action's Routes pushed, our own Routes removed (`req.routes` holds those left), the
// Action's header removals and additions, Content-Length, the body.
std::string forward_text(const struct ::sip_msg& msg, const sip::Request& req, const Action& a);
// A response from downstream as relayed upstream: everything but the top Via (ours,
// RFC 3261 §16.7 step 3), with a Content-Length of the body, which a UDP sender may leave
// out (liblinphone does) but a stream upstream needs (RFC 3261 §18.3, §20.14).
std::string response_text(const struct ::sip_msg& msg);
// The Via, From, To, Call-ID and CSeq lines a local response to `msg` repeats; the top Via
// gets received= (RFC 3261 §18.2.1) and the rport value (RFC 3581) of the source.
std::string reply_head(const struct ::sip_msg& msg);

} // namespace cpm::proxy
