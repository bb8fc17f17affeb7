#pragma once
// The SMS side as an ESME bound to an SMSC over SMPP 3.4 (rt/smpp_esme).
#include <memory>
#include <string>

#include "cpm/base/error.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/log.hpp"
#include "link.hpp"

namespace cpm::iwf {

struct SmppSettings {
  std::string address; // HOST:PORT (HOST an IP literal or a name, resolved on each connect)
  std::string system_id, password, system_type;
  size_t window = 10;
  int enquire_link_ms = 30000;
  int reconnect_ms = 1000;
  int validity_s = 0;
  std::string node; // our name in traces
};

Result<std::unique_ptr<Link>> make_smpp_link(sip::Stack& stack, const SmppSettings& s,
                                             const ua::Log& log, LinkEvents events);

} // namespace cpm::iwf
