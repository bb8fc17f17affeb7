#pragma once
// Header grammar shared by every parser above: header names (compact forms, list headers),
// list values, name-addrs ("Bob" <sip:bob@b.example>;tag=1) and their parameters.
// Results are views into the text they were taken from.
#include <optional>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"

namespace cpm::sip {

// RFC 3261 §7.3.3 (and the RFCs that add compact forms): the long name of a one-letter
// header name ("m" -> "Contact"); any other name unchanged.
std::string_view long_name(std::string_view name);

// Headers whose values are comma-separated lists (RFC 3261 §7.3.1) that Request::values
// splits.
bool is_list_header(std::string_view name);

// The elements of a list header value, split at ',' outside quotes and <>, trimmed, empty
// elements dropped.
std::vector<std::string_view> split_header_list(std::string_view value);

// A From, To, Contact or Route value: `"Bob" <sip:bob@b.example>;tag=1` or, without
// brackets, `sip:bob@b.example;tag=1`.
struct NameAddr {
  std::string_view display; // trimmed, quotes kept; "" when none
  std::string_view uri;     // trimmed, without the brackets
  std::string_view params;  // header parameters from their first ';' ("" when none)
};
// Parse a name-addr or addr-spec. RFC 3261 §20.10: in an addr-spec without brackets the
// ';' parameters are header parameters. `what` names the header in the errors ("Bad
// Contact display name", "Unterminated Contact URI").
Result<NameAddr> parse_name_addr(std::string_view value, std::string_view what);

// The URI of a name-addr: what is inside the first '<' outside quotes, up to '>' (or the
// end), trimmed; any other text is returned trimmed as it is (URI parameters kept).
std::string_view addr_spec(std::string_view value);

// One parameter of a ";name=value" list.
struct Param {
  std::string_view name;  // trimmed
  std::string_view value; // trimmed, quotes kept; "" for a flag (";lr")
  bool has_value = false; // an '=' was given
};
// The parameters of ";a;b=c": split at ';' outside quotes and <>, the text before the
// first ';' skipped ("*;+g.x" gives +g.x). An empty parameter (";;") has an empty name.
std::vector<Param> split_params(std::string_view params);
// The value of parameter `name` (case-insensitive) in ";a;b=c", "" for a flag; nullopt
// when absent.
std::optional<std::string_view> find_param(std::string_view params, std::string_view name);

// The contents of a quoted string ("\"a,b\"" -> "a,b"), other text unchanged; nullopt for
// a quote left open ("\"a,b").
std::optional<std::string_view> unquote(std::string_view s);

} // namespace cpm::sip
