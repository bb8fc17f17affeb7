#pragma once
// IMDN notifications (RFC 5438) in pager mode: the ones a received message asks for, the
// CPIM body that carries one, and Awaited, what a sender waits for from N recipients.
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/codec/imdn.hpp"
#include "cpm/ua/incoming.hpp"

namespace cpm::ua {

// The positive notifications `in` asks its recipient for: delivery, and display when the
// recipient shows messages (`display`). Requests it cannot read ask for nothing.
std::vector<imdn::Kind> requested_kinds(const Incoming& in, bool display);
// The notification of `kind` (delivered / displayed) that `recipient` sends about `in`.
imdn::Notification positive(const Incoming& in, std::string_view recipient, imdn::Kind kind);
// The message/cpim body carrying `n`: From its recipient, To `to`, with a fresh Message-ID.
std::string notification_body(const imdn::Notification& n, std::string_view to);

// The notifications a sender awaits for one message: the requested kinds from `recipients`
// distinct recipients (a group has several). A negative notification answers for its
// recipient (every kind: nothing more will come) and makes the outcome negative.
class Awaited {
public:
  Awaited(bool delivery, bool display, int recipients);
  // A notification of `kind` ("delivery", "display") from `from`; repeated ones count once.
  void add(std::string_view from, std::string_view kind, bool positive);
  // Every requested kind came from `recipients` distinct recipients (or nothing is awaited).
  bool complete() const;
  // Some notification was negative.
  bool negative() const { return m_negative; }
  // The first kind still short of recipients ("delivery", "display"), or "".
  std::string missing() const;
  size_t count(std::string_view kind) const;

private:
  bool m_delivery, m_display;
  size_t m_recipients;
  bool m_negative = false;
  std::set<std::string> m_delivered, m_displayed;
};

} // namespace cpm::ua
