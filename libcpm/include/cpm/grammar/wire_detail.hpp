#pragma once
// The templates of cpm/grammar/wire.hpp and the few character tests they share with
// wire.cpp. Included by wire.hpp only.
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "cpm/base/quoted.hpp"

namespace cpm::sip::wire {

namespace detail {

// Linear white space as it appears in a received value: SP, HT and the CR LF of a folded
// line (RFC 3261 §7.3.1: a CRLF followed by SP or HT is LWS).
constexpr bool is_lws(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

constexpr std::string_view trim_lws(std::string_view s)
{
  size_t b = 0;
  size_t e = s.size();
  while (b < e && is_lws(s[b]))
    ++b;
  while (e > b && is_lws(s[e - 1]))
    --e;
  return s.substr(b, e - b);
}

// The end of the list element that starts `s`: the first ',' outside a quoted string
// (backslash escapes) and outside <...>, or s.size().
constexpr size_t element_end(std::string_view s)
{
  auto end = text::find_outside_quotes(s, ",");
  return end == std::string_view::npos ? s.size() : end;
}

} // namespace detail

template <class F> void for_each_element(std::string_view value, F&& f)
{
  while (!value.empty()) {
    size_t end = detail::element_end(value);
    auto element = detail::trim_lws(value.substr(0, end));
    if (!element.empty()) {
      if constexpr (std::is_same_v<decltype(f(element)), void>) {
        f(element);
      } else if (!f(element)) {
        return;
      }
    }
    if (end >= value.size())
      return;
    value.remove_prefix(end + 1);
  }
}

template <class F> void for_each_value(const Message& m, Hdr id, F&& f)
{
  for (const Field& field : m.fields) {
    if (field.id != id)
      continue;
    bool go = true;
    for_each_element(field.value, [&](std::string_view element) {
      if constexpr (std::is_same_v<decltype(f(field, element)), void>)
        f(field, element);
      else
        go = f(field, element);
      return go;
    });
    if (!go)
      return;
  }
}

} // namespace cpm::sip::wire
