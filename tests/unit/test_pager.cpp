// ua::Pager and ua::Inbox over 127.0.0.1 in one libre loop: two SIP stacks.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cerrno>
#include <fmt/format.h>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <random>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include "cpm/rt/sip.hpp"
#include "cpm/ua/inbox.hpp"
#include "cpm/ua/pager.hpp"

namespace ua = cpm::ua;

namespace {

// A stack on udp and tcp at one port (a pager's TCP fallback goes to the UDP port).
std::unique_ptr<cpm::sip::Stack> stack_on_one_port(uint16_t& port)
{
  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 50; ++i) {
    port = static_cast<uint16_t>(20000 + rng() % 30000);
    auto s = cpm::sip::Stack::create(
        {fmt::format("udp:127.0.0.1:{}", port), fmt::format("tcp:127.0.0.1:{}", port)}, "test");
    if (s)
      return std::move(*s);
  }
  return nullptr;
}

struct Received {
  std::string transport;
  std::string text;
};

// Send `body` from `from` to the receiver's port (through `hop`, default udp to that port)
// and run the loop until it is answered; `notices` gets the pager's notices.
std::optional<Received> send_one(cpm::sip::Stack& from, cpm::sip::Stack& to, uint16_t port,
                                 const std::string& body, ua::Final& final,
                                 std::optional<cpm::sip::Hop> hop = {},
                                 std::string* notices = nullptr)
{
  std::optional<Received> got;
  ua::Log log{"test", true, 0};
  auto inbox = ua::Inbox::listen(to, log, [&](const ua::Incoming& in, const cpm::sip::Hop& src) {
    got = Received{src.transport, in.text};
  });
  REQUIRE(inbox);
  ua::Pager pager(from, [](const std::string&) {});
  if (notices)
    pager.set_notice([notices](const std::string& n) { *notices += n + "\n"; });
  ua::Message m;
  m.ruri = fmt::format("sip:bob@127.0.0.1:{}", port);
  m.from = "sip:alice@127.0.0.1";
  m.content_type = "text/plain";
  m.body = body;
  auto sent = pager.send(m, hop.value_or(cpm::sip::Hop{"udp", "127.0.0.1", port}), false,
                         [&](const ua::Final& f) {
                           final = f;
                           cpm::sip::stop(0);
                         });
  REQUIRE(sent);
  cpm::sip::Timer guard;
  guard.start(10000, [] { cpm::sip::stop(99); });
  CHECK(cpm::sip::run() == 0);
  return got;
}

} // namespace

TEST_SUITE_BEGIN("ua");

TEST_CASE("ua::Pager goes over TCP when the encoded request is bigger than 1300 bytes")
{
  cpm::sip::Library lib;
  uint16_t port = 0;
  auto bob = stack_on_one_port(port);
  REQUIRE(bob);
  auto alice = cpm::sip::Stack::create({"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, "test");
  REQUIRE(alice);
  ua::Final f;
  SUBCASE("small: udp")
  {
    auto got = send_one(**alice, *bob, port, "hello", f);
    REQUIRE(got);
    CHECK(got->transport == "udp");
    CHECK(got->text == "hello");
    CHECK(f.status == 200);
    CHECK(f.err == 0);
  }
  SUBCASE("big: tcp")
  {
    std::string big(2000, 'x');
    auto got = send_one(**alice, *bob, port, big, f);
    REQUIRE(got);
    CHECK(got->transport == "tcp");
    CHECK(got->text == big);
    CHECK(f.status == 200);
  }
  SUBCASE("big without a tcp transport: an error, nothing sent")
  {
    auto udp_only = cpm::sip::Stack::create({"udp:127.0.0.1:0"}, "test");
    REQUIRE(udp_only);
    ua::Pager pager(**udp_only, [](const std::string&) {});
    ua::Message m;
    m.ruri = "sip:bob@127.0.0.1";
    m.body = std::string(2000, 'x');
    auto sent = pager.send(m, cpm::sip::Hop{"udp", "127.0.0.1", port}, false, {});
    REQUIRE_FALSE(sent);
    CHECK(sent.error().message.find("need TCP") != std::string::npos);
    CHECK(pager.in_flight() == 0);
  }
}

TEST_CASE("ua::Pager sends a big MESSAGE over UDP when TCP is refused or the hop names UDP")
{
  cpm::sip::Library lib;
  auto alice = cpm::sip::Stack::create({"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, "test");
  REQUIRE(alice);
  std::string big(2000, 'x');
  ua::Final f;
  std::string notices;
  SUBCASE("a UDP-only peer: TCP refused, the same MESSAGE over UDP, with a notice")
  {
    auto bob = cpm::sip::Stack::create({"udp:127.0.0.1:0"}, "test");
    REQUIRE(bob);
    auto l = cpm::sip::parse_listen((*bob)->bound().front());
    REQUIRE(l);
    // A TCP socket bound to bob's port but not listening: the connection is refused.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(l->port);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    auto got = send_one(**alice, **bob, l->port, big, f, std::nullopt, &notices);
    ::close(fd);
    REQUIRE(got);
    CHECK(got->transport == "udp");
    CHECK(got->text == big);
    CHECK(f.status == 200);
    CHECK(f.err == 0);
    CHECK(notices.find(fmt::format("TCP to sip:127.0.0.1:{} refused; sent over UDP", l->port)) !=
          std::string::npos);
  }
  SUBCASE("a hop whose URI says transport=udp is not moved to TCP")
  {
    uint16_t port = 0;
    auto bob = stack_on_one_port(port);
    REQUIRE(bob);
    auto hop = cpm::sip::hop_of_uri(fmt::format("sip:127.0.0.1:{};transport=udp", port));
    REQUIRE(hop);
    CHECK(hop->transport_named);
    auto got = send_one(**alice, *bob, port, big, f, *hop, &notices);
    REQUIRE(got);
    CHECK(got->transport == "udp");
    CHECK(got->text == big);
    CHECK(f.status == 200);
    CHECK(notices.empty());
  }
}

TEST_CASE("ua::Inbox refuses a body it cannot read with 415")
{
  cpm::sip::Library lib;
  uint16_t port = 0;
  auto bob = stack_on_one_port(port);
  REQUIRE(bob);
  auto alice = cpm::sip::Stack::create({"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, "test");
  REQUIRE(alice);
  std::optional<Received> got;
  ua::Log log{"test", true, 0};
  auto inbox = ua::Inbox::listen(*bob, log, [&](const ua::Incoming& in, const cpm::sip::Hop&) {
    got = Received{"", in.text};
  });
  REQUIRE(inbox);
  ua::Pager pager(**alice, [](const std::string&) {});
  ua::Message m;
  m.ruri = fmt::format("sip:bob@127.0.0.1:{}", port);
  m.from = "sip:alice@127.0.0.1";
  m.content_type = "application/octet-stream";
  m.body = "x";
  ua::Final f;
  REQUIRE(pager.send(m, cpm::sip::Hop{"udp", "127.0.0.1", port}, false, [&](const ua::Final& fin) {
    f = fin;
    cpm::sip::stop(0);
  }));
  cpm::sip::Timer guard;
  guard.start(10000, [] { cpm::sip::stop(99); });
  CHECK(cpm::sip::run() == 0);
  CHECK(f.status == 415);
  CHECK_FALSE(got);
}

TEST_CASE("ua::Pager times out and cancels quietly")
{
  cpm::sip::Library lib;
  auto alice = cpm::sip::Stack::create({"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, "test");
  REQUIRE(alice);
  // Nobody answers: a plain UDP socket that never reads.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  socklen_t len = sizeof(a);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  auto port = ntohs(a.sin_port);
  ua::Pager pager(**alice, [](const std::string&) {});
  ua::Message m;
  m.ruri = fmt::format("sip:bob@127.0.0.1:{}", port);
  m.from = "sip:alice@127.0.0.1";
  ua::Final f;
  int calls = 0;
  auto hop = cpm::sip::Hop{"udp", "127.0.0.1", port};
  REQUIRE(pager.send(
      m, hop, false,
      [&](const ua::Final& fin) {
        f = fin;
        ++calls;
        cpm::sip::stop(0);
      },
      200));
  auto cancelled = pager.send(m, hop, false, [&](const ua::Final&) { ++calls; });
  REQUIRE(cancelled);
  pager.cancel(cancelled->id);
  cpm::sip::Timer guard;
  guard.start(10000, [] { cpm::sip::stop(99); });
  CHECK(cpm::sip::run() == 0);
  CHECK(calls == 1);
  CHECK(f.timed_out);
  CHECK(f.err == ETIMEDOUT);
  CHECK(pager.in_flight() == 0);
  ::close(fd);
}

TEST_CASE("ua::transient: no answer and 408, 480, 500, 503, 504 may pass later; the rest is final")
{
  auto status = [](int code) {
    ua::Final f;
    f.status = code;
    return f;
  };
  ua::Final timeout;
  timeout.err = ETIMEDOUT;
  timeout.timed_out = true;
  CHECK(ua::transient(timeout));
  ua::Final refused;
  refused.err = ECONNREFUSED;
  CHECK(ua::transient(refused));
  for (int code : {408, 480, 500, 503, 504})
    CHECK(ua::transient(status(code)));
  for (int code : {400, 403, 404, 413, 415, 486, 488, 501, 603})
    CHECK_FALSE(ua::transient(status(code)));
}

TEST_SUITE_END();
