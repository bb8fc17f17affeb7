// ua::Pager's text/plain resend after a 415 (RFC 3261 §8.1.3.5), over 127.0.0.1: a raw UDP
// peer in a thread answers message/cpim 415 with a given Accept and text/plain 200.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "cpm/rt/sip.hpp"
#include "cpm/ua/pager.hpp"

namespace ua = cpm::ua;

namespace {

// One request as the peer saw it.
struct Seen {
  std::string call_id, cseq, content_type, from, body;
};

// The value of header `name` in the head of `msg`, "" when absent.
std::string header(const std::string& msg, const std::string& name)
{
  auto at = msg.find("\r\n" + name + ":");
  if (at == std::string::npos)
    return "";
  at += name.size() + 3;
  auto end = msg.find("\r\n", at);
  auto v = msg.substr(at, end - at);
  return v.substr(v.find_first_not_of(' '));
}

// A UDP peer that takes only text/plain: answers `want` requests, then returns.
class PlainPeer {
public:
  explicit PlainPeer(std::string accept) : m_accept(std::move(accept))
  {
    m_fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    socklen_t len = sizeof(a);
    REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
    timeval tv{5, 0};
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~PlainPeer()
  {
    if (m_thread.joinable())
      m_thread.join();
    ::close(m_fd);
  }
  PlainPeer(const PlainPeer&) = delete;
  PlainPeer& operator=(const PlainPeer&) = delete;

  void serve(size_t want)
  {
    m_thread = std::thread([this, want] {
      while (seen.size() < want) {
        char buf[8192];
        sockaddr_in from{};
        socklen_t len = sizeof(from);
        auto n = ::recvfrom(m_fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0)
          return;
        std::string msg(buf, static_cast<size_t>(n));
        auto split = msg.find("\r\n\r\n");
        Seen s{header(msg, "Call-ID"), header(msg, "CSeq"), header(msg, "Content-Type"),
               header(msg, "From"), msg.substr(split + 4)};
        bool cpim = s.content_type == "message/cpim";
        std::string reply = fmt::format(
            "SIP/2.0 {}\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=peer\r\nCall-ID: {}\r\nCSeq: "
            "{}\r\n{}Content-Length: 0\r\n\r\n",
            cpim ? "415 Unsupported Media Type" : "200 OK", header(msg, "Via"), s.from,
            header(msg, "To"), s.call_id, s.cseq,
            cpim ? fmt::format("Accept: {}\r\n", m_accept) : "");
        ::sendto(m_fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        seen.push_back(std::move(s));
      }
    });
  }
  void join() { m_thread.join(); }

  uint16_t port = 0;
  std::vector<Seen> seen; // read after join()

private:
  std::string m_accept;
  int m_fd = -1;
  std::thread m_thread;
};

// Send a CPIM-typed "cpim body" with (or without) the text/plain form "hi" to `peer` and
// run the loop until it ends; the Final, and how often on_plain was called.
ua::Final send_to(PlainPeer& peer, bool with_plain, int& resends, std::string& accept_seen)
{
  auto alice = cpm::sip::Stack::create({"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, "test");
  REQUIRE(alice);
  ua::Pager pager(**alice, [](const std::string&) {});
  ua::Message m;
  m.ruri = fmt::format("sip:bob@127.0.0.1:{}", peer.port);
  m.from = "sip:alice@127.0.0.1";
  m.body = "cpim body";
  if (with_plain)
    m.plain = ua::Body{"text/plain;charset=utf-8", "hi"};
  m.on_plain = [&](const ua::Final& refused) {
    ++resends;
    accept_seen = refused.accept;
  };
  ua::Final f;
  REQUIRE(
      pager.send(m, cpm::sip::Hop{"udp", "127.0.0.1", peer.port}, false, [&](const ua::Final& fin) {
        f = fin;
        cpm::sip::stop(0);
      }));
  cpm::sip::Timer guard;
  guard.start(10000, [] { cpm::sip::stop(99); });
  CHECK(cpm::sip::run() == 0);
  CHECK(pager.in_flight() == 0);
  return f;
}

} // namespace

TEST_SUITE_BEGIN("ua");

TEST_CASE("ua::Pager resends as text/plain after a 415 that asks for it")
{
  cpm::sip::Library lib;
  int resends = 0;
  std::string accept;
  SUBCASE("Accept: text/plain: the same MESSAGE again, CSeq + 1, text/plain")
  {
    PlainPeer peer("text/plain, application/im-iscomposing+xml");
    peer.serve(2);
    auto f = send_to(peer, true, resends, accept);
    peer.join();
    CHECK(f.status == 200);
    CHECK(f.plain);
    CHECK(resends == 1);
    CHECK(accept == "text/plain, application/im-iscomposing+xml");
    REQUIRE(peer.seen.size() == 2);
    CHECK(peer.seen[0].content_type == "message/cpim");
    CHECK(peer.seen[0].cseq == "1 MESSAGE");
    CHECK(peer.seen[1].call_id == peer.seen[0].call_id);
    CHECK(peer.seen[1].from == peer.seen[0].from); // the same From tag
    CHECK(peer.seen[1].cseq == "2 MESSAGE");
    CHECK(peer.seen[1].content_type == "text/plain;charset=utf-8");
    CHECK(peer.seen[1].body == "hi");
  }
  SUBCASE("an Accept without text/plain: the 415 is final")
  {
    PlainPeer peer("text/html");
    peer.serve(1);
    auto f = send_to(peer, true, resends, accept);
    peer.join();
    CHECK(f.status == 415);
    CHECK(f.accept == "text/html");
    CHECK_FALSE(f.plain);
    CHECK(resends == 0);
    CHECK(peer.seen.size() == 1);
  }
  SUBCASE("no text/plain form: the 415 is final")
  {
    PlainPeer peer("text/plain");
    peer.serve(1);
    auto f = send_to(peer, false, resends, accept);
    peer.join();
    CHECK(f.status == 415);
    CHECK(f.accept == "text/plain");
    CHECK(resends == 0);
  }
}

TEST_SUITE_END();
