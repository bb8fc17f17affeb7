// The IWF's pure decisions: CPM Message <-> SMS, receipt -> IMDN (Figures 7 and 8).
#include "cpm/iw/mapping.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/grammar/uri.hpp"

namespace cpm::iw {

namespace {

// "+1-555-0100" -> "+15550100"; nullopt unless a '+' and 1..15 digits remain (E.164).
std::optional<std::string> e164(std::string_view s)
{
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '.' || c == '(' || c == ')')
      continue;
    if (c == '+' && out.empty()) {
      out += c;
      continue;
    }
    if (c < '0' || c > '9')
      return std::nullopt;
    out += c;
  }
  if (out.size() < 2 || out.size() > 16 || out[0] != '+')
    return std::nullopt;
  return out;
}

// A content type without parameters, lower case.
std::string bare_type(std::string_view ct)
{
  auto semi = ct.find(';');
  return text::lower(text::trim(ct.substr(0, semi)));
}

Refusal refuse(int status, std::string reason, std::string why,
               std::vector<std::string> headers = {})
{
  return Refusal{status, std::move(reason), std::move(why), std::move(headers)};
}

// RFC 3261 §20.43: 399 with our host-less agent name.
std::string warning(std::string_view text)
{
  return fmt::format("Warning: 399 cpm-iwf \"{}\"", text);
}

} // namespace

std::optional<std::string> number_of(std::string_view uri)
{
  auto u = sip::parse_uri(uri);
  if (!u)
    return std::nullopt;
  if (u->scheme == "tel") {
    auto semi = u->user.find(';');
    return e164(std::string_view(u->user).substr(0, semi));
  }
  auto phone = u->param("user");
  if (!phone || text::lower(*phone) != "phone")
    return std::nullopt;
  auto semi = u->user.find(';');
  return e164(std::string_view(u->user).substr(0, semi));
}

tl::expected<Incoming, Refusal> read_message(std::string_view ruri, std::string_view sender,
                                             std::string_view content_type, std::string_view body,
                                             const std::vector<std::string>& routes)
{
  auto number = number_of(ruri);
  if (!number)
    return tl::unexpected(
        refuse(404, "Not Found", fmt::format("no number in the request URI {}", ruri)));
  auto covers = [&](const std::string& prefix) { return number->rfind(prefix, 0) == 0; };
  if (!routes.empty() && std::none_of(routes.begin(), routes.end(), covers))
    return tl::unexpected(refuse(
        404, "Not Found", fmt::format("no SMS route for {} (sms_routes of the IWF)", *number)));
  const std::string ct = bare_type(content_type);
  Incoming in;
  Submission s;
  s.recipient = *number;
  s.sender = std::string(sender);
  if (ct == "text/plain") {
    s.text = std::string(body);
    in.message = std::move(s);
    return in;
  }
  if (ct != "message/cpim")
    return tl::unexpected(refuse(415, "Unsupported Media Type",
                                 fmt::format("content type '{}': an SMS carries text", ct),
                                 {"Accept: message/cpim, text/plain"}));
  auto c = cpim::decode(body);
  if (!c)
    return tl::unexpected(refuse(400, "Bad CPIM", c.error().message));
  const std::string inner = c->content_type();
  if (inner == imdn::k_content_type) {
    auto n = imdn::decode(c->body);
    if (!n)
      return tl::unexpected(refuse(400, "Bad IMDN", n.error().message));
    Notice notice;
    notice.recipient = *number;
    auto from = cpim::address(c->get("From").value_or(""));
    notice.from = from.empty() ? std::string(sender) : sip::canonical_aor(from);
    notice.imdn = std::move(*n);
    in.notice = std::move(notice);
    return in;
  }
  if (inner != "text/plain")
    return tl::unexpected(refuse(488, "Not Acceptable Here",
                                 fmt::format("CPIM content '{}' has no text part", inner),
                                 {warning(fmt::format("an SMS carries text/plain, not {}", inner)),
                                  "Accept: message/cpim, text/plain"}));
  s.text = c->body;
  auto from = cpim::address(c->get("From").value_or(""));
  if (!from.empty())
    s.sender = sip::canonical_aor(from).empty() ? from : sip::canonical_aor(from);
  s.message_id = c->get_ns(cpim::k_imdn_ns, "Message-ID").value_or("");
  s.datetime = c->get("DateTime").value_or("");
  if (auto dn = c->get_ns(cpim::k_imdn_ns, "Disposition-Notification")) {
    auto r = imdn::parse_requested(*dn);
    if (!r)
      return tl::unexpected(refuse(400, "Bad Disposition-Notification", r.error().message));
    s.positive = r->positive_delivery;
    s.negative = r->negative_delivery;
    if ((s.positive || s.negative) && s.message_id.empty())
      return tl::unexpected(
          refuse(400, "Bad CPIM", "notification requested without imdn.Message-ID"));
  }
  in.message = std::move(s);
  return in;
}

namespace {

struct StateName {
  State state;
  std::string_view short_name; // the receipt text's "stat:"
  std::string_view long_name;  // SMPP 3.4 §5.2.28
};

constexpr std::array<StateName, 8> k_states{{
    {State::Enroute, "ENROUTE", "ENROUTE"},
    {State::Delivered, "DELIVRD", "DELIVERED"},
    {State::Expired, "EXPIRED", "EXPIRED"},
    {State::Deleted, "DELETED", "DELETED"},
    {State::Undeliverable, "UNDELIV", "UNDELIVERABLE"},
    {State::Accepted, "ACCEPTD", "ACCEPTED"},
    {State::Unknown, "UNKNOWN", "UNKNOWN"},
    {State::Rejected, "REJECTD", "REJECTED"},
}};

} // namespace

std::optional<State> state_of(std::string_view stat)
{
  std::string up;
  for (char c : text::trim(stat))
    up += char(c >= 'a' && c <= 'z' ? c - 32 : c);
  for (const auto& s : k_states)
    if (up == s.short_name || up == s.long_name)
      return s.state;
  return std::nullopt;
}

std::optional<State> state_of(int message_state)
{
  if (message_state < 1 || message_state > 8)
    return std::nullopt;
  return k_states[size_t(message_state - 1)].state;
}

std::string_view to_string(State s)
{
  return k_states[size_t(s)].short_name;
}

bool final(State s)
{
  return s != State::Enroute && s != State::Accepted;
}

imdn::Status imdn_status(State s)
{
  return s == State::Delivered ? imdn::Status::Delivered : imdn::Status::Failed;
}

std::string tel_uri(std::string_view number)
{
  return fmt::format("tel:{}", number);
}

std::string notification_for(const Submission& s, imdn::Status status, std::string_view now)
{
  imdn::Notification n;
  n.message_id = s.message_id;
  n.datetime = s.datetime.empty() ? std::string(now) : s.datetime;
  n.recipient_uri = tel_uri(s.recipient);
  n.kind = imdn::Kind::Delivery;
  n.status = status;
  cpim::Outgoing o;
  o.from = n.recipient_uri;
  o.to = s.sender;
  o.datetime = std::string(now);
  o.message_id = imdn::make_message_id();
  o.content_type = std::string(imdn::k_content_type);
  o.body = imdn::encode(n);
  return cpim::encode(cpim::make(o));
}

std::string message_for_sms(std::string_view from_number, std::string_view to_uri,
                            std::string_view text, std::string_view message_id, bool report,
                            std::string_view now)
{
  cpim::Outgoing o;
  o.from = tel_uri(from_number);
  o.to = std::string(to_uri);
  o.datetime = std::string(now);
  o.message_id = std::string(message_id);
  if (report)
    o.notification = "positive-delivery, negative-delivery";
  o.body = std::string(text);
  return cpim::encode(cpim::make(o));
}

} // namespace cpm::iw
