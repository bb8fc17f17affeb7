// cpm-send --lines --wait: which messages still wait for their notifications.
#include "send.hpp"

namespace cpm::send {

LineWaits::LineWaits(bool delivery, bool display, int recipients)
    : m_delivery(delivery), m_display(display), m_recipients(recipients)
{
}

void LineWaits::expect(const std::string& message_id)
{
  m_waits.try_emplace(message_id, m_delivery, m_display, m_recipients);
}

void LineWaits::forget(const std::string& message_id)
{
  m_waits.erase(message_id);
}

LineWaits::Outcome LineWaits::add(const std::string& message_id, std::string_view from,
                                  std::string_view kind, bool positive)
{
  auto it = m_waits.find(message_id);
  if (it == m_waits.end())
    return Outcome::unknown;
  it->second.add(from, kind, positive);
  if (!it->second.complete())
    return Outcome::pending;
  bool negative = it->second.negative();
  m_waits.erase(it);
  return negative ? Outcome::negative : Outcome::positive;
}

} // namespace cpm::send
