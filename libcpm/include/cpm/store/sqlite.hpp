#pragma once
// A small owner of an SQLite database file and its prepared statements: durable state
// (the location service's bindings, later the IWF's queue). Every failure is an Error
// whose message starts with the file's name. <sqlite3.h> stays in sqlite.cpp.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace cpm::store {

// The open connection a Database and its statements share (closed after the last of them).
struct Connection;

// One prepared statement; finalized when it goes out of scope. Parameters count from 1,
// columns from 0, as in SQLite.
class Statement {
public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Bind text without copying it: `value` must stay alive until the statement is reset
  // (`run` and `reset` do it).
  Statement& bind(int index, std::string_view value);
  // Bind bytes as a BLOB, without copying them (alive until the reset, as text).
  Statement& bind_blob(int index, std::string_view value);
  // Bind an integer.
  Statement& bind(int index, int64_t value);
  // One step: true when a row is ready for the column helpers, false when done.
  Result<bool> step();
  // Step to completion (a statement with no rows), then reset and clear the bindings.
  Result<void> run();
  // Make the statement ready to run again and clear its bindings.
  void reset();
  // A column of the current row: "" / 0 for NULL. The text lives until the next step.
  std::string_view column_text(int index) const;
  int64_t column_int(int index) const;
  // A BLOB column's bytes (any NUL included); they live until the next step.
  std::string_view column_blob(int index) const;
  // False for a moved-from or default-constructed statement.
  explicit operator bool() const { return m_stmt != nullptr; }

private:
  friend class Database;
  Statement(std::shared_ptr<Connection> conn, sqlite3_stmt* stmt);
  std::shared_ptr<Connection> m_conn;
  sqlite3_stmt* m_stmt = nullptr;
};

// An SQLite database file.
class Database {
public:
  // Open (creating it if missing) with a write-ahead log, synchronous=NORMAL and a 2 s busy
  // timeout, so that another process reading the file does not fail a write.
  static Result<Database> open(const std::string& path);
  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Run SQL without parameters or rows (a schema; several statements separated by ';').
  Result<void> exec(std::string_view sql);
  // Prepare one statement; an error names the file and quotes the SQL.
  Result<Statement> prepare(std::string_view sql);
  // The path as given to open().
  const std::string& path() const;

private:
  friend class Transaction;
  explicit Database(std::shared_ptr<Connection> conn);
  std::shared_ptr<Connection> m_conn;
};

// BEGIN on construction; ROLLBACK at scope exit unless commit() succeeded.
class Transaction {
public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Result<void> commit();

private:
  explicit Transaction(std::shared_ptr<Connection> conn) : m_conn(std::move(conn)) {}
  std::shared_ptr<Connection> m_conn; // null once committed or moved from
};

} // namespace cpm::store
