// The command line of cpm-iwf.
#include "iwf.hpp"

namespace cpm::iwf {

void add_options(CLI::App& app, Options& opt)
{
  cli::add_common(app, opt.common,
                  cli::k_config | cli::k_listen | cli::k_domain | cli::k_proxy | cli::k_json |
                      cli::k_trace | cli::k_ready_fd | cli::k_dns | cli::k_tls);
  app.add_flag("--pipe", opt.pipe,
               "The SMS side is this process's stdin and stdout: one JSON line per SMS "
               "(cpm-iwf(1) PIPE FORMAT) instead of an SMSC over SMPP");
  app.add_option("--smsc", opt.smsc, "The SMSC to bind to, HOST:PORT (overrides smsc)");
  app.add_option("--system-id", opt.system_id, "SMPP system_id of the bind (overrides system_id)");
  app.add_option("--password", opt.password, "SMPP password of the bind (overrides password)");
  app.add_option("--db", opt.db,
                 "Keep accepted messages, receipts and incoming SMS in this SQLite FILE "
                 "(overrides iwf_db)");
  app.add_option("--timeout", opt.timeout_ms,
                 "Give up on a MESSAGE the core does not answer within MS milliseconds")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--reassembly-timeout", opt.reassembly_ms,
                 "Deliver a concatenated SMS whose parts did not all come within MS "
                 "milliseconds, each run of missing parts marked \u2026")
      ->check(CLI::Range(100, 86400000));
  app.add_option("--name", opt.name, "Node name in traces (default: --node, else cpm-iwf)");
}

} // namespace cpm::iwf
