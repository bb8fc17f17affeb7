#pragma once
// The start every client's run() shares: --list-nodes, the config file merged into the
// options, then the check of the merged options.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"
#include "cpm/config/cli.hpp"
#include "cpm/config/config.hpp"

namespace cpm::ua {

// Serve --list-nodes, load --config and merge it with `apply`, then `validate`. Returns the
// exit status to return at once (0 after --list-nodes, 2 after a diagnostic), or nullopt
// when the program goes on.
std::optional<int> prepare(const std::string& prog, const cli::Common& common,
                           const std::function<Result<void>(const config::File&)>& apply,
                           const std::function<Result<void>()>& validate);

// The whole of a client's run(): prepare(), then `main` with libre set up; returns the exit
// status of the one that ends the run.
int run(const std::string& prog, const cli::Common& common,
        const std::function<Result<void>(const config::File&)>& apply,
        const std::function<Result<void>()>& validate, const std::function<int()>& main);

// The checks of addresses every client makes: --register needs --proxy, registering needs
// --from (`listens`: waiting for requests through a proxy registers too), --proxy parses,
// --from is a sip: URI, and so is `to` (when calling out), which names a host without
// --proxy.
Result<void> check_addresses(const cli::Common& common, bool do_register, bool listens,
                             std::string_view to);

} // namespace cpm::ua
