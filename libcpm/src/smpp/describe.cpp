#include "cpm/smpp/describe.hpp"

#include <fmt/format.h>

#include "cpm/smpp/receipt.hpp"

namespace cpm::smpp {

namespace {

std::string name_of(Command c)
{
  auto n = command_name(c);
  return n.empty() ? fmt::format("command_0x{:08X}", static_cast<uint32_t>(c)) : std::string(n);
}

// An address as text; a non-international or non-E.164 one shows its TON/NPI.
std::string address(const Address& a)
{
  std::string s = a.addr.empty() ? std::string("\"\"") : a.addr;
  if (a.ton == k_ton_international && a.npi == k_npi_e164)
    return s;
  return fmt::format("{}/{}:{}", a.ton, a.npi, s);
}

// Printable text: control characters and spaces as escapes, so the line stays one line and
// its words stay words.
std::string quoted(std::string_view s)
{
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F || c == ' ' || c == '"' || c == '\\')
      out += fmt::format("\\x{:02x}", c);
    else
      out.push_back(char(c));
  }
  return out;
}

} // namespace

std::string describe(const Pdu& p)
{
  std::string s = fmt::format("{} seq={}", name_of(p.command), p.sequence);
  if (p.status != k_esme_rok || p.command == Command::generic_nack)
    s += fmt::format(" status={}", status_name(p.status));
  switch (p.command) {
  case Command::bind_transmitter:
  case Command::bind_receiver:
  case Command::bind_transceiver:
    s += fmt::format(" system_id={}", quoted(p.system_id));
    if (!p.system_type.empty())
      s += fmt::format(" system_type={}", quoted(p.system_type));
    if (p.interface_version != k_interface_version)
      s += fmt::format(" interface_version=0x{:02x}", p.interface_version);
    break;
  case Command::bind_transmitter_resp:
  case Command::bind_receiver_resp:
  case Command::bind_transceiver_resp:
    if (!p.system_id.empty())
      s += fmt::format(" system_id={}", quoted(p.system_id));
    break;
  case Command::submit_sm:
  case Command::deliver_sm:
    s += fmt::format(" src={} dst={}", address(p.source), address(p.destination));
    if (is_receipt(p)) {
      if (auto r = read_receipt(p))
        s += fmt::format(" receipt id={} stat={}", quoted(r->message_id), stat_text(r->state));
      else
        s += " receipt unreadable";
      break;
    }
    if ((p.esm_class & k_esm_type_mask) == k_esm_delivery_ack)
      s += " delivery_ack";
    if (p.esm_class != 0)
      s += fmt::format(" esm_class=0x{:02x}", p.esm_class);
    if (p.data_coding != 0)
      s += fmt::format(" dcs={}", p.data_coding);
    if (p.registered_delivery != 0)
      s += fmt::format(" registered_delivery={}", p.registered_delivery);
    if (!p.validity_period.empty())
      s += fmt::format(" validity={}", quoted(p.validity_period));
    if (auto total = p.u8(k_tlv_sar_total_segments))
      s += fmt::format(" sar={}/{}", p.u8(k_tlv_sar_segment_seqnum).value_or(0), *total);
    s += fmt::format(" sm_len={}", p.short_message.size());
    if (const Tlv* t = p.find(k_tlv_message_payload))
      s += fmt::format(" payload_len={}", t->value.size());
    break;
  case Command::submit_sm_resp:
    if (!p.message_id.empty())
      s += fmt::format(" message_id={}", quoted(p.message_id));
    break;
  default:
    break;
  }
  return s;
}

std::string describe(std::string_view bytes, const DecodeError& e)
{
  std::string s;
  if (auto h = peek_header(bytes))
    s = fmt::format("{} seq={}", name_of(h->command), h->sequence);
  else
    s = fmt::format("fragment len={}", bytes.size());
  return s + " unreadable: " + e.message;
}

} // namespace cpm::smpp
