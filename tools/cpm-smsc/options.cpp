// The command line of cpm-smsc.
#include "smsc.hpp"

namespace cpm::smsc {

void add_options(CLI::App& app, Options& opt)
{
  cli::add_common(app, opt.common,
                  cli::k_config | cli::k_listen | cli::k_json | cli::k_trace | cli::k_ready_fd);
  app.add_option("--name", opt.name,
                 "Node name in traces and bind responses (default: --node, else cpm-smsc)");
  app.add_option("--system-id", opt.system_id, "The system_id ESMEs must bind with (default: any)");
  app.add_option("--password", opt.password, "The password ESMEs must bind with (default: any)");
  app.add_option("--receipt", opt.receipt,
                 "Receipt for every message: delivered, failed, expired, rejected, deleted, "
                 "delayed or none (default: delivered)");
  app.add_option("--receipt-for", opt.receipt_for,
                 "Receipt for messages to one number: NUMBER=STATE (repeatable)");
  app.add_option("--receipt-delay", opt.receipt_delay_ms,
                 "Send each final receipt MS milliseconds after the submission")
      ->check(CLI::Range(0, 3600000));
  app.add_option("--submit-status", opt.submit_status,
                 "Answer submit_sm to NUMBER ('*': any) with STATUS, the first COUNT times: "
                 "NUMBER=STATUS[*COUNT] (repeatable)");
  app.add_flag("--report", opt.report,
               "SMS injected from stdin ask for a delivery acknowledgement");
  app.add_option("--window", opt.window, "deliver_sm PDUs outstanding per ESME (default 10)")
      ->check(CLI::Range(1, 1000));
}

} // namespace cpm::smsc
