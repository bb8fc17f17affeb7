// The JSON Lines event stream.
#include "cpm/base/events.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <utility>
#include <vector>

namespace cpm::events {

namespace {

// The streams written since the last flush while a flusher is set (one thread: the loop's).
struct Deferred {
  Flusher arm = nullptr;
  std::vector<std::FILE*> pending;
};
Deferred g_deferred;

} // namespace

void written(std::FILE* out)
{
  auto& d = g_deferred;
  if (!d.arm) {
    std::fflush(out);
    return;
  }
  if (std::find(d.pending.begin(), d.pending.end(), out) != d.pending.end())
    return;
  bool first = d.pending.empty();
  d.pending.push_back(out);
  if (first)
    d.arm();
}

void flush_pending()
{
  // A stream is taken off the list before its flush: nothing is flushed twice, and a
  // written() during a flush (none today) finds a consistent list.
  auto& p = g_deferred.pending;
  while (!p.empty()) {
    std::FILE* f = p.back();
    p.pop_back();
    std::fflush(f);
  }
}

Flusher set_flusher(Flusher arm)
{
  flush_pending();
  return std::exchange(g_deferred.arm, arm);
}

std::string to_line(const Json& event)
{
  return event.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

void emit(const Json& event, std::FILE* out)
{
  auto line = to_line(event);
  std::fwrite(line.data(), 1, line.size(), out);
  written(out);
}

Result<Json> parse_line(std::string_view line)
{
  auto j = Json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded())
    return fail("events: not JSON");
  if (!j.is_object())
    return fail("events: not a JSON object");
  return j;
}

std::string now()
{
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

} // namespace cpm::events
