// The IWF's durable state: five tables in one SQLite file, every change one committed
// transaction (store/sqlite.hpp: WAL, so a committed change survives a kill -9).
#include "cpm/iw/store.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <utility>

#include "cpm/codec/cpim.hpp"
#include "cpm/sms/reassembly.hpp"
#include "cpm/store/sqlite.hpp"

namespace cpm::iw {

namespace {

constexpr std::string_view k_schema =
    "CREATE TABLE IF NOT EXISTS iw_sms ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, kind TEXT NOT NULL,"
    " src TEXT NOT NULL, dst TEXT NOT NULL, text TEXT NOT NULL, report INTEGER NOT NULL,"
    " sender TEXT NOT NULL, message_id TEXT NOT NULL, datetime TEXT NOT NULL,"
    " positive INTEGER NOT NULL, negative INTEGER NOT NULL, ref TEXT NOT NULL,"
    " state TEXT NOT NULL, submitted INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS iw_part ("
    " sms INTEGER NOT NULL, seq INTEGER NOT NULL, smsc_id TEXT NOT NULL, state TEXT NOT NULL,"
    " PRIMARY KEY (sms, seq));"
    "CREATE INDEX IF NOT EXISTS iw_part_smsc ON iw_part (smsc_id);"
    "CREATE TABLE IF NOT EXISTS iw_cpm ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, ruri TEXT NOT NULL, sender TEXT "
    "NOT NULL,"
    " body BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS iw_in_part ("
    " src TEXT NOT NULL, dst TEXT NOT NULL, ref INTEGER NOT NULL, total INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, user TEXT NOT NULL, text TEXT NOT NULL, report INTEGER NOT NULL,"
    " smsc_id TEXT NOT NULL, created_ms INTEGER NOT NULL, coding INTEGER NOT NULL DEFAULT -1,"
    " payload TEXT NOT NULL DEFAULT '', PRIMARY KEY (src, dst, ref, seq));"
    "CREATE TABLE IF NOT EXISTS iw_seen (key TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS iw_map ("
    " message_id TEXT PRIMARY KEY, sms_from TEXT NOT NULL, user_number TEXT NOT NULL,"
    " smsc_id TEXT NOT NULL, report INTEGER NOT NULL, created_ms INTEGER NOT NULL);";

// Bind each argument in order from 1.
void bind_all(store::Statement&, int) {}
template <class T, class... Rest>
void bind_all(store::Statement& st, int i, const T& v, const Rest&... rest)
{
  if constexpr (std::is_integral_v<T>)
    st.bind(i, int64_t(v));
  else
    st.bind(i, std::string_view(v));
  bind_all(st, i + 1, rest...);
}

} // namespace

struct Store::Impl {
  explicit Impl(store::Database d) : db(std::move(d)) {}
  store::Database db;
  std::map<std::string, store::Statement, std::less<>> cache;

  // The prepared statement of `sql`, kept for the next call.
  Result<store::Statement*> prepared(std::string_view sql)
  {
    auto it = cache.find(sql);
    if (it == cache.end()) {
      auto st = db.prepare(sql);
      if (!st)
        return tl::unexpected(st.error());
      it = cache.emplace(std::string(sql), std::move(*st)).first;
    }
    it->second.reset();
    return &it->second;
  }

  // Run a statement with no rows.
  template <class... A> Result<void> run(std::string_view sql, const A&... args)
  {
    auto st = prepared(sql);
    if (!st)
      return tl::unexpected(st.error());
    bind_all(**st, 1, args...);
    return (*st)->run();
  }

  // The first column of the first row as an integer, nullopt without a row.
  template <class... A> Result<std::optional<int64_t>> one(std::string_view sql, const A&... args)
  {
    auto st = prepared(sql);
    if (!st)
      return tl::unexpected(st.error());
    bind_all(**st, 1, args...);
    auto row = (*st)->step();
    if (!row)
      return tl::unexpected(row.error());
    std::optional<int64_t> v;
    if (*row)
      v = (*st)->column_int(0);
    (*st)->reset();
    return v;
  }

  int64_t last_id() { return one("SELECT last_insert_rowid()")->value_or(0); }

  // At most `max` rows of `sql` (the row's id first, one parameter: now) whose id is not in
  // `skip`, each made a T by `read`.
  template <class Read>
  auto due(std::string_view sql, int64_t now_ms, size_t max, const std::vector<int64_t>& skip,
           Read read) -> Result<std::vector<decltype(read(std::declval<store::Statement&>()))>>
  {
    auto st = prepared(sql);
    if (!st)
      return tl::unexpected(st.error());
    (*st)->bind(1, now_ms);
    std::vector<decltype(read(**st))> out;
    while (out.size() < max) {
      auto row = (*st)->step();
      if (!row)
        return tl::unexpected(row.error());
      if (!*row)
        break;
      const int64_t id = (*st)->column_int(0);
      if (std::find(skip.begin(), skip.end(), id) == skip.end())
        out.push_back(read(**st));
    }
    (*st)->reset();
    return out;
  }
};

Store::Store(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const std::string& Store::path() const
{
  return m->db.path();
}

Result<Store> Store::open(const std::string& path)
{
  auto db = store::Database::open(path);
  if (!db)
    return tl::unexpected(db.error());
  auto locked = [](Error e) {
    if (e.message.find("database is locked") != std::string::npos)
      e.message += " (another cpm-iwf uses this file)";
    return tl::unexpected(std::move(e));
  };
  // One process per file: a second IWF would submit everything twice.
  if (auto r = db->exec("PRAGMA locking_mode=EXCLUSIVE"); !r)
    return locked(r.error());
  if (auto r = db->exec(k_schema); !r)
    return locked(r.error());
  // A store made before parts kept their octets gets the columns (an error says they exist).
  (void)db->exec("ALTER TABLE iw_in_part ADD COLUMN coding INTEGER NOT NULL DEFAULT -1");
  (void)db->exec("ALTER TABLE iw_in_part ADD COLUMN payload TEXT NOT NULL DEFAULT ''");
  if (auto r = db->exec("BEGIN IMMEDIATE; COMMIT;"); !r)
    return locked(r.error());
  return Store(std::make_unique<Impl>(std::move(*db)));
}

// ---- Figure 7 ----

Result<Accepted> Store::accept(const Submission& s, std::string_view src, std::string_view key,
                               int64_t now_ms)
{
  if (!key.empty()) {
    auto dup = m->one("SELECT id FROM iw_sms WHERE key = ?", key);
    if (!dup)
      return tl::unexpected(dup.error());
    if (*dup)
      return Accepted{**dup, false};
    auto seen = m->one("SELECT 1 FROM iw_seen WHERE key = ?", key);
    if (!seen)
      return tl::unexpected(seen.error());
    if (*seen)
      return Accepted{0, false};
  }
  auto r = m->run("INSERT INTO iw_sms (key, kind, src, dst, text, report, sender, message_id, "
                  "datetime, positive, negative, ref, state, next_ms, created_ms) VALUES "
                  "(NULLIF(?, ''), 'message', ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 'queued', ?, ?)",
                  key, src, s.recipient, s.text, int(s.report()), s.sender, s.message_id,
                  s.datetime, int(s.positive), int(s.negative), now_ms, now_ms);
  if (!r)
    return tl::unexpected(r.error());
  return Accepted{m->last_id(), true};
}

namespace {

constexpr std::string_view k_sms_columns =
    "id, kind, src, dst, text, report, sender, message_id, datetime, positive, negative, ref, "
    "state, attempts, next_ms, created_ms";

OutSms read_sms(const store::Statement& st)
{
  OutSms o;
  o.id = st.column_int(0);
  o.kind = st.column_text(1) == "ack" ? OutSms::Kind::Ack : OutSms::Kind::Message;
  o.src = st.column_text(2);
  o.dst = st.column_text(3);
  o.text = st.column_text(4);
  o.report = st.column_int(5) != 0;
  o.sender = st.column_text(6);
  o.message_id = st.column_text(7);
  o.datetime = st.column_text(8);
  o.positive = st.column_int(9) != 0;
  o.negative = st.column_int(10) != 0;
  o.ref = st.column_text(11);
  o.state = st.column_text(12);
  o.attempts = int(st.column_int(13));
  o.next_ms = st.column_int(14);
  o.created_ms = st.column_int(15);
  return o;
}

} // namespace

Result<std::vector<OutSms>> Store::due_sms(int64_t now_ms, size_t max,
                                           const std::vector<int64_t>& skip)
{
  return m->due(fmt::format("SELECT {} FROM iw_sms WHERE submitted = 0 AND next_ms <= ? "
                            "ORDER BY id",
                            k_sms_columns),
                now_ms, max, skip, read_sms);
}

Result<std::optional<int64_t>> Store::next_sms_due()
{
  return m->one("SELECT next_ms FROM iw_sms WHERE submitted = 0 ORDER BY next_ms LIMIT 1");
}

Result<void> Store::submitted(int64_t id, const std::vector<std::string>& smsc_ids)
{
  auto tx = store::Transaction::begin(m->db);
  if (!tx)
    return tl::unexpected(tx.error());
  auto report = m->one("SELECT report FROM iw_sms WHERE id = ? AND kind = 'message'", id);
  if (!report)
    return tl::unexpected(report.error());
  if (*report && **report) {
    if (auto r = m->run("UPDATE iw_sms SET submitted = 1, state = 'submitted' WHERE id = ?", id);
        !r)
      return r;
    int seq = 0;
    for (const auto& sid : smsc_ids)
      if (auto r = m->run("INSERT OR REPLACE INTO iw_part (sms, seq, smsc_id, state) VALUES "
                          "(?, ?, ?, '')",
                          id, ++seq, sid);
          !r)
        return r;
  } else {
    if (auto r = forget(id); !r)
      return r;
  }
  return tx->commit();
}

Result<void> Store::forget(int64_t id)
{
  // Its key is kept a while (iw_seen), so that a late resend is not submitted again.
  if (auto r = m->run("INSERT OR IGNORE INTO iw_seen (key, created_ms) SELECT key, created_ms "
                      "FROM iw_sms WHERE id = ? AND key IS NOT NULL",
                      id);
      !r)
    return r;
  if (auto r = m->run("DELETE FROM iw_part WHERE sms = ?", id); !r)
    return r;
  return m->run("DELETE FROM iw_sms WHERE id = ?", id);
}

Result<std::optional<OutSms>> Store::sms(int64_t id)
{
  auto st = m->prepared(fmt::format("SELECT {} FROM iw_sms WHERE id = ?", k_sms_columns));
  if (!st)
    return tl::unexpected(st.error());
  (*st)->bind(1, id);
  auto row = (*st)->step();
  if (!row)
    return tl::unexpected(row.error());
  std::optional<OutSms> o;
  if (*row)
    o = read_sms(**st);
  (*st)->reset();
  return o;
}

Result<Store::Failure> Store::submit_failed(int64_t id, std::string_view why, int64_t now_ms,
                                            const store::Backoff& b, bool final,
                                            std::string_view now_text)
{
  auto tx = store::Transaction::begin(m->db);
  if (!tx)
    return tl::unexpected(tx.error());
  auto o = sms(id);
  if (!o)
    return tl::unexpected(o.error());
  Failure f;
  if (!*o)
    return f;
  f.retry.attempts = (*o)->attempts + 1;
  auto wait = final ? std::nullopt : b.after(f.retry.attempts);
  if (wait) {
    f.retry.again = true;
    f.retry.at_ms = now_ms + *wait;
    if (auto r = m->run("UPDATE iw_sms SET attempts = ?, next_ms = ? WHERE id = ?",
                        f.retry.attempts, f.retry.at_ms, id);
        !r)
      return tl::unexpected(r.error());
  } else {
    const OutSms& s = **o;
    if (s.kind == OutSms::Kind::Message && s.negative) {
      Submission sub;
      sub.recipient = s.dst;
      sub.sender = s.sender;
      sub.message_id = s.message_id;
      sub.datetime = s.datetime;
      auto q = queue_cpm(OutCpm::Kind::Notification, s.sender, tel_uri(s.dst),
                         notification_for(sub, imdn::Status::Failed, now_text), now_ms);
      if (!q)
        return tl::unexpected(q.error());
      f.notified = *q;
    }
    (void)why;
    if (auto r = forget(id); !r)
      return tl::unexpected(r.error());
  }
  if (auto r = tx->commit(); !r)
    return tl::unexpected(r.error());
  return f;
}

Result<ReceiptOutcome> Store::receipt(std::string_view smsc_id, State state,
                                      std::string_view now_text, int64_t now_ms)
{
  ReceiptOutcome out;
  if (!final(state))
    return out;
  auto tx = store::Transaction::begin(m->db);
  if (!tx)
    return tl::unexpected(tx.error());
  auto id = m->one("SELECT sms FROM iw_part WHERE smsc_id = ? ORDER BY sms DESC LIMIT 1", smsc_id);
  if (!id)
    return tl::unexpected(id.error());
  if (!*id)
    return out;
  out.known = true;
  if (auto r = m->run("UPDATE iw_part SET state = ? WHERE sms = ? AND smsc_id = ?",
                      to_string(state), **id, smsc_id);
      !r)
    return tl::unexpected(r.error());
  auto open = m->one("SELECT count(*) FROM iw_part WHERE sms = ? AND state = ''", **id);
  auto bad = m->one("SELECT count(*) FROM iw_part WHERE sms = ? AND state <> '' AND state <> ?",
                    **id, to_string(State::Delivered));
  if (!open || !bad)
    return tl::unexpected(!open ? open.error() : bad.error());
  auto o = sms(**id);
  if (!o)
    return tl::unexpected(o.error());
  // Done when every part is final, or at once when one failed (the rest cannot make it whole).
  if (!*o || (**open > 0 && **bad == 0)) {
    if (auto r = tx->commit(); !r)
      return tl::unexpected(r.error());
    return out;
  }
  const OutSms& s = **o;
  out.complete = true;
  out.state = **bad > 0 && state == State::Delivered ? State::Undeliverable : state;
  if (**bad > 0 && state == State::Delivered)
    out.state = State::Undeliverable;
  out.sender = s.sender;
  out.message_id = s.message_id;
  const imdn::Status st = imdn_status(out.state);
  if ((st == imdn::Status::Delivered && s.positive) ||
      (st != imdn::Status::Delivered && s.negative)) {
    Submission sub;
    sub.recipient = s.dst;
    sub.sender = s.sender;
    sub.message_id = s.message_id;
    sub.datetime = s.datetime;
    auto q = queue_cpm(OutCpm::Kind::Notification, s.sender, tel_uri(s.dst),
                       notification_for(sub, st, now_text), now_ms);
    if (!q)
      return tl::unexpected(q.error());
    out.notified = *q;
  }
  if (auto r = forget(s.id); !r)
    return tl::unexpected(r.error());
  if (auto r = tx->commit(); !r)
    return tl::unexpected(r.error());
  return out;
}

Result<size_t> Store::awaiting_receipts()
{
  auto n = m->one("SELECT count(*) FROM iw_sms WHERE submitted = 1");
  if (!n)
    return tl::unexpected(n.error());
  return size_t(n->value_or(0));
}

Result<size_t> Store::queued_sms()
{
  auto n = m->one("SELECT count(*) FROM iw_sms WHERE submitted = 0");
  if (!n)
    return tl::unexpected(n.error());
  return size_t(n->value_or(0));
}

// ---- Figure 8 ----

Result<int64_t> Store::queue_cpm(OutCpm::Kind kind, std::string_view ruri, std::string_view from,
                                 std::string_view body, int64_t now_ms)
{
  auto r = m->run("INSERT INTO iw_cpm (kind, ruri, sender, body, next_ms) VALUES (?, ?, ?, ?, ?)",
                  std::string_view(kind == OutCpm::Kind::Message ? "message" : "notification"),
                  ruri, from, body, now_ms);
  if (!r)
    return tl::unexpected(r.error());
  return m->last_id();
}

namespace {

// A part of a concatenated SMS as the store keeps it: its text decoded alone, and (from
// SMPP) its coding and octets in hex.
struct Part {
  std::string text;
  int coding = -1;
  std::string payload;
};

std::string hex(std::span<const uint8_t> b)
{
  std::string out;
  for (uint8_t c : b)
    out += fmt::format("{:02x}", c);
  return out;
}

std::vector<uint8_t> unhex(std::string_view h)
{
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(uint8_t(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

// The text of a concatenated SMS from its parts, each run of missing parts marked "…". Parts
// that kept their octets are put together by sms::Reassembly, so that an escape sequence or
// a surrogate pair a sender split between parts reads whole; parts that came as text (the
// pipe) are joined as they are.
std::string joined(const std::string& src, const std::string& dst, int ref,
                   const std::map<int, Part>& parts, int total)
{
  const bool octets = std::all_of(parts.begin(), parts.end(), [](const auto& kv) {
    return kv.second.coding >= 0 && kv.second.coding <= int(sms::Coding::Binary);
  });
  if (octets && !parts.empty()) {
    sms::Reassembly r(1);
    sms::Assembled done;
    for (const auto& [seq, p] : parts) {
      sms::Fragment f;
      f.from = src;
      f.to = dst;
      f.concat = sms::Concat{uint16_t(ref), uint8_t(total), uint8_t(seq)};
      f.coding = sms::Coding(p.coding);
      f.payload = unhex(p.payload);
      if (r.add(std::move(f), 0, &done) == sms::Added::Complete)
        return done.text;
    }
    auto left = r.expire(1);
    if (!left.empty())
      return left.front().text;
  }
  std::string out;
  bool gap = false;
  for (int i = 1; i <= total; ++i) {
    auto it = parts.find(i);
    if (it == parts.end()) {
      if (!gap)
        out += "\u2026";
      gap = true;
      continue;
    }
    out += it->second.text;
    gap = false;
  }
  return out;
}

} // namespace

Result<Arrival> Store::arrive(const InSms& sms, std::string_view now_text, int64_t now_ms)
{
  Arrival a;
  auto tx = store::Transaction::begin(m->db);
  if (!tx)
    return tl::unexpected(tx.error());
  if (!sms.key.empty()) {
    auto seen = m->one("SELECT 1 FROM iw_seen WHERE key = ?", sms.key);
    if (!seen)
      return tl::unexpected(seen.error());
    if (*seen) {
      a.duplicate = true;
      return a;
    }
    if (auto r = m->run("INSERT INTO iw_seen (key, created_ms) VALUES (?, ?)", sms.key, now_ms); !r)
      return tl::unexpected(r.error());
  }
  std::string text = sms.text;
  if (sms.ref >= 0 && sms.total > 1) {
    auto have = m->one("SELECT 1 FROM iw_in_part WHERE src = ? AND dst = ? AND ref = ? AND seq = ?",
                       sms.src, sms.dst, sms.ref, sms.seq);
    if (!have)
      return tl::unexpected(have.error());
    if (*have) {
      a.duplicate = true;
      if (auto r = tx->commit(); !r)
        return tl::unexpected(r.error());
      return a;
    }
    if (auto r = m->run("INSERT INTO iw_in_part (src, dst, ref, total, seq, user, text, report, "
                        "smsc_id, created_ms, coding, payload) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        sms.src, sms.dst, sms.ref, sms.total, sms.seq, sms.user, sms.text,
                        int(sms.report), sms.smsc_id, now_ms, sms.coding,
                        hex(std::span(reinterpret_cast<const uint8_t*>(sms.payload.data()),
                                      sms.payload.size())));
        !r)
      return tl::unexpected(r.error());
    auto st = m->prepared("SELECT seq, text, coding, payload FROM iw_in_part WHERE src = ? AND "
                          "dst = ? AND ref = ?");
    if (!st)
      return tl::unexpected(st.error());
    bind_all(**st, 1, sms.src, sms.dst, sms.ref);
    std::map<int, Part> parts;
    for (;;) {
      auto row = (*st)->step();
      if (!row)
        return tl::unexpected(row.error());
      if (!*row)
        break;
      parts[int((*st)->column_int(0))] =
          Part{std::string((*st)->column_text(1)), int((*st)->column_int(2)),
               std::string((*st)->column_text(3))};
    }
    (*st)->reset();
    a.parts_held = int(parts.size());
    if (int(parts.size()) < sms.total) {
      if (auto r = tx->commit(); !r)
        return tl::unexpected(r.error());
      return a;
    }
    text = joined(sms.src, sms.dst, sms.ref, parts, sms.total);
    if (auto r = m->run("DELETE FROM iw_in_part WHERE src = ? AND dst = ? AND ref = ?", sms.src,
                        sms.dst, sms.ref);
        !r)
      return tl::unexpected(r.error());
  }
  const std::string mid = imdn::make_message_id();
  auto q = queue_cpm(OutCpm::Kind::Message, sms.user, tel_uri(sms.src),
                     message_for_sms(sms.src, sms.user, text, mid, sms.report, now_text), now_ms);
  if (!q)
    return tl::unexpected(q.error());
  if (auto r = m->run("INSERT OR REPLACE INTO iw_map (message_id, sms_from, user_number, smsc_id, "
                      "report, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                      mid, sms.src, sms.dst, sms.smsc_id, int(sms.report), now_ms);
      !r)
    return tl::unexpected(r.error());
  if (auto r = tx->commit(); !r)
    return tl::unexpected(r.error());
  a.complete = true;
  a.queued = *q;
  return a;
}

Result<std::vector<int64_t>> Store::expire_parts(int64_t before_ms, std::string_view now_text,
                                                 int64_t now_ms)
{
  std::vector<int64_t> out;
  struct Key {
    std::string src, dst;
    int64_t ref;
  };
  std::vector<Key> old;
  {
    auto st = m->prepared("SELECT src, dst, ref FROM iw_in_part GROUP BY src, dst, ref "
                          "HAVING min(created_ms) < ?");
    if (!st)
      return tl::unexpected(st.error());
    (*st)->bind(1, before_ms);
    for (;;) {
      auto row = (*st)->step();
      if (!row)
        return tl::unexpected(row.error());
      if (!*row)
        break;
      old.push_back({std::string((*st)->column_text(0)), std::string((*st)->column_text(1)),
                     (*st)->column_int(2)});
    }
    (*st)->reset();
  }
  for (const auto& k : old) {
    auto tx = store::Transaction::begin(m->db);
    if (!tx)
      return tl::unexpected(tx.error());
    auto st = m->prepared("SELECT seq, text, total, user, report, smsc_id, coding, payload FROM "
                          "iw_in_part WHERE src = ? AND dst = ? AND ref = ?");
    if (!st)
      return tl::unexpected(st.error());
    bind_all(**st, 1, k.src, k.dst, k.ref);
    std::map<int, Part> parts;
    int total = 1;
    std::string user, smsc_id;
    bool report = false;
    for (;;) {
      auto row = (*st)->step();
      if (!row)
        return tl::unexpected(row.error());
      if (!*row)
        break;
      parts[int((*st)->column_int(0))] =
          Part{std::string((*st)->column_text(1)), int((*st)->column_int(6)),
               std::string((*st)->column_text(7))};
      total = int((*st)->column_int(2));
      user = (*st)->column_text(3);
      report = (*st)->column_int(4) != 0;
      smsc_id = (*st)->column_text(5);
    }
    (*st)->reset();
    if (auto r = m->run("DELETE FROM iw_in_part WHERE src = ? AND dst = ? AND ref = ?", k.src,
                        k.dst, k.ref);
        !r)
      return tl::unexpected(r.error());
    const std::string mid = imdn::make_message_id();
    auto q = queue_cpm(OutCpm::Kind::Message, user, tel_uri(k.src),
                       message_for_sms(k.src, user, joined(k.src, k.dst, int(k.ref), parts, total),
                                       mid, report, now_text),
                       now_ms);
    if (!q)
      return tl::unexpected(q.error());
    if (auto r = m->run("INSERT OR REPLACE INTO iw_map (message_id, sms_from, user_number, "
                        "smsc_id, report, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                        mid, k.src, k.dst, smsc_id, int(report), now_ms);
        !r)
      return tl::unexpected(r.error());
    if (auto r = tx->commit(); !r)
      return tl::unexpected(r.error());
    out.push_back(*q);
  }
  return out;
}

Result<std::optional<SentForSms>> Store::sent_for_sms(std::string_view message_id)
{
  auto st =
      m->prepared("SELECT sms_from, user_number, smsc_id, report FROM iw_map WHERE message_id = ?");
  if (!st)
    return tl::unexpected(st.error());
  (*st)->bind(1, message_id);
  auto row = (*st)->step();
  if (!row)
    return tl::unexpected(row.error());
  std::optional<SentForSms> s;
  if (*row)
    s = SentForSms{std::string(message_id), std::string((*st)->column_text(0)),
                   std::string((*st)->column_text(1)), std::string((*st)->column_text(2)),
                   (*st)->column_int(3) != 0};
  (*st)->reset();
  return s;
}

Result<std::optional<int64_t>> Store::queue_ack(const Notice& n, int64_t now_ms)
{
  auto s = sent_for_sms(n.imdn.message_id);
  if (!s)
    return tl::unexpected(s.error());
  std::optional<int64_t> out;
  if (!*s || n.imdn.kind != imdn::Kind::Delivery)
    return out;
  if ((*s)->report) {
    const bool ok = imdn::positive(n.imdn.status);
    auto r = m->run("INSERT INTO iw_sms (key, kind, src, dst, text, report, sender, message_id, "
                    "datetime, positive, negative, ref, state, next_ms, created_ms) VALUES "
                    "(NULL, 'ack', ?, ?, '', 0, ?, ?, '', 0, 0, ?, ?, ?, ?)",
                    (*s)->user_number, (*s)->sms_from, n.from, n.imdn.message_id, (*s)->smsc_id,
                    std::string_view(ok ? "DELIVRD" : "UNDELIV"), now_ms, now_ms);
    if (!r)
      return tl::unexpected(r.error());
    out = m->last_id();
  }
  if (auto r = m->run("DELETE FROM iw_map WHERE message_id = ?", n.imdn.message_id); !r)
    return tl::unexpected(r.error());
  return out;
}

Result<std::optional<int64_t>> Store::acknowledge(const Notice& n, int64_t now_ms)
{
  auto tx = store::Transaction::begin(m->db);
  if (!tx)
    return tl::unexpected(tx.error());
  auto out = queue_ack(n, now_ms);
  if (!out)
    return out;
  if (auto r = tx->commit(); !r)
    return tl::unexpected(r.error());
  return out;
}

Result<void> Store::purge_seen(int64_t before_ms)
{
  return m->run("DELETE FROM iw_seen WHERE created_ms < ?", before_ms);
}

// ---- the SIP queue ----

Result<std::vector<OutCpm>> Store::due_cpm(int64_t now_ms, size_t max,
                                           const std::vector<int64_t>& skip)
{
  return m->due("SELECT id, kind, ruri, sender, body, attempts, next_ms FROM iw_cpm "
                "WHERE next_ms <= ? ORDER BY id",
                now_ms, max, skip, [](const store::Statement& st) {
                  OutCpm o;
                  o.id = st.column_int(0);
                  o.kind = st.column_text(1) == "message" ? OutCpm::Kind::Message
                                                          : OutCpm::Kind::Notification;
                  o.ruri = st.column_text(2);
                  o.from = st.column_text(3);
                  o.body = st.column_blob(4);
                  o.attempts = int(st.column_int(5));
                  o.next_ms = st.column_int(6);
                  return o;
                });
}

Result<std::optional<int64_t>> Store::next_cpm_due()
{
  return m->one("SELECT next_ms FROM iw_cpm ORDER BY next_ms LIMIT 1");
}

Result<void> Store::cpm_done(int64_t id)
{
  return m->run("DELETE FROM iw_cpm WHERE id = ?", id);
}

Result<CpmRetry> Store::cpm_failed(int64_t id, int64_t now_ms, const store::Backoff& b, bool final)
{
  auto n = m->one("SELECT attempts FROM iw_cpm WHERE id = ?", id);
  if (!n)
    return tl::unexpected(n.error());
  CpmRetry r;
  if (!*n)
    return r;
  r.attempts = int(**n) + 1;
  auto wait = final ? std::nullopt : b.after(r.attempts);
  if (!wait) {
    // Given up. A CPM Message made from an SMS that asked for a status report: its sender
    // gets an SME delivery acknowledgement saying UNDELIV, in the same transaction.
    auto tx = store::Transaction::begin(m->db);
    if (!tx)
      return tl::unexpected(tx.error());
    auto st = m->prepared("SELECT kind, body, ruri FROM iw_cpm WHERE id = ?");
    if (!st)
      return tl::unexpected(st.error());
    (*st)->bind(1, id);
    std::string kind, body, user;
    if (auto row = (*st)->step(); !row)
      return tl::unexpected(row.error());
    else if (*row) {
      kind = (*st)->column_text(0);
      body = (*st)->column_blob(1);
      user = (*st)->column_text(2);
    }
    (*st)->reset();
    if (kind == "message")
      if (auto c = cpim::decode(body))
        if (auto mid = c->get_ns(cpim::k_imdn_ns, "Message-ID")) {
          Notice gone;
          gone.from = user;
          gone.imdn.message_id = *mid;
          gone.imdn.kind = imdn::Kind::Delivery;
          gone.imdn.status = imdn::Status::Failed;
          auto q = queue_ack(gone, now_ms);
          if (!q)
            return tl::unexpected(q.error());
          r.acknowledged = q->has_value();
        }
    if (auto d = cpm_done(id); !d)
      return tl::unexpected(d.error());
    if (auto c = tx->commit(); !c)
      return tl::unexpected(c.error());
    return r;
  }
  r.again = true;
  r.at_ms = now_ms + *wait;
  if (auto u = m->run("UPDATE iw_cpm SET attempts = ?, next_ms = ? WHERE id = ?", r.attempts,
                      r.at_ms, id);
      !u)
    return tl::unexpected(u.error());
  return r;
}

} // namespace cpm::iw
