#include <doctest/doctest.h>

#include <filesystem>
#include <malloc.h>
#include <string>

#include <fmt/format.h>

#include "cpm/core/location.hpp"
#include "cpm/store/sqlite.hpp"
#include "temp_dir.hpp"

using cpm::location::Binding;
using cpm::location::Reach;
using cpm::location::Store;

namespace {

Binding binding(std::string aor, std::string contact, int64_t expires_at, std::string params = "")
{
  Binding b;
  b.aor = std::move(aor);
  b.contact = std::move(contact);
  b.params = std::move(params);
  b.expires_at = expires_at;
  b.call_id = "reg-1@host";
  b.cseq = 1;
  return b;
}

// A fresh directory for this file's tests.
struct TempDir : cpm::test::TempDir {
  TempDir() : cpm::test::TempDir("cpm-location") {}
};

const std::string k_icsi_feature =
    "+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\"";

} // namespace

TEST_SUITE_BEGIN("location");

TEST_CASE("location::Store keeps bindings until they expire")
{
  Store s;
  s.upsert(binding("sip:bob@B.example", "sip:bob@127.0.2.10:5060", 100));
  CHECK(s.size() == 1);
  auto got = s.lookup("sip:bob@b.example", 50);
  REQUIRE(got.size() == 1);
  CHECK(got[0].aor == "sip:bob@b.example");
  CHECK(got[0].contact == "sip:bob@127.0.2.10:5060");
  CHECK(got[0].call_id == "reg-1@host");
  CHECK(got[0].cseq == 1);
  CHECK(got[0].expires_at == 100);
  // The lookup key is canonicalized too.
  CHECK(s.lookup("<sip:bob@B.EXAMPLE:5060>", 50).size() == 1);
  SUBCASE("expiry")
  {
    CHECK(s.lookup("sip:bob@b.example", 99).size() == 1);
    CHECK(s.lookup("sip:bob@b.example", 100).empty());
    CHECK(s.size() == 1); // still stored until purged
    CHECK(s.purge(100) == 1);
    CHECK(s.size() == 0);
    CHECK(s.purge(100) == 0);
  }
  SUBCASE("refresh of the same contact replaces it")
  {
    auto b = binding("sip:bob@b.example", "sip:bob@127.0.2.10:5060", 500, ";+g.oma.sip-im");
    b.cseq = 2;
    s.upsert(b);
    CHECK(s.size() == 1);
    auto r = s.lookup("sip:bob@b.example", 200);
    REQUIRE(r.size() == 1);
    CHECK(r[0].expires_at == 500);
    CHECK(r[0].cseq == 2);
    CHECK(r[0].params == ";+g.oma.sip-im");
  }
  SUBCASE("a second contact, most recent first")
  {
    s.upsert(binding("sip:bob@b.example", "sip:bob@127.0.2.11:5060", 300));
    CHECK(s.size() == 2);
    auto r = s.lookup("sip:bob@b.example", 10);
    REQUIRE(r.size() == 2);
    CHECK(r[0].contact == "sip:bob@127.0.2.11:5060");
    CHECK(r[0].seq > r[1].seq);
    // Refreshing the older one makes it the most recent.
    s.upsert(binding("sip:bob@b.example", "sip:bob@127.0.2.10:5060", 300));
    r = s.lookup("sip:bob@b.example", 10);
    REQUIRE(r.size() == 2);
    CHECK(r[0].contact == "sip:bob@127.0.2.10:5060");
    CHECK(s.purge(150) == 0);
    CHECK(s.size() == 2);
  }
  SUBCASE("remove and remove_all")
  {
    s.upsert(binding("sip:bob@b.example", "sip:bob@127.0.2.11:5060", 300));
    s.upsert(binding("sip:carol@b.example", "sip:carol@127.0.2.12:5060", 300));
    s.remove("sip:bob@b.example", "sip:bob@127.0.2.99:5060"); // not there: no change
    CHECK(s.size() == 3);
    s.remove("sip:bob@b.example", "sip:bob@127.0.2.10:5060");
    CHECK(s.size() == 2);
    auto r = s.lookup("sip:bob@b.example", 10);
    REQUIRE(r.size() == 1);
    CHECK(r[0].contact == "sip:bob@127.0.2.11:5060");
    s.remove_all("sip:bob@B.EXAMPLE:5060");
    CHECK(s.lookup("sip:bob@b.example", 10).empty());
    CHECK(s.lookup("sip:carol@b.example", 10).size() == 1);
    CHECK(s.size() == 1);
    s.remove_all("sip:nobody@b.example");
    CHECK(s.size() == 1);
  }
  SUBCASE("user part keeps its case")
  {
    CHECK(s.lookup("sip:Bob@b.example", 10).empty());
  }
  SUBCASE("malformed AOR or empty contact is not stored")
  {
    s.upsert(binding("not a uri", "sip:x@127.0.0.1", 300));
    s.upsert(binding("sip:x@b.example", "", 300));
    CHECK(s.size() == 1);
    CHECK(s.lookup("not a uri", 10).empty());
    s.remove("garbage", "sip:x@127.0.0.1");
    s.remove_all("");
    CHECK(s.size() == 1);
  }
}

TEST_CASE("location::Store persists bindings in an SQLite file")
{
  TempDir dir;
  const std::string db = (dir.path / "reg.db").string();
  {
    Store a;
    REQUIRE(a.open(db, 0));
    auto b =
        binding("sip:alice@a.example", "sip:alice@127.0.1.10:5060", 1000, ";" + k_icsi_feature);
    b.received = "udp:127.0.1.10:5060";
    b.reach = Reach::Outbound;
    b.cseq = 7;
    a.upsert(b);
    a.upsert(binding("sip:alice@a.example", "sip:alice@127.0.1.11:5060", 50));
    a.upsert(binding("sip:bob@a.example", "sip:bob@127.0.1.12:5060", 1000));
    a.upsert(binding("sip:gone@a.example", "sip:gone@127.0.1.13:5060", 1000));
    a.remove_all("sip:gone@a.example");
    a.upsert(binding("sip:bob@a.example", "sip:bob@127.0.1.14:5060", 1000));
    a.remove("sip:bob@a.example", "sip:bob@127.0.1.12:5060");
    CHECK(a.last_error() == "");
    CHECK(a.size() == 3);
  }
  Store c;
  REQUIRE(c.open(db, 100)); // alice's second contact expired at 50: not loaded
  CHECK(c.size() == 2);
  auto r = c.lookup("sip:alice@a.example", 100);
  REQUIRE(r.size() == 1);
  CHECK(r[0].contact == "sip:alice@127.0.1.10:5060");
  CHECK(r[0].received == "udp:127.0.1.10:5060");
  CHECK(r[0].reach == Reach::Outbound);
  CHECK(r[0].target() == "sip:127.0.1.10:5060");
  CHECK(r[0].params == ";" + k_icsi_feature);
  CHECK(r[0].cseq == 7);
  CHECK(r[0].expires_at == 1000);
  CHECK(c.lookup("sip:gone@a.example", 100).empty());
  auto bob = c.lookup("sip:bob@a.example", 100);
  REQUIRE(bob.size() == 1);
  CHECK(bob[0].contact == "sip:bob@127.0.1.14:5060");
  // New registrations after a restart are more recent than the loaded ones.
  c.upsert(binding("sip:alice@a.example", "sip:alice@127.0.1.15:5060", 1000));
  r = c.lookup("sip:alice@a.example", 100);
  REQUIRE(r.size() == 2);
  CHECK(r[0].contact == "sip:alice@127.0.1.15:5060");
  // A purge is written through as well.
  CHECK(c.purge(2000) == 3);
  Store d;
  REQUIRE(d.open(db, 0));
  CHECK(d.size() == 0);
  SUBCASE("an unusable path is an error value")
  {
    Store e;
    auto res = e.open((dir.path / "no-such-dir" / "x.db").string(), 0);
    REQUIRE_FALSE(res);
    CHECK(res.error().message.find("no-such-dir") != std::string::npos);
  }
  SUBCASE("a file that is not a database is an error value")
  {
    auto junk = (dir.path / "junk.db").string();
    FILE* f = fopen(junk.c_str(), "w");
    REQUIRE(f);
    fputs("this is not an sqlite database, just some text long enough to have a header", f);
    fclose(f);
    Store e;
    CHECK_FALSE(e.open(junk, 0));
  }
}

TEST_CASE("location::Store reads a file written before bindings had a reach")
{
  TempDir dir;
  const std::string db = (dir.path / "old.db").string();
  {
    auto old = cpm::store::Database::open(db);
    REQUIRE(old);
    REQUIRE(old->exec("CREATE TABLE bindings (aor TEXT NOT NULL, contact TEXT NOT NULL,"
                      " params TEXT NOT NULL, received TEXT NOT NULL, call_id TEXT NOT NULL,"
                      " cseq INTEGER NOT NULL, expires_at INTEGER NOT NULL, seq INTEGER NOT NULL,"
                      " PRIMARY KEY (aor, contact));"
                      "INSERT INTO bindings VALUES ('sip:bob@b.example', 'sip:bob@127.0.2.10:5070',"
                      " '', 'udp:127.0.2.10:5071', 'c1', 1, 1000, 1);"));
  }
  {
    Store s;
    REQUIRE(s.open(db, 100));
    auto r = s.lookup("sip:bob@b.example", 100);
    REQUIRE(r.size() == 1);
    CHECK(r[0].reach == Reach::Contact); // RFC 3261: the Contact, whatever the old file meant
    CHECK(r[0].target() == "sip:bob@127.0.2.10:5070");
    auto b = binding("sip:carol@b.example", "sip:carol@127.0.2.11:5060", 1000);
    b.received = "tcp:127.0.2.11:40000";
    b.reach = Reach::Connection;
    s.upsert(b);
    CHECK(s.last_error() == "");
  }
  Store again;
  REQUIRE(again.open(db, 100));
  auto carol = again.lookup("sip:carol@b.example", 100);
  REQUIRE(carol.size() == 1);
  CHECK(carol[0].reach == Reach::Connection);
  CHECK(carol[0].target() == "sip:127.0.2.11:40000;transport=tcp");
}

TEST_CASE("location::to_string and parse_reach agree")
{
  for (auto r : {Reach::Contact, Reach::Connection, Reach::Outbound, Reach::Received})
    CHECK(cpm::location::parse_reach(cpm::location::to_string(r)) == r);
  CHECK(cpm::location::parse_reach("garbage") == Reach::Contact);
}

TEST_CASE("location::select orders bindings per RFC 3841")
{
  auto plain = binding("sip:bob@b.example", "sip:bob@127.0.2.10:5060", 100);
  plain.seq = 3; // the most recent
  auto cpm = binding("sip:bob@b.example", "sip:bob@127.0.2.11:5060", 100, ";" + k_icsi_feature);
  cpm.seq = 2;
  auto im = binding("sip:bob@b.example", "sip:bob@127.0.2.12:5060", 100,
                    ";+g.oma.sip-im;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel,"
                    "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\";expires=600");
  im.seq = 1;
  std::vector<Binding> all{im, cpm, plain};

  SUBCASE("no Accept-Contact: all, most recent first")
  {
    auto r = cpm::location::select(all, {});
    REQUIRE(r.size() == 3);
    CHECK(r[0].seq == 3);
    CHECK(r[1].seq == 2);
    CHECK(r[2].seq == 1);
  }
  SUBCASE("the CPM ICSI orders matching contacts first and drops none")
  {
    auto r = cpm::location::select(all, {"*;" + k_icsi_feature});
    REQUIRE(r.size() == 3);
    CHECK(r[0].seq == 2); // matches, more recent than im
    CHECK(r[1].seq == 1); // matches inside a list of ICSIs
    CHECK(r[2].seq == 3); // no feature: last despite being the most recent
  }
  SUBCASE("percent-encoding and case do not matter")
  {
    auto r = cpm::location::select(
        all, {"*;+G.3GPP.ICSI-REF=\"urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg\""});
    REQUIRE(r.size() == 3);
    CHECK(r[0].seq == 2);
  }
  SUBCASE("more matching features rank higher")
  {
    auto r = cpm::location::select(all, {"*;" + k_icsi_feature + ";+g.oma.sip-im"});
    REQUIRE(r.size() == 3);
    CHECK(r[0].seq == 1);
    CHECK(r[1].seq == 2);
    CHECK(r[2].seq == 3);
  }
  SUBCASE("two Accept-Contact values add up")
  {
    auto r = cpm::location::select(all, {"*;+g.oma.sip-im", "*;" + k_icsi_feature});
    REQUIRE(r.size() == 3);
    CHECK(r[0].seq == 1);
  }
  SUBCASE("require and explicit drop a binding without the feature")
  {
    auto r = cpm::location::select(all, {"*;+g.oma.sip-im;require;explicit"});
    REQUIRE(r.size() == 1);
    CHECK(r[0].seq == 1);
  }
  SUBCASE("require drops a conflicting value, keeps a binding without the tag")
  {
    auto r = cpm::location::select(all, {"*;+g.3gpp.icsi-ref=\"urn%3Aother\";require"});
    REQUIRE(r.size() == 1);
    CHECK(r[0].seq == 3);
  }
  SUBCASE("feature tags on a bare Contact URI count too")
  {
    auto bare = binding("sip:bob@b.example", "sip:bob@127.0.2.13:5060;+g.oma.sip-im", 100);
    bare.seq = 0;
    auto r = cpm::location::select({plain, bare}, {"*;+g.oma.sip-im"});
    REQUIRE(r.size() == 2);
    CHECK(r[0].contact == bare.contact);
  }
  SUBCASE("malformed Accept-Contact values change nothing")
  {
    for (std::string junk : {"", "*", ";;;", "*;=x", "*;\"unterminated", "*;+g.x=\"a,b", "<<<",
                             "*;+g.oma.sip-im=\"!true\""}) {
      CAPTURE(junk);
      auto r = cpm::location::select(all, {junk});
      REQUIRE(r.size() == 3);
      CHECK(r[0].seq == 3);
    }
  }
}

#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("location::select: many features on both sides, the first of a repeated name counts")
{
  // Thousands of feature params (as a hostile Accept-Contact and Contact can carry) are
  // matched by name, not by comparing every pair.
  std::string params, wanted = "*";
  for (int i = 0; i < 4000; ++i) {
    params += fmt::format(";+f{}=\"v{}\"", i, i);
    wanted += fmt::format(";+f{}=\"v{}\"", 3999 - i, 3999 - i);
  }
  auto many = binding("sip:bob@b.example", "sip:bob@127.0.2.10:5060", 100, params);
  many.seq = 1;
  auto none = binding("sip:bob@b.example", "sip:bob@127.0.2.11:5060", 100);
  none.seq = 2;
  auto r = cpm::location::select({none, many}, {wanted});
  REQUIRE(r.size() == 2);
  CHECK(r[0].seq == 1); // 4000 matches rank it first

  // A repeated name: its first value is the binding's (";+x=a;+x=b" has x=a).
  auto twice = binding("sip:bob@b.example", "sip:bob@127.0.2.12:5060", 100, ";+x=\"a\";+x=\"b\"");
  CHECK(cpm::location::select({twice}, {"*;+x=\"a\";require;explicit"}).size() == 1);
  CHECK(cpm::location::select({twice}, {"*;+x=\"b\";require;explicit"}).empty());
}

TEST_CASE("location::Store stays compact")
{
  // Heap growth for 2000 typical registrations, against the size of their text.
  constexpr int k_n = 2000;
  Store s;
  std::vector<Binding> input;
  size_t text = 0;
  for (int i = 0; i < k_n; ++i) {
    auto b =
        binding("sip:user" + std::to_string(i) + "@b.example",
                "sip:user" + std::to_string(i) + "@127.0.2.10:5060", 100, ";" + k_icsi_feature);
    b.received = "udp:127.0.2.10:5060";
    b.call_id = "a84b4c76e66710@127.0.2.10";
    text +=
        b.aor.size() + b.contact.size() + b.params.size() + b.received.size() + b.call_id.size();
    input.push_back(std::move(b));
  }
  auto before = mallinfo2().uordblks;
  for (auto& b : input)
    s.upsert(b);
  auto after = mallinfo2().uordblks;
  REQUIRE(s.size() == k_n);
  double per = static_cast<double>(after - before) / k_n;
  double overhead = per - static_cast<double>(text) / k_n;
  MESSAGE("bytes per registration: " << per << ", beyond its text: " << overhead);
  CHECK(overhead < 300);
}
#endif
