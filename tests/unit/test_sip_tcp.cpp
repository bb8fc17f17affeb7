// rt::SipFramer without sockets (segmentation, keep-alives, what breaks a stream) and
// rt::SipTcp on 127.0.0.1 in one libre loop: framing over real segments, answers on the
// connection, refusals that close it, outgoing connections bound to our address and
// reused, idle close, the bound on connections, tracing.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

#include "cpm/base/trace.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/sip_framer.hpp"
#include "cpm/rt/sip_tcp.hpp"
#include "temp_dir.hpp"

namespace csip = cpm::sip;
namespace wire = cpm::sip::wire;
namespace rt = cpm::rt;
using cpm::sa_str;
using Event = rt::SipFramer::Event;

namespace {

std::string request(const std::string& call_id, const std::string& body = {},
                    bool content_length = true)
{
  std::string r = fmt::format("MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-{}\r\n"
                              "Max-Forwards: 70\r\n"
                              "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
                              "To: <sip:bob@127.0.0.1>\r\n"
                              "Call-ID: {}\r\n"
                              "CSeq: 1 MESSAGE\r\n",
                              call_id, call_id);
  if (content_length)
    r += fmt::format("Content-Length: {}\r\n", body.size());
  return r + "\r\n" + body;
}

// Every event of a framer until it wants more: "M:<bytes>", "P", "E:<status> <why>".
std::vector<std::string> drain(rt::SipFramer& f)
{
  std::vector<std::string> out;
  while (true) {
    auto e = f.next();
    if (e == Event::None)
      return out;
    if (e == Event::Ping)
      out.emplace_back("P");
    else if (e == Event::Error)
      return out.emplace_back(fmt::format("E:{} {}", f.status(), f.why())), out;
    else
      out.emplace_back("M:" + std::string(f.bytes()));
  }
}

std::vector<std::string> feed_bytewise(rt::SipFramer& f, std::string_view s)
{
  std::vector<std::string> out;
  for (char c : s) {
    f.feed(std::string_view(&c, 1));
    for (auto& e : drain(f))
      out.push_back(std::move(e));
    if (!out.empty() && out.back()[0] == 'E')
      break;
  }
  return out;
}

// A plain blocking TCP client on 127.0.0.1 with TCP_NODELAY (each send its own segment);
// a receive gives up after 5 s (a safety net: what it reads was sent before it reads).
struct Client {
  int fd = -1;
  struct sa addr;
  explicit Client(const struct sa& to)
  {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    int one = 1;
    REQUIRE(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
    struct timeval tv {
      5, 0
    };
    REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    REQUIRE(::connect(fd, &to.u.sa, to.len) == 0);
    socklen_t len = sizeof addr.u;
    REQUIRE(getsockname(fd, &addr.u.sa, &len) == 0);
    addr.len = len;
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  void close()
  {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
  void send(std::string_view s) const
  {
    REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size()));
  }
  // At least `n` bytes, or what came before the end of the stream or the timeout.
  std::string receive(size_t n) const
  {
    std::string out;
    char buf[65536];
    while (out.size() < n) {
      ssize_t got = ::recv(fd, buf, sizeof buf, 0);
      if (got <= 0)
        break;
      out.append(buf, size_t(got));
    }
    return out;
  }
  // True when the peer closed its end (recv returns 0) after whatever is still unread.
  bool at_end() const
  {
    char buf[4096];
    while (true) {
      ssize_t got = ::recv(fd, buf, sizeof buf, 0);
      if (got == 0)
        return true;
      if (got < 0)
        return false;
    }
  }
};

std::unique_ptr<rt::SipTcp> open_tcp(const rt::TcpOptions& o = {}, const char* host = "127.0.0.1")
{
  auto t = rt::SipTcp::open(host, 0, o);
  REQUIRE(t);
  return std::move(*t);
}

// Run the loop until `done` holds, checked whenever a libre timer of 1 ms fires, for 5 s
// at most; returns whether it held.
bool run_until(const std::function<bool()>& done)
{
  if (done())
    return true;
  csip::Timer guard, check;
  std::function<void()> tick = [&] {
    if (done())
      csip::stop(0);
    else
      check.start(1, tick);
  };
  check.start(1, tick);
  guard.start(5000, [] { csip::stop(9); });
  return csip::run() == 0 && done();
}

// A plain TCP listener on 127.0.0.1 watched by libre's loop: it accepts each connection,
// records its peer address and reads what comes on it.
struct Server {
  struct Peer {
    int fd = -1;
    struct sa from;
    std::string data;
  };
  int fd = -1;
  struct sa addr;
  std::vector<std::unique_ptr<Peer>> peers;
  Server()
  {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    sa_set_str(&addr, "127.0.0.1", 0);
    REQUIRE(::bind(fd, &addr.u.sa, addr.len) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t len = sizeof addr.u;
    REQUIRE(getsockname(fd, &addr.u.sa, &len) == 0);
    addr.len = len;
    REQUIRE(fd_listen(fd, FD_READ, on_accept, this) == 0);
  }
  ~Server()
  {
    for (auto& p : peers) {
      fd_close(p->fd);
      ::close(p->fd);
    }
    fd_close(fd);
    ::close(fd);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  static void on_accept(int, void* arg) noexcept
  {
    auto* s = static_cast<Server*>(arg);
    auto p = std::make_unique<Peer>();
    socklen_t len = sizeof p->from.u;
    p->fd = ::accept4(s->fd, &p->from.u.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (p->fd < 0)
      return;
    p->from.len = len;
    (void)fd_listen(p->fd, FD_READ, on_read, p.get());
    s->peers.push_back(std::move(p));
  }
  static void on_read(int, void* arg) noexcept
  {
    auto* p = static_cast<Peer*>(arg);
    char buf[4096];
    ssize_t n = ::recv(p->fd, buf, sizeof buf, 0);
    if (n > 0)
      p->data.append(buf, size_t(n));
    else
      fd_close(p->fd);
  }
};

} // namespace

TEST_SUITE_BEGIN("sip_tcp");

TEST_CASE("rt::SipFramer: a message fed byte by byte comes out once, whole, at its last byte")
{
  rt::SipFramer f;
  const auto msg = request("one", "hello, bob");
  std::vector<std::string> events;
  for (size_t i = 0; i < msg.size(); ++i) {
    f.feed(msg.substr(i, 1));
    auto got = drain(f);
    if (i + 1 < msg.size())
      REQUIRE(got.empty());
    else
      events = got;
  }
  REQUIRE(events.size() == 1);
  CHECK(events[0] == "M:" + msg);
  CHECK(f.message().body == "hello, bob");
  CHECK(f.message().call_id == "one");
  CHECK(f.parsed().verdict == wire::Verdict::Ok);
  CHECK(f.buffered() == 0);
}

TEST_CASE("rt::SipFramer: two messages and the start of a third in one segment")
{
  rt::SipFramer f;
  const auto a = request("a", "body of a"), b = request("b"), c = request("c", "the rest");
  f.feed(a + b + c.substr(0, 40));
  auto got = drain(f);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == "M:" + a);
  CHECK(got[1] == "M:" + b);
  CHECK(f.buffered() == 40);
  f.feed(c.substr(40));
  got = drain(f);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == "M:" + c);
  CHECK(f.message().body == "the rest");
}

TEST_CASE("rt::SipFramer: a body with CRLFs and an empty line is taken by its Content-Length")
{
  rt::SipFramer f;
  const std::string body = "line one\r\n\r\nMESSAGE sip:x SIP/2.0\r\n\r\n";
  const auto msg = request("body", body);
  auto got = feed_bytewise(f, msg + request("next"));
  REQUIRE(got.size() == 2);
  CHECK(got[0] == "M:" + msg);
  CHECK(got[1] == "M:" + request("next"));
}

TEST_CASE("rt::SipFramer: CRLFCRLF is a ping, a lone CRLF a pong, even cut in halves")
{
  rt::SipFramer f;
  f.feed("\r\n");
  CHECK(drain(f).empty()); // half a ping, or a pong: wait
  f.feed("\r\n");
  CHECK(drain(f) == std::vector<std::string>{"P"});
  f.feed("\r\n" + request("after-pong"));
  CHECK(drain(f) == std::vector<std::string>{"M:" + request("after-pong")});
  f.feed("\r\n\r\n\r\n\r\n");
  CHECK(drain(f) == std::vector<std::string>{"P", "P"});
}

TEST_CASE("rt::SipFramer: a message without Content-Length breaks the stream with a 400")
{
  rt::SipFramer f;
  f.feed(request("no-cl", {}, false) + request("after"));
  auto got = drain(f);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == "E:400 Missing Content-Length");
  CHECK(f.message().call_id == "no-cl"); // what the 400 is built from
  CHECK(f.next() == Event::Error);       // and the stream stays broken
  // The parser alone would frame it: the refusal is the framer's (RFC 3261 §18.3).
  rt::FramerLimits lenient;
  lenient.require_content_length = false;
  rt::SipFramer g(lenient);
  g.feed(request("no-cl", {}, false));
  CHECK(drain(g) == std::vector<std::string>{"M:" + request("no-cl", {}, false)});
}

TEST_CASE("rt::SipFramer: too large is refused with 513 as soon as it is known")
{
  rt::FramerLimits l;
  l.max_message = 1000;
  SUBCASE("a Content-Length over the limit, before the body arrives")
  {
    rt::SipFramer f(l);
    auto msg = request("big", std::string(2000, 'x'));
    f.feed(msg.substr(0, msg.size() - 2000)); // the head alone
    CHECK(drain(f) == std::vector<std::string>{"E:513 Message Too Large"});
    CHECK(f.message().via.branch == "z9hG4bK-big");
  }
  SUBCASE("a head that never ends")
  {
    rt::SipFramer f(l);
    f.feed("MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n");
    std::string filler = "X-Filler: " + std::string(80, 'y') + "\r\n";
    std::vector<std::string> got;
    for (int i = 0; i < 20 && got.empty(); ++i) {
      f.feed(filler);
      got = drain(f);
    }
    CHECK(got == std::vector<std::string>{"E:513 Message Too Large"});
    CHECK(f.buffered() <= l.max_message + filler.size());
  }
  SUBCASE("exactly the limit passes")
  {
    rt::SipFramer f(l);
    auto head = request("fit", "");
    auto msg = request("fit", std::string(l.max_message - head.size() - 2, 'z'));
    REQUIRE(msg.size() == l.max_message);
    f.feed(msg);
    CHECK(drain(f) == std::vector<std::string>{"M:" + msg});
  }
}

TEST_CASE("rt::SipFramer: a framed message that is not valid comes out with its verdict")
{
  rt::SipFramer f;
  auto bad = request("bad");
  bad.replace(bad.find("CSeq: 1 MESSAGE"), 15, "CSeq: 1 INVITE!");
  f.feed(bad + request("good"));
  REQUIRE(f.next() == Event::Message);
  CHECK(f.parsed().verdict == wire::Verdict::Bad);
  REQUIRE(f.next() == Event::Message); // the stream is still in step
  CHECK(f.parsed().verdict == wire::Verdict::Ok);
  CHECK(f.message().call_id == "good");
}

TEST_CASE("rt::SipFramer: every RFC 4475 message gives the same events byte by byte as whole")
{
  size_t n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(CPM_DATA_DIR) + "/rfc4475")) {
    if (e.path().extension() != ".dat")
      continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Twice in a row: the second copy starts where the first's framing says.
    text += text;
    rt::SipFramer whole, bytewise;
    whole.feed(text);
    CAPTURE(e.path().filename().string());
    CHECK(drain(whole) == feed_bytewise(bytewise, text));
    ++n;
  }
  CHECK(n > 40);
}

TEST_CASE("rt::SipTcp frames a message sent byte by byte and answers on its connection")
{
  csip::Library lib;
  auto tcp = open_tcp();
  CHECK(tcp->local_text() == fmt::format("127.0.0.1:{}", tcp->port()));
  Client c(tcp->local());
  std::vector<std::string> got;
  std::string peer, local;
  tcp->set_handler([&](const rt::SipTcp::Received& r) {
    got.emplace_back(r.bytes);
    peer = sa_str(r.peer);
    local = sa_str(r.local);
    CHECK(r.message.call_id == "bytes");
    CHECK(r.parsed.verdict == wire::Verdict::Ok);
    CHECK(tcp->send(r.conn, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n") == 0);
  });
  const auto msg = request("bytes", "one byte a segment");
  for (size_t i = 0; i < msg.size(); ++i) {
    c.send(msg.substr(i, 1));
    // Each byte read before the next is sent: every segment the framer sees is one byte.
    REQUIRE(run_until([&] { return tcp->stats().bytes_in == i + 1; }));
    CHECK(got.size() == (i + 1 == msg.size() ? 1u : 0u));
  }
  CHECK(tcp->stats().segments == msg.size());
  REQUIRE(got.size() == 1);
  CHECK(got[0] == msg);
  CHECK(peer == sa_str(c.addr));
  CHECK(local == tcp->local_text());
  CHECK(c.receive(37) == "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  CHECK(tcp->stats().accepted == 1);
  CHECK(tcp->connections() == 1);
}

TEST_CASE("rt::SipTcp: two messages in one segment, a body, a keep-alive answered")
{
  csip::Library lib;
  auto tcp = open_tcp();
  Client c(tcp->local());
  std::vector<std::string> bodies;
  tcp->set_handler([&](const rt::SipTcp::Received& r) {
    bodies.emplace_back(r.message.body);
    if (bodies.size() == 3)
      csip::stop(0);
  });
  c.send(request("1", "first body") + request("2") + "\r\n\r\n" + request("3", "third"));
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  CHECK(bodies == std::vector<std::string>{"first body", "", "third"});
  CHECK(tcp->stats().pings == 1);
  CHECK(c.receive(2) == "\r\n"); // the pong, RFC 5626 §3.5.1
  CHECK(tcp->connections() == 1);
}

TEST_CASE("rt::SipTcp refuses a message without Content-Length: 400, then the end")
{
  csip::Library lib;
  rt::TcpOptions o;
  std::vector<std::string> said;
  o.diag = [&](const std::string& line) {
    said.push_back(line);
    csip::stop(0);
  };
  auto tcp = open_tcp(o);
  int handled = 0, closed_err = -1;
  tcp->set_handler([&](const rt::SipTcp::Received&) { ++handled; });
  tcp->set_close_handler([&](rt::SipTcp::ConnId, int err) {
    closed_err = err;
    csip::stop(0);
  });
  Client c(tcp->local());
  c.send(request("no-cl", {}, false));
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  CHECK(handled == 0);
  REQUIRE(said.size() == 1);
  CHECK(said[0].find("Missing Content-Length") != std::string::npos);
  auto answer = c.receive(20);
  CHECK(answer.rfind("SIP/2.0 400 Missing Content-Length\r\n", 0) == 0);
  CHECK(answer.find("Call-ID: no-cl\r\n") != std::string::npos);
  CHECK(answer.find("Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-no-cl\r\n") !=
        std::string::npos);
  CHECK(answer.find(";tag=") != std::string::npos);
  CHECK(c.at_end()); // we stopped writing
  CHECK(tcp->stats().broken == 1);
  c.close();
  REQUIRE(run_until([&] { return closed_err != -1; }));
  CHECK(closed_err == EBADMSG);
  CHECK(tcp->connections() == 0);
}

TEST_CASE("rt::SipTcp closes a connection whose message is over the limit, after a 513")
{
  csip::Library lib;
  rt::TcpOptions o;
  o.max_message = 2048;
  o.diag = [](const std::string&) { csip::stop(0); };
  auto tcp = open_tcp(o);
  int handled = 0;
  tcp->set_handler([&](const rt::SipTcp::Received&) { ++handled; });
  Client c(tcp->local());
  c.send(request("small") + request("big", std::string(4096, 'x')));
  csip::Timer guard;
  guard.start(5000, [] { csip::stop(9); });
  REQUIRE(csip::run() == 0);
  CHECK(handled == 1); // the small one came first
  auto answer = c.receive(30);
  CHECK(answer.rfind("SIP/2.0 513 Message Too Large\r\n", 0) == 0);
  CHECK(answer.find("Call-ID: big\r\n") != std::string::npos);
  CHECK(c.at_end());
  // A send on a refused connection is refused.
  CHECK(tcp->send(tcp->find(c.addr), "x") == ENOTCONN);
}

TEST_CASE("rt::SipTcp's outgoing connection comes from its own address, and is reused")
{
  csip::Library lib;
  auto tcp = open_tcp({}, "127.0.0.2"); // loopback on Linux, and not the kernel's choice
  Server server;
  rt::SipTcp::ConnId first = 0, second = 0;
  const auto a = request("out-1", "first"), b = request("out-2", "second");
  REQUIRE(tcp->send_to(server.addr, a, &first) == 0);
  REQUIRE(tcp->send_to(server.addr, b, &second) == 0); // while it is still connecting
  CHECK(first != 0);
  CHECK(second == first);
  REQUIRE(run_until([&] { return !server.peers.empty() && server.peers[0]->data == a + b; }));
  REQUIRE(server.peers.size() == 1);
  char ip[64];
  REQUIRE(inet_ntop(AF_INET, &server.peers[0]->from.u.in.sin_addr, ip, sizeof ip));
  CHECK(std::string(ip) == "127.0.0.2");
  CHECK(sa_port(&server.peers[0]->from) != tcp->port()); // an ephemeral port
  CHECK(sa_str(*tcp->local(first)) == sa_str(server.peers[0]->from));
  // Once it is up, too.
  const auto c3 = request("out-3");
  rt::SipTcp::ConnId third = 0;
  REQUIRE(tcp->send_to(server.addr, c3, &third) == 0);
  CHECK(third == first);
  REQUIRE(run_until([&] { return server.peers[0]->data == a + b + c3; }));
  CHECK(server.peers.size() == 1);
  CHECK(tcp->stats().connected == 1);
  CHECK(tcp->stats().sent == 3);
}

TEST_CASE("rt::SipTcp tells the owner of an outgoing connection that was refused")
{
  csip::Library lib;
  auto tcp = open_tcp();
  struct sa nobody;
  {
    Server gone; // a port that was just listened on, and is not any more
    nobody = gone.addr;
  }
  rt::SipTcp::ConnId conn = 0, closed = 0;
  int closed_err = -1;
  tcp->set_close_handler([&](rt::SipTcp::ConnId id, int err) {
    closed = id;
    closed_err = err;
  });
  REQUIRE(tcp->send_to(nobody, request("refused"), &conn) == 0); // kept until it is up
  REQUIRE(run_until([&] { return closed_err != -1; }));
  CHECK(closed == conn);
  CHECK(closed_err == ECONNREFUSED);
  CHECK(tcp->find(nobody) == 0);
  CHECK(tcp->connections() == 0);
}

TEST_CASE("rt::SipTcp listening on one address connects from the one it is given")
{
  csip::Library lib;
  rt::TcpOptions o;
  o.connect_from = "127.0.0.2";
  auto tcp = open_tcp(o, "127.0.0.1");
  Server server;
  const auto msg = request("from-given");
  rt::SipTcp::ConnId conn = 0;
  REQUIRE(tcp->send_to(server.addr, msg, &conn) == 0);
  REQUIRE(run_until([&] { return !server.peers.empty() && server.peers[0]->data == msg; }));
  CHECK(sa_str(server.peers[0]->from) == sa_str(*tcp->local(conn)));
  CHECK(sa_str(server.peers[0]->from).rfind("127.0.0.2:", 0) == 0);
  o.connect_from = "::1";
  CHECK_FALSE(rt::SipTcp::open("127.0.0.1", 0, o));
}

TEST_CASE("rt::SipTcp sends to a client's address on the connection it came on")
{
  csip::Library lib;
  auto tcp = open_tcp();
  Client c(tcp->local());
  c.send(request("hello"));
  REQUIRE(run_until([&] { return tcp->stats().received == 1; }));
  rt::SipTcp::ConnId used = 0;
  CHECK(tcp->send_to(c.addr, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", &used) == 0);
  CHECK(used == tcp->find(c.addr));
  CHECK(tcp->stats().connected == 0);
  CHECK(c.receive(37) == "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("rt::SipTcp closes an idle connection after its timeout, not before")
{
  csip::Library lib;
  rt::TcpOptions o;
  o.idle_ms = 150;
  auto tcp = open_tcp(o);
  int closed_err = -1;
  uint64_t closed_at = 0;
  tcp->set_close_handler([&](rt::SipTcp::ConnId, int err) {
    closed_err = err;
    closed_at = csip::jiffies();
  });
  Client c(tcp->local());
  c.send(request("then-silence"));
  REQUIRE(run_until([&] { return tcp->stats().received == 1; }));
  uint64_t last = csip::jiffies();
  REQUIRE(run_until([&] { return closed_err != -1; }));
  CHECK(closed_err == ETIMEDOUT);
  CHECK(closed_at - last >= 140); // the timer's own rounding aside
  CHECK(tcp->stats().idle_closed == 1);
  CHECK(tcp->connections() == 0);
  CHECK(c.at_end());
}

TEST_CASE("rt::SipTcp refuses connections over max_connections")
{
  csip::Library lib;
  rt::TcpOptions o;
  o.max_connections = 1;
  auto tcp = open_tcp(o);
  Client one(tcp->local());
  REQUIRE(run_until([&] { return tcp->connections() == 1; }));
  Client two(tcp->local()); // the kernel completes the handshake; we close it
  REQUIRE(run_until([&] { return tcp->stats().refused == 1; }));
  CHECK(two.receive(1).empty()); // reset or ended: nothing is ever read from it
  CHECK(tcp->connections() == 1);
  one.send(request("still-served"));
  REQUIRE(run_until([&] { return tcp->stats().received == 1; }));
}

TEST_CASE("rt::SipTcp traces what it receives and sends with transport tcp")
{
  csip::Library lib;
  cpm::test::TempDir dir("cpm-tcp");
  std::string path = (dir.path / "trace.jsonl").string();
  cpm::trace::Writer w;
  REQUIRE(w.open(path, "node"));
  rt::TcpOptions o;
  o.trace = &w;
  auto tcp = open_tcp(o);
  const std::string ok = "SIP/2.0 200 OK\r\nCall-ID: traced\r\nContent-Length: 0\r\n\r\n";
  tcp->set_handler([&](const rt::SipTcp::Received& r) { tcp->send(r.conn, ok); });
  Client c(tcp->local());
  c.send(request("traced"));
  REQUIRE(run_until([&] { return tcp->stats().sent == 1; }));
  auto events = cpm::trace::read_file(path);
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].dir == "rx");
  CHECK((*events)[0].message == request("traced"));
  CHECK((*events)[1].dir == "tx");
  CHECK((*events)[1].message == ok);
  for (const auto& e : *events) {
    CHECK(e.transport == "tcp");
    CHECK(e.local == tcp->local_text());
    CHECK(e.peer == sa_str(c.addr));
    CHECK(e.call_id == "traced");
  }
}

TEST_CASE("rt::SipTcp traces messages to a new connection once it is up, none if it is refused")
{
  csip::Library lib;
  cpm::test::TempDir dir("cpm-tcp");
  std::string path = (dir.path / "trace.jsonl").string();
  cpm::trace::Writer w;
  REQUIRE(w.open(path, "node"));
  rt::TcpOptions o;
  o.trace = &w;
  auto tcp = open_tcp(o);
  int closed_err = -1;
  tcp->set_close_handler([&](rt::SipTcp::ConnId, int err) { closed_err = err; });
  struct sa nobody;
  {
    Server gone;
    nobody = gone.addr;
  }
  REQUIRE(tcp->send_to(nobody, request("never-sent")) == 0);
  REQUIRE(run_until([&] { return closed_err != -1; }));
  CHECK(closed_err == ECONNREFUSED);
  // Two messages queued before the connection is up: two events, with its real local address.
  Server server;
  rt::SipTcp::ConnId conn = 0;
  REQUIRE(tcp->send_to(server.addr, request("first"), &conn) == 0);
  REQUIRE(tcp->send_to(server.addr, request("second")) == 0);
  const std::string both = request("first") + request("second");
  REQUIRE(run_until([&] { return !server.peers.empty() && server.peers[0]->data == both; }));
  auto events = cpm::trace::read_file(path);
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].call_id == "first");
  CHECK((*events)[1].call_id == "second");
  for (const auto& e : *events) {
    CHECK(e.dir == "tx");
    CHECK(e.local == sa_str(*tcp->local(conn)));
    CHECK(e.peer == sa_str(server.addr));
  }
}

TEST_SUITE_END();
