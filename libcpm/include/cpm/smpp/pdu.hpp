#pragma once
// SMPP 3.4 PDUs as C++ values, packed and unpacked with Debian's libsmpp34 (the C Open SMPP
// 3.4 library Osmocom uses). Pure: no I/O. The stream is cut into PDUs by smpp/framer.hpp.
// What libsmpp34 gets wrong and how this file works around it: HACKING.md "SMPP".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "cpm/base/error.hpp"

namespace cpm::smpp {

// command_id (SMPP 3.4 §5.1.2.1). Any other value is carried as it is.
enum class Command : uint32_t {
  generic_nack = 0x80000000,
  bind_receiver = 0x00000001,
  bind_receiver_resp = 0x80000001,
  bind_transmitter = 0x00000002,
  bind_transmitter_resp = 0x80000002,
  query_sm = 0x00000003,
  query_sm_resp = 0x80000003,
  submit_sm = 0x00000004,
  submit_sm_resp = 0x80000004,
  deliver_sm = 0x00000005,
  deliver_sm_resp = 0x80000005,
  unbind = 0x00000006,
  unbind_resp = 0x80000006,
  replace_sm = 0x00000007,
  replace_sm_resp = 0x80000007,
  cancel_sm = 0x00000008,
  cancel_sm_resp = 0x80000008,
  bind_transceiver = 0x00000009,
  bind_transceiver_resp = 0x80000009,
  outbind = 0x0000000B,
  enquire_link = 0x00000015,
  enquire_link_resp = 0x80000015,
  submit_multi = 0x00000021,
  submit_multi_resp = 0x80000021,
  alert_notification = 0x00000102,
  data_sm = 0x00000103,
  data_sm_resp = 0x80000103,
};

// command_status values this toolkit sends or acts on (§5.1.3); others are carried as numbers.
inline constexpr uint32_t k_esme_rok = 0x00;
inline constexpr uint32_t k_esme_rinvmsglen = 0x01;
inline constexpr uint32_t k_esme_rinvcmdlen = 0x02;
inline constexpr uint32_t k_esme_rinvcmdid = 0x03;
inline constexpr uint32_t k_esme_rinvbndsts = 0x04;
inline constexpr uint32_t k_esme_ralybnd = 0x05;
inline constexpr uint32_t k_esme_rsyserr = 0x08;
inline constexpr uint32_t k_esme_rinvsrcadr = 0x0A;
inline constexpr uint32_t k_esme_rinvdstadr = 0x0B;
inline constexpr uint32_t k_esme_rinvmsgid = 0x0C;
inline constexpr uint32_t k_esme_rbindfail = 0x0D;
inline constexpr uint32_t k_esme_rinvpaswd = 0x0E;
inline constexpr uint32_t k_esme_rinvsysid = 0x0F;
inline constexpr uint32_t k_esme_rmsgqful = 0x14;
inline constexpr uint32_t k_esme_rsubmitfail = 0x45;
inline constexpr uint32_t k_esme_rthrottled = 0x58;
inline constexpr uint32_t k_esme_rinvexpiry = 0x62;
inline constexpr uint32_t k_esme_rx_t_appn = 0x64;
inline constexpr uint32_t k_esme_rx_p_appn = 0x65;
inline constexpr uint32_t k_esme_rinvoptparstream = 0xC0;
inline constexpr uint32_t k_esme_rdeliveryfailure = 0xFE;
inline constexpr uint32_t k_esme_runknownerr = 0xFF;

// esm_class bits (§5.2.12).
inline constexpr uint8_t k_esm_type_mask = 0x3C;    // bits 5-2: the message type
inline constexpr uint8_t k_esm_receipt = 0x04;      // SMSC delivery receipt
inline constexpr uint8_t k_esm_delivery_ack = 0x08; // SME delivery acknowledgement
inline constexpr uint8_t k_esm_manual_ack = 0x10;   // SME manual/user acknowledgement
inline constexpr uint8_t k_esm_intermediate = 0x20; // intermediate delivery notification
inline constexpr uint8_t k_esm_udhi = 0x40;         // short_message starts with a UDH

// registered_delivery (§5.2.17): bits 1-0 ask for an SMSC delivery receipt.
inline constexpr uint8_t k_receipt_none = 0x00;
inline constexpr uint8_t k_receipt_final = 0x01;   // on success or failure
inline constexpr uint8_t k_receipt_failure = 0x02; // on failure only
// registered_delivery bits 3-2: SME originated acknowledgement asked for.
inline constexpr uint8_t k_ack_delivery = 0x04;

// data_coding (§5.2.19) values the toolkit uses.
inline constexpr uint8_t k_dcs_default = 0x00; // SMSC default alphabet (GSM 7-bit here)
inline constexpr uint8_t k_dcs_latin1 = 0x03;
inline constexpr uint8_t k_dcs_binary = 0x04;
inline constexpr uint8_t k_dcs_ucs2 = 0x08;

// type of number and numbering plan (§5.2.5, §5.2.6).
inline constexpr uint8_t k_ton_unknown = 0;
inline constexpr uint8_t k_ton_international = 1;
inline constexpr uint8_t k_ton_national = 2;
inline constexpr uint8_t k_ton_alphanumeric = 5;
inline constexpr uint8_t k_npi_unknown = 0;
inline constexpr uint8_t k_npi_e164 = 1;

// Optional parameter tags (§5.3.2).
inline constexpr uint16_t k_tlv_receipted_message_id = 0x001E; // C-octet string, max 65
inline constexpr uint16_t k_tlv_user_message_reference = 0x0204;
inline constexpr uint16_t k_tlv_sar_msg_ref_num = 0x020C;
inline constexpr uint16_t k_tlv_sar_total_segments = 0x020E;
inline constexpr uint16_t k_tlv_sar_segment_seqnum = 0x020F;
inline constexpr uint16_t k_tlv_sc_interface_version = 0x0210;
inline constexpr uint16_t k_tlv_network_error_code = 0x0423; // 3 octets: type, code
inline constexpr uint16_t k_tlv_message_payload = 0x0424;
inline constexpr uint16_t k_tlv_message_state = 0x0427; // 1 octet: MessageState

// §3.2: a PDU is a 16-octet header and a body; this toolkit takes none over 64 KiB.
inline constexpr size_t k_header_size = 16;
inline constexpr size_t k_max_pdu = 64 * 1024;
// SMPP 3.4 is interface_version 0x34 (§5.2.4).
inline constexpr uint8_t k_interface_version = 0x34;

// A source or destination address: TON, NPI, digits (or alphanumeric text).
struct Address {
  uint8_t ton = k_ton_international;
  uint8_t npi = k_npi_e164;
  std::string addr;
  bool operator==(const Address&) const = default;
};

// One optional parameter; `value` holds its octets as on the wire (integers big-endian).
struct Tlv {
  uint16_t tag = 0;
  std::string value;
  bool operator==(const Tlv&) const = default;
};

// The four header fields, readable from the first 16 octets of any PDU.
struct Header {
  uint32_t length = 0;
  Command command = Command::generic_nack;
  uint32_t status = 0;
  uint32_t sequence = 0;
};

// One PDU. Only the fields of its command are packed; the others stay at their defaults.
struct Pdu {
  Command command = Command::generic_nack;
  uint32_t status = k_esme_rok;
  uint32_t sequence = 1;

  // bind_transmitter / bind_receiver / bind_transceiver (§4.1); `system_id` is also the
  // body of their responses.
  std::string system_id;   // max 15 characters
  std::string password;    // max 8
  std::string system_type; // max 12
  uint8_t interface_version = k_interface_version;
  Address address_range{k_ton_unknown, k_npi_unknown, {}}; // max 40

  // submit_sm (§4.4.1) and deliver_sm (§4.6.1).
  std::string service_type; // max 5
  Address source;           // max 20
  Address destination;      // max 20
  uint8_t esm_class = 0;
  uint8_t protocol_id = 0;
  uint8_t priority_flag = 0;
  std::string schedule_delivery_time; // "" or 16 characters (§7.1.1)
  std::string validity_period;        // "" or 16 characters
  uint8_t registered_delivery = 0;
  uint8_t replace_if_present_flag = 0;
  uint8_t data_coding = 0;
  uint8_t sm_default_msg_id = 0;
  std::string short_message; // octets, at most 253 here (libsmpp34 packs no more)

  // submit_sm_resp (§4.4.2): the SMSC's id of the message. Max 64.
  std::string message_id;

  // Optional parameters in wire order (submit_sm, deliver_sm, bind_*_resp).
  std::vector<Tlv> tlvs;

  // The first optional parameter with this tag, or nullptr.
  const Tlv* find(uint16_t tag) const;
  // Replace the parameter with this tag, or append it.
  void set(uint16_t tag, std::string value);
  void set_u8(uint16_t tag, uint8_t v);
  void set_u16(uint16_t tag, uint16_t v);
  // A C-octet string parameter (receipted_message_id): its value written with the NUL.
  void set_cstring(uint16_t tag, std::string_view v);
  // A one- or two-octet integer parameter; nullopt when absent or of another length.
  std::optional<uint8_t> u8(uint16_t tag) const;
  std::optional<uint16_t> u16(uint16_t tag) const;
  // A C-octet string parameter without its terminating NUL (tolerated when missing).
  std::optional<std::string> cstring(uint16_t tag) const;
};

// "submit_sm", "deliver_sm_resp", ... or "" for a command this table does not know.
std::string_view command_name(Command c);
// Whether the command is a response (bit 31 set, §5.1.2.1).
constexpr bool is_response(Command c)
{
  return (static_cast<uint32_t>(c) & 0x80000000u) != 0;
}
// The response command of a request (bit 31 set).
constexpr Command response_of(Command c)
{
  return static_cast<Command>(static_cast<uint32_t>(c) | 0x80000000u);
}
// "ESME_RTHROTTLED", ... or "0x00000401" for a status without a name in SMPP 3.4.
std::string status_name(uint32_t status);

// The response to `request` with this status and the request's sequence number.
Pdu response(const Pdu& request, uint32_t status = k_esme_rok);
// A generic_nack (§4.3) for a PDU that could not be read.
Pdu generic_nack(uint32_t sequence, uint32_t status);

// The header of the first 16 octets of `bytes`, or nullopt when there are fewer.
std::optional<Header> peek_header(std::string_view bytes);

// The octets of a PDU. Fails when a field is too long or holds a NUL, or the command is
// one this toolkit does not send (query_sm, replace_sm, cancel_sm, submit_multi, data_sm,
// alert_notification, outbind).
Result<std::string> pack(const Pdu& pdu);

// Why a PDU could not be read, with what its generic_nack needs.
struct DecodeError {
  Command command = Command::generic_nack; // from the header, when there was one
  uint32_t sequence = 0;                   // likewise (0 when unknown)
  uint32_t status = k_esme_rinvcmdlen;     // the generic_nack's command_status
  std::string message;                     // for the diagnostic on stderr
};

// One whole PDU (the framer's output: `bytes.size()` is its command_length) as a value.
// A response with an error status is read from its header alone (§4: no body then, though
// some SMSCs send one anyway). Unknown optional parameters are kept; a command this toolkit
// does not handle is an error with status ESME_RINVCMDID.
tl::expected<Pdu, DecodeError> unpack(std::string_view bytes);

} // namespace cpm::smpp
