#pragma once
// The location service: registrations with expiry, in memory, with an optional SQLite file
// behind it so that a restart loses nothing.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"

namespace cpm::location {

// How requests reach a binding. RFC 3261 §10.3 and §16.5: at its Contact URI; at the flow
// its REGISTER came on only when the client asked for it or keeps that flow open.
enum class Reach : uint8_t {
  Contact,    // the Contact URI (the default)
  Connection, // the TCP/TLS connection the REGISTER came on, which the client keeps open
  Outbound,   // RFC 5626 outbound (reg-id and +sip.instance): the REGISTER's flow
  Received,   // the REGISTER's source, by the core's nat = "received" (NAT traversal)
};

// "contact", "connection", "outbound", "received" (the store's and --explain's words).
std::string_view to_string(Reach r);
// The Reach named by to_string; Contact for anything else.
Reach parse_reach(std::string_view s);

// One registered contact of an address of record.
struct Binding {
  std::string aor;     // canonical "sip:bob@b.example" (no params, lower-case host)
  std::string contact; // the Contact URI as registered "sip:bob@127.0.0.1:5555;transport=tcp"
  std::string
      params; // the Contact header params after the URI (feature tags) ";+g.oma.cpm...;expires=..."
  std::string received; // where the REGISTER came from, "udp:127.0.0.1:5555"
  std::string call_id;  // of the REGISTER, for refresh ordering (RFC 3261 §10.3)
  uint32_t cseq = 0;
  int64_t expires_at = 0; // unix seconds
  uint64_t seq = 0;       // registration order; larger = more recent
  Reach reach = Reach::Contact;
  // Where requests for this binding go: `received` as a SIP URI unless reach is Contact
  // (or nothing was received), else the Contact URI.
  std::string target() const;
};

class Store {
public:
  Store();
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Back the store with an SQLite file (created if missing) and load its unexpired bindings.
  Result<void> open(const std::string& db_path, int64_t now);
  // Add or refresh a binding (same aor + contact replaces). When a file is open the change
  // is committed to it before this returns (WAL: a killed process loses none of it); an
  // error is the file's write failure (memory has the change all the same).
  Result<void> upsert(Binding b);
  // Remove one binding / all bindings of an aor; errors as upsert.
  Result<void> remove(std::string_view aor, std::string_view contact);
  Result<void> remove_all(std::string_view aor);
  // Unexpired bindings of an aor, most recently registered first.
  std::vector<Binding> lookup(std::string_view aor, int64_t now) const;
  // Drop expired bindings; returns how many.
  size_t purge(int64_t now);
  size_t size() const;
  // Why the last write to the SQLite file failed; "" when it did not.
  const std::string& last_error() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

// RFC 3841: order the bindings that a request with these Accept-Contact values (each a
// whole header value like "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A...\"") may reach: bindings
// whose feature tags fail an explicit ("require") Accept-Contact are removed; the rest are
// ordered by match score, then most recent first. No Accept-Contact: all, most recent first.
std::vector<Binding> select(const std::vector<Binding>& bindings,
                            const std::vector<std::string>& accept_contact);

} // namespace cpm::location
