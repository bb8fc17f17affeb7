#pragma once
// libre's text types to and from ours (pl.hpp has struct pl): an address as a std::string,
// a string as an mbuf to hand to libre.
#include <string>
#include <string_view>

#include "cpm/rt/re_ptr.hpp"

struct sa;
struct mbuf;

namespace cpm {

// An address with its port ("127.0.0.1:5060", "[::1]:5060").
std::string sa_str(const struct sa& a);
// A new mbuf holding a copy of `text`, positioned at its start (empty when out of memory).
re_ptr<struct mbuf> mbuf_of(std::string_view text);

} // namespace cpm
