// A client's diagnostics on stderr.
#include "cpm/ua/log.hpp"

#include "cpm/config/cli.hpp"
#include "cpm/rt/sip.hpp"

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

sip::Diag Log::report() const
{
  return [log = *this](const std::string& line) { log.error(line); };
}

sip::Diag Log::fatal() const
{
  return [log = *this](const std::string& line) {
    log.error(line);
    sip::stop(1);
  };
}

} // namespace cpm::ua
