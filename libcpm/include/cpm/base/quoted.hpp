#pragma once
// The one walk over a SIP header value "outside quotes and <...>" (RFC 3261 §7.3.1, §25.1),
// shared by text::split_list, grammar/header.hpp and the parser of our own (grammar/wire),
// so that they all cut a value at the same places. A header of its own, with nothing but
// <string_view>, because the parser's header (grammar/wire_detail.hpp) includes it.
#include <cstddef>
#include <string_view>

namespace cpm::text {

// The position of the first character of `stops` at or after `from` that stands outside
// double-quoted strings (inside one, a backslash escapes the next character) and outside
// <...> (nested brackets counted, a stray '>' ignored); npos when none. A '<' in `stops` is
// found rather than skipped (the start of a name-addr's URI); '"' cannot be a stop.
// `open_quote`, when given, tells whether the text ended inside a quoted string (false when
// a stop was found). No allocation; usable in constant expressions.
constexpr size_t find_outside_quotes(std::string_view s, std::string_view stops, size_t from = 0,
                                     bool* open_quote = nullptr)
{
  bool quoted = false;
  size_t angle = 0;
  size_t i = from;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '\\')
        ++i; // a backslash that ends the text escapes nothing: i passes the end
      else if (c == '"')
        quoted = false;
      continue;
    }
    if (angle == 0) {
      // A loop rather than stops.find(c), which calls memchr for every character: inlined
      // with a literal `stops`, this is one comparison per stop (the parser's hot path).
      bool stop = false;
      for (char x : stops)
        stop |= c == x;
      if (stop)
        break;
    }
    if (c == '"')
      quoted = true;
    else if (c == '<')
      ++angle;
    else if (c == '>' && angle > 0)
      --angle;
  }
  if (open_quote)
    *open_quote = quoted;
  return i < s.size() ? i : std::string_view::npos;
}

} // namespace cpm::text
