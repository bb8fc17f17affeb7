#pragma once
// The registrar (RFC 3261 §10.3): REGISTER -> bindings in a location::Store, with optional
// digest authentication. Pure: no sockets, the caller sends the reply.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/codec/auth.hpp"
#include "cpm/config/config.hpp"
#include "cpm/core/location.hpp"
#include "cpm/grammar/request.hpp"

namespace cpm::registrar {

// One Contact value of a REGISTER.
struct Contact {
  std::string uri;                 // "sip:bob@127.0.0.1:5555;transport=tcp"
  std::string params;              // header params after the URI, without expires (";+g.x")
  std::optional<uint32_t> expires; // the expires param
  bool star = false;               // "*"
};

// Split and parse Contact header values (several per value, comma-separated, quotes and
// <> respected). Malformed values are an error whose message is a 400 reason phrase.
Result<std::vector<Contact>> parse_contacts(const std::vector<std::string>& values);

struct Settings {
  uint32_t min_expires = 60;
  uint32_t max_expires = 7200;
  uint32_t default_expires = 3600;
  bool auth = false;
  std::string realm;
  const config::File* users = nullptr;  // [[user]] passwords (auth), may be null
  const auth::Nonces* nonces = nullptr; // required when auth is on
  // The node's nat = "received": reach UDP bindings at the REGISTER's source instead of
  // their Contact (clients behind NAT; Kamailio's fix_nated_register).
  bool nat_received = false;
};

// The answer to a REGISTER.
struct Reply {
  int status = 200;
  std::string reason = "OK";
  std::vector<std::string> headers; // whole lines without CRLF: "Contact: <...>;expires=60"
  std::string why;                  // for the log, not the wire: what failed behind a 500
};

// Handle one REGISTER: authenticate, validate, update `store`, and list the current bindings.
// The 200 goes out only after the bindings are committed to the store's file; when that
// write fails the answer is 500 with Retry-After (the client registers again), `why` says
// what the file said.
// `req.source` becomes Binding::received; Binding::reach says whether requests go there or
// to the Contact (location::Reach).
Reply handle(const sip::Request& req, const Settings& s, location::Store& store, int64_t now);

} // namespace cpm::registrar
