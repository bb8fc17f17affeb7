#pragma once
// The addresses of a host or SIP domain through libre's DNS client (dnsc, the one a Stack
// resolves SIP next hops on), for what is not a SIP next hop: cpm-iwf's SMSC, the names in
// a trust domain. libre 1.1 keeps its RFC 3263 resolver inside sip_request; these are plain
// queries on the same client.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpm/base/error.hpp"

struct dnsc;

namespace cpm::sip {

class HostLookup {
public:
  enum class Kind {
    // A host: its A records, then its AAAA records when it has no A record (RFC 3263
    // §4.2's order for a host without SRV). A CNAME is followed within the answer.
    Host,
    // Every address a SIP domain's servers may be at: the A and AAAA records of the targets
    // of its _sip._udp, _sip._tcp and _sips._tcp SRV records (RFC 3263 §4.2), and of the
    // name itself.
    SipDomain,
  };
  // The addresses as text ("10.0.0.1", "::1"), or why there are none: no DNS server, the
  // server did not answer, NXDOMAIN, no record of the kinds asked.
  using Done = std::function<void(Result<std::vector<std::string>>)>;
  // Ask for `name` on `dnsc`; `done` is called once, later, from the loop (never from inside
  // start). Nothing is called once the lookup is destroyed. An IP literal is answered with
  // itself, on the loop too.
  static std::unique_ptr<HostLookup> start(struct ::dnsc* dnsc, const std::string& name, Done done,
                                           Kind kind = Kind::Host);
  ~HostLookup();
  HostLookup(const HostLookup&) = delete;
  HostLookup& operator=(const HostLookup&) = delete;

  struct Impl;

private:
  HostLookup() = default;
  std::unique_ptr<Impl> m;
};

// Names kept resolved: each one asked at once (HostLookup, Kind::SipDomain) and again every
// `every_ms`; when a name's addresses change, `diag` says "NAME is A, B" and `on_addresses`
// gets them; a failure goes to `diag` once, until the name resolves again (the addresses it
// had are kept meanwhile). For the names of a trust domain (core/trust.hpp).
class NameWatch {
public:
  // How often the daemons ask their names again.
  static constexpr uint64_t k_every_ms = 60000;
  using OnAddresses =
      std::function<void(const std::string& name, const std::vector<std::string>& addresses)>;
  NameWatch(struct ::dnsc* dnsc, std::vector<std::string> names, uint64_t every_ms,
            OnAddresses on_addresses, std::function<void(const std::string&)> diag);
  ~NameWatch();
  NameWatch(const NameWatch&) = delete;
  NameWatch& operator=(const NameWatch&) = delete;
  // The addresses `name` resolved to last (empty before its first answer, or for a name
  // not watched).
  std::vector<std::string> addresses(const std::string& name) const;

  struct Impl;

private:
  std::unique_ptr<Impl> m;
};

} // namespace cpm::sip
