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
#include <vector>

#include "cpm/codec/auth.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"
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
      1200));
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
  // What the silent peer got by the timeout (1,200 ms): the first request, its Timer E
  // retransmission at T1 (the next is due at 1,500 ms), and the cancelled one once.
  char buf[4096];
  int datagrams = 0;
  while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
    ++datagrams;
  CHECK(datagrams == 3);
  ::close(fd);
}

namespace {

// A peer on a libre stack that sees each MESSAGE as it comes (its top Via branch, Call-ID,
// CSeq, From tag, credentials) and drops the first, challenges one without credentials
// (401), or answers 200.
struct Peer {
  struct ::sip* sip = nullptr;
  bool drop_first = false;
  bool challenge = false;
  struct Seen {
    std::string branch, call_id, from_tag, authorization;
    uint32_t cseq = 0;
  };
  std::vector<Seen> seen;
  cpm::re_slot<struct sip_lsnr> lsnr;

  static bool req_h(const struct sip_msg* msg, void* arg) noexcept
  {
    auto& p = *static_cast<Peer*>(arg);
    Seen s;
    s.branch = cpm::pl_string(msg->via.branch);
    s.call_id = cpm::pl_string(msg->callid);
    s.from_tag = cpm::pl_string(msg->from.tag);
    s.cseq = msg->cseq.num;
    if (const struct sip_hdr* h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION))
      s.authorization = cpm::pl_string(h->val);
    bool authorized = !s.authorization.empty();
    p.seen.push_back(s);
    if (p.drop_first && p.seen.size() == 1)
      return true; // lost: the pager's Timer E sends it again
    if (p.challenge && !authorized)
      (void)sip_replyf(p.sip, msg, 401, "Unauthorized",
                       "WWW-Authenticate: %s\r\nContent-Length: 0\r\n\r\n",
                       cpm::auth::challenge("b.example", "n0nce").c_str());
    else
      (void)sip_reply(p.sip, msg, 200, "OK");
    return true;
  }
};

} // namespace

TEST_CASE("ua::Pager's own UDP client transaction: Timer E resends, a challenge is answered")
{
  cpm::sip::Library lib;
  uint16_t port = 0;
  auto bob = stack_on_one_port(port);
  REQUIRE(bob);
  auto alice = cpm::sip::Stack::create({"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, "test");
  REQUIRE(alice);
  Peer peer;
  peer.sip = bob->get();
  REQUIRE(sip_listen(peer.lsnr.out(), bob->get(), true, Peer::req_h, &peer) == 0);
  ua::Pager pager(**alice, [](const std::string&) {});
  ua::Message m;
  m.ruri = fmt::format("sip:bob@127.0.0.1:{}", port);
  m.from = "sip:alice@a.example";
  m.content_type = "text/plain";
  m.body = "hello";
  auto send = [&] {
    ua::Final f;
    REQUIRE(
        pager.send(m, cpm::sip::Hop{"udp", "127.0.0.1", port}, false, [&](const ua::Final& fin) {
          f = fin;
          cpm::sip::stop(0);
        }));
    cpm::sip::Timer guard;
    guard.start(10000, [] { cpm::sip::stop(99); });
    CHECK(cpm::sip::run() == 0);
    return f;
  };
  SUBCASE("the first transmission lost: the same request again after T1, then its 200")
  {
    peer.drop_first = true;
    auto t0 = cpm::sip::jiffies();
    auto f = send();
    CHECK(f.status == 200);
    CHECK(f.err == 0);
    CHECK(cpm::sip::jiffies() - t0 >= 490); // Timer E's first interval, T1 = 500 ms
    REQUIRE(peer.seen.size() == 2);
    CHECK(peer.seen[0].branch.rfind("z9hG4bK", 0) == 0);
    CHECK(peer.seen[1].branch == peer.seen[0].branch);
    CHECK(peer.seen[1].cseq == peer.seen[0].cseq);
  }
  SUBCASE("a 401: the same Call-ID and From tag, CSeq + 1, a new branch, credentials")
  {
    peer.challenge = true;
    pager.set_credentials(
        {"sip:alice@a.example", "secret", "no password", ua::Log{"test", true, 0}});
    auto f = send();
    CHECK(f.status == 200);
    REQUIRE(peer.seen.size() == 2);
    CHECK(peer.seen[0].authorization.empty());
    CHECK(peer.seen[1].authorization.find("username=\"alice@a.example\"") != std::string::npos);
    CHECK(peer.seen[1].call_id == peer.seen[0].call_id);
    CHECK(peer.seen[1].from_tag == peer.seen[0].from_tag);
    CHECK(peer.seen[1].cseq == peer.seen[0].cseq + 1);
    CHECK(peer.seen[1].branch != peer.seen[0].branch);
  }
  CHECK(pager.in_flight() == 0);
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
