// Unit tests of the proxy's pure helpers (no sockets).
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <set>
#include <string_view>

#include "cpm/proxy/branch.hpp"
#include "cpm/proxy/proxy.hpp"
#include "cpm/proxy/transaction_table.hpp"

TEST_SUITE_BEGIN("proxy");

TEST_CASE("proxy::txn_key maps ACK and CANCEL to the INVITE transaction")
{
  using cpm::proxy::txn_key;
  CHECK(txn_key("z9hG4bK1", "h:1", "ACK") == txn_key("z9hG4bK1", "h:1", "INVITE"));
  CHECK(txn_key("z9hG4bK1", "h:1", "CANCEL") == txn_key("z9hG4bK1", "h:1", "INVITE"));
  CHECK(txn_key("z9hG4bK1", "h:1", "MESSAGE") != txn_key("z9hG4bK1", "h:1", "INVITE"));
  CHECK(txn_key("z9hG4bK1", "h:1", "MESSAGE") != txn_key("z9hG4bK1", "h:2", "MESSAGE"));
}

TEST_CASE("proxy::with_transport sets or replaces the transport parameter")
{
  using cpm::proxy::with_transport;
  CHECK(with_transport("sip:127.0.0.1:5060", "tcp") == "sip:127.0.0.1:5060;transport=tcp");
  CHECK(with_transport("sip:127.0.0.1:5060;transport=udp;lr", "tcp") ==
        "sip:127.0.0.1:5060;lr;transport=tcp");
  CHECK(with_transport("sip:h;lr?X=1", "tcp") == "sip:h;lr;transport=tcp?X=1");
}

TEST_CASE("proxy::BranchGenerator derives the branch from the incoming transaction")
{
  using cpm::proxy::BranchGenerator;
  using cpm::proxy::txn_key;
  const BranchGenerator g("node secret");
  const std::string key = txn_key("z9hG4bKabc123", "127.0.1.5:5060", "MESSAGE");
  uint64_t first = g.derive(key, 0);
  CHECK(first != 0);
  SUBCASE("the same incoming request gives the same branch")
  {
    CHECK(g.derive(key, 0) == first);
    CHECK(g.derive(txn_key("z9hG4bKabc123", "127.0.1.5:5060", "MESSAGE"), 0) == first);
    CHECK(BranchGenerator("node secret").derive(key, 0) == first); // after a restart
  }
  SUBCASE("another request gives another branch")
  {
    CHECK(g.derive(txn_key("z9hG4bKabc124", "127.0.1.5:5060", "MESSAGE"), 0) != first);
    CHECK(g.derive(txn_key("z9hG4bKabc123", "127.0.1.6:5060", "MESSAGE"), 0) != first);
    CHECK(g.derive(txn_key("z9hG4bKabc123", "127.0.1.5:5061", "MESSAGE"), 0) != first);
    CHECK(g.derive(txn_key("z9hG4bKabc123", "127.0.1.5:5060", "OPTIONS"), 0) != first);
    // RFC 2543 (no magic cookie): the key holds Call-ID, CSeq number and From tag
    CHECK(g.derive(txn_key("c1@h|1|t1", "127.0.1.5:5060", "MESSAGE"), 0) !=
          g.derive(txn_key("c1@h|2|t1", "127.0.1.5:5060", "MESSAGE"), 0));
  }
  SUBCASE("another target of the same request gives another branch")
  {
    CHECK(g.derive(key, 1) != first);
    CHECK(g.derive(key, 2) != g.derive(key, 1));
    CHECK(g.derive(key, 1) == g.derive(key, 1));
  }
  SUBCASE("another secret gives other branches")
  {
    CHECK(BranchGenerator("other secret").derive(key, 0) != first);
    CHECK(BranchGenerator::random().derive(key, 0) != BranchGenerator::random().derive(key, 0));
  }
  SUBCASE("many requests give distinct branches that parse back")
  {
    std::set<uint64_t> seen;
    for (int i = 0; i < 10000; ++i) {
      uint64_t n = g.derive(txn_key(fmt::format("z9hG4bK{}", i), "127.0.1.5:5060", "MESSAGE"), 0);
      CHECK(n != 0);
      seen.insert(n);
      auto b = BranchGenerator::format(n);
      CHECK(std::string_view(b.data()).size() == 23);
      CHECK(BranchGenerator::parse(b.data()) == n);
    }
    CHECK(seen.size() == 10000);
  }
}

TEST_CASE("proxy::BranchGenerator formats and parses branch numbers")
{
  using cpm::proxy::BranchGenerator;
  CHECK(std::string_view(BranchGenerator::format(0xabc).data()) == "z9hG4bK0000000000000abc");
  CHECK(BranchGenerator::parse("z9hG4bK0000000000000abc") == 0xabc);
  SUBCASE("other branches are not ours")
  {
    CHECK(BranchGenerator::parse("z9hG4bK0000000000000ABC") == 0); // upper case
    CHECK(BranchGenerator::parse("z9hG4bK000000000000abc") == 0);  // 15 digits
    CHECK(BranchGenerator::parse("z9hG4bKx000000000000abc") == 0);
    CHECK(BranchGenerator::parse("z9hG4bk0000000000000abc") == 0);
    CHECK(BranchGenerator::parse("") == 0);
  }
}

TEST_CASE("proxy::moves_to_tcp moves a big request to TCP")
{
  using cpm::proxy::moves_to_tcp;
  // The hop a request goes to, as the relay's forward() makes it.
  auto large_over_tcp = [](std::string hop, size_t size, size_t udp_max, bool have_tcp) {
    return moves_to_tcp(hop, size, udp_max, have_tcp) ? cpm::proxy::with_transport(hop, "tcp")
                                                      : hop;
  };
  CHECK(moves_to_tcp("sip:h:5060", 1301, 1300, true));
  CHECK_FALSE(moves_to_tcp("sip:h:5060;transport=udp", 1301, 1300, true));
  CHECK_FALSE(moves_to_tcp("sip:h:5060", 1300, 1300, true));
  CHECK_FALSE(moves_to_tcp("not a uri", 1301, 1300, true));
  CHECK(large_over_tcp("sip:h:5060", 1300, 1300, true) == "sip:h:5060");
  CHECK(large_over_tcp("sip:h:5060", 1301, 1300, true) == "sip:h:5060;transport=tcp");
  // RFC 3261 §18.1.1 asks for the switch, but a target that names UDP is never switched:
  // many UDP-only clients (SIPp -t u1, phones) listen on no TCP port.
  CHECK(large_over_tcp("sip:h:5060;transport=udp", 1301, 1300, true) == "sip:h:5060;transport=udp");
  CHECK(large_over_tcp("sip:h:5060;Transport=UDP;lr", 9000, 1300, true) ==
        "sip:h:5060;Transport=UDP;lr");
  CHECK(large_over_tcp("sip:bob@h:5060;lr", 1301, 1300, true) == "sip:bob@h:5060;lr;transport=tcp");
  CHECK(large_over_tcp("sip:h:5060;transport=tcp", 1301, 1300, true) == "sip:h:5060;transport=tcp");
  CHECK(large_over_tcp("sip:h:5060;transport=tls", 1301, 1300, true) == "sip:h:5060;transport=tls");
  CHECK(large_over_tcp("sip:h:5060", 1301, 1300, false) == "sip:h:5060"); // no TCP listener
}

TEST_CASE("proxy::next_hop: the hook's hop, else a pushed Route, else a Route, else the URI")
{
  using cpm::proxy::Action;
  using cpm::proxy::next_hop;
  cpm::sip::Request req;
  Action a;
  CHECK(next_hop(a, req, "sip:bob@h") == "sip:bob@h");
  req.routes = {"<sip:r2;lr>"};
  CHECK(next_hop(a, req, "sip:bob@h") == "sip:r2;lr");
  a.push_routes = {"\"AS\" <sip:as;lr>", "<sip:core;lr>"};
  CHECK(next_hop(a, req, "sip:bob@h") == "sip:as;lr");
  a.next_hop = "sip:127.0.0.1:5090";
  CHECK(next_hop(a, req, "sip:bob@h") == "sip:127.0.0.1:5090");
}

TEST_CASE("proxy::Action::clear gives a fresh forward() back, its strings keeping storage")
{
  using cpm::proxy::Action;
  Action a = Action::reply(404, "Not Found", {"Warning: 399 core \"none\""});
  a.reply_body = "body";
  a.ruri = "sip:bob@127.0.2.10:5060;transport=tcp";
  a.next_hop = "sip:127.0.2.1:5060";
  a.push_routes = {"<sip:127.0.1.2:5060;lr>"};
  a.alternate_hop = "sip:bob@127.0.2.10:5060";
  a.remove_headers = {"P-Served-User"};
  a.add_headers = {"P-Asserted-Identity: <sip:alice@a.example>"};
  a.record_route = false;
  a.record_route_params = ";cpm-served=x";
  a.timeout_ms = 5;
  a.retry = std::make_shared<cpm::proxy::Retry>();
  const auto capacity = a.ruri.capacity();
  a.clear();
  const Action fresh = Action::forward();
  CHECK(a.kind == fresh.kind);
  CHECK(a.status == fresh.status);
  CHECK(a.reason.empty());
  CHECK(a.reply_headers.empty());
  CHECK(a.reply_body.empty());
  CHECK(a.ruri.empty());
  CHECK(a.next_hop.empty());
  CHECK(a.push_routes.empty());
  CHECK(a.alternate_hop.empty());
  CHECK(a.remove_headers.empty());
  CHECK(a.add_headers.empty());
  CHECK(a.record_route == fresh.record_route);
  CHECK(a.record_route_params.empty());
  CHECK(a.timeout_ms == fresh.timeout_ms);
  CHECK(a.retry == nullptr);
  CHECK(a.ruri.capacity() == capacity);
}

TEST_SUITE_END();
