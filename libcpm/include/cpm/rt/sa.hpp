#pragma once
// libre's socket addresses (struct sa) as our text.
#include <string>

struct sa;

namespace cpm {

// An address with its port ("127.0.0.1:5060", "[::1]:5060").
std::string sa_str(const struct sa& a);

} // namespace cpm
