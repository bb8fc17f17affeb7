// The JSON Lines event stream.
#include "cpm/base/events.hpp"

#include <chrono>
#include <ctime>
#include <fmt/format.h>

namespace cpm::events {

std::string to_line(const Json& event)
{
  return event.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

void emit(const Json& event, std::FILE* out)
{
  auto line = to_line(event);
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
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
