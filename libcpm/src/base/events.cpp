// The JSON Lines event stream.
#include "cpm/base/events.hpp"

#include "cpm/codec/cpim.hpp"

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
  return cpim::now_datetime();
}

} // namespace cpm::events
