#pragma once
// Small text helpers every parser shares (header names, list values, whitespace).
#include <string>
#include <string_view>
#include <vector>

namespace cpm::text {

// ASCII case-insensitive equality (header names, schemes, hosts, tokens).
bool iequals(std::string_view a, std::string_view b);
// Without leading and trailing whitespace (space, tab, CR, LF, FF, VT).
std::string_view trim(std::string_view s);
// ASCII lower case.
std::string lower(std::string_view s);
// The media type of a Content-Type value, lower case, without parameters or whitespace:
// "message/CPIM; charset=x" -> "message/cpim".
std::string media_type(std::string_view content_type);
// ASCII lower case of one character.
constexpr char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}
// Split at `sep` outside double-quoted strings (with backslash escapes) and <...>, as SIP
// list headers are split (RFC 3261 §7.3.1). Parts are not trimmed; an empty input gives
// one empty part.
std::vector<std::string_view> split_list(std::string_view s, char sep = ',');
// RFC 3986 §2.1 percent-decoding: "%3A" -> ":"; a '%' not followed by two hex digits is
// kept as it is.
std::string percent_decode(std::string_view s);
// The fields of `s` separated by runs of spaces and tabs (SDP fields, MSRP path URIs);
// no empty fields.
std::vector<std::string_view> split_ws(std::string_view s);
// A token of RFC 3261 §25.1 and RFC 4975 §9: 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" /
// "+" / "`" / "'" / "~").
bool is_token(std::string_view s);

} // namespace cpm::text
