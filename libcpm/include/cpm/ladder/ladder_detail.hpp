#pragma once
// Pieces that the ladder's files share (not a public interface).
#include <string>
#include <string_view>
#include <vector>

namespace cpm::ladder::detail {

// The words of `s` (text::split_ws) as strings.
std::vector<std::string> split_ws(std::string_view s);

// Split a message into its header lines and its body (the start line skipped).
void split_message(std::string_view msg, std::vector<std::string_view>& headers,
                   std::string_view& body);
// The value of the first header named `name` (or its compact form), or "".
std::string header(const std::vector<std::string_view>& headers, std::string_view name);
// Every value of the headers named `name`, list elements split (Route, Record-Route).
std::vector<std::string> header_values(const std::vector<std::string_view>& headers,
                                       std::string_view name);

// Whether an SMPP PDU name ends in "_resp" (a response), which is then removed from it.
bool strip_resp(std::string_view& name);
bool strip_resp(std::string& name);

} // namespace cpm::ladder::detail
