// rt::UdpSocket on 127.0.0.1 in one libre loop: bursts in, bursts out, the bound on reads
// per wake-up that lets timers run, buffer sizes, tracing, and csip::Stack owning its UDP
// listen sockets.
#include <doctest/doctest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <fstream>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

#include "cpm/base/trace.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/rt/sip_tcp.hpp"
#include "cpm/rt/udp_socket.hpp"
#include "cpm/ua/pager.hpp"
#include "plain_udp.hpp"
#include "temp_dir.hpp"

namespace csip = cpm::sip;
using cpm::sa_str;
namespace rt = cpm::rt;

namespace {

using Plain = cpm::test::PlainUdp;

std::unique_ptr<rt::UdpSocket> open_local(const rt::UdpOptions& o = {})
{
  auto s = rt::UdpSocket::open("127.0.0.1", 0, o);
  REQUIRE(s);
  return std::move(*s);
}

long rmem_max()
{
  std::ifstream in("/proc/sys/net/core/rmem_max");
  long v = 0;
  in >> v;
  return v;
}

// The value of header `name` ("Via") in SIP text, up to its line end.
std::string header(const std::string& msg, const std::string& name)
{
  auto at = msg.find("\r\n" + name + ":");
  if (at == std::string::npos)
    return {};
  at += name.size() + 3;
  while (at < msg.size() && msg[at] == ' ')
    ++at;
  return msg.substr(at, msg.find("\r\n", at) - at);
}

} // namespace

TEST_SUITE_BEGIN("udp_socket");

TEST_CASE("rt::UdpSocket reads a burst of 300 datagrams in order, from their source, in bursts")
{
  csip::Library lib;
  auto sock = open_local();
  CHECK(sock->port() != 0);
  CHECK(sock->local_text() == fmt::format("127.0.0.1:{}", sock->port()));
  Plain peer;
  std::vector<std::string> got;
  std::vector<uint16_t> ports;
  sock->set_handler([&](std::string_view d, const struct sa& src) {
    got.emplace_back(d);
    ports.push_back(sa_port(&src));
    CHECK(sa_str(src) == sa_str(peer.addr));
    if (got.size() == 300)
      csip::stop(0);
  });
  for (int i = 0; i < 300; ++i)
    peer.send_to(sock->local(), fmt::format("datagram {}", i));
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  REQUIRE(got.size() == 300);
  for (int i = 0; i < 300; ++i)
    CHECK(got[size_t(i)] == fmt::format("datagram {}", i));
  CHECK(std::all_of(ports.begin(), ports.end(), [&](uint16_t p) { return p == peer.port(); }));
  // Batched: far fewer reads than datagrams, and at most 4 bursts of 64 per wake-up, so
  // 300 took two wake-ups at least.
  CHECK(sock->stats().received == 300);
  CHECK(sock->stats().recv_calls <= 300 / 8);
  CHECK(sock->stats().wakeups >= 2);
}

TEST_CASE("rt::UdpSocket lets a libre timer fire while a stream keeps it readable")
{
  csip::Library lib;
  auto sock = open_local();
  Plain peer;
  // Every datagram read is answered by one more from the peer, with 600 in flight from the
  // start: the socket never runs dry. Only the bound on bursts per wake-up lets libre's loop
  // reach its timers; without it the stream runs until `cap` stops it.
  const uint64_t cap = 200000;
  uint64_t n = 0;
  bool stopped_by_cap = false;
  sock->set_handler([&](std::string_view, const struct sa&) {
    if (++n < cap)
      peer.send_to(sock->local(), "more");
    else
      stopped_by_cap = true;
  });
  csip::Timer timer;
  uint64_t at_timer = 0;
  timer.start(20, [&] {
    at_timer = n;
    csip::stop(0);
  });
  for (int i = 0; i < 600; ++i)
    peer.send_to(sock->local(), "first");
  REQUIRE(csip::run() == 0);
  CHECK_FALSE(stopped_by_cap);
  CHECK(at_timer > 0);
  CHECK(at_timer < cap);
  CHECK(sock->stats().received <= sock->stats().wakeups * 4 * 64);
}

TEST_CASE("rt::UdpSocket on IPv6: bound, written as libre writes it, and sending to itself")
{
  csip::Library lib;
  auto made = rt::UdpSocket::open("[::1]", 0);
  if (!made) {
    MESSAGE("no IPv6 loopback here: " << made.error().message);
    return;
  }
  auto& sock = **made;
  CHECK(sock.local_text() == fmt::format("[::1]:{}", sock.port()));
  std::string got, from;
  sock.set_handler([&](std::string_view d, const struct sa& src) {
    got = d;
    from = sa_str(src);
    csip::stop(0);
  });
  REQUIRE(sock.send_now(sock.local(), "to myself") == 0);
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  CHECK(got == "to myself");
  CHECK(from == sock.local_text());
}

TEST_CASE("rt::UdpSocket sends 100 queued datagrams with one sendmmsg")
{
  csip::Library lib;
  rt::UdpOptions o;
  o.burst = 128; // room for all 100 before the queue flushes by itself
  auto sock = open_local(o);
  Plain peer;
  for (int i = 0; i < 100; ++i)
    REQUIRE(sock->queue(peer.addr, fmt::format("out {}", i)) == 0);
  CHECK(sock->queued() == 100);
  CHECK(sock->stats().send_calls == 0);
  CHECK(sock->flush() == 100);
  CHECK(sock->queued() == 0);
  CHECK(sock->stats().send_calls == 1);
  CHECK(sock->stats().sent == 100);
  for (int i = 0; i < 100; ++i) {
    uint16_t from = 0;
    CHECK(peer.receive(&from) == fmt::format("out {}", i));
    CHECK(from == sock->port());
  }
}

TEST_CASE("rt::UdpSocket flushes by itself when its slots are full")
{
  csip::Library lib;
  auto sock = open_local(); // 64 slots
  Plain peer;
  for (int i = 0; i < 100; ++i)
    REQUIRE(sock->queue(peer.addr, fmt::format("out {}", i)) == 0);
  CHECK(sock->stats().send_calls == 1); // the 65th found the slots full
  CHECK(sock->queued() == 36);
  CHECK(sock->send_now(peer.addr, "last") == 0);
  CHECK(sock->queued() == 0);
  CHECK(sock->stats().send_calls == 2);
  for (int i = 0; i < 100; ++i)
    CHECK(peer.receive() == fmt::format("out {}", i));
  CHECK(peer.receive() == "last");
}

TEST_CASE("rt::UdpSocket replies queued by the handler go out at the end of the burst")
{
  csip::Library lib;
  auto sock = open_local();
  Plain peer;
  sock->set_handler([&](std::string_view d, const struct sa& src) {
    CHECK(sock->queue(src, "re: " + std::string(d)) == 0);
    if (sock->stats().received == 10)
      csip::stop(0);
  });
  for (int i = 0; i < 10; ++i)
    peer.send_to(sock->local(), fmt::format("q{}", i));
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  // The last burst's replies were flushed after the handler's stop(): all ten are out.
  CHECK(sock->queued() == 0);
  for (int i = 0; i < 10; ++i)
    CHECK(peer.receive() == fmt::format("re: q{}", i));
  CHECK(sock->stats().send_calls < 10);
}

TEST_CASE("rt::UdpSocket reports a datagram the kernel refuses and goes on with the rest")
{
  csip::Library lib;
  auto sock = open_local();
  Plain peer;
  std::vector<int> errors;
  sock->set_error_handler([&](int err, const struct sa&) { errors.push_back(err); });
  struct sa v6;
  sa_set_str(&v6, "::1", 5060);
  CHECK(sock->queue(v6, "wrong family") == EAFNOSUPPORT);
  CHECK(sock->queue(peer.addr, std::string(70000, 'x')) == EMSGSIZE);
  // A datagram over IPv4's largest payload is refused by the kernel (EMSGSIZE), in the
  // middle of a batch.
  REQUIRE(sock->queue(peer.addr, "before") == 0);
  REQUIRE(sock->queue(peer.addr, std::string(65530, 'y')) == 0);
  REQUIRE(sock->queue(peer.addr, "after") == 0);
  CHECK(sock->flush() == 2);
  CHECK(errors == std::vector<int>{EMSGSIZE});
  CHECK(sock->stats().send_errors == 1);
  CHECK(peer.receive() == "before");
  CHECK(peer.receive() == "after");
}

TEST_CASE("rt::UdpSocket goes on receiving after sending to a port nobody listens on")
{
  csip::Library lib;
  auto sock = open_local();
  struct sa gone;
  {
    Plain closed;
    gone = closed.addr;
  }
  std::vector<int> errors;
  sock->set_error_handler([&](int err, const struct sa&) { errors.push_back(err); });
  // The ICMP port unreachable this provokes must not end the socket (an unconnected socket
  // is not told; a later send or read that is told reports it and goes on).
  CHECK(sock->send_now(gone, "anyone?") == 0);
  CHECK(sock->send_now(gone, "anyone at all?") == 0);
  Plain peer;
  std::string got;
  sock->set_handler([&](std::string_view d, const struct sa&) {
    got = d;
    csip::stop(0);
  });
  peer.send_to(sock->local(), "still here");
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  CHECK(got == "still here");
  CHECK(std::all_of(errors.begin(), errors.end(), [](int e) { return e == ECONNREFUSED; }));
}

TEST_CASE("rt::UdpSocket gets the receive buffer it asked for, or the kernel's cap")
{
  csip::Library lib;
  for (int asked : {1 << 20, 4 << 20}) {
    rt::UdpOptions o;
    o.buffer_bytes = asked;
    std::string said;
    o.diag = [&](const std::string& line) { said += line; };
    auto sock = open_local(o);
    int v = 0;
    socklen_t len = sizeof v;
    REQUIRE(getsockopt(sock->fd(), SOL_SOCKET, SO_RCVBUF, &v, &len) == 0);
    CHECK(sock->rcvbuf() == v);
    // Linux reports twice what it grants; without CAP_NET_ADMIN it grants rmem_max at most.
    CHECK(long(v) / 2 >= std::min(long(asked), rmem_max()));
    REQUIRE(getsockopt(sock->fd(), SOL_SOCKET, SO_SNDBUF, &v, &len) == 0);
    CHECK(v / 2 >= std::min(asked, 4 << 20) / 2); // wmem_max may cap it too; never to nothing
  }
}

TEST_CASE("rt::UdpSocket traces what it receives and sends as libre's traffic is traced")
{
  csip::Library lib;
  cpm::test::TempDir dir("cpm-udp");
  std::string path = (dir.path / "trace.jsonl").string();
  cpm::trace::Writer w;
  REQUIRE(w.open(path, "node"));
  rt::UdpOptions o;
  o.trace = &w;
  auto sock = open_local(o);
  Plain peer;
  const std::string req = "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nCall-ID: abc\r\n\r\n";
  sock->set_handler([&](std::string_view, const struct sa& src) {
    sock->queue(src, "SIP/2.0 200 OK\r\nCall-ID: abc\r\n\r\n");
    csip::stop(0);
  });
  peer.send_to(sock->local(), req);
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  CHECK(peer.receive().rfind("SIP/2.0 200 OK", 0) == 0);
  auto events = cpm::trace::read_file(path);
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  const auto& rx = (*events)[0];
  const auto& tx = (*events)[1];
  CHECK(rx.dir == "rx");
  CHECK(tx.dir == "tx");
  for (const auto* e : {&rx, &tx}) {
    CHECK(e->transport == "udp");
    CHECK(e->local == sock->local_text());
    CHECK(e->peer == sa_str(peer.addr));
    CHECK(e->call_id == "abc");
  }
  CHECK(rx.message == req);
  CHECK(rx.first_line == "OPTIONS sip:x@127.0.0.1 SIP/2.0");
}

TEST_CASE("csip::Stack with own_udp: the udp: listen socket is ours, libre's requests still work")
{
  csip::Library lib;
  csip::StackOptions so;
  so.own_udp = true;
  auto made = csip::Stack::create({"udp:127.0.0.1:0"}, "test", nullptr, "127.0.0.1:1", {}, so);
  REQUIRE(made);
  auto& stack = **made;
  REQUIRE(stack.own_udp().size() == 1);
  rt::UdpSocket& own = *stack.own_udp()[0];
  REQUIRE(stack.bound().size() == 1);
  CHECK(stack.bound()[0] == fmt::format("udp:127.0.0.1:{}", own.port()));
  CHECK(stack.uri() == fmt::format("sip:127.0.0.1:{}", own.port()));
  CHECK(stack.is_local("127.0.0.1", own.port()));

  // A datagram to the listen address reaches the owner's handler, not libre.
  Plain peer;
  std::string got;
  own.set_handler([&](std::string_view d, const struct sa&) {
    got = d;
    csip::stop(0);
  });
  peer.send_to(own.local(), "hello");
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  CHECK(got == "hello");

  // A MESSAGE by libre's sip_request: its Via names libre's own port, and the 200 sent
  // there completes the transaction.
  auto responder = open_local();
  std::string via;
  responder->set_handler([&](std::string_view d, const struct sa& src) {
    std::string m(d);
    if (m.rfind("MESSAGE ", 0) != 0)
      return;
    via = header(m, "Via");
    std::string resp = "SIP/2.0 200 OK\r\nVia: " + via + "\r\nFrom: " + header(m, "From") +
                       "\r\nTo: " + header(m, "To") +
                       ";tag=r1\r\nCall-ID: " + header(m, "Call-ID") +
                       "\r\nCSeq: " + header(m, "CSeq") + "\r\nContent-Length: 0\r\n\r\n";
    responder->queue(src, resp);
  });
  cpm::ua::Pager pager(stack, [](const std::string&) {});
  cpm::ua::Message msg;
  msg.ruri = fmt::format("sip:bob@127.0.0.1:{}", responder->port());
  msg.from = "sip:alice@127.0.0.1";
  msg.content_type = "text/plain";
  msg.body = "hi";
  int status = 0;
  auto sent = pager.send(msg, csip::Hop{"udp", "127.0.0.1", responder->port()}, false,
                         [&](const cpm::ua::Final& f) {
                           status = f.status;
                           csip::stop(0);
                         });
  REQUIRE(sent);
  guard.start(10000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  CHECK(status == 200);
  REQUIRE(via.rfind("SIP/2.0/UDP 127.0.0.1:", 0) == 0);
  auto port = uint16_t(std::stoi(via.substr(std::string("SIP/2.0/UDP 127.0.0.1:").size())));
  CHECK(port != own.port());
  CHECK(stack.is_local("127.0.0.1", port));
  CHECK(stack.bound().size() == 1); // libre's port is not a listen address
}

TEST_CASE("csip::Stack with own_tcp: the tcp: listener is ours, libre's TCP port still local")
{
  csip::Library lib;
  csip::StackOptions so;
  so.own_tcp = true;
  auto made = csip::Stack::create({"tcp:127.0.0.1:0"}, "test", nullptr, "127.0.0.1:1", {}, so);
  REQUIRE(made);
  auto& stack = **made;
  REQUIRE(stack.own_tcp().size() == 1);
  CHECK(stack.own_udp().empty());
  rt::SipTcp& own = *stack.own_tcp()[0];
  REQUIRE(stack.bound().size() == 1);
  CHECK(stack.bound()[0] == fmt::format("tcp:127.0.0.1:{}", own.port()));
  CHECK(stack.is_local("127.0.0.1", own.port()));
  // libre's TCP transport: the same IP, another port, still ours.
  struct sa dst, theirs;
  sa_set_str(&dst, "127.0.0.1", 5060);
  REQUIRE(sip_transp_laddr(stack.get(), &theirs, SIP_TRANSP_TCP, &dst) == 0);
  CHECK(sa_port(&theirs) != 0);
  CHECK(sa_port(&theirs) != own.port());
  CHECK(stack.is_local("127.0.0.1", sa_port(&theirs)));
  CHECK_FALSE(stack.is_local("127.0.0.1", uint16_t(own.port() ^ 1)));

  // A message over a connection to the listen address reaches the owner's handler.
  std::string got;
  own.set_handler([&](const rt::SipTcp::Received& r) {
    got = r.message.method;
    csip::stop(0);
  });
  auto peer = rt::SipTcp::open("127.0.0.1", 0);
  REQUIRE(peer);
  std::string req = "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
                    "Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-own-tcp\r\n"
                    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\n"
                    "Call-ID: own-tcp\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                    "Content-Length: 0\r\n\r\n";
  REQUIRE((*peer)->send_to(own.local(), req) == 0);
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  CHECK(got == "OPTIONS");
}

TEST_CASE("csip::Stack grows the buffers of libre's UDP socket")
{
  // Below net.core.rmem_max (212992 by default), so granted without CAP_NET_ADMIN too.
  constexpr int asked = 150000;
  csip::Library lib;
  csip::StackOptions so;
  so.udp.buffer_bytes = asked;
  auto made = csip::Stack::create({"udp:127.0.0.1:0"}, "test", nullptr, "127.0.0.1:1", {}, so);
  REQUIRE(made);
  auto& stack = **made;
  REQUIRE(stack.own_udp().empty());
  // A listener reads the buffer sizes of the socket a request comes in on (libre shows its
  // socket nowhere else), and answers.
  struct Seen {
    int rcvbuf = 0;
    int sndbuf = 0;
    struct ::sip* sip = nullptr;
  } seen;
  seen.sip = stack.get();
  cpm::re_slot<struct sip_lsnr> lsnr;
  auto h = [](const struct sip_msg* msg, void* arg) noexcept -> bool {
    auto& s = *static_cast<Seen*>(arg);
    int fd = udp_sock_fd(static_cast<const struct udp_sock*>(msg->sock), AF_INET);
    socklen_t len = sizeof s.rcvbuf;
    (void)getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s.rcvbuf, &len);
    len = sizeof s.sndbuf;
    (void)getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s.sndbuf, &len);
    (void)sip_reply(s.sip, msg, 200, "OK");
    csip::stop(0);
    return true;
  };
  REQUIRE(sip_listen(lsnr.out(), stack.get(), true, h, &seen) == 0);
  auto listen = csip::parse_listen(stack.bound()[0]);
  REQUIRE(listen);
  struct sa to;
  sa_set_str(&to, "127.0.0.1", listen->port);
  Plain peer;
  peer.send_to(to, "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKgrow1\r\n"
                   "From: <sip:p@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\n"
                   "Call-ID: grow1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                   "Content-Length: 0\r\n\r\n");
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  // Linux reports twice what it grants.
  CHECK(seen.rcvbuf >= 2 * asked);
  CHECK(seen.sndbuf >= 2 * asked);
}

TEST_CASE("csip::Stack without own_udp leaves UDP to libre")
{
  csip::Library lib;
  auto made = csip::Stack::create({"udp:127.0.0.1:0"}, "test", nullptr, "127.0.0.1:1");
  REQUIRE(made);
  CHECK((*made)->own_udp().empty());
  CHECK((*made)->bound().size() == 1);
}

TEST_SUITE_END();
