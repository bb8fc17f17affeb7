#pragma once
// The IWF's durable state in one SQLite file (iwf_db; WAL): the SMS queue towards the SMSC
// (accepted CPM Messages and SME delivery acknowledgements), the SMSC message ids of
// submitted parts awaiting their receipts, the queue of SIP MESSAGEs towards CPM users
// (IMDNs of Figure 7, CPM Messages of Figure 8), the parts of concatenated SMS not yet
// complete, and which CPM Message came from which SMS (so that the user's notification maps
// back). Every change is one transaction committed before the caller answers (202,
// deliver_sm_resp): a kill -9 loses nothing accepted, and a duplicate (a SIP resend, a
// repeated deliver_sm) is recognised by its key. Time is the caller's (unix ms).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/iw/mapping.hpp"
#include "cpm/store/outbox.hpp"

namespace cpm::iw {

// One SMS to submit.
struct OutSms {
  enum class Kind { Message, Ack };
  int64_t id = 0;
  Kind kind = Kind::Message;
  std::string src;     // source number
  std::string dst;     // destination number
  std::string text;    // Message: the text; Ack: the receipt text's fields (see Ack)
  bool report = false; // registered_delivery
  // Message: whom notifications go to, and about which message.
  std::string sender, message_id, datetime;
  bool positive = false, negative = false;
  // Ack: the SMSC id of the SMS acknowledged and its final state.
  std::string ref;
  std::string state;
  int attempts = 0;
  int64_t next_ms = 0;
  int64_t created_ms = 0;
};

// One SIP MESSAGE to send towards a CPM user through the core.
struct OutCpm {
  enum class Kind { Message, Notification };
  int64_t id = 0;
  Kind kind = Kind::Message;
  std::string ruri; // the CPM user (or the sender of Figure 7)
  std::string from; // tel:+NUMBER
  std::string body; // message/cpim
  int attempts = 0;
  int64_t next_ms = 0;
};

// What accept() did.
struct Accepted {
  int64_t id = 0;
  bool fresh = true; // false: a duplicate of an accepted message (answered 202 again)
};

// What a receipt led to.
struct ReceiptOutcome {
  bool known = false;              // the SMSC id belongs to a submitted part
  bool complete = false;           // every part has a final state: the message is done
  State state = State::Delivered;  // the message's state when complete
  std::optional<int64_t> notified; // the OutCpm queued for the sender's IMDN
  std::string sender, message_id;  // whom it was about
};

// What an incoming SMS (or part) led to.
struct Arrival {
  bool duplicate = false;        // seen before: acknowledged, nothing new
  bool complete = false;         // the message is whole: an OutCpm is queued
  std::optional<int64_t> queued; // that OutCpm
  int parts_held = 0;            // parts of it stored so far
};

// An SMS as it arrived (one part of a concatenated one, or all of it).
struct InSms {
  std::string src, dst; // numbers
  std::string user;     // the CPM user dst maps to
  std::string text;     // this part's text, UTF-8
  bool report = false;  // the SMS asked for a status report
  std::string smsc_id;  // the SMSC's id of it, for the acknowledgement ("" none)
  std::string key;      // what makes it unique at the SMSC (repeated deliver_sm)
  int ref = -1;         // concatenation reference, -1 single
  int total = 1, seq = 1;
  // A part's octets in its coding (sms::Coding as int, -1 none: the text alone counts), so
  // that the parts are decoded together (sms::Reassembly) once all have come.
  int coding = -1;
  std::string payload;
};

// A CPM Message the IWF sent for an SMS (Figure 8), kept until its notification.
struct SentForSms {
  std::string message_id;
  std::string sms_from;    // the SMS sender's number
  std::string user_number; // the number the SMS was for
  std::string smsc_id;
  bool report = false;
};

// What became of a MESSAGE the IWF could not deliver.
struct CpmRetry : store::Retry {
  bool acknowledged = false; // given up, and its SMS sender told so (an SME ack queued)
};

class Store {
public:
  // The store in `path` (":memory:" for one that ends with the process); one process per file.
  static Result<Store> open(const std::string& path);
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();
  const std::string& path() const;

  // ---- Figure 7: CPM Messages to numbers ----
  // Store a message to submit from `src`; `key` recognises a repeat (sender + Message-ID).
  Result<Accepted> accept(const Submission& s, std::string_view src, std::string_view key,
                          int64_t now_ms);
  // Queued SMS due by `now_ms` (oldest first, at most `max`), those in `skip` left out.
  Result<std::vector<OutSms>> due_sms(int64_t now_ms, size_t max,
                                      const std::vector<int64_t>& skip = {});
  // When the next queued SMS is due (nullopt: none).
  Result<std::optional<int64_t>> next_sms_due();
  // The SMSC accepted every part (their ids in order): awaiting receipts when a report was
  // asked, else done.
  Result<void> submitted(int64_t id, const std::vector<std::string>& smsc_ids);
  // A submission failed: again after the backoff, or (none left, or `final`) the message is
  // dropped and, when the sender asked for negative notifications, an IMDN failed is queued
  // (its id in `notified`).
  struct Failure {
    store::Retry retry;
    std::optional<int64_t> notified;
  };
  Result<Failure> submit_failed(int64_t id, std::string_view why, int64_t now_ms,
                                const store::Backoff& b, bool final, std::string_view now_text);
  // A receipt for `smsc_id`: the part's state; once every part is final, the message is done
  // and its IMDN queued (as asked).
  Result<ReceiptOutcome> receipt(std::string_view smsc_id, State state, std::string_view now_text,
                                 int64_t now_ms);
  // Messages submitted, awaiting receipts.
  Result<size_t> awaiting_receipts();
  // Queued SMS (not yet submitted).
  Result<size_t> queued_sms();

  // ---- Figure 8: SMS to CPM users ----
  // Store an incoming SMS or part; once whole, the CPM Message for it is queued (its
  // imdn.Message-ID is a fresh one, kept with the SMS sender for the notification).
  Result<Arrival> arrive(const InSms& sms, std::string_view now_text, int64_t now_ms);
  // Concatenated SMS whose first part arrived before `before_ms`: delivered as they are
  // (their missing parts marked), returned as the OutCpm ids queued.
  Result<std::vector<int64_t>> expire_parts(int64_t before_ms, std::string_view now_text,
                                            int64_t now_ms);
  // The CPM Message `message_id` sent for an SMS, if any.
  Result<std::optional<SentForSms>> sent_for_sms(std::string_view message_id);
  // A CPM user's notification about it: the SME delivery acknowledgement queued towards the
  // SMS sender (its OutSms id), the mapping removed. nullopt: nothing was sent for it.
  Result<std::optional<int64_t>> acknowledge(const Notice& n, int64_t now_ms);
  // The same within the caller's transaction.
  Result<std::optional<int64_t>> queue_ack(const Notice& n, int64_t now_ms);

  // Forget the keys of repeats (iw_seen) recorded before `before_ms`: a copy that comes
  // later is taken as new.
  Result<void> purge_seen(int64_t before_ms);

  // ---- the SIP queue ----
  Result<std::vector<OutCpm>> due_cpm(int64_t now_ms, size_t max,
                                      const std::vector<int64_t>& skip = {});
  Result<std::optional<int64_t>> next_cpm_due();
  Result<void> cpm_done(int64_t id);
  // When it is given up, a CPM Message made from an SMS that asked for a status report has
  // an SME delivery acknowledgement (UNDELIV) queued to the SMS sender (`acknowledged`).
  Result<CpmRetry> cpm_failed(int64_t id, int64_t now_ms, const store::Backoff& b, bool final);

private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  Result<int64_t> queue_cpm(OutCpm::Kind kind, std::string_view ruri, std::string_view from,
                            std::string_view body, int64_t now_ms);
  Result<void> forget(int64_t id);
  Result<std::optional<OutSms>> sms(int64_t id);
  std::unique_ptr<Impl> m;
};

} // namespace cpm::iw
