#pragma once
// The JSON Lines event stream on stdout (--json): one object per line, flushed at once
// outside the main loop and at the end of the loop's pass that wrote it inside (written()).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cpm/base/error.hpp"

namespace cpm::events {

using Json = nlohmann::json;

// One JSON object as a line (with '\n'); invalid UTF-8 is replaced, never thrown.
std::string to_line(const Json& event);
// Write one event to `out`; written(out) flushes it.
void emit(const Json& event, std::FILE* out = stdout);

// Say that `out` was written and must reach its reader promptly. With no main loop running it
// is flushed at once. While one runs (a flusher is set: rt/loop.cpp's sip::run), `out` is
// only marked pending and flushed at the end of the loop's current pass (or the next), so a
// burst of events served in one pass costs one write(2), yet nothing waits unflushed while
// the loop sleeps. A pending stream must not be closed before flush_pending().
void written(std::FILE* out);
// The main loop's side (base knows no libre). `arm` is called when a first stream becomes
// pending and must make the loop call flush_pending() before it sleeps again. Setting a
// flusher (or nullptr: flush at once again) first flushes whatever is pending; returns the
// one it replaces.
using Flusher = void (*)();
Flusher set_flusher(Flusher arm);
// Flush every pending stream (at the end of a loop pass, when the loop returns).
void flush_pending();
// Parse one line back (tests, tools reading a stream). Not an object: an error.
Result<Json> parse_line(std::string_view line);
// Wall-clock time as RFC 3339 UTC with milliseconds, for "time" fields.
std::string now();

} // namespace cpm::events
