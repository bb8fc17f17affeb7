// A client's diagnostics on stderr.
#include "cpm/ua/log.hpp"

#include "cpm/config/cli.hpp"

namespace cpm::ua {

void Log::error(const std::string& text) const
{
  cli::diag(prog, text);
}

void Log::diag(const std::string& text) const
{
  if (!quiet)
    cli::diag(prog, text);
}

void Log::note(const std::string& text) const
{
  if (verbose > 0)
    cli::diag(prog, text);
}

} // namespace cpm::ua
