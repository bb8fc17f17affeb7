#pragma once
// Pieces that the ladder's files share (not a public interface).
#include <string>
#include <string_view>
#include <vector>

namespace cpm::ladder::detail {

// The words of `s` (text::split_ws) as strings.
std::vector<std::string> split_ws(std::string_view s);

// Whether an SMPP PDU name ends in "_resp" (a response), which is then removed from it.
bool strip_resp(std::string_view& name);
bool strip_resp(std::string& name);

} // namespace cpm::ladder::detail
