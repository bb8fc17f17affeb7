// What a pager-mode MESSAGE's body says.
#include "cpm/ua/incoming.hpp"

#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/codec/encoding.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/wire.hpp"
#include "cpm/rt/sip.hpp"

namespace cpm::ua {

namespace {

// An IMDN notification (`xml`, CPIM-wrapped or bare).
tl::expected<Incoming, Refusal> notification(Incoming in, std::string_view xml)
{
  auto n = imdn::decode(xml);
  if (!n)
    return tl::unexpected(Refusal{400, "Bad IMDN", n.error().message});
  in.notification = true;
  in.message_id = n->message_id;
  in.kind = imdn::to_string(n->kind);
  in.status = imdn::to_string(n->status);
  in.text = std::string(xml);
  return in;
}

} // namespace

tl::expected<std::string, Refusal> decode_body(std::string_view content_encoding,
                                               std::string_view body)
{
  auto d = encoding::decode(content_encoding, body);
  if (d)
    return std::move(*d);
  switch (d.error().failure) {
  case encoding::Failure::Unsupported:
    return tl::unexpected(Refusal{415,
                                  "Unsupported Media Type",
                                  d.error().message,
                                  {fmt::format("Accept-Encoding: {}", encoding::k_accepted)}});
  case encoding::Failure::TooLarge:
    return tl::unexpected(Refusal{413, "Request Entity Too Large", d.error().message, {}});
  case encoding::Failure::Corrupt:
    break;
  }
  return tl::unexpected(Refusal{400, "Bad Content-Encoding", d.error().message, {}});
}

tl::expected<std::string, Refusal> decoded_body(const struct ::sip_msg* msg)
{
  return decode_body(sip::content_encoding_of(msg), sip::body_of(msg));
}

tl::expected<std::string, Refusal> decoded_body(const sip::wire::Message& msg)
{
  std::string codings;
  for (const auto& f : msg.fields)
    if (f.id == sip::wire::Hdr::Other && text::iequals(sip::long_name(f.name), "Content-Encoding"))
      for (auto v : text::split_list(f.value))
        if (auto t = text::trim(v); !t.empty())
          codings.append(codings.empty() ? "" : ", ").append(t);
  return decode_body(codings, msg.body);
}

tl::expected<Incoming, Refusal> interpret(std::string_view ctype, std::string_view body,
                                          std::string_view sip_from, std::string_view sip_to)
{
  auto semi = ctype.find(';');
  auto type = text::lower(ctype.substr(0, semi));
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  Incoming in;
  if (type == "text/plain" || (type.empty() && body.empty())) {
    in.from = std::string(sip_from);
    in.to = std::string(sip_to);
    in.content_type = type.empty() ? "text/plain" : type;
    in.text = std::string(body);
    return in;
  }
  // RFC 5438 §7.1.1 wraps a notification in CPIM; one that comes bare is read all the same,
  // its sender the SIP From.
  if (type == imdn::k_content_type) {
    in.from = std::string(sip_from);
    in.to = std::string(sip_to);
    in.content_type = type;
    return notification(std::move(in), body);
  }
  if (type != "message/cpim")
    return tl::unexpected(Refusal{415,
                                  "Unsupported Media Type",
                                  fmt::format("unsupported content type '{}'", ctype),
                                  {std::string(k_accept)}});
  auto m = cpim::decode(body);
  if (!m)
    return tl::unexpected(Refusal{400, "Bad CPIM", m.error().message});
  in.from = cpim::address(m->get("From").value_or(""));
  in.to = cpim::address(m->get("To").value_or(""));
  in.datetime = m->get("DateTime").value_or("");
  in.message_id = m->get_ns(cpim::k_imdn_ns, "Message-ID").value_or("");
  in.requested = m->get_ns(cpim::k_imdn_ns, "Disposition-Notification").value_or("");
  in.content_type = m->content_type();
  for (const auto& h : m->headers)
    in.headers.emplace_back(h.name, h.value);
  if (in.content_type == imdn::k_content_type)
    return notification(std::move(in), m->body);
  if (!in.requested.empty()) {
    auto r = imdn::parse_requested(in.requested);
    if (!r)
      return tl::unexpected(Refusal{400, "Bad Disposition-Notification", r.error().message});
    if (in.message_id.empty())
      return tl::unexpected(
          Refusal{400, "Bad CPIM", "notification requested without imdn.Message-ID"});
  }
  in.text = m->body;
  return in;
}

bool Seen::first(const Incoming& in)
{
  if (in.message_id.empty() || m_capacity == 0)
    return true;
  std::string key = in.from + ' ' + in.message_id;
  if (!m_keys.insert(key).second)
    return false;
  m_order.push_back(std::move(key));
  if (m_order.size() > m_capacity) {
    m_keys.erase(m_order.front());
    m_order.pop_front();
  }
  return true;
}

} // namespace cpm::ua
