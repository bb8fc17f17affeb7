#include "cpm/smpp/pdu.hpp"

#include "cpm/base/bytes.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <stdint.h>

// libsmpp34's headers have no extern "C" of their own, and define macros (U32, TLV,
// instancia, Reserved, ...) that must not leave this file.
extern "C" {
#include <smpp34.h>
#include <smpp34_heap.h>
#include <smpp34_structs.h>

#include <smpp34_params.h>
}
#undef Reserved
#undef instancia
#undef UUU
#undef UU2
#undef UDAD
#undef PUTLOG

namespace cpm::smpp {

namespace {

// ---- libsmpp34's allocations -------------------------------------------------------------
// smpp34_unpack allocates one node per optional parameter and leaks the node it was filling
// when a parameter is malformed. Every allocation made during one unpack is recorded here
// and freed when it ends, so neither a good nor a bad PDU leaks.
thread_local std::vector<void*>* t_arena = nullptr;

void* arena_malloc(size_t n)
{
  void* p = std::malloc(n);
  if (p && t_arena)
    t_arena->push_back(p);
  return p;
}

void forget(void* p)
{
  if (!t_arena || !p)
    return;
  auto it = std::find(t_arena->begin(), t_arena->end(), p);
  if (it != t_arena->end())
    t_arena->erase(it);
}

void* arena_realloc(void* p, size_t n)
{
  forget(p);
  void* q = std::realloc(p, n);
  if (q && t_arena)
    t_arena->push_back(q);
  return q;
}

void arena_free(void* p)
{
  forget(p);
  std::free(p);
}

// Installed before the first smpp34_malloc (libsmpp34 refuses a later change).
[[maybe_unused]] const bool k_arena_installed = [] {
  static const smpp34_memory_functions fns{arena_malloc, arena_realloc, arena_free};
  smpp34_set_memory_functions(&fns);
  return true;
}();

// Frees what libsmpp34 allocated while it lives.
class ArenaScope {
public:
  ArenaScope() { t_arena = &m_blocks; }
  ~ArenaScope()
  {
    t_arena = nullptr;
    for (void* p : m_blocks)
      std::free(p);
  }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

private:
  std::vector<void*> m_blocks;
};

// Every PDU libsmpp34 handles for us, in one piece of memory.
union Storage {
  bind_transmitter_t bind_transmitter;
  bind_receiver_t bind_receiver;
  bind_transceiver_t bind_transceiver;
  bind_transmitter_resp_t bind_transmitter_resp;
  bind_receiver_resp_t bind_receiver_resp;
  bind_transceiver_resp_t bind_transceiver_resp;
  submit_sm_t submit_sm;
  submit_sm_resp_t submit_sm_resp;
  deliver_sm_t deliver_sm;
  deliver_sm_resp_t deliver_sm_resp;
};

// ---- big-endian integers ---------------------------------------------------------------

using bytes::get16;
using bytes::get32;

void put32(std::string& b, size_t at, uint32_t v)
{
  b[at] = char(v >> 24);
  b[at + 1] = char(v >> 16);
  b[at + 2] = char(v >> 8);
  b[at + 3] = char(v);
}

void append16(std::string& b, uint16_t v)
{
  b.push_back(char(v >> 8));
  b.push_back(char(v));
}

std::string header_bytes(Command c, uint32_t status, uint32_t seq, uint32_t length)
{
  std::string b(k_header_size, '\0');
  put32(b, 0, length);
  put32(b, 4, static_cast<uint32_t>(c));
  put32(b, 8, status);
  put32(b, 12, seq);
  return b;
}

// ---- what goes through libsmpp34 ------------------------------------------------------

bool is_bind(Command c)
{
  return c == Command::bind_transmitter || c == Command::bind_receiver ||
         c == Command::bind_transceiver;
}

bool is_bind_resp(Command c)
{
  return c == Command::bind_transmitter_resp || c == Command::bind_receiver_resp ||
         c == Command::bind_transceiver_resp;
}

// The 16-octet PDUs: no body.
bool header_only(Command c)
{
  return c == Command::generic_nack || c == Command::unbind || c == Command::unbind_resp ||
         c == Command::enquire_link || c == Command::enquire_link_resp;
}

// The PDUs with a body this toolkit reads and writes (through libsmpp34).
bool with_body(Command c)
{
  return is_bind(c) || is_bind_resp(c) || c == Command::submit_sm || c == Command::submit_sm_resp ||
         c == Command::deliver_sm || c == Command::deliver_sm_resp;
}

// libsmpp34 refuses a command_status it has no name for (vendor codes 0x400-0x4FF...).
bool lib_knows_status(uint32_t status)
{
  char buf[SMALL_BUFF];
  return str_command_status(status, buf)[0] != '\0';
}

// The last bracketed entry of libsmpp34's log: the field it stopped at, and why.
std::string lib_error()
{
  std::string_view log(smpp34_strerror, strnlen(smpp34_strerror, sizeof smpp34_strerror));
  auto open = log.rfind('[');
  if (open == std::string_view::npos)
    return std::string(log);
  return std::string(log.substr(open));
}

template <size_t N>
bool put_cstr(uint8_t (&dst)[N], std::string_view s, const char* field, std::string& err)
{
  if (s.size() >= N || s.find('\0') != std::string_view::npos) {
    err = fmt::format("{} is longer than {} characters or holds a NUL", field, N - 1);
    return false;
  }
  std::memcpy(dst, s.data(), s.size());
  dst[s.size()] = 0;
  return true;
}

template <size_t N> std::string get_cstr(const uint8_t (&src)[N])
{
  const auto* p = reinterpret_cast<const char*>(src);
  return std::string(p, strnlen(p, N));
}

template <class T> bool put_bind(T& t, const Pdu& p, std::string& err)
{
  t.interface_version = k_interface_version; // the real one is patched in afterwards
  t.addr_ton = p.address_range.ton;
  t.addr_npi = p.address_range.npi;
  return put_cstr(t.system_id, p.system_id, "system_id", err) &&
         put_cstr(t.password, p.password, "password", err) &&
         put_cstr(t.system_type, p.system_type, "system_type", err) &&
         put_cstr(t.address_range, p.address_range.addr, "address_range", err);
}

template <class T> void get_bind(const T& t, Pdu& p)
{
  p.system_id = get_cstr(t.system_id);
  p.password = get_cstr(t.password);
  p.system_type = get_cstr(t.system_type);
  p.address_range = {t.addr_ton, t.addr_npi, get_cstr(t.address_range)};
}

template <class T> bool put_sm(T& t, const Pdu& p, std::string& err)
{
  t.source_addr_ton = p.source.ton;
  t.source_addr_npi = p.source.npi;
  t.dest_addr_ton = p.destination.ton;
  t.dest_addr_npi = p.destination.npi;
  t.esm_class = p.esm_class;
  t.protocol_id = p.protocol_id;
  t.priority_flag = p.priority_flag;
  t.registered_delivery = p.registered_delivery;
  t.replace_if_present_flag = p.replace_if_present_flag;
  t.data_coding = p.data_coding;
  t.sm_default_msg_id = p.sm_default_msg_id;
  // libsmpp34 packs at most sizeof - 1 octets of short_message (253; SMPP 3.4 allows 254).
  if (p.short_message.size() >= sizeof t.short_message) {
    err = fmt::format("short_message has {} octets (at most {}: use message_payload)",
                      p.short_message.size(), sizeof t.short_message - 1);
    return false;
  }
  t.sm_length = uint8_t(p.short_message.size());
  std::memcpy(t.short_message, p.short_message.data(), p.short_message.size());
  return put_cstr(t.service_type, p.service_type, "service_type", err) &&
         put_cstr(t.source_addr, p.source.addr, "source_addr", err) &&
         put_cstr(t.destination_addr, p.destination.addr, "destination_addr", err) &&
         put_cstr(t.schedule_delivery_time, p.schedule_delivery_time, "schedule_delivery_time",
                  err) &&
         put_cstr(t.validity_period, p.validity_period, "validity_period", err);
}

template <class T> void get_sm(const T& t, Pdu& p)
{
  p.service_type = get_cstr(t.service_type);
  p.source = {t.source_addr_ton, t.source_addr_npi, get_cstr(t.source_addr)};
  p.destination = {t.dest_addr_ton, t.dest_addr_npi, get_cstr(t.destination_addr)};
  p.esm_class = t.esm_class;
  p.protocol_id = t.protocol_id;
  p.priority_flag = t.priority_flag;
  p.schedule_delivery_time = get_cstr(t.schedule_delivery_time);
  p.validity_period = get_cstr(t.validity_period);
  p.registered_delivery = t.registered_delivery;
  p.replace_if_present_flag = t.replace_if_present_flag;
  p.data_coding = t.data_coding;
  p.sm_default_msg_id = t.sm_default_msg_id;
  p.short_message.assign(reinterpret_cast<const char*>(t.short_message),
                         std::min<size_t>(t.sm_length, sizeof t.short_message));
}

// Fill the libsmpp34 struct of `p` (body fields only; the header is set by the caller).
bool to_lib(const Pdu& p, Storage& s, std::string& err)
{
  switch (p.command) {
  case Command::bind_transmitter:
    return put_bind(s.bind_transmitter, p, err);
  case Command::bind_receiver:
    return put_bind(s.bind_receiver, p, err);
  case Command::bind_transceiver:
    return put_bind(s.bind_transceiver, p, err);
  case Command::bind_transmitter_resp:
    return put_cstr(s.bind_transmitter_resp.system_id, p.system_id, "system_id", err);
  case Command::bind_receiver_resp:
    return put_cstr(s.bind_receiver_resp.system_id, p.system_id, "system_id", err);
  case Command::bind_transceiver_resp:
    return put_cstr(s.bind_transceiver_resp.system_id, p.system_id, "system_id", err);
  case Command::submit_sm:
    return put_sm(s.submit_sm, p, err);
  case Command::deliver_sm:
    return put_sm(s.deliver_sm, p, err);
  case Command::submit_sm_resp:
    return put_cstr(s.submit_sm_resp.message_id, p.message_id, "message_id", err);
  case Command::deliver_sm_resp:
    return put_cstr(s.deliver_sm_resp.message_id, p.message_id, "message_id", err);
  default:
    err = "unsupported command";
    return false;
  }
}

void from_lib(const Storage& s, Pdu& p)
{
  switch (p.command) {
  case Command::bind_transmitter:
    get_bind(s.bind_transmitter, p);
    break;
  case Command::bind_receiver:
    get_bind(s.bind_receiver, p);
    break;
  case Command::bind_transceiver:
    get_bind(s.bind_transceiver, p);
    break;
  case Command::bind_transmitter_resp:
    p.system_id = get_cstr(s.bind_transmitter_resp.system_id);
    break;
  case Command::bind_receiver_resp:
    p.system_id = get_cstr(s.bind_receiver_resp.system_id);
    break;
  case Command::bind_transceiver_resp:
    p.system_id = get_cstr(s.bind_transceiver_resp.system_id);
    break;
  case Command::submit_sm:
    get_sm(s.submit_sm, p);
    break;
  case Command::deliver_sm:
    get_sm(s.deliver_sm, p);
    break;
  case Command::submit_sm_resp:
    p.message_id = get_cstr(s.submit_sm_resp.message_id);
    break;
  case Command::deliver_sm_resp:
    p.message_id = get_cstr(s.deliver_sm_resp.message_id);
    break;
  default:
    break;
  }
}

// Where a bind's interface_version octet is: after three C-octet strings, or npos.
size_t interface_version_offset(std::string_view b)
{
  size_t at = k_header_size;
  for (int i = 0; i < 3; ++i) {
    auto nul = b.find('\0', at);
    if (nul == std::string_view::npos)
      return std::string_view::npos;
    at = nul + 1;
  }
  return at < b.size() ? at : std::string_view::npos;
}

// The mandatory part of a PDU with a body, packed by libsmpp34 (no optional parameters).
Result<std::string> pack_mandatory(const Pdu& p)
{
  Storage s;
  std::memset(&s, 0, sizeof s);
  std::string err;
  if (!to_lib(p, s, err))
    return fail(fmt::format("{}: {}", command_name(p.command), err));
  // The header is the same four fields in every struct.
  bool substitute = !lib_knows_status(p.status);
  s.submit_sm.command_id = static_cast<uint32_t>(p.command);
  s.submit_sm.command_status = substitute ? k_esme_runknownerr : p.status;
  s.submit_sm.sequence_number = p.sequence;
  if (p.sequence == 0 || p.sequence > 0x7FFFFFFF)
    return fail(fmt::format("{}: sequence_number {} is outside 1..0x7FFFFFFF",
                            command_name(p.command), p.sequence));
  std::array<uint8_t, 2048> out{};
  int len = 0;
  if (smpp34_pack(static_cast<uint32_t>(p.command), out.data(), int(out.size()), &len, &s) != 0)
    return fail(fmt::format("{}: libsmpp34: {}", command_name(p.command), lib_error()));
  std::string b(reinterpret_cast<const char*>(out.data()), size_t(len));
  if (substitute)
    put32(b, 8, p.status);
  if (is_bind(p.command) && p.interface_version != k_interface_version) {
    auto at = interface_version_offset(b);
    if (at != std::string::npos)
      b[at] = char(p.interface_version);
  }
  return b;
}

tl::expected<Pdu, DecodeError> bad(const Header& h, uint32_t status, std::string message)
{
  return tl::unexpected(DecodeError{h.command, h.sequence, status, std::move(message)});
}

} // namespace

// ---- Pdu --------------------------------------------------------------------------------

const Tlv* Pdu::find(uint16_t tag) const
{
  for (const auto& t : tlvs)
    if (t.tag == tag)
      return &t;
  return nullptr;
}

void Pdu::set(uint16_t tag, std::string value)
{
  for (auto& t : tlvs)
    if (t.tag == tag) {
      t.value = std::move(value);
      return;
    }
  tlvs.push_back(Tlv{tag, std::move(value)});
}

void Pdu::set_u8(uint16_t tag, uint8_t v)
{
  set(tag, std::string(1, char(v)));
}

void Pdu::set_u16(uint16_t tag, uint16_t v)
{
  std::string b;
  append16(b, v);
  set(tag, std::move(b));
}

void Pdu::set_cstring(uint16_t tag, std::string_view v)
{
  std::string b(v);
  b.push_back('\0');
  set(tag, std::move(b));
}

std::optional<uint8_t> Pdu::u8(uint16_t tag) const
{
  const Tlv* t = find(tag);
  if (!t || t->value.size() != 1)
    return std::nullopt;
  return uint8_t(t->value[0]);
}

std::optional<uint16_t> Pdu::u16(uint16_t tag) const
{
  const Tlv* t = find(tag);
  if (!t || t->value.size() != 2)
    return std::nullopt;
  return get16(t->value, 0);
}

std::optional<std::string> Pdu::cstring(uint16_t tag) const
{
  const Tlv* t = find(tag);
  if (!t)
    return std::nullopt;
  std::string_view v = t->value;
  auto nul = v.find('\0');
  return std::string(v.substr(0, nul));
}

// ---- names ------------------------------------------------------------------------------

std::string_view command_name(Command c)
{
  switch (c) {
  case Command::generic_nack:
    return "generic_nack";
  case Command::bind_receiver:
    return "bind_receiver";
  case Command::bind_receiver_resp:
    return "bind_receiver_resp";
  case Command::bind_transmitter:
    return "bind_transmitter";
  case Command::bind_transmitter_resp:
    return "bind_transmitter_resp";
  case Command::query_sm:
    return "query_sm";
  case Command::query_sm_resp:
    return "query_sm_resp";
  case Command::submit_sm:
    return "submit_sm";
  case Command::submit_sm_resp:
    return "submit_sm_resp";
  case Command::deliver_sm:
    return "deliver_sm";
  case Command::deliver_sm_resp:
    return "deliver_sm_resp";
  case Command::unbind:
    return "unbind";
  case Command::unbind_resp:
    return "unbind_resp";
  case Command::replace_sm:
    return "replace_sm";
  case Command::replace_sm_resp:
    return "replace_sm_resp";
  case Command::cancel_sm:
    return "cancel_sm";
  case Command::cancel_sm_resp:
    return "cancel_sm_resp";
  case Command::bind_transceiver:
    return "bind_transceiver";
  case Command::bind_transceiver_resp:
    return "bind_transceiver_resp";
  case Command::outbind:
    return "outbind";
  case Command::enquire_link:
    return "enquire_link";
  case Command::enquire_link_resp:
    return "enquire_link_resp";
  case Command::submit_multi:
    return "submit_multi";
  case Command::submit_multi_resp:
    return "submit_multi_resp";
  case Command::alert_notification:
    return "alert_notification";
  case Command::data_sm:
    return "data_sm";
  case Command::data_sm_resp:
    return "data_sm_resp";
  }
  return "";
}

std::string status_name(uint32_t status)
{
  char buf[SMALL_BUFF];
  if (str_command_status(status, buf)[0] != '\0')
    return buf;
  return fmt::format("0x{:08X}", status);
}

Pdu response(const Pdu& request, uint32_t status)
{
  Pdu r;
  r.command = response_of(request.command);
  r.status = status;
  r.sequence = request.sequence;
  return r;
}

Pdu generic_nack(uint32_t sequence, uint32_t status)
{
  Pdu r;
  r.command = Command::generic_nack;
  r.status = status;
  r.sequence = sequence;
  return r;
}

std::optional<Header> peek_header(std::string_view bytes)
{
  if (bytes.size() < k_header_size)
    return std::nullopt;
  return Header{get32(bytes, 0), static_cast<Command>(get32(bytes, 4)), get32(bytes, 8),
                get32(bytes, 12)};
}

// ---- pack -------------------------------------------------------------------------------

Result<std::string> pack(const Pdu& p)
{
  // §3.2: the 16-octet PDUs are only a header; an error response carries no body (§4).
  if (header_only(p.command) ||
      (is_response(p.command) && p.status != k_esme_rok && with_body(p.command))) {
    return header_bytes(p.command, p.status, p.sequence, k_header_size);
  }
  if (!with_body(p.command))
    return fail(fmt::format("cannot pack command_id 0x{:08X} ({})",
                            static_cast<uint32_t>(p.command), command_name(p.command)));
  auto b = pack_mandatory(p);
  if (!b)
    return b;
  for (const auto& t : p.tlvs) {
    if (t.value.size() > 0xFFFF)
      return fail(fmt::format("{}: optional parameter 0x{:04X} is longer than 65535 octets",
                              command_name(p.command), t.tag));
    append16(*b, t.tag);
    append16(*b, uint16_t(t.value.size()));
    b->append(t.value);
  }
  if (b->size() > k_max_pdu)
    return fail(fmt::format("{}: {} octets is over the {}-octet limit", command_name(p.command),
                            b->size(), k_max_pdu));
  put32(*b, 0, uint32_t(b->size()));
  return b;
}

// ---- unpack -----------------------------------------------------------------------------

tl::expected<Pdu, DecodeError> unpack(std::string_view bytes)
{
  auto h = peek_header(bytes);
  if (!h)
    return tl::unexpected(
        DecodeError{Command::generic_nack, 0, k_esme_rinvcmdlen,
                    fmt::format("{} octets: shorter than a PDU header", bytes.size())});
  if (h->length != bytes.size())
    return bad(*h, k_esme_rinvcmdlen,
               fmt::format("command_length {} but {} octets", h->length, bytes.size()));
  auto name = command_name(h->command);
  if (name.empty())
    return bad(*h, k_esme_rinvcmdid,
               fmt::format("unknown command_id 0x{:08X}", static_cast<uint32_t>(h->command)));
  if (!header_only(h->command) && !with_body(h->command))
    return bad(*h, k_esme_rinvcmdid, fmt::format("{} is not supported", name));

  Pdu p;
  p.command = h->command;
  p.status = h->status;
  p.sequence = h->sequence;
  if (header_only(h->command)) {
    if (bytes.size() != k_header_size)
      return bad(
          *h, k_esme_rinvcmdlen,
          fmt::format("{} has a {}-octet body (none allowed)", name, bytes.size() - k_header_size));
    return p;
  }
  if (is_response(h->command) && h->status != k_esme_rok)
    return p; // §4: an error response's body, if any, is not read
  if (h->sequence == 0 || h->sequence > 0x7FFFFFFF)
    return bad(*h, k_esme_rinvcmdlen,
               fmt::format("{}: sequence_number {} is outside 1..0x7FFFFFFF", name, h->sequence));

  // A copy libsmpp34 may read: NUL padding stops its strlen() of an unterminated C-octet
  // string inside our memory (it measures before it checks the length), and the fields it
  // refuses but SMPP 3.4 allows are replaced here and restored below.
  std::string buf(bytes);
  buf.append(8, '\0');
  if (!lib_knows_status(p.status))
    put32(buf, 8, k_esme_runknownerr);
  if (is_bind(p.command)) {
    auto at = interface_version_offset(bytes);
    if (at != std::string_view::npos) {
      p.interface_version = uint8_t(bytes[at]);
      buf[at] = char(k_interface_version);
    }
  }

  Storage s;
  std::memset(&s, 0, sizeof s);
  {
    ArenaScope arena;
    int rc = smpp34_unpack(static_cast<uint32_t>(p.command), &s,
                           reinterpret_cast<const uint8_t*>(buf.data()), int(bytes.size()));
    if (rc != 0) {
      auto why = lib_error();
      uint32_t status =
          why.find("length") != std::string::npos ? k_esme_rinvcmdlen : k_esme_runknownerr;
      return bad(*h, status, fmt::format("{}: {}", name, why));
    }
    from_lib(s, p);
  }

  // The optional parameters, as on the wire: after the mandatory part, which must pack back
  // to the very octets received (a parameter of fixed size whose length lies would have made
  // libsmpp34 read on at the wrong place).
  auto mandatory = pack_mandatory(p);
  if (!mandatory || mandatory->size() > bytes.size() ||
      bytes.compare(4, mandatory->size() - 4, std::string_view(*mandatory).substr(4)) != 0)
    return bad(*h, k_esme_rinvcmdlen, fmt::format("{}: inconsistent mandatory fields", name));
  for (size_t at = mandatory->size(); at < bytes.size();) {
    if (bytes.size() - at < 4)
      return bad(*h, k_esme_rinvoptparstream,
                 fmt::format("{}: {} octets left after the last optional parameter", name,
                             bytes.size() - at));
    uint16_t tag = get16(bytes, at);
    uint16_t len = get16(bytes, at + 2);
    if (bytes.size() - at - 4 < len)
      return bad(*h, k_esme_rinvoptparstream,
                 fmt::format("{}: optional parameter 0x{:04X} of {} octets runs past the PDU", name,
                             tag, len));
    p.tlvs.push_back(Tlv{tag, std::string(bytes.substr(at + 4, len))});
    at += 4 + size_t(len);
  }
  return p;
}

} // namespace cpm::smpp
