// SMPP PDUs in ladders: the command_status names a ladder reads and writes (SMPP 3.4 §5.1.3).
#include "cpm/base/text.hpp"
#include "cpm/ladder/ladder.hpp"
#include "cpm/ladder/ladder_detail.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace cpm::ladder {

namespace {

// The codes an IWF and an SMSC meet in practice (SMPP 3.4 table 5-2).
constexpr std::array<std::pair<uint32_t, std::string_view>, 22> k_status{{
    {0x00, "ESME_ROK"},         {0x01, "ESME_RINVMSGLEN"}, {0x02, "ESME_RINVCMDLEN"},
    {0x03, "ESME_RINVCMDID"},   {0x04, "ESME_RINVBNDSTS"}, {0x05, "ESME_RALYBND"},
    {0x08, "ESME_RSYSERR"},     {0x0A, "ESME_RINVSRCADR"}, {0x0B, "ESME_RINVDSTADR"},
    {0x0C, "ESME_RINVMSGID"},   {0x0D, "ESME_RBINDFAIL"},  {0x0E, "ESME_RINVPASWD"},
    {0x0F, "ESME_RINVSYSID"},   {0x14, "ESME_RMSGQFUL"},   {0x45, "ESME_RSUBMITFAIL"},
    {0x58, "ESME_RTHROTTLED"},  {0x61, "ESME_RINVSCHED"},  {0x62, "ESME_RINVEXPIRY"},
    {0x64, "ESME_RX_T_APPN"},   {0x65, "ESME_RX_P_APPN"},  {0x66, "ESME_RX_R_APPN"},
    {0xFF, "ESME_RUNKNOWNERR"},
}};

// SMPP 3.4 operations (§4), requests; each but outbind and alert_notification has a "_resp".
constexpr std::array<std::string_view, 15> k_pdus{
    "bind_transmitter", "bind_receiver", "bind_transceiver", "outbind",      "unbind",
    "generic_nack",     "submit_sm",     "submit_multi",     "deliver_sm",   "data_sm",
    "query_sm",         "cancel_sm",     "replace_sm",       "enquire_link", "alert_notification"};

} // namespace

bool detail::strip_resp(std::string_view& name)
{
  constexpr std::string_view k_resp = "_resp";
  if (name.size() <= k_resp.size() || name.substr(name.size() - k_resp.size()) != k_resp)
    return false;
  name.remove_suffix(k_resp.size());
  return true;
}

bool detail::strip_resp(std::string& name)
{
  std::string_view v = name;
  if (!strip_resp(v))
    return false;
  name.resize(v.size());
  return true;
}

bool is_smpp_pdu(std::string_view name)
{
  bool resp = detail::strip_resp(name);
  if (name == "generic_nack")
    return !resp;
  if (resp && (name == "outbind" || name == "alert_notification"))
    return false;
  return std::find(k_pdus.begin(), k_pdus.end(), name) != k_pdus.end();
}

std::string smpp_status_name(uint32_t code)
{
  auto it = std::find_if(k_status.begin(), k_status.end(),
                         [&](const auto& p) { return p.first == code; });
  return it == k_status.end() ? std::string() : std::string(it->second);
}

int64_t smpp_status_code(std::string_view text)
{
  for (const auto& [code, name] : k_status)
    if (text::iequals(text, name))
      return code;
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return -1;
  return v;
}

} // namespace cpm::ladder
