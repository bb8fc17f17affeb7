#include "cpm/smpp/receipt.hpp"

#include <array>
#include <fmt/format.h>

#include "cpm/base/text.hpp"

namespace cpm::smpp {

namespace {

struct StatName {
  MessageState state;
  std::string_view short_name;
  std::string_view long_name;
};

constexpr std::array<StatName, 8> k_stats{{
    {MessageState::enroute, "ENROUTE", "ENROUTE"},
    {MessageState::delivered, "DELIVRD", "DELIVERED"},
    {MessageState::expired, "EXPIRED", "EXPIRED"},
    {MessageState::deleted, "DELETED", "DELETED"},
    {MessageState::undeliverable, "UNDELIV", "UNDELIVERABLE"},
    {MessageState::accepted, "ACCEPTD", "ACCEPTED"},
    {MessageState::unknown, "UNKNOWN", "UNKNOWN"},
    {MessageState::rejected, "REJECTD", "REJECTED"},
}};

// The keys of a receipt text, the two-word ones first.
constexpr std::array<std::string_view, 8> k_keys{"submit date", "done date", "id",  "sub",
                                                 "dlvrd",       "stat",      "err", "text"};

bool starts_with_ci(std::string_view s, std::string_view prefix)
{
  return s.size() >= prefix.size() && text::iequals(s.substr(0, prefix.size()), prefix);
}

} // namespace

std::string_view stat_text(MessageState s)
{
  for (const auto& n : k_stats)
    if (n.state == s)
      return n.short_name;
  return "UNKNOWN";
}

std::optional<MessageState> parse_stat(std::string_view s)
{
  for (const auto& n : k_stats)
    if (text::iequals(s, n.short_name) || text::iequals(s, n.long_name))
      return n.state;
  return std::nullopt;
}

bool is_final(MessageState s)
{
  return s != MessageState::enroute && s != MessageState::accepted;
}

bool is_success(MessageState s)
{
  return s == MessageState::delivered;
}

std::string format_receipt_text(const ReceiptText& r)
{
  return fmt::format("id:{} sub:{} dlvrd:{} submit date:{} done date:{} stat:{} err:{} text:{}",
                     r.id, r.sub, r.dlvrd, r.submit_date, r.done_date, r.stat, r.err, r.text);
}

Result<ReceiptText> parse_receipt_text(std::string_view s)
{
  ReceiptText r;
  r.sub.clear();
  r.dlvrd.clear();
  r.stat.clear();
  r.err.clear();
  bool have_id = false;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
      ++i;
      continue;
    }
    std::string_view rest = s.substr(i);
    std::string_view key;
    for (auto k : k_keys)
      if (starts_with_ci(rest, k) && rest.size() > k.size() && rest[k.size()] == ':') {
        key = k;
        break;
      }
    if (key.empty()) { // an unknown word: skip it
      auto end = rest.find_first_of(" \t\r\n");
      i = end == std::string_view::npos ? s.size() : i + end;
      continue;
    }
    rest.remove_prefix(key.size() + 1);
    i += key.size() + 1;
    std::string_view value;
    if (key == "text") {
      value = rest;
      i = s.size();
    } else {
      auto end = rest.find_first_of(" \t\r\n");
      value = rest.substr(0, end);
      i += value.size();
    }
    std::string v(value);
    if (key == "id") {
      r.id = v;
      have_id = true;
    } else if (key == "sub")
      r.sub = v;
    else if (key == "dlvrd")
      r.dlvrd = v;
    else if (key == "submit date")
      r.submit_date = v;
    else if (key == "done date")
      r.done_date = v;
    else if (key == "stat")
      r.stat = v;
    else if (key == "err")
      r.err = v;
    else
      r.text = v;
  }
  if (!have_id || r.id.empty())
    return fail("receipt text without id:");
  if (r.stat.empty())
    return fail("receipt text without stat:");
  return r;
}

std::string receipt_date(std::time_t t)
{
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:02}{:02}{:02}{:02}{:02}", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min);
}

bool is_receipt(const Pdu& p)
{
  uint8_t type = p.esm_class & k_esm_type_mask;
  return p.command == Command::deliver_sm && (type == k_esm_receipt || type == k_esm_intermediate);
}

Result<Receipt> read_receipt(const Pdu& p)
{
  if (!is_receipt(p))
    return fail("not a delivery receipt (esm_class message type is not 0x04)");
  Receipt r;
  if (auto t = parse_receipt_text(p.short_message))
    r.text = *t;
  if (auto id = p.cstring(k_tlv_receipted_message_id); id && !id->empty())
    r.message_id = *id;
  else if (r.text)
    r.message_id = r.text->id;
  else
    return fail("delivery receipt with neither receipted_message_id nor an id: in its text");
  if (auto st = p.u8(k_tlv_message_state); st && *st >= 1 && *st <= 8)
    r.state = static_cast<MessageState>(*st);
  else if (r.text) {
    auto st2 = parse_stat(r.text->stat);
    if (!st2)
      return fail(fmt::format("delivery receipt with an unknown stat:{}", r.text->stat));
    r.state = *st2;
  } else
    return fail("delivery receipt with neither message_state nor a stat: in its text");
  if (r.text && !r.text->err.empty())
    r.err = r.text->err;
  else if (const Tlv* e = p.find(k_tlv_network_error_code); e && !e->value.empty()) {
    for (unsigned char c : e->value)
      r.err += fmt::format("{:02x}", c);
  }
  return r;
}

Pdu make_receipt(const Pdu& submitted, const std::string& message_id, MessageState state,
                 ReceiptText text)
{
  Pdu p;
  p.command = Command::deliver_sm;
  p.source = submitted.destination;
  p.destination = submitted.source;
  p.esm_class = k_esm_receipt;
  text.id = message_id;
  text.stat = std::string(stat_text(state));
  if (!is_success(state) && text.err == "000")
    text.err = "001";
  text.dlvrd = is_success(state) ? "001" : "000";
  p.short_message = format_receipt_text(text);
  if (p.short_message.size() > 253)
    p.short_message.resize(253);
  p.set_cstring(k_tlv_receipted_message_id, message_id);
  p.set_u8(k_tlv_message_state, static_cast<uint8_t>(state));
  return p;
}

} // namespace cpm::smpp
