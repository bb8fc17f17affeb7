#pragma once
// The IWF's pure decisions (FLOWS.md Figures 7 and 8): what a CPM Message addressed to a
// number becomes as an SMS, what an SMSC's delivery receipt becomes as an IMDN, what an SMS
// to a CPM user becomes as a CPM Message, and what that user's delivery notification
// becomes towards the SMS sender. No I/O.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/codec/imdn.hpp"

namespace cpm::iw {

// The E.164 number ("+15550100") of tel:+15550100 or sip:+15550100@host;user=phone (visual
// separators "-.()" dropped); nullopt for any other URI.
std::optional<std::string> number_of(std::string_view uri);

// Why a CPM Message is not taken: the SIP answer and a diagnostic.
struct Refusal {
  int status = 488;
  std::string reason;
  std::string why;
  std::vector<std::string> headers; // Warning:, Accept:
};

// A CPM Message the IWF carries as an SMS (Figure 7 steps 4-5).
struct Submission {
  std::string recipient;  // the E.164 number it goes to
  std::string text;       // UTF-8
  std::string sender;     // CPM address the notifications go to (CPIM From, else the SIP one)
  std::string message_id; // imdn.Message-ID, "" when none
  std::string datetime;   // CPIM DateTime, "" when none
  bool positive = false;  // positive-delivery notification requested
  bool negative = false;  // negative-delivery notification requested
  bool report() const { return positive || negative; }
};

// A delivery notification (IMDN) a CPM user sends towards a number (Figure 8 step 14).
struct Notice {
  std::string recipient; // the number it is for (the SMS sender)
  std::string from;      // the CPM user who sends it
  imdn::Notification imdn;
};

// What a MESSAGE to the IWF carries: a message to submit, or a notification to map back.
struct Incoming {
  std::optional<Submission> message;
  std::optional<Notice> notice;
};

// Read a MESSAGE addressed to `ruri` from `sender` (canonical AOR) with `content_type` and
// the (inflated) body: message/cpim wrapping text/plain (or an IMDN), or plain text/plain.
// A refusal is 415 (another content type), 488 with Warning (no text part), 404 (no
// number, or a number that no prefix of a non-empty `routes` covers), 400 (a malformed body).
tl::expected<Incoming, Refusal> read_message(std::string_view ruri, std::string_view sender,
                                             std::string_view content_type, std::string_view body,
                                             const std::vector<std::string>& routes = {});

// An SMSC's final message state, by name (SMPP 3.4 §5.2.28 and the receipt text's "stat:").
enum class State {
  Enroute,
  Delivered,
  Expired,
  Deleted,
  Undeliverable,
  Accepted,
  Unknown,
  Rejected
};
// "DELIVRD" -> Delivered... (the receipt text's 7-letter names, or the long names);
// nullopt when unknown.
std::optional<State> state_of(std::string_view stat);
// SMPP message_state TLV values 1..8; nullopt otherwise.
std::optional<State> state_of(int message_state);
std::string_view to_string(State s);
// Enroute and Accepted are not final: nothing is notified for them.
bool final(State s);
// The IMDN status a final state becomes: Delivered, else Failed.
imdn::Status imdn_status(State s);

// Figure 7 step 12: the delivery notification about `s` that its recipient's SMS network
// reported, from tel:<recipient> to the sender; a message/cpim body.
std::string notification_for(const Submission& s, imdn::Status status, std::string_view now);

// Figure 8 step 2: the CPM Message an SMS from `from_number` to `to_uri` becomes, with
// imdn.Message-ID `message_id` and, when the SMS asked for a status report,
// positive-delivery (and negative-delivery) requested; a message/cpim body.
std::string message_for_sms(std::string_view from_number, std::string_view to_uri,
                            std::string_view text, std::string_view message_id, bool report,
                            std::string_view now);

// tel:+15550100 for a number.
std::string tel_uri(std::string_view number);

} // namespace cpm::iw
