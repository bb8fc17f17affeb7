#pragma once
// The texts a proxy sends, edited from the bytes it received (as Kamailio edits the received
// buffer instead of rebuilding a message, issue 13): the forwarded request, the relayed
// response, and the head of its own responses. Each appends to a string the caller keeps
// and reuses, so that a busy proxy allocates nothing per message for them.
#include <string>
#include <string_view>

#include "cpm/grammar/request.hpp"
#include "cpm/grammar/wire.hpp"
#include "cpm/proxy/action.hpp"

namespace cpm::proxy {

// The forwarded request after the request line and our Via, appended to `out`: the
// received header fields byte for byte, except that Max-Forwards is decremented in its
// place (70 added at the top when absent: RFC 3261 §16.6 step 3; an ACK with 0 keeps
// none), the Action's Routes are pushed on top, our own Routes (those before the
// `routes_left` the request keeps, sip::to_request) are popped, the Action's header removals
// and additions are made, and Content-Length is the body's; then the body.
void forward_text(const sip::wire::Message& m, size_t routes_left, const Action& a,
                  std::string& out);
// A response from downstream as relayed upstream, appended to `out`: everything but the top
// Via (ours, RFC 3261 §16.7 step 3), with a Content-Length of the body, which a UDP sender
// may leave out (liblinphone does) but a stream upstream needs (RFC 3261 §18.3, §20.14).
void response_text(const sip::wire::Message& m, std::string& out);
// The Via, From, To, Call-ID and CSeq lines a local response to `m` repeats; the top Via
// gets received= (RFC 3261 §18.2.1) and the rport value (RFC 3581) of the source
// `src_ip`:`src_port`. Fields a malformed request lacks are left out.
std::string reply_head(const sip::wire::Message& m, std::string_view src_ip, uint16_t src_port);
// The same appended to `out` (a buffer the caller reuses).
void reply_head(const sip::wire::Message& m, std::string_view src_ip, uint16_t src_port,
                std::string& out);

} // namespace cpm::proxy
