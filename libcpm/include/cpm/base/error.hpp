#pragma once
// Recoverable errors as values (tl::expected), as STYLE.md asks.
#include <string>
#include <tl/expected.hpp>

namespace cpm {

// A diagnostic for the user; `code` is the exit status it maps to (2 usage/config, 3 network).
struct Error {
  std::string message;
  int code = 2;
};

template <class T> using Result = tl::expected<T, Error>;

// Build an unexpected Error in one call: `return fail("bad key");`
inline tl::unexpected<Error> fail(std::string message, int code = 2)
{
  return tl::unexpected<Error>(Error{std::move(message), code});
}

} // namespace cpm
