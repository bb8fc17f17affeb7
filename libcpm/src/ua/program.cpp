// The start every client's run() shares.
#include "cpm/ua/program.hpp"

#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/rt/sip.hpp"

namespace cpm::ua {

std::optional<int> prepare(const std::string& prog, const cli::Common& common,
                           const std::function<Result<void>(const config::File&)>& apply,
                           const std::function<Result<void>()>& validate)
{
  if (common.list_nodes)
    return cli::list_nodes(prog, common.config);
  if (!common.config.empty()) {
    auto file = config::load(common.config);
    if (!file) {
      cli::diag(prog, file.error().message);
      return 2;
    }
    if (auto r = apply(*file); !r) {
      cli::diag(prog, r.error().message);
      return 2;
    }
  }
  if (auto r = validate(); !r) {
    cli::diag(prog, r.error().message);
    return 2;
  }
  return std::nullopt;
}

int run(const std::string& prog, const cli::Common& common,
        const std::function<Result<void>(const config::File&)>& apply,
        const std::function<Result<void>()>& validate, const std::function<int()>& main)
{
  if (auto early = prepare(prog, common, apply, validate))
    return *early;
  sip::Library lib;
  return main();
}

Result<void> check_addresses(const cli::Common& common, bool do_register, bool listens,
                             std::string_view to)
{
  if (do_register && common.proxy.empty())
    return fail("--register needs --proxy");
  if ((do_register || listens) && !common.proxy.empty() && common.from.empty())
    return fail("--from is needed to register");
  if (!common.proxy.empty()) {
    auto p = sip::parse_proxy(common.proxy);
    if (!p)
      return tl::unexpected(p.error());
  }
  if (!common.from.empty() && text::lower(common.from.substr(0, 4)) != "sip:")
    return fail(fmt::format("--from '{}' is not a sip: URI", common.from));
  if (listens)
    return {};
  // A tel: URI (RFC 3966) has no host: only a proxy can route it (to an IWF, Figure 7).
  bool tel = text::lower(to.substr(0, 4)) == "tel:";
  if (tel && common.proxy.empty())
    return fail(fmt::format("TO '{}' is a tel: URI: give --proxy", to));
  if (!tel && text::lower(to.substr(0, 4)) != "sip:" && text::lower(to.substr(0, 5)) != "sips:")
    return fail(fmt::format("TO '{}' is not a sip:, sips: or tel: URI", to));
  if (common.proxy.empty()) {
    auto h = sip::hop_of_uri(to);
    if (!h)
      return fail(h.error().message + " (or give --proxy)");
  }
  return {};
}

} // namespace cpm::ua
