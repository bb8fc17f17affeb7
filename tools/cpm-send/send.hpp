#pragma once
// cpm-send: the Pager Mode CPM client (send, --lines, --register, --receive). main.cpp only
// calls add_options() and run(); the pure helpers below are unit tested.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/config/cli.hpp"
#include "cpm/config/config.hpp"
#include "cpm/ua/notification.hpp"

namespace cpm::send {

// Everything the command line (and the config file) can set.
struct Options {
  cli::Common common;
  std::string name;                 // --name: trace node name when there is no --node
  std::string to;                   // TO (positional)
  std::vector<std::string> text;    // TEXT... (positional)
  std::string file;                 // --file F ('-' = stdin)
  std::vector<std::string> headers; // --header LINE: added to every MESSAGE we originate
  std::string content_type;         // --content-type
  bool plain = false;               // --plain: the content bare, no CPIM (no notifications)
  bool lines = false;               // --lines
  double rate = 0;                  // --rate N (messages per second; 0: one after the other)
  int window = 64;                  // --window N: at most N requests in flight with --rate
  std::string notify;               // --notify delivery[,display]
  bool wait = false;                // --wait
  int recipients = 1;               // --recipients N: notifications from N distinct recipients
  double timeout = 10;              // --timeout SECONDS
  bool no_service_indication = false;
  bool do_register = false; // --register
  std::string password;     // --password
  uint32_t expires = 3600;  // --expires
  bool receive = false;     // --receive
  int count = 0;            // --count N (receive: stop after N messages)
  bool display = false;     // --display (receive: also send display notifications)
};

// Add every option and positional of cpm-send to `app`.
void add_options(CLI::App& app, Options& opt);
// Run the program; returns the exit status (0, 1, 2, 3; see cpm-send(1)).
int run(Options& opt);

// Take from/proxy/listen/password from the [[node]] (role client) and [[user]] sections of
// `file` for `node`; options already set on the command line win.
Result<void> apply_config(Options& opt, const config::File& file);
// Check the options after merging (TO given when sending, --rate >= 0, ...).
Result<void> validate(const Options& opt);
// A guess at the content type of a file from its name (text/plain by default).
std::string guess_content_type(std::string_view path);

// Latencies of --lines and the summary line printed on stderr.
struct Stats {
  size_t sent = 0;
  size_t ok = 0;        // 2xx
  size_t failed = 0;    // >= 300
  size_t no_answer = 0; // timeout or network error
  // --wait: messages whose notifications all came positive, one came negative, or not
  // all came within --timeout after the last final response.
  size_t notified = 0;
  size_t negative = 0;
  size_t unnotified = 0;
  bool waited = false; // --wait was given: the summary names the three counts above
  std::vector<double> latency_ms;
  // Nearest-rank percentile (p in 0..100) of latency_ms; 0 when empty.
  double percentile(double p) const;
  std::string summary() const;
  // 1 if any final response >= 300 or negative notification, else 3 if any went unanswered
  // or without its notifications, else 0.
  int exit_status() const;
};

// --lines --wait: the notifications still awaited, per message (its imdn.Message-ID), from
// its sending until every requested kind came from `recipients` distinct recipients.
class LineWaits {
public:
  enum class Outcome { pending, positive, negative, unknown };
  LineWaits(bool delivery, bool display, int recipients);
  // The message was sent asking for the notifications.
  void expect(const std::string& message_id);
  // None will come (no 2xx, or it went as text/plain).
  void forget(const std::string& message_id);
  // A notification of `kind` from `from` about `message_id`: `positive` when the message is
  // complete and every notification positive, `negative` when complete with a negative one,
  // `unknown` for a message not awaited (another's, or one complete already).
  Outcome add(const std::string& message_id, std::string_view from, std::string_view kind,
              bool positive);
  size_t pending() const { return m_waits.size(); }

private:
  bool m_delivery, m_display;
  int m_recipients;
  std::map<std::string, ua::Awaited> m_waits;
};

} // namespace cpm::send
