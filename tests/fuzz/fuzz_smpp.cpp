// libFuzzer target: cpm::smpp's Framer and unpack never crash on any split of the input
// (libsmpp34 under them included), a PDU that unpacks packs back and unpacks to the same
// value, and the receipt text parser takes any text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cpm/smpp/describe.hpp"
#include "cpm/smpp/framer.hpp"
#include "cpm/smpp/pdu.hpp"
#include "cpm/smpp/receipt.hpp"

namespace smpp = cpm::smpp;

namespace {

bool same(const smpp::Pdu& a, const smpp::Pdu& b)
{
  return a.command == b.command && a.status == b.status && a.sequence == b.sequence &&
         a.system_id == b.system_id && a.password == b.password && a.system_type == b.system_type &&
         a.interface_version == b.interface_version && a.address_range == b.address_range &&
         a.source == b.source && a.destination == b.destination && a.esm_class == b.esm_class &&
         a.registered_delivery == b.registered_delivery && a.data_coding == b.data_coding &&
         a.short_message == b.short_message && a.message_id == b.message_id &&
         a.validity_period == b.validity_period && a.tlvs == b.tlvs;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)smpp::parse_receipt_text(in);
  // The input's length picks how the stream is split, so seeds stay whole PDUs.
  size_t step = 1 + size % 37;
  smpp::Framer framer(4096);
  for (size_t i = 0; i < in.size(); i += step) {
    framer.feed(in.substr(i, step));
    while (auto next = framer.next()) {
      if (!*next) {
        (void)smpp::describe(in, next->error());
        return 0; // the connection would be closed here
      }
      const std::string& bytes = **next;
      auto pdu = smpp::unpack(bytes);
      if (!pdu) {
        (void)smpp::describe(bytes, pdu.error());
        continue;
      }
      (void)smpp::describe(*pdu);
      if (smpp::is_receipt(*pdu))
        (void)smpp::read_receipt(*pdu);
      auto again = smpp::pack(*pdu);
      if (!again)
        continue; // e.g. a 254-octet short_message: read, but libsmpp34 writes at most 253
      auto back = smpp::unpack(*again);
      if (!back || !same(*back, *pdu))
        std::abort();
    }
  }
  return 0;
}
