#pragma once
// Pieces that the ladder's files share (not a public interface).
#include <string>
#include <string_view>
#include <vector>

namespace cpm::ladder::detail {

// The words of `s` (text::split_ws) as strings.
std::vector<std::string> split_ws(std::string_view s);

} // namespace cpm::ladder::detail
