#pragma once
// Whether a received request is well-formed enough to be relayed (else 400 and its reason).
#include <cstddef>
#include <string>

#include "cpm/grammar/request.hpp"

namespace cpm::proxy {

// Why a request is malformed (the 400 reason phrase), or "" when it is acceptable:
// missing or repeated Call-ID/CSeq/From/To/Max-Forwards/Content-Length, a bad CSeq or one
// whose method differs from the request's, a Content-Length larger than the `body_left`
// bytes received. (A UDP datagram cut at libre's 8192-byte receive buffer is answered 513
// before: proxy/flood.hpp.)
std::string check_request(const sip::Request& req, size_t body_left);

} // namespace cpm::proxy
