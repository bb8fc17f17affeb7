#pragma once
// The proxy's own server transactions (libre's answer 482 to spirals: notes/libre-1.1.md §5),
// keyed by Via branch + sent-by + method. The table absorbs retransmissions (sending the
// last response again), answers locally (100, 408, 487, a hook's reply), matches CANCEL
// to its INVITE, and runs each transaction's one timer: the non-answer timeout (Timer C
// for INVITE) that answers 408, then the linger that keeps a completed transaction to
// absorb retransmissions of its request: Timer J over UDP, within a cap on how many linger
// (the oldest leave early; a late retransmission of theirs is forwarded again, with the
// same branch: proxy/branch.hpp).
//
// It knows nothing of libre: the proxy sends through `Upstream` and derives its own
// transaction type to add the transport state; time comes from an rt::TimerQueue, so a
// unit test drives the table with a fake clock and no sockets.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cpm/base/spare_list.hpp"
#include "cpm/rt/timer_queue.hpp"

namespace cpm::proxy {

class TransactionTable;

// The server-transaction key: branch, sent-by and method (ACK and CANCEL map to INVITE's).
std::string txn_key(std::string_view branch, std::string_view sent_by, std::string_view method);
// The same written over `out` (a buffer the caller reuses: no allocation once grown).
void txn_key(std::string& out, std::string_view branch, std::string_view sent_by,
             std::string_view method);

// How long a completed transaction that came over UDP stays to absorb retransmissions of
// its request: RFC 3261 Timer J, 64*T1 (a client retransmits a non-INVITE request until
// Timer F, 64*T1; RFC 6026's Timer L for an accepted INVITE is as long).
constexpr uint64_t k_timer_j_ms = 64 * 500;
// The same over TCP/TLS, where nothing is retransmitted (Timer J = 0): a brief stay for a
// request that also came over another transport.
constexpr uint64_t k_linger_reliable_ms = 1000;
// How many completed UDP transactions may linger at once by default: 1 KiB or so each
// (BENCHMARKS.md, issue 9), so about 128 MiB; at 4,000 requests/s every one stays its
// full Timer J, at the knee rate (20,000/s) about 6.5 s.
constexpr size_t k_max_lingering = 131072;

// What a table keeps and how long.
struct Limits {
  uint64_t linger_ms = k_timer_j_ms;      // a completed UDP transaction's stay
  size_t max_lingering = k_max_lingering; // completed UDP transactions at once (at least 1)
};

// One server transaction: what retransmissions and local answers need, nothing more (a
// proxy derives from it to add where responses go and its client side).
struct ServerTransaction {
  ServerTransaction() = default;
  virtual ~ServerTransaction() = default;
  ServerTransaction(const ServerTransaction&) = delete;
  ServerTransaction& operator=(const ServerTransaction&) = delete;

  // Ready for another request, as if new, its strings emptied but keeping their capacity
  // (a proxy's pool of transactions: Upstream::release). Not while a table holds it.
  void reuse();

  std::string key; // txn_key()
  std::string method;
  std::string call_id; // cleared on completion
  // The Via..., From, To, Call-ID and CSeq lines of a local response (cleared on completion).
  std::string head;
  bool to_tagged = false; // the request's To had a tag
  bool invite = false;
  bool reliable = false; // came over TCP/TLS
  std::string last;      // the last response sent upstream, encoded
  int final_code = 0;    // the final response sent upstream, 0: none yet

private:
  friend class TransactionTable;
  TransactionTable* m_table = nullptr;
  rt::TimerQueue::Timer m_timer; // non-answer timeout, Timer C, or linger
  // The table's list of lingering UDP transactions, oldest first.
  ServerTransaction* m_older = nullptr;
  ServerTransaction* m_newer = nullptr;
  bool m_listed = false;
};

// Where a TransactionTable's responses go, and what it tells the proxy around it.
class Upstream {
public:
  virtual ~Upstream() = default;
  // Send `response` to where `t`'s request came from.
  virtual void send(ServerTransaction& t, std::string_view response) = 0;
  // `t` has (or is about to get) its final response: stop its client side (a pending
  // INVITE gets a CANCEL). May be called more than once.
  virtual void finish(ServerTransaction& t) = 0;
  // The cap on lingering transactions makes `t` leave before its linger has ended (it is
  // destroyed right after); `total` counts such departures since the table was made.
  virtual void left_early(const ServerTransaction& t, uint64_t total)
  {
    (void)t;
    (void)total;
  }
  // The table is done with `t` (it lingered, left early, or a new transaction took its
  // key). Destroyed unless kept: a proxy keeps it for its next transaction
  // (ServerTransaction::reuse), so that a busy one allocates no transaction per request.
  virtual void release(std::unique_ptr<ServerTransaction> t) { t.reset(); }
};

// A response built from a request's head (reply_head, proxy/rewrite.hpp), appended to
// `out`: the status line, the head (with our To tag, a hash of `tag_key`, for codes above
// 100 when the request's To had none: `to_tagged` false), `extra` header lines,
// Content-Length and `body`. The one builder of local responses, in a transaction or out
// of one (a CANCEL's 200, a flood's 503, a malformed request's 400).
void local_response(std::string& out, std::string_view head, std::string_view tag_key,
                    bool to_tagged, int code, std::string_view reason,
                    const std::vector<std::string>& extra = {}, std::string_view body = {});
// The same for transaction `t`: its head, its key for the tag.
std::string local_response(const ServerTransaction& t, int code, std::string_view reason,
                           const std::vector<std::string>& extra = {}, std::string_view body = {});

class TransactionTable {
public:
  TransactionTable(rt::TimerQueue& timers, Upstream& upstream, Limits limits = {});
  ~TransactionTable();
  TransactionTable(const TransactionTable&) = delete;
  TransactionTable& operator=(const TransactionTable&) = delete;

  // The transaction of `key` (txn_key()), or nullptr.
  ServerTransaction* find(const std::string& key);
  // Add a new transaction (its key set); the table owns it until it has lingered, then
  // gives it to Upstream::release.
  ServerTransaction& add(std::unique_ptr<ServerTransaction> t);
  // An empty string, with the capacity of a head or Call-ID that a completed transaction
  // gave back when there is one, to write a new transaction's into (no allocation per
  // transaction; a lingering one keeps neither).
  std::string spare_string();
  // A request with `key` that belongs to a transaction we have: a retransmission (its last
  // response, if any, goes again) or the ACK of our non-2xx final response. Returns
  // false when the request is new to us (an ACK for a 2xx included: it goes end to end).
  bool absorb(const std::string& key, bool ack);

  // Send a response upstream (relayed or local) and remember it for retransmissions;
  // nothing after a final one. A final response completes the transaction: its client
  // side stops (Upstream::finish) and it lingers.
  void respond(ServerTransaction& t, std::string_view response, int code);
  // Answer locally: respond() with local_response().
  void reply(ServerTransaction& t, int code, std::string_view reason,
             const std::vector<std::string>& extra = {}, std::string_view body = {});
  // A CANCEL matched `t` (the caller has answered the CANCEL itself): unless answered, stop
  // the client side, then 487.
  void cancel(ServerTransaction& t);
  // Answer 408 unless a final response comes within `ms` (started again on each
  // provisional response of an INVITE: Timer C).
  void expect_final(ServerTransaction& t, uint64_t ms);

  size_t size() const { return m_table.size(); }
  const Limits& limits() const { return m_limits; }
  // Completed UDP transactions lingering now.
  size_t lingering() const { return m_lingering; }
  // Lingering transactions that left early because of the cap, since the table was made.
  uint64_t left_early() const { return m_left_early; }

private:
  void complete(ServerTransaction& t);
  void link(ServerTransaction& t);
  void unlink(ServerTransaction& t);
  void erase(ServerTransaction& t);
  void give_back(std::string& s) noexcept;
  static void on_timeout(void* arg) noexcept;
  static void on_linger_end(void* arg) noexcept;

  rt::TimerQueue& m_timers;
  Upstream& m_upstream;
  Limits m_limits;
  // Keyed by a view of each transaction's own key (one copy of it, not two).
  using Map = std::unordered_map<std::string_view, std::unique_ptr<ServerTransaction>>;
  Map m_table;
  // Reused so that steady state allocates neither: the nodes of erased entries, the
  // strings completed transactions gave back.
  SpareList<Map::node_type> m_spare_nodes;
  SpareList<std::string> m_spare_strings;
  std::string m_response; // local responses are written here first
  ServerTransaction* m_oldest = nullptr;
  ServerTransaction* m_newest = nullptr;
  size_t m_lingering = 0;
  uint64_t m_left_early = 0;
};

} // namespace cpm::proxy
