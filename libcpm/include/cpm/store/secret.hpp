#pragma once
// A node's named secrets kept in its SQLite file, so that a restarted process uses the same
// ones (the proxy's branch seed: a late retransmission after a restart gets the branch it
// had before, proxy/branch.hpp).
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"
#include "cpm/store/sqlite.hpp"

namespace cpm::store {

// The secret called `name` in `db`; the first call for a name stores `fresh` and returns it.
Result<std::string> keep_secret(Database& db, std::string_view name, std::string_view fresh);

} // namespace cpm::store
