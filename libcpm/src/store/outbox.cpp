// The durable outbox: two tables in one SQLite file, every change one committed transaction.
#include "cpm/store/outbox.hpp"
#include "cpm/store/secret.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace cpm::store {

std::optional<int64_t> Backoff::after(int failed) const
{
  if (failed >= attempts)
    return std::nullopt;
  int64_t wait = std::max<int64_t>(first_ms, 0);
  for (int i = 1; i < failed && wait < max_ms; ++i)
    wait *= 2;
  return std::min(wait, max_ms);
}

namespace {

constexpr std::string_view k_schema = "CREATE TABLE IF NOT EXISTS outbox_item ("
                                      " id INTEGER PRIMARY KEY,"
                                      " owner TEXT NOT NULL,"
                                      " meta TEXT NOT NULL,"
                                      " payload BLOB NOT NULL,"
                                      " created_ms INTEGER NOT NULL);"
                                      "CREATE TABLE IF NOT EXISTS outbox_delivery ("
                                      " item INTEGER NOT NULL,"
                                      " destination TEXT NOT NULL,"
                                      " state TEXT NOT NULL,"
                                      " attempts INTEGER NOT NULL,"
                                      " next_ms INTEGER NOT NULL,"
                                      " last_error TEXT NOT NULL,"
                                      " PRIMARY KEY (item, destination));";

std::string_view state_name(DeliveryState s)
{
  return s == DeliveryState::Failed ? "failed" : "pending";
}

} // namespace

struct Outbox::Impl {
  explicit Impl(Database d) : db(std::move(d)) {}
  Database db;
  Statement put_item, put_delivery, get_item, list, get_delivery, set_delivery, del_delivery,
      del_item, count_open, count_items;
};

Outbox::Outbox(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
Outbox::Outbox(Outbox&&) noexcept = default;
Outbox& Outbox::operator=(Outbox&&) noexcept = default;
Outbox::~Outbox() = default;

Result<Outbox> Outbox::open(const std::string& path)
{
  // SQLite's "database is locked", said for an outbox.
  auto locked = [](Error e) {
    if (e.message.find("database is locked") != std::string::npos)
      e.message += " (another server uses this outbox)";
    return tl::unexpected(std::move(e));
  };
  auto db = Database::open(path);
  if (!db)
    return locked(db.error());
  // One process per outbox: a second server on the same file would deliver everything
  // twice. The exclusive lock is taken by the first write and held until the file is closed
  // (a killed process's locks go with it).
  if (auto r = db->exec("PRAGMA locking_mode=EXCLUSIVE"); !r)
    return locked(r.error());
  if (auto r = db->exec(k_schema); !r)
    return locked(r.error());
  if (auto r = db->exec("BEGIN IMMEDIATE; COMMIT;"); !r)
    return locked(r.error());
  auto impl = std::make_unique<Impl>(std::move(*db));
  struct {
    Statement* out;
    std::string_view sql;
  } statements[] = {
      {&impl->put_item, "INSERT INTO outbox_item (owner, meta, payload, created_ms) "
                        "VALUES (?, ?, ?, ?) RETURNING id"},
      {&impl->put_delivery, "INSERT OR IGNORE INTO outbox_delivery (item, destination, state, "
                            "attempts, next_ms, last_error) VALUES (?, ?, 'pending', 0, ?, '')"},
      {&impl->get_item, "SELECT owner, meta, payload, created_ms FROM outbox_item WHERE id = ?"},
      {&impl->list, "SELECT item, destination, state, attempts, next_ms, last_error "
                    "FROM outbox_delivery ORDER BY item, rowid"},
      {&impl->get_delivery, "SELECT attempts FROM outbox_delivery WHERE item = ? AND "
                            "destination = ?"},
      {&impl->set_delivery, "UPDATE outbox_delivery SET state = ?, attempts = ?, next_ms = ?, "
                            "last_error = ? WHERE item = ? AND destination = ?"},
      {&impl->del_delivery, "DELETE FROM outbox_delivery WHERE item = ? AND destination = ?"},
      {&impl->del_item, "DELETE FROM outbox_item WHERE id = ? AND NOT EXISTS (SELECT 1 FROM "
                        "outbox_delivery WHERE item = ?)"},
      {&impl->count_open, "SELECT count(*) FROM outbox_delivery"},
      {&impl->count_items, "SELECT count(*) FROM outbox_item"},
  };
  for (auto& s : statements) {
    auto st = impl->db.prepare(s.sql);
    if (!st)
      return tl::unexpected(st.error());
    *s.out = std::move(*st);
  }
  return Outbox(std::move(impl));
}

Result<std::string> Outbox::secret(std::string_view name, std::string_view fresh)
{
  return keep_secret(m->db, name, fresh);
}

const std::string& Outbox::path() const
{
  return m->db.path();
}

Result<int64_t> Outbox::add(std::string_view owner, std::string_view meta, std::string_view payload,
                            const std::vector<std::string>& destinations, int64_t now_ms)
{
  // The caller answers 2xx/202 on success: this commit is synced to disk (power loss
  // too), while later updates are only ordered (a lost mark means a resend, not a loss).
  if (auto r = m->db.exec("PRAGMA synchronous=FULL"); !r)
    return tl::unexpected(r.error());
  auto added = add_item(owner, meta, payload, destinations, now_ms);
  if (auto r = m->db.exec("PRAGMA synchronous=NORMAL"); !r && added)
    return tl::unexpected(r.error());
  return added;
}

Result<int64_t> Outbox::add_item(std::string_view owner, std::string_view meta,
                                 std::string_view payload,
                                 const std::vector<std::string>& destinations, int64_t now_ms)
{
  auto txn = Transaction::begin(m->db);
  if (!txn)
    return tl::unexpected(txn.error());
  Statement& put = m->put_item;
  put.bind(1, owner).bind(2, meta).bind_blob(3, payload).bind(4, now_ms);
  auto row = put.step();
  const int64_t id = row && *row ? put.column_int(0) : 0;
  if (row) // step to the end, so that the INSERT is complete
    row = put.step();
  put.reset();
  if (!row)
    return tl::unexpected(row.error());
  if (id == 0)
    return fail(path() + ": no id for the new item");
  for (const auto& d : destinations) {
    m->put_delivery.bind(1, id).bind(2, d).bind(3, now_ms);
    if (auto r = m->put_delivery.run(); !r)
      return tl::unexpected(r.error());
  }
  if (auto r = txn->commit(); !r)
    return tl::unexpected(r.error());
  return id;
}

Result<Item> Outbox::item(int64_t id)
{
  Statement& q = m->get_item;
  q.bind(1, id);
  auto row = q.step();
  if (!row) {
    q.reset();
    return tl::unexpected(row.error());
  }
  if (!*row) {
    q.reset();
    return fail(fmt::format("{}: no item {}", path(), id));
  }
  Item it;
  it.id = id;
  it.owner = q.column_text(0);
  it.meta = q.column_text(1);
  it.payload = q.column_blob(2);
  it.created_ms = q.column_int(3);
  q.reset();
  return it;
}

Result<std::vector<Delivery>> Outbox::open_deliveries()
{
  std::vector<Delivery> out;
  Statement& q = m->list;
  Result<bool> row;
  while ((row = q.step()) && *row) {
    Delivery d;
    d.item = q.column_int(0);
    d.destination = q.column_text(1);
    d.state = q.column_text(2) == "failed" ? DeliveryState::Failed : DeliveryState::Pending;
    d.attempts = static_cast<int>(q.column_int(3));
    d.next_ms = q.column_int(4);
    d.last_error = q.column_text(5);
    out.push_back(std::move(d));
  }
  q.reset();
  if (!row)
    return tl::unexpected(row.error());
  return out;
}

Result<void> Outbox::remove(int64_t item, std::string_view destination)
{
  auto txn = Transaction::begin(m->db);
  if (!txn)
    return tl::unexpected(txn.error());
  m->del_delivery.bind(1, item).bind(2, destination);
  if (auto r = m->del_delivery.run(); !r)
    return r;
  m->del_item.bind(1, item).bind(2, item);
  if (auto r = m->del_item.run(); !r)
    return r;
  return txn->commit();
}

Result<void> Outbox::delivered(int64_t item, std::string_view destination)
{
  return remove(item, destination);
}

Result<void> Outbox::reported(int64_t item, std::string_view destination)
{
  return remove(item, destination);
}

Result<Retry> Outbox::failed(int64_t item, std::string_view destination, std::string_view why,
                             int64_t now_ms, const Backoff& backoff, bool final)
{
  Statement& q = m->get_delivery;
  q.bind(1, item).bind(2, destination);
  auto row = q.step();
  int attempts = row && *row ? static_cast<int>(q.column_int(0)) : -1;
  q.reset();
  if (!row)
    return tl::unexpected(row.error());
  if (attempts < 0)
    return fail(fmt::format("{}: no delivery of item {} to {}", path(), item, destination));
  Retry r;
  r.attempts = attempts + 1;
  auto wait = final ? std::nullopt : backoff.after(r.attempts);
  r.again = wait.has_value();
  r.at_ms = r.again ? now_ms + *wait : now_ms;
  const DeliveryState state = r.again ? DeliveryState::Pending : DeliveryState::Failed;
  m->set_delivery.bind(1, state_name(state))
      .bind(2, int64_t(r.attempts))
      .bind(3, r.at_ms)
      .bind(4, why)
      .bind(5, item)
      .bind(6, destination);
  if (auto w = m->set_delivery.run(); !w)
    return tl::unexpected(w.error());
  return r;
}

namespace {

Result<size_t> count(Statement& q)
{
  auto row = q.step();
  size_t n = row && *row ? static_cast<size_t>(q.column_int(0)) : 0;
  q.reset();
  if (!row)
    return tl::unexpected(row.error());
  return n;
}

} // namespace

Result<size_t> Outbox::open_count()
{
  return count(m->count_open);
}

Result<size_t> Outbox::item_count()
{
  return count(m->count_items);
}

} // namespace cpm::store
