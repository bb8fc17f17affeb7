// Unit tests of the registrar (Contact parsing and REGISTER handling on an in-memory store).
#include <doctest/doctest.h>

#include "cpm/core/registrar.hpp"
#include "cpm/store/sqlite.hpp"
#include "temp_dir.hpp"

using cpm::registrar::parse_contacts;

namespace {

cpm::sip::Request reg(std::vector<std::pair<std::string, std::string>> extra,
                      std::string cseq = "1 REGISTER")
{
  cpm::sip::Request r;
  r.method = "REGISTER";
  r.ruri = "sip:b.example";
  r.from_uri = r.to_uri = "sip:bob@b.example";
  r.source = "udp:127.0.0.1:5999";
  r.headers = {{"Call-ID", "reg-1"}, {"CSeq", cseq}};
  for (auto& [n, v] : extra)
    r.headers.push_back({n, v});
  return r;
}

} // namespace

TEST_SUITE_BEGIN("registrar");

TEST_CASE("registrar::parse_contacts splits and parses contacts")
{
  auto c = parse_contacts(
      {R"("Bob, B" <sip:bob@h1;transport=tcp>;expires=60;+g.x="a,b", sip:bob@h2;q=0.5)"});
  REQUIRE(c);
  REQUIRE(c->size() == 2);
  CHECK((*c)[0].uri == "sip:bob@h1;transport=tcp");
  CHECK((*c)[0].expires == 60u);
  CHECK((*c)[0].params == R"(;+g.x="a,b")");
  CHECK((*c)[1].uri == "sip:bob@h2"); // no <>: ;q is a header param (RFC 4475 cparam01)
  CHECK((*c)[1].params == ";q=0.5");
  CHECK(!(*c)[1].expires);
}

TEST_CASE("registrar::parse_contacts rejects malformed contacts")
{
  CHECK(!parse_contacts({"<sip:bob@h1"}));
  CHECK(!parse_contacts({"<sip:bob@h1>;expires=soon"}));
  CHECK(!parse_contacts({"*, <sip:bob@h1>"}));
  CHECK(!parse_contacts({"<>"}));
  CHECK(!parse_contacts({"<sip:bob@h1>;;x"}));
  auto star = parse_contacts({"*"});
  REQUIRE(star);
  CHECK(star->front().star);
}

TEST_CASE("registrar::handle binds, refreshes, caps and unregisters")
{
  cpm::location::Store store;
  cpm::registrar::Settings s;
  int64_t now = 1000;
  auto r = cpm::registrar::handle(reg({{"Contact", "<sip:bob@127.0.0.1:5999>;expires=30"}}), s,
                                  store, now);
  CHECK(r.status == 423);
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0] == "Min-Expires: 60");

  r = cpm::registrar::handle(reg({{"Contact", "<sip:bob@127.0.0.1:5999>, <sip:bob@127.0.0.1:6000>"},
                                  {"Expires", "99999"}}),
                             s, store, now);
  CHECK(r.status == 200);
  CHECK(r.headers.size() == 2);
  auto b = store.lookup("sip:bob@b.example", now);
  REQUIRE(b.size() == 2);
  CHECK(b[0].expires_at == now + 7200);
  CHECK(b[0].received == "udp:127.0.0.1:5999");

  // Same Call-ID, CSeq not higher: refused.
  r = cpm::registrar::handle(reg({{"Contact", "<sip:bob@127.0.0.1:5999>;expires=0"}}), s, store,
                             now);
  CHECK(r.status == 400);
  r = cpm::registrar::handle(reg({{"Contact", "<sip:bob@127.0.0.1:5999>;expires=0"}}, "2 REGISTER"),
                             s, store, now);
  CHECK(r.status == 200);
  CHECK(store.lookup("sip:bob@b.example", now).size() == 1);

  r = cpm::registrar::handle(reg({{"Contact", "*"}}, "3 REGISTER"), s, store, now);
  CHECK(r.status == 400); // * needs Expires: 0
  r = cpm::registrar::handle(reg({{"Contact", "*"}, {"Expires", "0"}}, "4 REGISTER"), s, store,
                             now);
  CHECK(r.status == 200);
  CHECK(store.lookup("sip:bob@b.example", now).empty());
}

TEST_CASE("registrar::handle answers 500, not 200, when the binding cannot be stored")
{
  cpm::test::TempDir dir("cpm-registrar");
  auto path = (dir.path / "core.db").string();
  {
    cpm::location::Store store;
    REQUIRE(store.open(path, 1000));
    cpm::registrar::Settings s;
    auto r = cpm::registrar::handle(reg({{"Contact", "<sip:bob@127.0.0.1:5999>"}}), s, store, 1000);
    CHECK(r.status == 200);
    CHECK(r.why.empty());
    // Another process breaks the file under the core: the next write fails.
    auto other = cpm::store::Database::open(path);
    REQUIRE(other);
    REQUIRE(other->exec("DROP TABLE bindings"));
    r = cpm::registrar::handle(reg({{"Contact", "<sip:bob@127.0.0.1:6000>"}}, "2 REGISTER"), s,
                               store, 1000);
    CHECK(r.status == 500);
    CHECK(r.headers == std::vector<std::string>{"Retry-After: 5"});
    CHECK(r.why.find("registration not stored: " + path) == 0);
    // A removal that cannot be written is refused the same way.
    r = cpm::registrar::handle(reg({{"Contact", "*"}, {"Expires", "0"}}, "3 REGISTER"), s, store,
                               1000);
    CHECK(r.status == 500);
  }
}

TEST_CASE("registrar::handle says how each binding is reached")
{
  using cpm::location::Reach;
  cpm::location::Store store;
  cpm::registrar::Settings s;
  int64_t now = 1000;
  auto reach = [&](cpm::sip::Request r, std::vector<std::string>* headers = nullptr) {
    auto reply = cpm::registrar::handle(r, s, store, now);
    REQUIRE(reply.status == 200);
    if (headers)
      *headers = reply.headers;
    auto b = store.lookup("sip:bob@b.example", now);
    REQUIRE(b.size() == 1);
    CHECK(b[0].received == r.source);
    store.remove_all("sip:bob@b.example");
    return b[0].reach;
  };
  const std::pair<std::string, std::string> contact{"Contact", "<sip:bob@127.0.0.1:5998>"};
  const std::string outbound =
      R"(<sip:bob@127.0.0.1:5998;ob>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>")";
  SUBCASE("over UDP from another port: the Contact (RFC 3261 §16.5)")
  {
    std::vector<std::string> headers;
    CHECK(reach(reg({contact}), &headers) == Reach::Contact);
    CHECK(headers == std::vector<std::string>{"Contact: <sip:bob@127.0.0.1:5998>;expires=3600"});
  }
  SUBCASE("over a connection: that connection")
  {
    auto r = reg({contact});
    r.source = "tcp:127.0.0.1:40000";
    CHECK(reach(r) == Reach::Connection);
    r.source = "tls:127.0.0.1:40001";
    CHECK(reach(r) == Reach::Connection);
  }
  SUBCASE("RFC 5626 outbound: the flow, and Require: outbound in the 200")
  {
    std::vector<std::string> headers;
    auto r = reg({{"Via", "SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1"}, {"Contact", outbound}});
    CHECK(reach(r, &headers) == Reach::Outbound);
    REQUIRE(headers.size() == 2);
    CHECK(headers[0] == "Require: outbound");
    // Through another proxy (no Path with ;ob): not outbound here.
    r.headers.push_back({"Via", "SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK2"});
    CHECK(reach(r, &headers) == Reach::Contact);
    CHECK(headers.size() == 1);
    // reg-id without +sip.instance is not outbound either.
    CHECK(reach(reg({{"Contact", "<sip:bob@127.0.0.1:5998>;reg-id=1"}})) == Reach::Contact);
  }
  SUBCASE("nat = received: UDP bindings at the REGISTER's source")
  {
    s.nat_received = true;
    CHECK(reach(reg({contact})) == Reach::Received);
    auto r = reg({contact});
    r.source = "tcp:127.0.0.1:40000";
    CHECK(reach(r) == Reach::Connection);
  }
}

TEST_CASE("registrar::handle challenges when auth is on")
{
  cpm::location::Store store;
  auto file =
      cpm::config::parse("[[user]]\nuri = \"sip:bob@b.example\"\npassword = \"pw\"\n", "t.toml");
  REQUIRE(file);
  cpm::auth::Nonces nonces("secret");
  cpm::registrar::Settings s;
  s.auth = true;
  s.realm = "b.example";
  s.users = &*file;
  s.nonces = &nonces;
  auto r = cpm::registrar::handle(reg({{"Contact", "<sip:bob@h>"}}), s, store, 1000);
  CHECK(r.status == 401);
  REQUIRE(!r.headers.empty());
  CHECK(r.headers[0].rfind("WWW-Authenticate: Digest", 0) == 0);
  auto www = r.headers[0].substr(std::string("WWW-Authenticate: ").size());
  auto good = cpm::auth::respond(www, "REGISTER", "sip:b.example", "bob", "pw");
  auto bad = cpm::auth::respond(www, "REGISTER", "sip:b.example", "bob", "nope");
  r = cpm::registrar::handle(reg({{"Contact", "<sip:bob@h>"}, {"Authorization", bad}}), s, store,
                             1000);
  CHECK(r.status == 403);
  r = cpm::registrar::handle(reg({{"Contact", "<sip:bob@h>"}, {"Authorization", good}}), s, store,
                             1000);
  CHECK(r.status == 200);
  // The username as cpm-send sends it: the address of record without "sip:".
  auto full = cpm::auth::respond(www, "REGISTER", "sip:b.example", "bob@b.example", "pw");
  r = cpm::registrar::handle(
      reg({{"Contact", "<sip:bob@h>"}, {"Authorization", full}}, "2 REGISTER"), s, store, 1000);
  CHECK(r.status == 200);
  // Another user's name is refused even with a valid response for that name.
  auto eve = cpm::auth::respond(www, "REGISTER", "sip:b.example", "eve@b.example", "pw");
  r = cpm::registrar::handle(
      reg({{"Contact", "<sip:bob@h>"}, {"Authorization", eve}}, "3 REGISTER"), s, store, 1000);
  CHECK(r.status == 403);
  auto other = reg({{"Contact", "<sip:eve@h>"}});
  other.to_uri = "sip:eve@b.example";
  CHECK(cpm::registrar::handle(other, s, store, 1000).status == 404);
}

TEST_SUITE_END();
