#pragma once
// cpm-smsc: a small SMSC (SMPP 3.4 server) playing the SMS network (NC) of Figures 7 and 8:
// it binds ESMEs, prints every submitted SMS, answers with message ids, sends delivery
// receipts, and injects SMS read from stdin.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/config/cli.hpp"
#include "cpm/smpp/receipt.hpp"

namespace cpm::smsc {

struct Options {
  cli::Common common;
  std::string name;                       // node name in traces
  std::string system_id;                  // the account ESMEs bind with (empty: any)
  std::string password;                   // its password (empty: any)
  std::string receipt = "delivered";      // the receipt every message gets
  std::vector<std::string> receipt_for;   // NUMBER=STATE
  int receipt_delay_ms = 0;               // wait before each final receipt
  std::vector<std::string> submit_status; // NUMBER=STATUS[*COUNT]
  bool report = false;                    // injected SMS ask for a delivery acknowledgement
  int window = 10;                        // deliver_sm outstanding per ESME
};

// Build the command line.
void add_options(CLI::App& app, Options& opt);
// Serve until SIGINT/SIGTERM; the exit status (0, 2 usage/config, 3 network).
int run(Options& opt);

// ---- the pure parts, unit-tested --------------------------------------------------------

// What a submitted message's receipt says: a final state, "delayed" (an intermediate
// ENROUTE notification first, then DELIVRD), or none at all.
struct ReceiptPlan {
  bool send = true;
  bool delayed = false;
  smpp::MessageState state = smpp::MessageState::delivered;
};
// "delivered", "failed" (UNDELIV), "undeliverable", "expired", "rejected", "deleted",
// "delayed", "none".
Result<ReceiptPlan> parse_receipt_plan(std::string_view s);

// A submit_sm answer forced for a number: STATUS is a name (ESME_RTHROTTLED) or a number
// (0x58, 88); COUNT limits it to the first COUNT submissions (none: all).
struct ForcedStatus {
  uint32_t status = 0;
  std::optional<int> count;
};
Result<uint32_t> parse_status(std::string_view s);

// NUMBER without a leading '+', so that "+15550101" and "15550101" (TON 1) are one number.
std::string number_key(std::string_view number);

// The per-number settings of the options, checked.
struct Policy {
  ReceiptPlan receipt;
  std::map<std::string, ReceiptPlan> receipt_for; // by number_key; "*" matches any
  std::map<std::string, ForcedStatus> submit_status;
  // The receipt for a message to `number`.
  const ReceiptPlan& receipt_of(std::string_view number) const;
  // The forced status of the next submission to `number` (counting it), if any.
  std::optional<uint32_t> take_status(std::string_view number);
};
Result<Policy> make_policy(const Options& opt);

// An SMS to inject, from a line of stdin: "FROM TO TEXT..." (whitespace-separated, the text
// the rest of the line) or a JSON object {"from":..., "to":..., "text":..., "report":bool}.
struct Injected {
  std::string from;
  std::string to;
  std::string text;
  bool report = false;
};
// Empty lines and lines starting with '#' are nullopt; a malformed line is an error.
Result<std::optional<Injected>> parse_inject_line(std::string_view line, bool report_default);

} // namespace cpm::smsc
