#pragma once
// Ladders: the traces of a run turned into hops, drawn, and compared with an expected ladder.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/base/trace.hpp"

namespace cpm::ladder {

// One arrow of a ladder: a SIP message (or MSRP frame, or SMPP PDU) going from one node to
// another, seen once.
struct Arrow {
  int64_t time_us = 0;
  std::string from; // node name, or "ip:port" when no trace names the address
  std::string to;
  bool request = false;
  std::string method; // request method, or the CSeq method of a response
  int status = 0;     // response status code, 0 for a request
  std::string reason; // response reason phrase
  std::string uri;    // request URI
  std::string call_id;
  std::string cseq;    // CSeq number as written
  std::string imdn_id; // CPIM imdn.Message-ID of the body, or ""
  std::string first_line;
  bool msrp = false; // an MSRP frame (method SEND/REPORT, or a status), not SIP
  // An SMPP PDU (trace transport "smpp"): `method` is the PDU name without "_resp"
  // ("submit_sm"), `request` is false for a "_resp" PDU, `status` its command_status and
  // `reason` the ESME_ name when known; `cseq` is the sequence_number.
  bool smpp = false;
  // A request inside a dialog (its To has a tag): an INVITE so is drawn "re-INVITE".
  bool in_dialog = false;
  std::string transport; // "udp", "tcp", "smpp" as traced
  std::string message;   // the whole message as traced (SMPP: its one-line description)
  // What the message is ("CPIM message", "IMDN delivered", "SDP offer: message") and why the
  // hop happens ("originating trigger", "return with odi"): set by annotate(), "" if unknown.
  std::string what;
  std::string why;
  // The expected ladder's step this hop matched ("5.1"; "=" for a step without a label,
  // "+" for a hop the ladder does not have): set from CheckResult::steps, "" if not compared.
  std::string step;
};

// Node name -> role, as a config's [[node]] role says: "core", "conversation-server",
// "client", "iwf", "smsc". Roles the config does not give are inferred from the run.
using Roles = std::map<std::string, std::string>;

// What to leave out of a ladder.
struct Filter {
  bool trying = true;            // 100 Trying
  bool register_ = true;         // REGISTER and its responses
  bool ack = true;               // ACK
  std::vector<std::string> more; // methods or status codes ("OPTIONS", "180")
  bool msrp = false;             // MSRP frames
  // SMPP session upkeep: bind_*, unbind, enquire_link and their responses (as REGISTER).
  bool smpp_session = true;
  // Nothing hidden (--all).
  static Filter none() { return Filter{false, false, false, {}, false, false}; }
};

// Merge the events of several traces into hops, ordered by time: each message once (the
// sender's tx event, else the rx event of a receiver whose sender wrote no trace), without
// retransmissions (same sender, same bytes), addresses named by the nodes' `local` addresses.
std::vector<Arrow> arrows(const std::vector<trace::Event>& events);
// Read trace files and build their hops.
Result<std::vector<Arrow>> read_arrows(const std::vector<std::string>& paths);
// The hops `f` keeps.
std::vector<Arrow> filter(const std::vector<Arrow>& in, const Filter& f);
// Short label: "MESSAGE sip:bob@b.example" (with_uri) or "MESSAGE", "200 OK", "submit_sm",
// "submit_sm_resp ESME_RTHROTTLED", "re-INVITE" (an INVITE inside a dialog).
std::string label(const Arrow& h, bool with_uri);
// The node names in order of first appearance, `first` (if any) leading.
std::vector<std::string> nodes(const std::vector<Arrow>& hs, const std::vector<std::string>& first);

// " 1  alice  -> coreA  MESSAGE sip:bob@b.example", one line per hop.
std::string format_lines(const std::vector<Arrow>& hs);
// A plain-text sequence diagram with one column per node.
std::string format_columns(const std::vector<Arrow>& hs, const std::vector<std::string>& order);
// A Mermaid sequenceDiagram.
std::string format_mermaid(const std::vector<Arrow>& hs, const std::vector<std::string>& order);
// A standalone SVG image of the ladder (one lifeline per node, an arrow per hop, the notes
// under each label), drawn by hand for any SVG renderer.
std::string format_svg(const std::vector<Arrow>& hs, const std::vector<std::string>& order);
// Hop `n` (1-based, as format_lines numbers `hs`) in full: its line, notes, step, time and
// transport, then the whole message. "" when there is no such hop.
std::string format_detail(const std::vector<Arrow>& hs, size_t n);

// Set each hop's `what` and `why` from its message (body Content-Type, CPIM and IMDN
// headers, SDP, Route with odi, the SMPP PDU) and from the nodes' roles (`roles`, completed
// by what the run shows: REGISTER senders are clients, their registrars cores, an SMPP
// bind's sender an IWF and its peer an SMSC). Reads the whole run: an answer's SDP is an
// answer only when its INVITE had an offer.
void annotate(std::vector<Arrow>& hs, const Roles& roles = {});
// "what; why", or either alone, or "".
std::string note(const Arrow& h);

// One hop of an expected ladder.
struct Step {
  std::string label;    // "5.1" from "[5.1]", or ""
  std::string from, to; // node names, aliases resolved
  bool request = false;
  std::string method; // for a request (and an SMPP response: the PDU name without "_resp")
  int status = 0;     // for a response (SMPP: command_status, 0 = ESME_ROK)
  bool smpp = false;  // an SMPP PDU ("submit_sm", "deliver_sm_resp")
  std::string uri;    // optional request URI
  // "re-INVITE": an INVITE inside a dialog (To with a tag); a plain INVITE step matches only
  // a dialog-forming one.
  bool reinvite = false;
  int line = 0;
};

// A request and its responses (FLOWS.md: a request hop by hop, its responses back).
struct Transaction {
  std::string name;
  std::vector<Step> requests;
  std::vector<Step> responses;
  std::vector<std::string> after; // step labels whose hops must precede this transaction
  int line = 0;
};

// An expected ladder file (format in cpm-ladder(1)).
struct Expected {
  std::map<std::string, std::string> alias;
  std::vector<Transaction> transactions;
};

// Parse an expected ladder; `name` is used in error messages ("fig5-6.ladder:12: ...").
Result<Expected> parse_expected(std::string_view text, const std::string& name);
Result<Expected> read_expected(const std::string& path);

// SMPP 3.4 command_status names that ladders use (ESME_ROK, ESME_RTHROTTLED, ...): the name
// of a code ("" when not in the table), and the code of a name, "0x58" or "88" (-1: neither).
std::string smpp_status_name(uint32_t code);
// Whether `name` is an SMPP 3.4 PDU ("submit_sm", "deliver_sm_resp", "generic_nack").
bool is_smpp_pdu(std::string_view name);
int64_t smpp_status_code(std::string_view text);

// The outcome of a comparison: `report` is a readable diff (empty lines of context included).
struct CheckResult {
  bool ok = false;
  std::string report;
  // Per hop of the run that was checked, in its order: the step it matched, as Arrow::step.
  std::vector<std::string> steps;
};

// Compare the hops of a run (unfiltered) with an expected ladder, as FLOWS.md says.
CheckResult check(const Expected& want, const std::vector<Arrow>& run);

} // namespace cpm::ladder
