#include <doctest/doctest.h>

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <sstream>

#include "cpm/ladder/ladder.hpp"

using cpm::trace::Event;
namespace ladder = cpm::ladder;

TEST_SUITE_BEGIN("ladder");

namespace {

const std::map<std::string, std::string> k_addr = {
    {"alice", "127.0.1.10:5060"}, {"coreA", "127.0.1.1:5060"}, {"csA", "127.0.1.2:5060"},
    {"coreB", "127.0.2.1:5060"},  {"csB", "127.0.2.2:5060"},   {"bob", "127.0.2.10:5060"},
};

std::string request(const std::string& method, const std::string& uri, const std::string& call_id,
                    int cseq, const std::string& imdn_id, const std::string& branch)
{
  std::string body = imdn_id.empty() ? ""
                                     : fmt::format("From: <sip:alice@a.example>\r\n"
                                                   "NS: imdn <urn:ietf:params:imdn>\r\n"
                                                   "imdn.Message-ID: {}\r\n"
                                                   "\r\n"
                                                   "Content-Type: text/plain\r\n\r\nHello",
                                                   imdn_id);
  return fmt::format("{} {} SIP/2.0\r\nVia: SIP/2.0/UDP x;branch={}\r\nCall-ID: {}\r\n"
                     "CSeq: {} {}\r\nContent-Length: {}\r\n\r\n{}",
                     method, uri, branch, call_id, cseq, method, body.size(), body);
}

std::string response(int code, const std::string& reason, const std::string& call_id, int cseq,
                     const std::string& method, const std::string& branch)
{
  return fmt::format("SIP/2.0 {} {}\r\nVia: SIP/2.0/UDP x;branch={}\r\nCall-ID: {}\r\n"
                     "CSeq: {} {}\r\nContent-Length: 0\r\n\r\n",
                     code, reason, branch, call_id, cseq, method);
}

// A synthetic run: every node writes tx and rx events, unless it is left out.
struct Run {
  std::vector<Event> events;
  int64_t now = 1'700'000'000'000'000;
  std::vector<std::string> untraced;

  void send(const std::string& from, const std::string& to, const std::string& msg)
  {
    now += 1000;
    auto add = [&](const std::string& node, const char* dir, const std::string& local,
                   const std::string& peer, int64_t t) {
      if (std::find(untraced.begin(), untraced.end(), node) != untraced.end())
        return;
      Event e;
      e.time_us = t;
      e.node = node;
      e.dir = dir;
      e.transport = "udp";
      e.local = local;
      e.peer = peer;
      e.first_line = cpm::trace::first_line(msg);
      e.call_id = cpm::trace::call_id(msg);
      e.message = msg;
      events.push_back(e);
    };
    add(from, "tx", k_addr.at(from), k_addr.at(to), now);
    add(to, "rx", k_addr.at(to), k_addr.at(from), now + 100);
  }
  // A request along `path`, a new Call-ID after each B2BUA (csA, csB), then 200 OK back.
  void pager(const std::vector<std::string>& path, const std::string& uri,
             const std::string& imdn_id, const std::string& tag, bool responses = true)
  {
    std::vector<std::string> call_ids;
    int leg = 0;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      if (path[i].rfind("cs", 0) == 0)
        ++leg;
      call_ids.push_back(fmt::format("{}-leg{}", tag, leg));
      send(
          path[i], path[i + 1],
          request("MESSAGE", uri, call_ids.back(), 1, imdn_id, fmt::format("z9hG4bK{}{}", tag, i)));
    }
    if (!responses)
      return;
    for (size_t i = path.size() - 1; i > 0; --i)
      send(path[i], path[i - 1],
           response(200, "OK", call_ids[i - 1], 1, "MESSAGE", fmt::format("z9hG4bK{}{}", tag, i)));
  }
};

const std::vector<std::string> k_msg_path = {"alice", "coreA", "csA",   "coreA",
                                             "coreB", "csB",   "coreB", "bob"};
const std::vector<std::string> k_notif_path = {"bob",   "coreB", "csB",   "coreB",
                                               "coreA", "csA",   "coreA", "alice"};

Run fig5_6()
{
  Run r;
  r.pager(k_msg_path, "sip:bob@b.example", "msg-1", "m");
  r.pager(k_notif_path, "sip:alice@a.example", "notif-1", "n");
  return r;
}

ladder::Expected fig5_6_ladder()
{
  auto ex =
      ladder::read_expected(std::string(CPM_SOURCE_DIR) + "/tests/flows/ladders/fig5-6.ladder");
  REQUIRE(ex);
  return *ex;
}

} // namespace

TEST_CASE("ladder::arrows names nodes by their local addresses and keeps each message once")
{
  auto r = fig5_6();
  auto hs = ladder::arrows(r.events);
  REQUIRE(hs.size() == 28);
  CHECK(hs[0].from == "alice");
  CHECK(hs[0].to == "coreA");
  CHECK(hs[0].request);
  CHECK(hs[0].method == "MESSAGE");
  CHECK(hs[0].uri == "sip:bob@b.example");
  CHECK(hs[0].imdn_id == "msg-1");
  CHECK(hs[7].status == 200);
  CHECK(hs[7].method == "MESSAGE");
  CHECK(hs[7].from == "bob");
  auto lines = ladder::format_lines(hs);
  CHECK(lines.find(" 1  alice  -> coreA  MESSAGE sip:bob@b.example\n") == 0);
  CHECK(lines.find(" 8  bob    -> coreB  200 OK\n") != std::string::npos);
}

TEST_CASE("ladder::arrows keeps rx events of senders without a trace and drops retransmissions")
{
  Run r;
  r.untraced = {"alice"}; // e.g. SIPp
  r.pager({"alice", "coreA", "bob"}, "sip:bob@b.example", "", "s");
  auto dup = r.events[0]; // coreA's rx of alice's MESSAGE, retransmitted later
  dup.time_us += 500000;
  r.events.push_back(dup);
  auto tx = r.events[1]; // coreA's own tx to bob, retransmitted
  tx.time_us += 600000;
  r.events.push_back(tx);
  auto hs = ladder::arrows(r.events);
  REQUIRE(hs.size() == 4);
  CHECK(hs[0].from == "127.0.1.10:5060");
  CHECK(hs[0].to == "coreA");
  CHECK(hs[3].to == "127.0.1.10:5060");
  SUBCASE("an ephemeral port maps by address alone")
  {
    Event e = r.events[1];
    e.peer = "127.0.2.10:40123";
    e.message += "x";
    e.time_us += 1'000'000;
    auto more = r.events;
    more.push_back(e);
    auto h2 = ladder::arrows(more);
    CHECK(h2.back().to == "bob");
  }
}

TEST_CASE("ladder::filter hides 100 Trying, REGISTER and ACK unless told otherwise")
{
  Run r;
  r.send("alice", "coreA", request("REGISTER", "sip:a.example", "r1", 1, "", "b1"));
  r.send("coreA", "alice", response(200, "OK", "r1", 1, "REGISTER", "b1"));
  r.send("coreA", "alice", response(100, "Trying", "c1", 1, "INVITE", "b2"));
  r.send("alice", "coreA", request("ACK", "sip:bob@b.example", "c1", 1, "", "b3"));
  r.send("alice", "coreA", request("OPTIONS", "sip:coreA", "o1", 1, "", "b4"));
  auto hs = ladder::arrows(r.events);
  REQUIRE(hs.size() == 5);
  CHECK(ladder::filter(hs, {}).size() == 1);
  CHECK(ladder::filter(hs, ladder::Filter::none()).size() == 5);
  ladder::Filter f;
  f.more = {"OPTIONS"};
  CHECK(ladder::filter(hs, f).empty());
  // A hidden method takes its responses along; a hidden code only those responses.
  r.send("coreA", "alice", response(200, "OK", "o1", 1, "OPTIONS", "b4"));
  r.send("coreA", "alice", response(180, "Ringing", "c1", 1, "INVITE", "b2"));
  hs = ladder::arrows(r.events);
  CHECK(ladder::filter(hs, {}).size() == 3);
  CHECK(ladder::filter(hs, f).size() == 1);
  f.more = {"180"};
  CHECK(ladder::filter(hs, f).size() == 2);
}

TEST_CASE("ladder::format_columns and format_mermaid draw every hop")
{
  auto hs = ladder::arrows(fig5_6().events);
  auto cols = ladder::format_columns(hs, {});
  auto first_nl = cols.find('\n');
  auto head = cols.substr(0, first_nl);
  CHECK(head.find("alice") < head.find("coreA"));
  CHECK(head.find("coreA") < head.find("csA"));
  CHECK(std::count(cols.begin(), cols.end(), '\n') == 29);
  CHECK(cols.find("MESSAGE -") != std::string::npos);
  CHECK(cols.find("-->|") != std::string::npos);
  CHECK(cols.find("|<--") != std::string::npos);
  auto ordered = ladder::format_columns(hs, {"bob", "alice"});
  CHECK(ordered.substr(0, ordered.find('\n')).find("bob") <
        ordered.substr(0, ordered.find('\n')).find("alice"));
  auto m = ladder::format_mermaid(hs, {});
  CHECK(m.rfind("sequenceDiagram\n", 0) == 0);
  CHECK(m.find("participant n1 as alice\n") != std::string::npos);
  CHECK(m.find("n1->>n2: MESSAGE sip:bob@b.example\n") != std::string::npos);
  CHECK(m.find("n2-->>n1: 200 OK\n") != std::string::npos);
}

TEST_CASE("ladder::check accepts Figures 5 and 6 as FLOWS.md draws them")
{
  auto res = ladder::check(fig5_6_ladder(), ladder::arrows(fig5_6().events));
  INFO(res.report);
  CHECK(res.ok);
  CHECK(res.report.find("transaction message: ok (14 hops)") != std::string::npos);
  CHECK(res.report.find("transaction notification: ok (14 hops)") != std::string::npos);
}

TEST_CASE("ladder MSRP frames are hops that are drawn but not compared")
{
  Run r = fig5_6();
  r.send("alice", "bob",
         "MSRP a1b2 SEND\r\nTo-Path: msrp://127.0.2.10:4000/s;tcp\r\n"
         "From-Path: msrp://127.0.1.10:4001/t;tcp\r\nMessage-ID: m1\r\n"
         "Byte-Range: 1-2/2\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------a1b2$\r\n");
  r.send("bob", "alice",
         "MSRP a1b2 200 OK\r\nTo-Path: msrp://127.0.1.10:4001/t;tcp\r\n"
         "From-Path: msrp://127.0.2.10:4000/s;tcp\r\n-------a1b2$\r\n");
  auto hs = ladder::arrows(r.events);
  REQUIRE(hs.size() >= 2);
  const auto& send = hs[hs.size() - 2];
  const auto& ok = hs.back();
  CHECK(send.msrp);
  CHECK(send.request);
  CHECK(send.method == "SEND");
  CHECK(ladder::label(send, true) == "MSRP SEND");
  CHECK(ok.msrp);
  CHECK_FALSE(ok.request);
  CHECK(ok.status == 200);
  CHECK(ladder::label(ok, true) == "MSRP 200 OK");
  ladder::Filter no_msrp;
  no_msrp.msrp = true;
  CHECK(ladder::filter(hs, no_msrp).size() + 2 == ladder::filter(hs, ladder::Filter{}).size());
  auto res = ladder::check(fig5_6_ladder(), hs);
  INFO(res.report);
  CHECK(res.ok);
}

TEST_CASE("ladder::check reports a missing hop")
{
  Run r;
  // CoreB forgets the terminating trigger: coreB sends straight to bob.
  r.pager({"alice", "coreA", "csA", "coreA", "coreB", "bob"}, "sip:bob@b.example", "msg-1", "m");
  r.pager(k_notif_path, "sip:alice@a.example", "notif-1", "n");
  auto res = ladder::check(fig5_6_ladder(), ladder::arrows(r.events));
  INFO(res.report);
  CHECK_FALSE(res.ok);
  CHECK(res.report.find("transaction message: MISMATCH") != std::string::npos);
  CHECK(res.report.find("- [6.2]    coreB -> csB  MESSAGE") != std::string::npos);
  CHECK(res.report.find("- [6.6]    coreB -> csB  200") != std::string::npos);
  CHECK(res.report.find("transaction notification: ok") != std::string::npos);
}

TEST_CASE("ladder::check reports an extra hop and an extra transaction")
{
  SUBCASE("extra hop in a transaction")
  {
    Run r;
    auto path = k_msg_path;
    path.insert(path.begin() + 1, "csA"); // alice -> csA -> coreA ...
    r.pager(path, "sip:bob@b.example", "msg-1", "m");
    r.pager(k_notif_path, "sip:alice@a.example", "notif-1", "n");
    auto res = ladder::check(fig5_6_ladder(), ladder::arrows(r.events));
    INFO(res.report);
    CHECK_FALSE(res.ok);
    CHECK(res.report.find("+          alice -> csA  MESSAGE") != std::string::npos);
  }
  SUBCASE("extra transaction")
  {
    auto r = fig5_6();
    r.send("coreA", "coreB", request("OPTIONS", "sip:b.example", "ka", 1, "", "zk"));
    auto res = ladder::check(fig5_6_ladder(), ladder::arrows(r.events));
    INFO(res.report);
    CHECK_FALSE(res.ok);
    CHECK(res.report.find("extra transaction (Call-ID ka, 1 OPTIONS)") != std::string::npos);
  }
}

TEST_CASE("ladder::check reports hops in the wrong order")
{
  SUBCASE("within a transaction")
  {
    auto r = fig5_6();
    // csA's hop back to coreA is swapped in time with coreA's hop to csA.
    auto& ev = r.events;
    std::swap(ev[2].time_us, ev[4].time_us);
    std::swap(ev[3].time_us, ev[5].time_us);
    auto res = ladder::check(fig5_6_ladder(), ladder::arrows(ev));
    INFO(res.report);
    CHECK_FALSE(res.ok);
    CHECK(res.report.find("transaction message: MISMATCH") != std::string::npos);
  }
  SUBCASE("a notification before the message reached bob")
  {
    Run r;
    r.pager(k_notif_path, "sip:alice@a.example", "notif-1", "n");
    r.pager(k_msg_path, "sip:bob@b.example", "msg-1", "m");
    auto res = ladder::check(fig5_6_ladder(), ladder::arrows(r.events));
    INFO(res.report);
    CHECK_FALSE(res.ok);
    CHECK(res.report.find("transaction notification: WRONG ORDER") != std::string::npos);
  }
}

TEST_CASE("ladder::check ignores retransmissions, 100 Trying and ACK")
{
  auto r = fig5_6();
  auto again = r.events[6]; // coreA's tx to coreB, sent again
  again.time_us += 20;
  r.events.push_back(again);
  r.send("coreA", "alice", response(100, "Trying", "m-leg0", 1, "MESSAGE", "z9hG4bKm0"));
  r.send("alice", "coreA", request("ACK", "sip:x", "i1", 1, "", "zz"));
  auto res = ladder::check(fig5_6_ladder(), ladder::arrows(r.events));
  INFO(res.report);
  CHECK(res.ok);
}

TEST_CASE("ladder::check accepts interleaved independent branches")
{
  SUBCASE("the notification leaves before the last 200 OK of the message")
  {
    Run r;
    r.pager(k_msg_path, "sip:bob@b.example", "msg-1", "m", false);
    // bob answers, then at once sends the notification; the 200s and the notification cross.
    r.send("bob", "coreB", response(200, "OK", "m-leg2", 1, "MESSAGE", "b"));
    r.pager(k_notif_path, "sip:alice@a.example", "notif-1", "n");
    r.send("coreB", "csB", response(200, "OK", "m-leg2", 1, "MESSAGE", "b"));
    r.send("csB", "coreB", response(200, "OK", "m-leg1", 1, "MESSAGE", "b"));
    r.send("coreB", "coreA", response(200, "OK", "m-leg1", 1, "MESSAGE", "b"));
    r.send("coreA", "csA", response(200, "OK", "m-leg1", 1, "MESSAGE", "b"));
    r.send("csA", "coreA", response(200, "OK", "m-leg0", 1, "MESSAGE", "b"));
    r.send("coreA", "alice", response(200, "OK", "m-leg0", 1, "MESSAGE", "b"));
    auto res = ladder::check(fig5_6_ladder(), ladder::arrows(r.events));
    INFO(res.report);
    CHECK(res.ok);
  }
  SUBCASE("two branches of a fan-out interleave hop by hop")
  {
    auto ex = ladder::parse_expected("[transaction bob]\n"
                                     "coreA -> bob MESSAGE\n"
                                     "bob -> coreA 200\n"
                                     "[transaction carol]\n"
                                     "coreA -> carol MESSAGE\n"
                                     "carol -> coreA 200\n",
                                     "fanout");
    REQUIRE(ex);
    Run r;
    r.send("coreA", "bob", request("MESSAGE", "sip:bob@b.example", "cb", 1, "", "x1"));
    r.send("coreA", "csB", request("MESSAGE", "sip:carol@b.example", "cc", 1, "", "x2"));
    r.send("bob", "coreA", response(200, "OK", "cb", 1, "MESSAGE", "x1"));
    r.send("csB", "coreA", response(200, "OK", "cc", 1, "MESSAGE", "x2"));
    ex->alias["carol"] = "csB"; // aliases apply at parse time only
    auto res = ladder::check(*ex, ladder::arrows(r.events));
    CHECK_FALSE(res.ok); // so "carol" stays unknown here
    auto ex2 = ladder::parse_expected("[alias]\ncarol = csB\n[transaction bob]\n"
                                      "coreA -> bob MESSAGE\nbob -> coreA 200\n"
                                      "[transaction carol]\n"
                                      "coreA -> carol MESSAGE\ncarol -> coreA 200\n",
                                      "fanout");
    REQUIRE(ex2);
    res = ladder::check(*ex2, ladder::arrows(r.events));
    INFO(res.report);
    CHECK(res.ok);
  }
}

TEST_CASE("ladder::check keeps each copy of a fan-out (one message, new Call-IDs) apart")
{
  // csA plays a group's host: alice's message (Call-ID g1) is copied to bob (g2) and to csB
  // (g3), all carrying imdn.Message-ID grp-1, the copies' hops interleaved.
  auto ex = ladder::parse_expected("[transaction message]\n"
                                   "[1] alice -> coreA MESSAGE\n"
                                   "[2] coreA -> csA MESSAGE\n"
                                   "csA -> coreA 202\n"
                                   "coreA -> alice 202\n"
                                   "[transaction to-bob]\n"
                                   "after [2]\n"
                                   "csA -> coreB MESSAGE sip:bob@b.example\n"
                                   "coreB -> bob MESSAGE\n"
                                   "bob -> coreB 200\n"
                                   "coreB -> csA 200\n"
                                   "[transaction to-csB]\n"
                                   "after [2]\n"
                                   "csA -> coreB MESSAGE sip:carol@b.example\n"
                                   "coreB -> csB MESSAGE\n"
                                   "csB -> coreB 200\n"
                                   "coreB -> csA 200\n",
                                   "fanout");
  REQUIRE(ex);
  Run r;
  r.send("alice", "coreA", request("MESSAGE", "sip:g@x.example", "g1", 1, "grp-1", "a1"));
  r.send("coreA", "csA", request("MESSAGE", "sip:g@x.example", "g1", 1, "grp-1", "a2"));
  r.send("csA", "coreB", request("MESSAGE", "sip:bob@b.example", "g2", 1, "grp-1", "b1"));
  r.send("csA", "coreB", request("MESSAGE", "sip:carol@b.example", "g3", 1, "grp-1", "c1"));
  r.send("csA", "coreA", response(202, "Accepted", "g1", 1, "MESSAGE", "a2"));
  r.send("coreB", "csB", request("MESSAGE", "sip:carol@b.example", "g3", 1, "grp-1", "c2"));
  r.send("coreB", "bob", request("MESSAGE", "sip:bob@b.example", "g2", 1, "grp-1", "b2"));
  r.send("coreA", "alice", response(202, "Accepted", "g1", 1, "MESSAGE", "a1"));
  r.send("csB", "coreB", response(200, "OK", "g3", 1, "MESSAGE", "c2"));
  r.send("bob", "coreB", response(200, "OK", "g2", 1, "MESSAGE", "b2"));
  r.send("coreB", "csA", response(200, "OK", "g2", 1, "MESSAGE", "b1"));
  r.send("coreB", "csA", response(200, "OK", "g3", 1, "MESSAGE", "c1"));
  auto res = ladder::check(*ex, ladder::arrows(r.events));
  INFO(res.report);
  CHECK(res.ok);

  SUBCASE("a copy that takes the wrong path is still caught")
  {
    Run w = r;
    w.send("csA", "bob", request("MESSAGE", "sip:bob@b.example", "g4", 1, "grp-1", "d1"));
    auto bad = ladder::check(*ex, ladder::arrows(w.events));
    CHECK_FALSE(bad.ok);
  }
}

TEST_CASE("ladder::parse_expected reads steps, aliases and after lines")
{
  auto ex = fig5_6_ladder();
  REQUIRE(ex.transactions.size() == 2);
  const auto& m = ex.transactions[0];
  CHECK(m.name == "message");
  REQUIRE(m.requests.size() == 7);
  REQUIRE(m.responses.size() == 7);
  CHECK(m.requests[0].label == "5.1");
  CHECK(m.requests[0].from == "alice");
  CHECK(m.requests[0].to == "coreA");
  CHECK(m.requests[0].uri == "sip:bob@b.example");
  CHECK(m.responses[0].status == 200);
  CHECK(ex.transactions[1].after == std::vector<std::string>{"6.4"});
  SUBCASE("malformed")
  {
    auto bad = [](const char* text) { return ladder::parse_expected(text, "t.ladder"); };
    CHECK_FALSE(bad(""));
    CHECK_FALSE(bad("A -> B MESSAGE\n"));                      // outside a section
    CHECK_FALSE(bad("[bogus]\n"));                             // unknown section
    CHECK_FALSE(bad("[alias]\nA alice\n"));                    // no '='
    CHECK_FALSE(bad("[transaction t]\nA => B MESSAGE\n"));     // no arrow
    CHECK_FALSE(bad("[transaction t]\nA -> B message\n"));     // lower case method
    CHECK_FALSE(bad("[transaction t]\nA -> B 200\n"));         // no request
    CHECK_FALSE(bad("[transaction t]\nA -> B MESSAGE u x\n")); // two URIs
    CHECK_FALSE(bad("[transaction t]\n[1] A -> B MESSAGE\n[1] B -> C MESSAGE\n"));
    CHECK_FALSE(bad("[transaction t]\nafter [9]\nA -> B MESSAGE\n"));
    auto e = bad("[transaction t]\nA -> B MESSAGE\nA -> B 20\n");
    REQUIRE_FALSE(e);
    CHECK(e.error().message.rfind("t.ladder:3:", 0) == 0);
  }
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("ladder");

TEST_CASE("ladder::arrows names the receiver of a response on an inbound TCP connection by its Via")
{
  // csA reached coreA over TCP from an unbound 127.0.0.1 source: libre traces coreA's
  // response as going to the source IP with the Via port.
  std::vector<Event> ev;
  auto add = [&](const std::string& node, const char* dir, const std::string& local,
                 const std::string& peer, const std::string& msg, int64_t t) {
    Event e;
    e.time_us = t;
    e.node = node;
    e.dir = dir;
    e.transport = "tcp";
    e.local = local;
    e.peer = peer;
    e.message = msg;
    e.first_line = cpm::trace::first_line(msg);
    ev.push_back(e);
  };
  std::string ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.1.2:5060;branch=z9hG4bK1;"
                   "received=127.0.0.1;rport=40000\r\nVia: SIP/2.0/UDP 127.0.1.10:5060;"
                   "branch=z9hG4bK0\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
  add("csA", "tx", "127.0.1.2:5060", "127.0.1.1:5060", "MESSAGE sip:b SIP/2.0\r\n\r\n", 1);
  add("coreA", "tx", "127.0.1.1:5060", "127.0.0.1:5060", ok, 2);
  auto hs = ladder::arrows(ev);
  REQUIRE(hs.size() == 2);
  CHECK(hs[1].from == "coreA");
  CHECK(hs[1].to == "csA");

  SUBCASE("the Via wins over a node that alone showed 127.0.0.1 as its own")
  {
    // coreB opened a TCP connection of its own: the only node with a 127.0.0.1 address.
    add("coreB", "tx", "127.0.0.1:41000", "127.0.1.1:5060", "OPTIONS sip:a SIP/2.0\r\n\r\n", 3);
    auto h2 = ladder::arrows(ev);
    REQUIRE(h2.size() == 3);
    CHECK(h2[1].from == "coreA");
    CHECK(h2[1].to == "csA");
  }
  SUBCASE("an address nobody owns stays an address")
  {
    ev[1].message = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 10.9.9.9:5062;branch=z9hG4bK1\r\n\r\n";
    CHECK(ladder::arrows(ev)[1].to == "127.0.0.1:5060");
  }
  SUBCASE("a Via port only a request showed: the node that sent the request")
  {
    // A core's libre sends its INVITE over TCP from a port beside the core's own listener
    // (sip::StackOptions::own_tcp): no event shows that port as local, the request's Via
    // names it.
    ev[0].message = "MESSAGE sip:b SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.1.2:38001;branch=z9hG4bK1"
                    "\r\n\r\n";
    ev[1].message = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.1.2:38001;branch=z9hG4bK1\r\n\r\n";
    CHECK(ladder::arrows(ev)[1].to == "csA");
    // A port no request named stays an address (127.0.1.2 alone would be a guess).
    ev[1].message = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.1.2:38002;branch=z9hG4bK1\r\n\r\n";
    CHECK(ladder::arrows(ev)[1].to == "127.0.0.1:5060");
  }
}

TEST_SUITE_END();

namespace {

// SMPP PDUs between the IWF (its outgoing connection from its own address) and the SMSC, as
// the links trace them: transport "smpp", the PDU's one-line text as the message.
struct SmppRun {
  std::vector<Event> events;
  int64_t now = 1'700'000'000'000'000;
  void send(bool from_iwf, const std::string& text)
  {
    now += 1000;
    const std::string iwf = "127.0.1.3:40123", nc = "127.0.1.4:2775";
    auto add = [&](const char* node, const char* dir, const std::string& local,
                   const std::string& peer, int64_t t) {
      Event e;
      e.time_us = t;
      e.node = node;
      e.dir = dir;
      e.transport = "smpp";
      e.local = local;
      e.peer = peer;
      e.first_line = cpm::trace::first_line(text);
      e.message = text;
      events.push_back(e);
    };
    if (from_iwf) {
      add("iwf", "tx", iwf, nc, now);
      add("nc", "rx", nc, iwf, now + 100);
    } else {
      add("nc", "tx", nc, iwf, now);
      add("iwf", "rx", iwf, nc, now + 100);
    }
  }
};

const char* k_submit_ladder = R"(
[alias]
IWF = iwf
NC  = nc
[transaction submit]
[5] IWF -> NC submit_sm
[6] NC -> IWF submit_sm_resp
[transaction receipt]
after [6]
[11] NC -> IWF deliver_sm
[20] IWF -> NC deliver_sm_resp
)";

} // namespace

TEST_SUITE_BEGIN("ladder");

TEST_CASE("ladder SMPP PDUs are hops: named, paired by sequence number, compared")
{
  SmppRun r;
  r.send(true, "bind_transceiver seq=1 system_id=cpm");
  r.send(false, "bind_transceiver_resp seq=1 status=0x00000000");
  r.send(true, "submit_sm seq=2 src=+15550100 dst=+15550101 registered_delivery=1");
  r.send(false, "submit_sm_resp seq=2 status=0x00000000 id=7");
  r.send(true, "enquire_link seq=3");
  r.send(false, "enquire_link_resp seq=3 status=0x00000000");
  r.send(false, "deliver_sm seq=1 esm_class=0x04 id:7 stat:DELIVRD");
  r.send(true, "deliver_sm_resp seq=1 status=ESME_ROK");
  auto hs = ladder::arrows(r.events);
  REQUIRE(hs.size() == 8);
  CHECK(hs[2].smpp);
  CHECK(hs[2].request);
  CHECK(hs[2].from == "iwf");
  CHECK(hs[2].to == "nc");
  CHECK(hs[2].method == "submit_sm");
  CHECK(hs[2].cseq == "2");
  CHECK(ladder::label(hs[2], true) == "submit_sm");
  CHECK_FALSE(hs[3].request);
  CHECK(hs[3].method == "submit_sm");
  CHECK(hs[3].status == 0);
  CHECK(ladder::label(hs[3], true) == "submit_sm_resp");
  CHECK(hs[3].call_id == hs[2].call_id); // one transaction
  CHECK(hs[6].call_id != hs[2].call_id); // the SMSC's requests have their own numbers
  // Binds and keep-alives are session upkeep, hidden like REGISTER unless --all.
  CHECK(ladder::filter(hs, ladder::Filter{}).size() == 4);
  CHECK(ladder::filter(hs, ladder::Filter::none()).size() == 8);
  auto ex = ladder::parse_expected(k_submit_ladder, "submit.ladder");
  REQUIRE(ex);
  auto res = ladder::check(*ex, hs);
  INFO(res.report);
  CHECK(res.ok);
}

TEST_CASE("ladder SMPP responses are compared by command_status")
{
  SmppRun r;
  r.send(true, "submit_sm seq=2 dst=+15550101");
  r.send(false, "submit_sm_resp seq=2 status=0x00000058");
  r.send(false, "deliver_sm seq=1");
  r.send(true, "deliver_sm_resp seq=1 status=0x00000000");
  auto hs = ladder::arrows(r.events);
  REQUIRE(hs.size() == 4);
  CHECK(ladder::label(hs[1], true) == "submit_sm_resp ESME_RTHROTTLED");
  auto ex = ladder::parse_expected(k_submit_ladder, "submit.ladder");
  REQUIRE(ex);
  auto res = ladder::check(*ex, hs);
  CHECK_FALSE(res.ok);
  CHECK(res.report.find("- [6]      nc -> iwf  submit_sm_resp") != std::string::npos);
  CHECK(res.report.find("+          nc -> iwf  submit_sm_resp ESME_RTHROTTLED") !=
        std::string::npos);
  std::string throttled = k_submit_ladder;
  throttled.replace(throttled.find("submit_sm_resp"), 14, "submit_sm_resp ESME_RTHROTTLED");
  ex = ladder::parse_expected(throttled, "submit.ladder");
  REQUIRE(ex);
  res = ladder::check(*ex, hs);
  INFO(res.report);
  CHECK(res.ok);
}

TEST_CASE("ladder::parse_expected reads SMPP steps and refuses what does not fit")
{
  auto ex = ladder::parse_expected("[transaction t]\n[1] a -> b submit_sm\n"
                                   "[2] b -> a submit_sm_resp 0x14\n",
                                   "t.ladder");
  REQUIRE(ex);
  REQUIRE(ex->transactions.size() == 1);
  CHECK(ex->transactions[0].requests[0].smpp);
  CHECK(ex->transactions[0].requests[0].method == "submit_sm");
  CHECK(ex->transactions[0].responses[0].status == 0x14);
  CHECK(ex->transactions[0].responses[0].method == "submit_sm");
  auto bad = ladder::parse_expected("[transaction t]\n[1] a -> b submit_sm extra\n", "t.ladder");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("t.ladder:2: unexpected 'extra' after the SMPP PDU") == 0);
  bad = ladder::parse_expected("[transaction t]\n[1] a -> b submit_sm\n"
                               "[2] b -> a submit_sm_resp ESME_NOPE\n",
                               "t.ladder");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("bad SMPP command_status 'ESME_NOPE'") != std::string::npos);
  CHECK(ladder::smpp_status_code("ESME_RMSGQFUL") == 0x14);
  CHECK(ladder::smpp_status_code("88") == 0x58);
  CHECK(ladder::smpp_status_code("0x") == -1);
  CHECK(ladder::smpp_status_name(0x58) == "ESME_RTHROTTLED");
  CHECK(ladder::smpp_status_name(0x12345).empty());
  CHECK(ladder::is_smpp_pdu("generic_nack"));
  CHECK(ladder::is_smpp_pdu("unbind_resp"));
  CHECK_FALSE(ladder::is_smpp_pdu("generic_nack_resp"));
  CHECK_FALSE(ladder::is_smpp_pdu("submit"));
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("ladder");

TEST_CASE("ladder a re-INVITE (To with a tag) is drawn and compared as re-INVITE")
{
  Run r;
  auto invite = [](const std::string& to, int cseq) {
    return fmt::format(
        "INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKi{}\r\n"
        "To: {}\r\nCall-ID: call-1\r\nCSeq: {} INVITE\r\nContent-Length: 0\r\n\r\n",
        cseq, to, cseq);
  };
  r.send("alice", "coreA", invite("<sip:bob@b.example>", 1));
  r.send("coreA", "alice", response(200, "OK", "call-1", 1, "INVITE", "z9hG4bKi1"));
  // A tag in the URI's parameters is no dialog; after the '>' it is.
  r.send("alice", "coreA", invite("<sip:bob@b.example;tag=x>", 2));
  r.send("coreA", "alice", response(200, "OK", "call-1", 2, "INVITE", "z9hG4bKi2"));
  r.send("alice", "coreA", invite("<sip:bob@b.example> ; TAG = b7", 3));
  r.send("coreA", "alice", response(200, "OK", "call-1", 3, "INVITE", "z9hG4bKi3"));
  auto hs = ladder::arrows(r.events);
  REQUIRE(hs.size() == 6);
  CHECK(ladder::label(hs[0], false) == "INVITE");
  CHECK(ladder::label(hs[2], false) == "INVITE");
  CHECK(ladder::label(hs[4], true) == "re-INVITE sip:bob@b.example");
  CHECK(ladder::format_lines(hs).find("re-INVITE") != std::string::npos);

  auto ex = ladder::parse_expected("[transaction first]\n[1] alice -> coreA INVITE\n"
                                   "[2] coreA -> alice 200\n"
                                   "[transaction second]\n[3] alice -> coreA INVITE\n"
                                   "[4] coreA -> alice 200\n"
                                   "[transaction modify]\n[5] alice -> coreA re-INVITE\n"
                                   "[6] coreA -> alice 200\n",
                                   "reinvite.ladder");
  REQUIRE(ex);
  CHECK(ex->transactions[2].requests[0].method == "INVITE");
  CHECK(ex->transactions[2].requests[0].reinvite);
  auto res = ladder::check(*ex, hs);
  INFO(res.report);
  CHECK(res.ok);
  // A dialog-forming INVITE step does not match the re-INVITE, nor a re-INVITE step a
  // dialog-forming INVITE (transactions are matched in any order, so each ladder below has
  // one kind too many).
  for (const char* kinds : {"INVITE INVITE INVITE", "re-INVITE re-INVITE INVITE"}) {
    std::istringstream words(kinds);
    std::string text;
    for (int i = 1; i <= 3; ++i) {
      std::string kind;
      words >> kind;
      text += fmt::format(
          "[transaction t{0}]\n[{0}.1] alice -> coreA {1}\n[{0}.2] coreA -> alice 200\n", i, kind);
    }
    auto wrong = ladder::parse_expected(text, "wrong.ladder");
    REQUIRE(wrong);
    auto bad = ladder::check(*wrong, hs);
    INFO(bad.report);
    CHECK_FALSE(bad.ok);
  }
}

TEST_CASE("ladder::check compares REGISTER only when the ladder names it")
{
  Run r;
  // bob registers with digest: a 401 challenge, then a second REGISTER (CSeq 2) with 200.
  r.send("bob", "coreB", request("REGISTER", "sip:b.example", "reg-1", 1, "", "z9hG4bKr1"));
  r.send("coreB", "bob", response(401, "Unauthorized", "reg-1", 1, "REGISTER", "z9hG4bKr1"));
  r.send("bob", "coreB", request("REGISTER", "sip:b.example", "reg-1", 2, "", "z9hG4bKr2"));
  r.send("coreB", "bob", response(200, "OK", "reg-1", 2, "REGISTER", "z9hG4bKr2"));
  r.pager(k_msg_path, "sip:bob@b.example", "msg-1", "m");
  r.pager(k_notif_path, "sip:alice@a.example", "notif-1", "n");
  auto hs = ladder::arrows(r.events);

  SUBCASE("a ladder without REGISTER leaves the registration out")
  {
    auto res = ladder::check(fig5_6_ladder(), hs);
    INFO(res.report);
    CHECK(res.ok);
  }
  auto text = std::string("[alias]\nB = bob\nCoreB = coreB\n"
                          "[transaction challenge]\n[r.1] B -> CoreB REGISTER sip:b.example\n"
                          "[r.2] CoreB -> B 401\n"
                          "[transaction register]\nafter [r.2]\n[r.3] B -> CoreB REGISTER\n"
                          "[r.4] CoreB -> B 200\n");
  SUBCASE("a ladder with REGISTER compares the challenge and the second REGISTER")
  {
    auto ex = ladder::parse_expected(text + "[transaction message]\nafter [r.4]\n"
                                            "[m.1] alice -> coreA MESSAGE\n",
                                     "reg.ladder");
    REQUIRE(ex);
    // Only the message's first hop is named: the rest of the run must not match.
    auto res = ladder::check(*ex, hs);
    CHECK_FALSE(res.ok);
    CHECK(res.report.find("transaction challenge: ok") != std::string::npos);
    CHECK(res.report.find("transaction register: ok") != std::string::npos);
  }
  SUBCASE("a registration without its challenge does not match")
  {
    Run plain;
    plain.send("bob", "coreB", request("REGISTER", "sip:b.example", "reg-2", 1, "", "z9hG4bKp"));
    plain.send("coreB", "bob", response(200, "OK", "reg-2", 1, "REGISTER", "z9hG4bKp"));
    auto ex = ladder::parse_expected(text, "reg.ladder");
    REQUIRE(ex);
    auto res = ladder::check(*ex, ladder::arrows(plain.events));
    INFO(res.report);
    CHECK_FALSE(res.ok);
    auto ok = ladder::parse_expected("[transaction register]\n[1] bob -> coreB REGISTER\n"
                                     "[2] coreB -> bob 200\n",
                                     "reg.ladder");
    REQUIRE(ok);
    CHECK(ladder::check(*ok, ladder::arrows(plain.events)).ok);
  }
}

TEST_SUITE_END();
