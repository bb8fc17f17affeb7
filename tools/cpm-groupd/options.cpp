// The command line of cpm-groupd.
#include "groupd.hpp"

namespace cpm::groupd {

void add_options(CLI::App& app, Options& opt)
{
  cli::add_common(app, opt.common,
                  cli::k_config | cli::k_listen | cli::k_domain | cli::k_proxy | cli::k_trace |
                      cli::k_ready_fd | cli::k_dns | cli::k_tls);
  app.add_option("--max-message-size", opt.max_message_size,
                 "Refuse bodies larger than BYTES with 413 (users without a limit of their own)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--timeout", opt.timeout_ms,
                 "Answer 408 when the next hop gives no final answer within MS milliseconds (also "
                 "how long the focus waits for a BYE after a participant's MSRP connection ends)")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--outbox", opt.outbox,
                 "Keep accepted group messages in this SQLite FILE until every member has "
                 "them (overrides outbox_db)");
  app.add_option("--realtime-priority", opt.realtime_priority,
                 "Run under SCHED_FIFO at priority N (1-99; 0: normal scheduling), so the audio "
                 "mixer's 20 ms clock keeps its slots on a busy machine (overrides "
                 "realtime_priority)")
      ->check(CLI::Range(0, 99));
  app.add_flag("--msrp-tls", opt.msrp_tls,
               "Offer the members of a group session its chat over TLS (msrps:, TCP/TLS/MSRP), "
               "as over sips: (overrides msrp_tls)");
  app.add_option("--name", opt.name, "Node name in traces (default: --node, else cpm-groupd)");
}

} // namespace cpm::groupd
