// cpm-send: options, config merge and the pure helpers of the client.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "cpm-send/send.hpp"
#include "cpm/base/text.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/ua/program.hpp"

namespace cpm::send {

using text::lower;

Result<void> apply_config(Options& opt, const config::File& file)
{
  auto node = cli::apply_client_node(opt.common, opt.password, file);
  if (!node)
    return tl::unexpected(node.error());
  if ((*node)->timeout_ms > 0 && opt.timeout == 10)
    opt.timeout = (*node)->timeout_ms / 1000.0;
  return {};
}

Result<void> validate(const Options& opt)
{
  if (!opt.receive && opt.to.empty())
    return fail("missing TO (the recipient's URI)");
  if (opt.receive && (!opt.to.empty() || !opt.text.empty()))
    return fail("--receive takes no TO or TEXT");
  if (opt.rate < 0 || !std::isfinite(opt.rate))
    return fail("--rate must be >= 0");
  if (opt.rate > 0 && !opt.lines)
    return fail("--rate needs --lines");
  for (const auto& h : opt.headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || h.find_first_of("\r\n") != std::string::npos ||
        h.substr(0, colon).find_first_of(" \t") != std::string::npos)
      return fail(fmt::format("--header '{}': want one line 'Name: value'", h));
  }
  if (opt.window < 1 || opt.window > 100000)
    return fail("--window must be from 1 to 100000");
  if (opt.timeout <= 0 || !std::isfinite(opt.timeout) || opt.timeout > 86400)
    return fail("--timeout must be a number of seconds > 0");
  if (opt.count < 0)
    return fail("--count must be >= 0");
  if (opt.lines && (!opt.text.empty() || (!opt.file.empty() && opt.file != "-")))
    return fail("--lines reads stdin: give no TEXT and no --file");
  if (!opt.file.empty() && !opt.text.empty())
    return fail("give TEXT or --file, not both");
  if (!opt.notify.empty()) {
    auto n = imdn::parse_notify_option(opt.notify);
    if (!n)
      return tl::unexpected(n.error());
  }
  if (opt.plain && opt.receive)
    return fail("--plain is for sending: not with --receive");
  if (opt.plain && !opt.notify.empty())
    return fail("--plain sends no CPIM, so it cannot request notifications: not with --notify");
  if (opt.wait && opt.notify.empty())
    return fail("--wait needs --notify");
  if (opt.recipients < 1)
    return fail("--recipients must be >= 1");
  if (opt.recipients > 1 && opt.notify.empty())
    return fail("--recipients needs --notify");
  return ua::check_addresses(opt.common, opt.do_register, opt.receive, opt.to);
}

std::string guess_content_type(std::string_view path)
{
  auto dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos)
    return "text/plain;charset=utf-8";
  auto ext = lower(path.substr(dot + 1));
  static const std::pair<const char*, const char*> k_types[] = {
      {"txt", "text/plain;charset=utf-8"},
      {"html", "text/html;charset=utf-8"},
      {"htm", "text/html;charset=utf-8"},
      {"xml", "application/xml"},
      {"json", "application/json"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"pdf", "application/pdf"},
      {"vcf", "text/vcard"},
  };
  for (auto [e, t] : k_types)
    if (ext == e)
      return t;
  return "text/plain;charset=utf-8";
}

double Stats::percentile(double p) const
{
  if (latency_ms.empty())
    return 0;
  auto v = latency_ms;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

std::string Stats::summary() const
{
  std::string notes = waited ? fmt::format(", notified {}, negative {}, not notified {}", notified,
                                           negative, unnotified)
                             : "";
  return fmt::format("sent {}, 2xx {}, failed {}, no answer {}{}, latency p50 {:.1f} ms, p90 "
                     "{:.1f} ms, p99 {:.1f} ms",
                     sent, ok, failed, no_answer, notes, percentile(50), percentile(90),
                     percentile(99));
}

int Stats::exit_status() const
{
  if (failed || negative)
    return 1;
  if (no_answer || unnotified)
    return 3;
  return 0;
}

void add_options(CLI::App& app, Options& opt)
{
  cli::add_common(app, opt.common,
                  cli::k_config | cli::k_listen | cli::k_proxy | cli::k_from | cli::k_json |
                      cli::k_trace | cli::k_ready_fd | cli::k_dns | cli::k_tls);
  app.add_option("--name", opt.name, "Node name in traces when there is no --node");
  app.add_option("--file", opt.file, "Send the content of this file ('-': stdin)");
  app.add_option("--content-type", opt.content_type,
                 "Content type of the message (default: guessed, text/plain)");
  app.add_flag("--plain", opt.plain,
               "Send the content bare (text/plain), without CPIM: no notifications");
  app.add_flag("--lines", opt.lines, "Send one message per stdin line, in order");
  app.add_option("--rate", opt.rate, "With --lines: send N messages per second (bounded window)");
  app.add_option("--window", opt.window,
                 "With --rate: at most N messages waiting for their final response (default 64)");
  app.add_option("--notify", opt.notify, "Request notifications: delivery, display or both");
  app.add_flag("--wait", opt.wait, "Wait for the requested notifications");
  app.add_option("--recipients", opt.recipients,
                 "With --wait: notifications from N distinct recipients (a group; default 1)");
  app.add_option("--timeout", opt.timeout, "Seconds to wait for answers (default 10)");
  app.add_option("--header", opt.headers,
                 "Add this header line to every MESSAGE (repeatable): 'Privacy: id'")
      ->allow_extra_args(false);
  app.add_flag("--no-service-indication", opt.no_service_indication,
               "Leave out the CPM enabler usage indication");
  app.add_flag("--register", opt.do_register, "Register --from with --proxy first");
  app.add_option("--password", opt.password, "Digest password for --register");
  app.add_option("--expires", opt.expires, "Registration lifetime in seconds (default 3600)");
  app.add_flag("--receive", opt.receive, "Receive messages and print them on stdout");
  app.add_option("--count", opt.count, "With --receive: stop after N messages");
  app.add_flag("--display", opt.display,
               "With --receive: also send display notifications when asked");
  app.add_option("TO", opt.to, "Recipient URI (sip:bob@b.example)");
  app.add_option("TEXT", opt.text, "Message text (joined by spaces; none or '-': stdin)");
}

} // namespace cpm::send
