#pragma once
// libre's pointer-length strings (struct pl, a view into a message) as our strings.
#include <string>
#include <string_view>

struct pl;

namespace cpm {

// The text of `p` ("" when unset), as a view valid while the message lives, or a copy.
std::string_view pl_view(const struct pl& p);
std::string pl_string(const struct pl& p);

} // namespace cpm
