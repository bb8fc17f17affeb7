#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cpm/store/outbox.hpp"
#include "temp_dir.hpp"

using cpm::store::Backoff;
using cpm::store::Delivery;
using cpm::store::DeliveryState;
using cpm::store::Outbox;

namespace {

// A fresh directory for this file's tests.
struct TempDir : cpm::test::TempDir {
  TempDir() : cpm::test::TempDir("cpm-outbox") {}
};

// The open deliveries as "item:destination:state:attempts:next_ms".
std::vector<std::string> open_of(Outbox& box)
{
  auto all = box.open_deliveries();
  REQUIRE(all);
  std::vector<std::string> out;
  for (const Delivery& d : *all)
    out.push_back(std::to_string(d.item) + ":" + d.destination + ":" +
                  (d.state == DeliveryState::Failed ? "failed" : "pending") + ":" +
                  std::to_string(d.attempts) + ":" + std::to_string(d.next_ms));
  return out;
}

} // namespace

TEST_SUITE_BEGIN("store");

TEST_CASE("store::Backoff doubles from first_ms, capped, for a bounded number of attempts")
{
  Backoff b{4, 1000, 3000};
  CHECK(b.after(1) == 1000);
  CHECK(b.after(2) == 2000);
  CHECK(b.after(3) == 3000); // 4000 capped
  CHECK_FALSE(b.after(4));   // the fourth attempt was the last
  CHECK_FALSE(b.after(9));
  SUBCASE("one attempt: never again")
  {
    Backoff once{1, 1000, 3000};
    CHECK_FALSE(once.after(1));
  }
  SUBCASE("many attempts do not overflow the cap")
  {
    Backoff many{1000, 2000, 300000};
    CHECK(many.after(999) == 300000);
  }
}

TEST_CASE("store::Outbox keeps an item and its deliveries across a reopen")
{
  TempDir dir;
  const std::string path = (dir.path / "outbox.db").string();
  const std::string payload = std::string("CPIM\0with a NUL", 15);
  int64_t id = 0;
  {
    auto box = Outbox::open(path);
    REQUIRE(box);
    CHECK(box->path() == path);
    auto added = box->add("sip:alice@a.example", "sip:friends@x.example", payload,
                          {"sip:bob@b.example", "sip:carol@b.example", "sip:bob@b.example"}, 1000);
    REQUIRE(added);
    id = *added;
    CHECK(box->open_count() == size_t(2)); // the duplicate destination once
  }
  // As after a kill -9: nothing but what was committed.
  std::optional<Outbox> box;
  {
    auto reopened = Outbox::open(path);
    REQUIRE(reopened);
    box.emplace(std::move(*reopened));
  }
  auto it = box->item(id);
  REQUIRE(it);
  CHECK(it->owner == "sip:alice@a.example");
  CHECK(it->meta == "sip:friends@x.example");
  CHECK(it->payload == payload);
  CHECK(it->created_ms == 1000);
  CHECK(open_of(*box) ==
        std::vector<std::string>{std::to_string(id) + ":sip:bob@b.example:pending:0:1000",
                                 std::to_string(id) + ":sip:carol@b.example:pending:0:1000"});

  SUBCASE("delivered deliveries go, and the item with the last of them")
  {
    REQUIRE(box->delivered(id, "sip:bob@b.example"));
    CHECK(box->open_count() == size_t(1));
    CHECK(box->item_count() == size_t(1));
    REQUIRE(box->delivered(id, "sip:carol@b.example"));
    CHECK(box->open_count() == size_t(0));
    CHECK(box->item_count() == size_t(0));
    CHECK_FALSE(box->item(id));
  }
  SUBCASE("a failed attempt is retried after the backoff, then fails for good")
  {
    Backoff b{3, 500, 60000};
    auto r = box->failed(id, "sip:carol@b.example", "480 Temporarily Unavailable", 2000, b);
    REQUIRE(r);
    CHECK(r->again);
    CHECK(r->attempts == 1);
    CHECK(r->at_ms == 2500);
    r = box->failed(id, "sip:carol@b.example", "408 Request Timeout", 2600, b);
    REQUIRE(r);
    CHECK(r->again);
    CHECK(r->at_ms == 3600);
    CHECK(open_of(*box)[1] == std::to_string(id) + ":sip:carol@b.example:pending:2:3600");
    r = box->failed(id, "sip:carol@b.example", "480 Temporarily Unavailable", 3700, b);
    REQUIRE(r);
    CHECK_FALSE(r->again);
    CHECK(r->attempts == 3);
    auto all = box->open_deliveries();
    REQUIRE(all);
    REQUIRE(all->size() == 2);
    CHECK((*all)[1].state == DeliveryState::Failed);
    CHECK((*all)[1].last_error == "480 Temporarily Unavailable");
    // Reopened before its owner was told, it is still there to be told.
    box.reset();
    auto again = Outbox::open(path);
    REQUIRE(again);
    CHECK(open_of(*again)[1] == std::to_string(id) + ":sip:carol@b.example:failed:3:3700");
    REQUIRE(again->reported(id, "sip:carol@b.example"));
    REQUIRE(again->delivered(id, "sip:bob@b.example"));
    CHECK(again->item_count() == size_t(0));
  }
  SUBCASE("a permanent failure is final at once")
  {
    auto r = box->failed(id, "sip:bob@b.example", "404 Not Found", 2000, Backoff{}, true);
    REQUIRE(r);
    CHECK_FALSE(r->again);
    CHECK(r->attempts == 1);
  }
  SUBCASE("an unknown delivery is an error naming the file")
  {
    auto r = box->failed(id, "sip:dave@a.example", "x", 2000, Backoff{});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(path) == 0);
  }
}

TEST_CASE("store::Outbox is one process's: a second open of the file fails until it is closed")
{
  TempDir dir;
  const std::string path = (dir.path / "outbox.db").string();
  std::optional<Outbox> first;
  {
    auto box = Outbox::open(path);
    REQUIRE(box);
    first.emplace(std::move(*box));
  }
  auto second = Outbox::open(path); // waits out the 2 s busy timeout
  REQUIRE_FALSE(second);
  CHECK(second.error().message.find(path) == 0);
  CHECK(second.error().message.find("another server uses this outbox") != std::string::npos);
  first.reset();
  CHECK(Outbox::open(path));
}

TEST_CASE("store::Outbox in memory, and a file that is no database")
{
  auto box = Outbox::open(":memory:");
  REQUIRE(box);
  auto a = box->add("o", "", "", {"d"}, 1);
  auto b = box->add("o", "", "x", {"d"}, 2);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a != *b);
  CHECK(box->item(*a)->payload.empty());
  CHECK(box->open_count() == size_t(2));

  TempDir dir;
  const auto bad = dir.path / "not-a-db";
  {
    FILE* f = std::fopen(bad.c_str(), "w");
    REQUIRE(f);
    std::fputs("this is not an SQLite database, but long enough to look at its header\n", f);
    std::fclose(f);
  }
  auto r = Outbox::open(bad.string());
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find(bad.string()) == 0);
}

TEST_CASE("store::Outbox keeps a server's secret across a reopen")
{
  TempDir dir;
  const std::string path = (dir.path / "outbox.db").string();
  {
    auto box = Outbox::open(path);
    REQUIRE(box);
    CHECK(box->secret("route", "first") == std::string("first"));
    CHECK(box->secret("route", "second") == std::string("first"));
  }
  auto box = Outbox::open(path);
  REQUIRE(box);
  CHECK(box->secret("route", "third") == std::string("first"));
  CHECK(box->secret("other", "x") == std::string("x"));
}

TEST_SUITE_END();
