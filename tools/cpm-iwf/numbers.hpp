#pragma once
// Which CPM user a number belongs to, and a CPM user's number (the `tel` of [[user]]).
#include <string>

#include "cpm/base/error.hpp"
#include "cpm/config/config.hpp"

namespace cpm::iwf {

// The user an SMS to `number` is for, or nullptr.
const config::User* user_of_number(const config::File& f, const std::string& number);
// The number SMS from CPM user `aor` carry as their source: the user's own number, else the
// user part of the address (a tel: URI's number).
std::string number_of_user(const config::File& f, const std::string& aor);
// The SMSC's HOST:PORT from the node's `smsc`: "127.0.1.4:2775", "tcp:127.0.1.4:2775",
// "smsc.b.example:2775" (a name: resolved on each connect), or a
// node name (its first listen address).
Result<std::string> smsc_address(const config::File& f, const std::string& smsc);

} // namespace cpm::iwf
