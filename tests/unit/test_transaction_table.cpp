// The proxy's server-transaction table on a fake clock: no sockets, no libre loop.
#include <doctest/doctest.h>

#include "cpm/proxy/transaction_table.hpp"
#include "cpm/rt/timer_queue.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace cpm::proxy;

namespace {

// A clock that moves only when told, firing what falls due on the way.
class FakeTimers final : public cpm::rt::TimerQueue {
public:
  uint64_t now() const override { return m_now; }
  void advance(uint64_t ms)
  {
    uint64_t end = m_now + ms;
    while (auto due = next_due()) {
      if (*due > end)
        break;
      m_now = std::max(m_now, *due);
      run_due();
    }
    m_now = end;
  }

protected:
  void wake_at(uint64_t) override {}

private:
  uint64_t m_now = 1000;
};

// Records what the table sends upstream and when it stops client sides.
struct Wire final : Upstream {
  std::vector<std::string> sent;
  // "send 487" and "finish KEY", in order.
  std::vector<std::string> events;
  void send(ServerTransaction& t, std::string_view response) override
  {
    sent.push_back(t.key + " " + std::string(response));
    events.push_back("send " + std::string(response.substr(8, 3)));
  }
  void finish(ServerTransaction& t) override { events.push_back("finish " + t.key); }
  void left_early(const ServerTransaction& t, uint64_t total) override
  {
    events.push_back("early " + t.key + " " + std::to_string(total));
  }
  // The transactions the table is done with, kept (as a proxy's pool keeps them).
  std::vector<std::unique_ptr<ServerTransaction>> released;
  void release(std::unique_ptr<ServerTransaction> t) override { released.push_back(std::move(t)); }
  // How many times the client side of `key` was told to stop.
  size_t finished(const std::string& key) const
  {
    return size_t(std::count(events.begin(), events.end(), "finish " + key));
  }
  // The status code and reason of the n-th response sent.
  std::string status(size_t n) const
  {
    auto& s = sent.at(n);
    auto start = s.find(" SIP/2.0 ") + 9;
    return s.substr(start, s.find("\r\n") - start);
  }
};

constexpr uint64_t k_linger = k_timer_j_ms; // RFC 3261 Timer J over UDP

struct Fixture {
  explicit Fixture(Limits limits = {}) : table(timers, wire, limits) {}
  FakeTimers timers;
  Wire wire;
  TransactionTable table;

  ServerTransaction& add(std::string_view branch, std::string_view method,
                         std::string call_id = "c1@a", bool reliable = false)
  {
    auto t = std::make_unique<ServerTransaction>();
    t->key = txn_key(branch, "127.0.1.10:5060", method);
    t->method = std::string(method);
    t->call_id = call_id;
    t->invite = method == "INVITE";
    t->reliable = reliable;
    t->head = "Via: SIP/2.0/UDP 127.0.1.10:5060;branch=" + std::string(branch) +
              ";received=127.0.1.10\r\nFrom: <sip:alice@a.example>;tag=f1\r\n"
              "To: <sip:bob@b.example>\r\nCall-ID: " +
              call_id + "\r\nCSeq: 1 " + std::string(method) + "\r\n";
    return table.add(std::move(t));
  }
};

std::string key_of(std::string_view branch, std::string_view method)
{
  return txn_key(branch, "127.0.1.10:5060", method);
}

} // namespace

TEST_SUITE_BEGIN("transaction_table");

TEST_CASE("transaction_table: a retransmitted request is absorbed and gets the last response")
{
  Fixture f;
  auto& t = f.add("z9hG4bKa", "MESSAGE");
  SUBCASE("before any response nothing is resent")
  {
    CHECK(f.table.absorb(t.key, false));
    CHECK(f.wire.sent.empty());
  }
  SUBCASE("after a provisional response it goes again")
  {
    f.table.respond(t, "SIP/2.0 180 Ringing\r\n\r\n", 180);
    CHECK(f.table.absorb(key_of("z9hG4bKa", "MESSAGE"), false));
    REQUIRE(f.wire.sent.size() == 2);
    CHECK(f.wire.sent[0] == f.wire.sent[1]);
  }
  SUBCASE("after the final response it goes again, and nothing later replaces it")
  {
    f.table.respond(t, "SIP/2.0 200 OK\r\n\r\n", 200);
    f.table.respond(t, "SIP/2.0 500 Late\r\n\r\n", 500); // a late second final: dropped
    f.table.reply(t, 408, "Request Timeout");
    CHECK(f.table.absorb(t.key, false));
    REQUIRE(f.wire.sent.size() == 2);
    CHECK(f.wire.status(1) == "200 OK");
    CHECK(f.wire.finished(t.key) == 1);
  }
  SUBCASE("a request with another branch is new")
  {
    CHECK_FALSE(f.table.absorb(key_of("z9hG4bKb", "MESSAGE"), false));
  }
}

TEST_CASE("transaction_table: ACK")
{
  Fixture f;
  auto& t = f.add("z9hG4bKi", "INVITE");
  SUBCASE("the ACK of our non-2xx answer is absorbed")
  {
    f.table.reply(t, 486, "Busy Here");
    CHECK(f.table.absorb(key_of("z9hG4bKi", "ACK"), true));
    CHECK(f.wire.sent.size() == 1); // and not answered
  }
  SUBCASE("an ACK for a 2xx goes on (end to end)")
  {
    f.table.respond(t, "SIP/2.0 200 OK\r\n\r\n", 200);
    CHECK_FALSE(f.table.absorb(key_of("z9hG4bKi", "ACK"), true));
  }
}

TEST_CASE("transaction_table: a CANCEL matches its INVITE")
{
  Fixture f;
  auto& t = f.add("z9hG4bKi", "INVITE");
  f.table.reply(t, 100, "Trying");
  auto* found = f.table.find(key_of("z9hG4bKi", "CANCEL"));
  REQUIRE(found == &t);
  f.table.cancel(*found);
  REQUIRE(f.wire.sent.size() == 2);
  CHECK(f.wire.status(0) == "100 Trying");
  CHECK(f.wire.status(1) == "487 Request Terminated");
  CHECK(f.wire.sent[1].find("To: <sip:bob@b.example>;tag=") != std::string::npos);
  // The client side stops (CANCEL downstream) before the 487 goes upstream.
  CHECK(f.wire.events.at(1) == "finish " + t.key);
  CHECK(f.wire.events.at(2) == "send 487");
  SUBCASE("a second CANCEL changes nothing")
  {
    f.table.cancel(t);
    CHECK(f.wire.sent.size() == 2);
  }
  SUBCASE("a CANCEL with another branch matches nothing")
  {
    CHECK(f.table.find(key_of("z9hG4bKx", "CANCEL")) == nullptr);
  }
  SUBCASE("a CANCEL after the answer gets no 487")
  {
    auto& t2 = f.add("z9hG4bKj", "INVITE");
    f.table.respond(t2, "SIP/2.0 200 OK\r\n\r\n", 200);
    f.table.cancel(t2);
    CHECK(f.wire.status(2) == "200 OK");
    CHECK(f.wire.sent.size() == 3);
  }
}

TEST_CASE("transaction_table: timers")
{
  Fixture f;
  SUBCASE("a completed transaction lingers, then is gone")
  {
    auto& t = f.add("z9hG4bKa", "MESSAGE");
    f.table.respond(t, "SIP/2.0 200 OK\r\n\r\n", 200);
    f.timers.advance(k_linger - 1);
    CHECK(f.table.absorb(key_of("z9hG4bKa", "MESSAGE"), false));
    f.timers.advance(1);
    CHECK(f.table.size() == 0);
    CHECK_FALSE(f.table.absorb(key_of("z9hG4bKa", "MESSAGE"), false));
  }
  SUBCASE("over TCP the linger is short")
  {
    auto& t = f.add("z9hG4bKa", "MESSAGE", "c1@a", true);
    f.table.respond(t, "SIP/2.0 200 OK\r\n\r\n", 200);
    f.timers.advance(k_linger_reliable_ms);
    CHECK(f.table.size() == 0);
  }
  SUBCASE("no final response in time: 408, the client side stops, then the linger")
  {
    auto& t = f.add("z9hG4bKa", "MESSAGE");
    std::string key = t.key;
    f.table.expect_final(t, 32000);
    f.timers.advance(31999);
    CHECK(f.wire.sent.empty());
    f.timers.advance(1);
    REQUIRE(f.wire.sent.size() == 1);
    CHECK(f.wire.status(0) == "408 Request Timeout");
    CHECK(f.wire.events == std::vector<std::string>{"send 408", "finish " + key});
    CHECK(f.table.absorb(key, false)); // a retransmission now gets the 408
    CHECK(f.wire.status(1) == "408 Request Timeout");
    f.timers.advance(k_linger);
    CHECK(f.table.size() == 0);
  }
  SUBCASE("a final response in time: no 408")
  {
    auto& t = f.add("z9hG4bKa", "MESSAGE");
    f.table.expect_final(t, 32000);
    f.timers.advance(100);
    f.table.respond(t, "SIP/2.0 200 OK\r\n\r\n", 200);
    f.timers.advance(40000);
    CHECK(f.wire.sent.size() == 1);
    CHECK(f.table.size() == 0);
  }
  SUBCASE("Timer C starts again on each provisional response")
  {
    auto& t = f.add("z9hG4bKi", "INVITE");
    f.table.expect_final(t, 180000);
    f.timers.advance(170000);
    f.table.respond(t, "SIP/2.0 180 Ringing\r\n\r\n", 180);
    f.table.expect_final(t, 180000);
    f.timers.advance(170000);
    CHECK(f.wire.sent.size() == 1);
    f.timers.advance(10000);
    CHECK(f.wire.status(1) == "408 Request Timeout");
  }
  SUBCASE("destroying the table cancels its timers")
  {
    {
      Wire w;
      TransactionTable table(f.timers, w);
      auto t = std::make_unique<ServerTransaction>();
      t->key = "k";
      table.expect_final(table.add(std::move(t)), 1000);
      CHECK(f.timers.size() == 1);
    }
    CHECK(f.timers.size() == 0);
    f.timers.advance(2000);
  }
}

TEST_CASE("transaction_table: a spiral (same Call-ID, another branch) is another transaction")
{
  Fixture f;
  auto& first = f.add("z9hG4bKa", "MESSAGE", "spiral@a");
  auto& second = f.add("z9hG4bKb", "MESSAGE", "spiral@a");
  CHECK(f.table.size() == 2);
  CHECK(&first != &second);
  f.table.reply(second, 404, "Not Found");
  CHECK(first.final_code == 0);
  f.table.respond(first, "SIP/2.0 200 OK\r\n\r\n", 200);
  CHECK(f.table.find(first.key)->final_code == 200);
  CHECK(f.table.find(second.key)->final_code == 404);
}

TEST_CASE("transaction_table: local responses")
{
  Fixture f;
  auto& t = f.add("z9hG4bKa", "MESSAGE");
  SUBCASE("100 has no To tag, others add ours, the same every time")
  {
    CHECK(local_response(t, 100, "Trying").find("To: <sip:bob@b.example>\r\n") !=
          std::string::npos);
    auto a = local_response(t, 404, "Not Found");
    auto b = local_response(t, 408, "Request Timeout");
    auto tag = [](const std::string& s) {
      auto p = s.find("To: <sip:bob@b.example>;tag=");
      return s.substr(p, s.find("\r\n", p) - p);
    };
    CHECK(tag(a) == tag(b));
  }
  SUBCASE("a request with a To tag keeps it")
  {
    t.to_tagged = true;
    t.head.replace(t.head.find("To: <sip:bob@b.example>"), 23, "To: <sip:bob@b.example>;tag=b");
    CHECK(local_response(t, 404, "Not Found").find("To: <sip:bob@b.example>;tag=b\r\n") !=
          std::string::npos);
  }
  SUBCASE("extra headers and a body")
  {
    auto r = local_response(t, 200, "OK", {"Contact: <sip:a@h>;expires=60"}, "hello");
    CHECK(r.rfind("SIP/2.0 200 OK\r\nVia: ", 0) == 0);
    CHECK(r.find("Contact: <sip:a@h>;expires=60\r\nContent-Length: 5\r\n\r\nhello") !=
          std::string::npos);
    CHECK(r.size() == r.find("\r\n\r\n") + 4 + 5);
  }
}

TEST_CASE("transaction_table: a completed UDP transaction lingers for Timer J")
{
  CHECK(k_timer_j_ms == 32000); // 64*T1
  Fixture f;
  auto& t = f.add("z9hG4bKa", "MESSAGE");
  f.table.expect_final(t, 32000);
  f.timers.advance(200);
  f.table.respond(t, "SIP/2.0 200 OK\r\n\r\n", 200);
  CHECK(f.table.lingering() == 1);
  f.timers.advance(5001); // the old 5 s linger is over: still here
  CHECK(f.table.absorb(key_of("z9hG4bKa", "MESSAGE"), false));
  f.timers.advance(31000 - 5001);
  CHECK(f.table.absorb(key_of("z9hG4bKa", "MESSAGE"), false)); // a retransmission at 31 s
  CHECK(f.wire.sent.size() == 3);
  CHECK(f.wire.status(2) == "200 OK");
  f.timers.advance(1000);
  CHECK(f.table.size() == 0);
  CHECK(f.table.lingering() == 0);
  CHECK(f.table.left_early() == 0);
}

TEST_CASE("transaction_table: beyond max_lingering the oldest lingering transactions leave")
{
  Fixture f(Limits{k_timer_j_ms, 3});
  auto& open = f.add("z9hG4bKopen", "MESSAGE"); // not answered: never counted nor evicted
  for (int i = 0; i < 5; ++i) {
    auto& t = f.add("z9hG4bK" + std::to_string(i), "MESSAGE");
    f.table.respond(t, "SIP/2.0 200 OK\r\n\r\n", 200);
    f.timers.advance(1000);
  }
  CHECK(f.table.lingering() == 3);
  CHECK(f.table.size() == 4);
  CHECK(f.table.left_early() == 2);
  CHECK(f.wire.events[f.wire.events.size() - 4] == "early " + key_of("z9hG4bK0", "MESSAGE") + " 1");
  CHECK(std::count(f.wire.events.begin(), f.wire.events.end(),
                   "early " + key_of("z9hG4bK1", "MESSAGE") + " 2") == 1);
  CHECK_FALSE(f.table.absorb(key_of("z9hG4bK0", "MESSAGE"), false)); // gone: forwarded anew
  CHECK_FALSE(f.table.absorb(key_of("z9hG4bK1", "MESSAGE"), false));
  CHECK(f.table.absorb(key_of("z9hG4bK2", "MESSAGE"), false));
  CHECK(f.table.absorb(key_of("z9hG4bK4", "MESSAGE"), false));
  CHECK(f.table.find(open.key) == &open);
  SUBCASE("the rest still leave at the end of Timer J, oldest first")
  {
    f.timers.advance(k_timer_j_ms - 3000); // 32 s after the third was answered
    CHECK(f.table.lingering() == 2);
    CHECK(f.table.find(key_of("z9hG4bK2", "MESSAGE")) == nullptr);
    f.timers.advance(2000);
    CHECK(f.table.lingering() == 0);
    CHECK(f.table.size() == 1); // the open one
    CHECK(f.table.left_early() == 2);
  }
  SUBCASE("over TCP a transaction is neither counted nor evicted")
  {
    auto& tcp = f.add("z9hG4bKtcp", "MESSAGE", "c1@a", true);
    f.table.respond(tcp, "SIP/2.0 200 OK\r\n\r\n", 200);
    CHECK(f.table.lingering() == 3);
    CHECK(f.table.left_early() == 2);
    f.timers.advance(k_linger_reliable_ms);
    CHECK(f.table.find(key_of("z9hG4bKtcp", "MESSAGE")) == nullptr);
  }
  SUBCASE("a cap of 0 means 1: the newest always stays")
  {
    Fixture g(Limits{k_timer_j_ms, 0});
    auto& a = g.add("z9hG4bKa", "MESSAGE");
    g.table.respond(a, "SIP/2.0 200 OK\r\n\r\n", 200);
    auto& b = g.add("z9hG4bKb", "MESSAGE");
    g.table.respond(b, "SIP/2.0 200 OK\r\n\r\n", 200);
    CHECK(g.table.lingering() == 1);
    CHECK(g.table.find(key_of("z9hG4bKb", "MESSAGE")) == &b);
    CHECK(g.table.left_early() == 1);
  }
}

TEST_CASE("transaction_table: a transaction that has left goes to Upstream::release for reuse")
{
  Fixture f;
  auto& t = f.add("z9hG4bKa", "MESSAGE");
  ServerTransaction* first = &t;
  f.table.respond(t, "SIP/2.0 200 OK\r\n\r\n", 200);
  CHECK(f.wire.released.empty()); // lingering
  f.timers.advance(k_linger);
  REQUIRE(f.wire.released.size() == 1);
  CHECK(f.wire.released[0].get() == first);
  CHECK(f.table.size() == 0);
  auto again = std::move(f.wire.released[0]);
  f.wire.released.clear();
  size_t last_capacity = again->last.capacity();
  again->reuse();
  CHECK(again->key.empty());
  CHECK(again->last.empty());
  CHECK(again->last.capacity() == last_capacity); // cleared, not freed
  CHECK(again->final_code == 0);
  again->key = key_of("z9hG4bKb", "MESSAGE");
  again->method = "MESSAGE";
  auto& second = f.table.add(std::move(again));
  CHECK(&second == first);
  CHECK(f.table.find(key_of("z9hG4bKb", "MESSAGE")) == first);
  CHECK(f.table.find(key_of("z9hG4bKa", "MESSAGE")) == nullptr);
  CHECK_FALSE(f.table.absorb(key_of("z9hG4bKa", "MESSAGE"), false));
  // It behaves as new: a timeout, then its linger, then released once more.
  f.table.expect_final(second, 100);
  f.timers.advance(100);
  REQUIRE(f.wire.sent.size() == 2);
  CHECK(f.wire.status(1) == "408 Request Timeout");
  f.timers.advance(k_linger);
  CHECK(f.wire.released.size() == 1);
  CHECK(f.table.size() == 0);
}

TEST_CASE("transaction_table: a new transaction with a live one's key releases the old one")
{
  Fixture f;
  auto& old = f.add("z9hG4bKa", "MESSAGE");
  ServerTransaction* old_ptr = &old;
  f.table.expect_final(old, 100);
  auto& fresh = f.add("z9hG4bKa", "MESSAGE");
  REQUIRE(f.wire.released.size() == 1);
  CHECK(f.wire.released[0].get() == old_ptr);
  CHECK(f.table.find(fresh.key) == &fresh);
  f.timers.advance(100); // the old one's timer went with it: only the new one has none
  CHECK(f.wire.sent.empty());
}

TEST_CASE("transaction_table: a completed transaction gives its head and Call-ID buffers back")
{
  Fixture f;
  auto& t = f.add("z9hG4bKa", "MESSAGE", std::string(40, 'c') + "@a.example");
  size_t head_capacity = t.head.capacity();
  size_t small = std::string().capacity();
  CHECK(f.table.spare_string().capacity() == small); // none yet
  f.table.respond(t, "SIP/2.0 200 OK\r\n\r\n", 200);
  CHECK(t.head.empty()); // a lingering transaction keeps neither
  CHECK(t.head.capacity() == small);
  CHECK(t.call_id.capacity() == small);
  auto a = f.table.spare_string();
  auto b = f.table.spare_string();
  CHECK(a.empty());
  CHECK(b.empty());
  CHECK(std::max(a.capacity(), b.capacity()) >= head_capacity);
  CHECK(std::min(a.capacity(), b.capacity()) >= 50);
  CHECK(f.table.spare_string().capacity() == small);
}

TEST_CASE("transaction_table: local_response on parts is the transaction's")
{
  Fixture f;
  auto& t = f.add("z9hG4bKa", "MESSAGE");
  std::vector<std::string> extra{"Warning: 399 a \"b\""};
  std::string out = "before";
  local_response(out, t.head, t.key, t.to_tagged, 404, "Not Found", extra, "body");
  CHECK(out == "before" + local_response(t, 404, "Not Found", extra, "body"));
  // Our To tag: a hash of the key, as it has always been written.
  char tag[40];
  std::snprintf(tag, sizeof tag, ";tag=%016zx\r\n", std::hash<std::string>{}(t.key));
  CHECK(out.find(std::string("To: <sip:bob@b.example>") + tag) != std::string::npos);
  std::string tagged;
  local_response(tagged, t.head, t.key, true, 404, "Not Found");
  CHECK(tagged.find("To: <sip:bob@b.example>\r\n") != std::string::npos); // no tag of ours
  std::string trying;
  local_response(trying, t.head, t.key, false, 100, "Trying");
  CHECK(trying.find("To: <sip:bob@b.example>\r\n") != std::string::npos);
  std::string other;
  local_response(other, t.head, "another key", false, 404, "Not Found");
  CHECK(other != local_response(t, 404, "Not Found"));
}

TEST_SUITE_END();
