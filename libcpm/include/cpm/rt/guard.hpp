#pragma once
// The body of a libre callback (STYLE.md "Errors on the libre loop"): an exception never
// crosses libre (it would leave re_main "already polling"); it becomes one diagnostic and
// the callback goes on with a fallback value.
#include <exception>
#include <functional>
#include <string>

namespace cpm::sip {

// Where a callback's diagnostics go (stderr with the program's prefix when empty).
using Diag = std::function<void(const std::string&)>;

// Report "internal error in WHERE: WHAT" through `diag`; never throws.
void internal_error(const Diag& diag, const char* where, const char* what) noexcept;

// Run `fn()`; an exception is reported and ignored.
template <typename F> void guarded(const Diag& diag, const char* where, F&& fn) noexcept
{
  try {
    fn();
  } catch (const std::exception& e) {
    internal_error(diag, where, e.what());
  } catch (...) {
    internal_error(diag, where, "unknown exception");
  }
}

// Return `fn()`; after an exception, report it and return `on_error`.
template <typename R, typename F>
R guarded(const Diag& diag, const char* where, R on_error, F&& fn) noexcept
{
  try {
    return fn();
  } catch (const std::exception& e) {
    internal_error(diag, where, e.what());
  } catch (...) {
    internal_error(diag, where, "unknown exception");
  }
  return on_error;
}

} // namespace cpm::sip
