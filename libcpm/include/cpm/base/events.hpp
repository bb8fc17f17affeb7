#pragma once
// The JSON Lines event stream on stdout (--json): one object per line, flushed per line.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cpm/base/error.hpp"

namespace cpm::events {

using Json = nlohmann::json;

// One JSON object as a line (with '\n'); invalid UTF-8 is replaced, never thrown.
std::string to_line(const Json& event);
// Write one event to `out` and flush it.
void emit(const Json& event, std::FILE* out = stdout);
// Parse one line back (tests, tools reading a stream). Not an object: an error.
Result<Json> parse_line(std::string_view line);
// Wall-clock time as RFC 3339 UTC with milliseconds, for "time" fields.
std::string now();

} // namespace cpm::events
