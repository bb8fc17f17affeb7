// SQLite behind cpm::store: one shared connection, statements that finalize themselves,
// errors as values naming the file.
#include "cpm/store/sqlite.hpp"

#include <sqlite3.h>

#include <utility>

namespace cpm::store {

struct Connection {
  sqlite3* db = nullptr;
  std::string path;

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Statements hold the connection, so none is left when it closes.
  ~Connection() { sqlite3_close(db); }

  // "reg.db: <what SQLite says>".
  tl::unexpected<Error> error() const { return fail(path + ": " + sqlite3_errmsg(db)); }

  // Run SQL without parameters or rows.
  Result<void> exec(std::string_view sql)
  {
    std::string text(sql); // sqlite3_exec wants a NUL-terminated string
    char* msg = nullptr;
    if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string why = msg ? msg : sqlite3_errmsg(db);
      sqlite3_free(msg);
      return fail(path + ": " + why);
    }
    return {};
  }
};

// ---------------------------------------------------------------------------------------
// Statement

Statement::Statement(std::shared_ptr<Connection> conn, sqlite3_stmt* stmt)
    : m_conn(std::move(conn)), m_stmt(stmt)
{
}

Statement::Statement(Statement&& other) noexcept
    : m_conn(std::move(other.m_conn)), m_stmt(std::exchange(other.m_stmt, nullptr))
{
}

Statement& Statement::operator=(Statement&& other) noexcept
{
  if (this != &other) {
    sqlite3_finalize(m_stmt);
    m_stmt = std::exchange(other.m_stmt, nullptr);
    m_conn = std::move(other.m_conn);
  }
  return *this;
}

Statement::~Statement()
{
  sqlite3_finalize(m_stmt);
}

Statement& Statement::bind(int index, std::string_view value)
{
  sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view value)
{
  if (value.empty()) // a null pointer would bind NULL
    sqlite3_bind_zeroblob(m_stmt, index, 0);
  else
    sqlite3_bind_blob(m_stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  return *this;
}

Statement& Statement::bind(int index, int64_t value)
{
  sqlite3_bind_int64(m_stmt, index, value);
  return *this;
}

Result<bool> Statement::step()
{
  switch (sqlite3_step(m_stmt)) {
  case SQLITE_ROW:
    return true;
  case SQLITE_DONE:
    return false;
  default:
    return m_conn->error();
  }
}

Result<void> Statement::run()
{
  int rc = sqlite3_step(m_stmt);
  // The message before reset: sqlite3_reset() repeats the error but may reword it.
  Result<void> out;
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    out = m_conn->error();
  reset();
  return out;
}

void Statement::reset()
{
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

std::string_view Statement::column_text(int index) const
{
  auto p = sqlite3_column_text(m_stmt, index);
  if (!p)
    return {};
  // sqlite3_column_bytes after sqlite3_column_text: the length of that UTF-8 text.
  return {reinterpret_cast<const char*>(p),
          static_cast<size_t>(sqlite3_column_bytes(m_stmt, index))};
}

int64_t Statement::column_int(int index) const
{
  return sqlite3_column_int64(m_stmt, index);
}

std::string_view Statement::column_blob(int index) const
{
  auto p = sqlite3_column_blob(m_stmt, index);
  if (!p)
    return {};
  // sqlite3_column_bytes after sqlite3_column_blob: the size of that BLOB.
  return {static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(m_stmt, index))};
}

// ---------------------------------------------------------------------------------------
// Database

Database::Database(std::shared_ptr<Connection> conn) : m_conn(std::move(conn)) {}
Database::~Database() = default;

Result<Database> Database::open(const std::string& path)
{
  auto conn = std::make_shared<Connection>();
  conn->path = path;
  if (sqlite3_open(path.c_str(), &conn->db) != SQLITE_OK) {
    if (!conn->db)
      return fail(path + ": out of memory");
    return conn->error();
  }
  sqlite3_busy_timeout(conn->db, 2000);
  Database db(std::move(conn));
  // The first read of a file that is not a database fails here, naming it.
  if (auto r = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !r)
    return tl::unexpected(r.error());
  return db;
}

Result<void> Database::exec(std::string_view sql)
{
  return m_conn->exec(sql);
}

Result<Statement> Database::prepare(std::string_view sql)
{
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(m_conn->db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(stmt);
    return fail(m_conn->path + ": " + sqlite3_errmsg(m_conn->db) + " in \"" + std::string(sql) +
                "\"");
  }
  return Statement(m_conn, stmt);
}

const std::string& Database::path() const
{
  return m_conn->path;
}

// ---------------------------------------------------------------------------------------
// Transaction

Result<Transaction> Transaction::begin(Database& db)
{
  if (auto r = db.exec("BEGIN"); !r)
    return tl::unexpected(r.error());
  return Transaction(db.m_conn);
}

Transaction::Transaction(Transaction&& other) noexcept = default;

Transaction::~Transaction()
{
  if (m_conn)
    (void)m_conn->exec("ROLLBACK");
}

Result<void> Transaction::commit()
{
  if (!m_conn)
    return fail("commit without a transaction");
  auto r = m_conn->exec("COMMIT");
  if (r)
    m_conn.reset();
  return r;
}

} // namespace cpm::store
