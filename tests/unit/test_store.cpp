#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cpm/store/secret.hpp"
#include "cpm/store/sqlite.hpp"
#include "temp_dir.hpp"

using cpm::store::Database;
using cpm::store::Statement;
using cpm::store::Transaction;

namespace {

// A fresh directory for this file's tests.
struct TempDir : cpm::test::TempDir {
  TempDir() : cpm::test::TempDir("cpm-store") {}
};

// The rows of "SELECT k, n FROM t ORDER BY n" as "k=n".
std::vector<std::string> rows(Database& db)
{
  std::vector<std::string> out;
  auto q = db.prepare("SELECT k, n FROM t ORDER BY n");
  REQUIRE(q);
  cpm::Result<bool> row;
  while ((row = q->step()) && *row)
    out.push_back(std::string(q->column_text(0)) + "=" + std::to_string(q->column_int(1)));
  REQUIRE(row);
  return out;
}

} // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("store::Database keeps rows in a file across a reopen")
{
  TempDir dir;
  const std::string path = (dir.path / "t.db").string();
  {
    auto db = Database::open(path);
    REQUIRE(db);
    CHECK(db->path() == path);
    REQUIRE(db->exec("CREATE TABLE t (k TEXT NOT NULL, n INTEGER NOT NULL);"));
    auto put = db->prepare("INSERT INTO t VALUES (?, ?)");
    REQUIRE(put);
    std::string key = "alice";
    CHECK(put->bind(1, key).bind(2, int64_t{1}).run());
    // run() resets: the statement runs again with new bindings.
    CHECK(put->bind(1, "bob").bind(2, int64_t{5000000000}).run());
    CHECK(put->bind(1, std::string_view("with\0nul", 8)).bind(2, int64_t{-3}).run());
    CHECK(rows(*db) ==
          std::vector<std::string>{std::string("with\0nul=-3", 11), "alice=1", "bob=5000000000"});
  }
  auto again = Database::open(path);
  REQUIRE(again);
  CHECK(rows(*again).size() == 3);
  SUBCASE("a NULL column reads as empty text and zero")
  {
    auto q = again->prepare("SELECT NULL, NULL");
    REQUIRE(q);
    auto row = q->step();
    REQUIRE(row);
    REQUIRE(*row);
    CHECK(q->column_text(0).empty());
    CHECK(q->column_int(1) == 0);
    auto done = q->step();
    REQUIRE(done);
    CHECK_FALSE(*done);
  }
  SUBCASE("a statement outlives a moved database")
  {
    auto q = again->prepare("SELECT count(*) FROM t");
    REQUIRE(q);
    Database moved = std::move(*again);
    auto row = q->step();
    REQUIRE(row);
    CHECK(q->column_int(0) == 3);
  }
}

TEST_CASE("store::Transaction commits or rolls back")
{
  TempDir dir;
  auto db = Database::open((dir.path / "t.db").string());
  REQUIRE(db);
  REQUIRE(db->exec("CREATE TABLE t (k TEXT, n INTEGER);"));
  auto put = db->prepare("INSERT INTO t VALUES (?, ?)");
  REQUIRE(put);
  {
    auto tx = Transaction::begin(*db);
    REQUIRE(tx);
    CHECK(put->bind(1, "kept").bind(2, int64_t{1}).run());
    CHECK(tx->commit());
  }
  {
    auto tx = Transaction::begin(*db);
    REQUIRE(tx);
    CHECK(put->bind(1, "dropped").bind(2, int64_t{2}).run());
  } // no commit: rolled back
  CHECK(rows(*db) == std::vector<std::string>{"kept=1"});
}

TEST_CASE("store errors are values that name the file")
{
  TempDir dir;
  SUBCASE("a path in a missing directory")
  {
    auto db = Database::open((dir.path / "no-such-dir" / "x.db").string());
    REQUIRE_FALSE(db);
    CHECK(db.error().message.find("no-such-dir/x.db: ") != std::string::npos);
  }
  SUBCASE("a file that is not a database")
  {
    auto junk = (dir.path / "junk.db").string();
    FILE* f = fopen(junk.c_str(), "w");
    REQUIRE(f);
    fputs("this is not an sqlite database, just some text long enough to have a header", f);
    fclose(f);
    auto db = Database::open(junk);
    REQUIRE_FALSE(db);
    CHECK(db.error().message.rfind(junk + ": ", 0) == 0);
  }
  SUBCASE("bad SQL and a failing step")
  {
    const std::string path = (dir.path / "t.db").string();
    auto db = Database::open(path);
    REQUIRE(db);
    auto bad = db->prepare("SELEC 1");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.rfind(path + ": ", 0) == 0);
    CHECK(bad.error().message.find("SELEC 1") != std::string::npos);
    CHECK_FALSE(db->exec("CREATE TABLE"));
    REQUIRE(db->exec("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL);"));
    auto put = db->prepare("INSERT INTO t VALUES (?, ?)");
    REQUIRE(put);
    REQUIRE(put->bind(1, "a").bind(2, int64_t{1}).run());
    auto dup = put->bind(1, "a").bind(2, int64_t{2}).run();
    REQUIRE_FALSE(dup);
    CHECK(dup.error().message.rfind(path + ": ", 0) == 0);
    CHECK(dup.error().message.find("UNIQUE") != std::string::npos);
    // The statement is usable again after a failure.
    CHECK(put->bind(1, "b").bind(2, int64_t{2}).run());
    auto null = put->bind(1, "c").run(); // n stays unbound: NOT NULL fails
    REQUIRE_FALSE(null);
    CHECK(null.error().message.find("NOT NULL") != std::string::npos);
  }
}

TEST_CASE("store::keep_secret stores a secret once and reads it back after a reopen")
{
  TempDir dir;
  auto path = (dir.path / "reg.db").string();
  {
    auto db = Database::open(path);
    REQUIRE(db);
    auto first = cpm::store::keep_secret(*db, "branch", "s1");
    REQUIRE(first);
    CHECK(*first == "s1");
    auto again = cpm::store::keep_secret(*db, "branch", "s2"); // a restart's fresh draw
    REQUIRE(again);
    CHECK(*again == "s1");
    auto other = cpm::store::keep_secret(*db, "other", "o1");
    REQUIRE(other);
    CHECK(*other == "o1");
  }
  auto db = Database::open(path);
  REQUIRE(db);
  auto kept = cpm::store::keep_secret(*db, "branch", "s3");
  REQUIRE(kept);
  CHECK(*kept == "s1");
}

TEST_SUITE_END();
