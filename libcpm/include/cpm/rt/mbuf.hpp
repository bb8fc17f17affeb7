#pragma once
// Our text in libre's buffers.
#include <string_view>

#include "cpm/rt/re_ptr.hpp"

struct mbuf;

namespace cpm {

// A libre mbuf holding a copy of `text`, positioned at its start (libre may keep a
// reference to what it sends, so never wrap our own memory); nullptr when out of memory.
re_ptr<struct mbuf> mbuf_copy(std::string_view text);

} // namespace cpm
