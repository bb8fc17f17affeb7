#pragma once
// A durable outbox: items accepted for delivery (an owner, the caller's metadata and a
// payload), each with one delivery per destination that is pending until it is delivered,
// retried with a bounded backoff, or finally failed and its owner told. Committed to SQLite
// before the caller says "accepted", so that a restart resumes every pending delivery. The
// group pager of cpm-groupd keeps its fan-outs here; an SMS interworking function can keep
// its queue the same way. Time is the caller's (unix milliseconds), so tests need no clock.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/store/sqlite.hpp"

namespace cpm::store {

// How often and how long to wait: `attempts` in all (the first included), the second
// `first_ms` after the first failed, each wait twice the one before, never over `max_ms`.
struct Backoff {
  int attempts = 5;
  int64_t first_ms = 2000;
  int64_t max_ms = 300000;
  // The wait after `failed` failed attempts (1 after the first), or none when no attempt is
  // left.
  std::optional<int64_t> after(int failed) const;
};

// Where a delivery stands. A delivered one, or a failed one whose owner was told, is
// removed (and its item with the last of them).
enum class DeliveryState : uint8_t {
  Pending, // to be attempted at `next_ms` (or now, when that is past)
  Failed,  // no attempt left: its owner must still be told
};

// One item accepted for delivery.
struct Item {
  int64_t id = 0;
  std::string owner;   // whom the item is delivered for (told when a delivery fails)
  std::string meta;    // the caller's own few words about it (cpm-groupd: the group URI)
  std::string payload; // what is delivered, bytes
  int64_t created_ms = 0;
};

// One destination of an item.
struct Delivery {
  int64_t item = 0;
  std::string destination;
  DeliveryState state = DeliveryState::Pending;
  int attempts = 0;    // failed attempts so far
  int64_t next_ms = 0; // not before this time (unix ms)
  std::string last_error;
};

// What a failed attempt leads to: another attempt at `at_ms`, or none (Failed).
struct Retry {
  bool again = false;
  int64_t at_ms = 0;
  int attempts = 0; // failed attempts so far, this one included
};

class Outbox {
public:
  // The outbox in the SQLite file `path` (":memory:" for one that ends with the process),
  // its tables created if missing.
  static Result<Outbox> open(const std::string& path);
  Outbox(Outbox&&) noexcept;
  Outbox& operator=(Outbox&&) noexcept;
  ~Outbox();

  // Store an item and one pending delivery per distinct destination, due at `now_ms`, in
  // one transaction committed and synced to disk; its id.
  Result<int64_t> add(std::string_view owner, std::string_view meta, std::string_view payload,
                      const std::vector<std::string>& destinations, int64_t now_ms);
  // The item `id`; an error when there is none.
  Result<Item> item(int64_t id);
  // Every delivery still open (pending or failed), oldest item first: what a restart resumes.
  Result<std::vector<Delivery>> open_deliveries();
  // The delivery has been delivered: removed.
  Result<void> delivered(int64_t item, std::string_view destination);
  // An attempt failed (`why`): counted; pending again after the backoff, or Failed when
  // `backoff` allows no more attempts (or `final`: the failure is permanent).
  Result<Retry> failed(int64_t item, std::string_view destination, std::string_view why,
                       int64_t now_ms, const Backoff& backoff, bool final = false);
  // The owner of a Failed delivery has been told: removed.
  Result<void> reported(int64_t item, std::string_view destination);
  // Open deliveries and the items they belong to.
  Result<size_t> open_count();
  Result<size_t> item_count();
  // The file as given to open().
  const std::string& path() const;
  // The secret called `name` kept in this file (store::keep_secret): the outbox holds its
  // file exclusively, so a server's other secrets live in it through here.
  Result<std::string> secret(std::string_view name, std::string_view fresh);

private:
  struct Impl;
  explicit Outbox(std::unique_ptr<Impl> impl);
  Result<void> remove(int64_t item, std::string_view destination);
  Result<int64_t> add_item(std::string_view owner, std::string_view meta, std::string_view payload,
                           const std::vector<std::string>& destinations, int64_t now_ms);
  std::unique_ptr<Impl> m;
};

} // namespace cpm::store
