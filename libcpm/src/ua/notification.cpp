// IMDN notifications in pager mode.
#include "cpm/ua/notification.hpp"

#include "cpm/codec/cpim.hpp"

namespace cpm::ua {

std::vector<imdn::Kind> requested_kinds(const Incoming& in, bool display)
{
  std::vector<imdn::Kind> kinds;
  if (in.requested.empty())
    return kinds;
  auto r = imdn::parse_requested(in.requested);
  if (r && r->positive_delivery)
    kinds.push_back(imdn::Kind::Delivery);
  if (r && r->display && display)
    kinds.push_back(imdn::Kind::Display);
  return kinds;
}

imdn::Notification positive(const Incoming& in, std::string_view recipient, imdn::Kind kind)
{
  imdn::Notification n;
  n.message_id = in.message_id;
  n.datetime = in.datetime;
  n.recipient_uri = std::string(recipient);
  n.kind = kind;
  n.status = kind == imdn::Kind::Delivery ? imdn::Status::Delivered : imdn::Status::Displayed;
  return n;
}

std::string notification_body(const imdn::Notification& n, std::string_view to)
{
  cpim::Outgoing o;
  o.from = n.recipient_uri;
  o.to = std::string(to);
  o.message_id = imdn::make_message_id();
  o.content_type = std::string(imdn::k_content_type);
  o.body = imdn::encode(n);
  return cpim::encode(cpim::make(o));
}

Awaited::Awaited(bool delivery, bool display, int recipients)
    : m_delivery(delivery), m_display(display),
      m_recipients(recipients < 1 ? 1 : static_cast<size_t>(recipients))
{
}

void Awaited::add(std::string_view from, std::string_view kind, bool positive)
{
  std::string who = cpim::address(from);
  if (!positive) {
    m_negative = true;
    m_delivered.insert(who);
    m_displayed.insert(who);
    return;
  }
  if (kind == "delivery")
    m_delivered.insert(who);
  else if (kind == "display")
    m_displayed.insert(who);
}

bool Awaited::complete() const
{
  return missing().empty();
}

std::string Awaited::missing() const
{
  if (m_delivery && m_delivered.size() < m_recipients)
    return "delivery";
  if (m_display && m_displayed.size() < m_recipients)
    return "display";
  return "";
}

size_t Awaited::count(std::string_view kind) const
{
  return kind == "delivery" ? m_delivered.size() : kind == "display" ? m_displayed.size() : 0;
}

} // namespace cpm::ua
