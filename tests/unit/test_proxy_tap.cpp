// The proxy on a stack whose UDP is libre's (a conversation server): after the first message
// libre delivers, the stack's tap hands it out-of-dialog MESSAGE requests and the responses
// to its own client transactions before libre decodes them; INVITE still goes through libre
// (its message reaches the hook), and every datagram is traced once.
#include <doctest/doctest.h>

#include <algorithm>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "cpm/base/trace.hpp"
#include "cpm/grammar/wire.hpp"
#include "cpm/proxy/proxy.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/sa.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/rt/udp_socket.hpp"
#include "cpm/ua/inbox.hpp"
#include "cpm/ua/pager.hpp"
#include "temp_dir.hpp"

namespace csip = cpm::sip;
namespace proxy = cpm::proxy;
namespace rt = cpm::rt;
namespace wire = cpm::sip::wire;
namespace ua = cpm::ua;
using cpm::sa_str;

namespace {

std::unique_ptr<rt::UdpSocket> open_local()
{
  auto s = rt::UdpSocket::open("127.0.0.1", 0);
  REQUIRE(s);
  return std::move(*s);
}

// A UAS's final answer to `request`: its Vias, From, To with a tag, Call-ID and CSeq.
std::string answer(std::string_view request, int status, std::string_view reason)
{
  wire::Message m;
  REQUIRE(wire::parse(request, m).verdict == wire::Verdict::Ok);
  std::string out = fmt::format("SIP/2.0 {} {}\r\n", status, reason);
  for (const auto& f : m.fields) {
    if (f.id == wire::Hdr::To)
      out += fmt::format("To: {};tag=uas\r\n", f.value);
    else if (f.id == wire::Hdr::Via || f.id == wire::Hdr::From || f.id == wire::Hdr::CallId ||
             f.id == wire::Hdr::CSeq)
      out.append(f.line);
  }
  return out + "Content-Length: 0\r\n\r\n";
}

std::string request(std::string_view method, const rt::UdpSocket& from, const std::string& proxy,
                    int n)
{
  return fmt::format("{0} sip:bob@b.example SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP {1};branch=z9hG4bK-tap-{2};rport\r\n"
                     "Max-Forwards: 70\r\n"
                     "Route: <sip:{3};lr>\r\n"
                     "From: <sip:alice@a.example>;tag=a{2}\r\n"
                     "To: <sip:bob@b.example>\r\n"
                     "Call-ID: tap-{2}\r\n"
                     "CSeq: 1 {0}\r\n"
                     "Content-Type: text/plain\r\n"
                     "Content-Length: 2\r\n\r\nhi",
                     method, from.local_text(), n, proxy);
}

} // namespace

TEST_SUITE_BEGIN("proxy_tap");

TEST_CASE("proxy on libre's UDP: the tap takes MESSAGE and its answers, INVITE stays libre's")
{
  csip::Library lib;
  cpm::test::TempDir dir("cpm-tap");
  const std::string path = (dir.path / "trace.jsonl").string();
  cpm::trace::Writer w;
  REQUIRE(w.open(path, "cs"));
  auto made = csip::Stack::create({"udp:127.0.0.1:0"}, "test", &w, "127.0.0.1:1");
  REQUIRE(made);
  auto& stack = **made;
  REQUIRE(stack.own_udp().empty());
  const std::string self = stack.bound().front().substr(4); // "127.0.0.1:PORT"

  auto alice = open_local(); // upstream
  auto bob = open_local();   // downstream
  struct Seen {
    std::string method;
    bool from_libre = false;
    std::string body;
  };
  std::vector<Seen> hooked;
  auto px = proxy::Proxy::create(stack, proxy::Options{}, [&](const proxy::Incoming& in) {
    CHECK(in.wire != nullptr);
    hooked.push_back(
        {in.req.method, in.msg != nullptr, in.wire ? std::string(in.wire->body) : std::string()});
    if (in.req.method == "INVITE")
      return proxy::Action::reply(486, "Busy Here");
    auto a = proxy::Action::forward();
    a.next_hop = fmt::format("sip:{}", bob->local_text());
    return a;
  });
  REQUIRE(px);

  std::vector<std::string> at_bob, at_alice;
  bob->set_handler([&](std::string_view d, const struct sa& src) {
    at_bob.emplace_back(d);
    bob->send_now(src, answer(d, 200, "OK"));
  });
  alice->set_handler([&](std::string_view d, const struct sa&) {
    std::string s(d);
    if (s.rfind("SIP/2.0 1", 0) == 0)
      return; // a provisional answer; the final one ends the round
    at_alice.push_back(std::move(s));
    csip::stop(0);
  });
  struct sa proxy_addr;
  REQUIRE(sa_set_str(&proxy_addr, "127.0.0.1",
                     uint16_t(std::stoi(self.substr(self.rfind(':') + 1)))) == 0);
  auto round = [&](std::string_view method, int n) {
    REQUIRE(alice->send_now(proxy_addr, request(method, *alice, self, n)) == 0);
    csip::Timer guard;
    guard.start(5000, [] { csip::stop(9); });
    REQUIRE(csip::run() == 0);
  };

  // The first MESSAGE is libre's: the tap learns its socket from it. Its 200 from bob
  // comes to that socket and is the tap's.
  round("MESSAGE", 1);
  REQUIRE(at_alice.size() == 1);
  CHECK(at_alice[0].rfind("SIP/2.0 200 OK", 0) == 0);
  REQUIRE(hooked.size() == 1);
  CHECK(hooked[0].from_libre);
  CHECK(hooked[0].body == "hi");
  CHECK(stack.tapped() == 1);

  // Every later MESSAGE and its 200: the tap's, libre's message never made.
  for (int n = 2; n <= 4; ++n)
    round("MESSAGE", n);
  REQUIRE(at_alice.size() == 4);
  for (const auto& r : at_alice)
    CHECK(r.rfind("SIP/2.0 200 OK", 0) == 0);
  REQUIRE(hooked.size() == 4);
  for (size_t i = 1; i < 4; ++i) {
    CHECK_FALSE(hooked[i].from_libre);
    CHECK(hooked[i].body == "hi");
  }
  CHECK(stack.tapped() == 1 + 3 * 2);
  REQUIRE(at_bob.size() == 4);
  for (const auto& r : at_bob) {
    wire::Message m;
    REQUIRE(wire::parse(r, m).verdict == wire::Verdict::Ok);
    CHECK(m.method == "MESSAGE");
    CHECK(m.via.sent_by == self); // our Via on top, from libre's socket
    CHECK(m.max_forwards == 69);
  }

  // An INVITE is not the tap's: libre decodes it and the hook gets its message.
  round("INVITE", 5);
  REQUIRE(at_alice.size() == 5);
  CHECK(at_alice[4].rfind("SIP/2.0 486 Busy Here", 0) == 0);
  REQUIRE(hooked.size() == 5);
  CHECK(hooked[4].method == "INVITE");
  CHECK(hooked[4].from_libre);
  CHECK(stack.tapped() == 7);
  // From the first MESSAGE on, the socket's reads were the stack's own: that MESSAGE's 200,
  // the three later MESSAGEs and their 200s, and the INVITE, which it handed on to libre's
  // receive handler.
  CHECK(stack.drained() == 8);
  // And the stack wrote what the proxy sent from that socket itself: each MESSAGE forwarded
  // and its 200 relayed, the first one's too (its socket was learnt before the proxy saw
  // it), and the proxy's 486 to libre's INVITE.
  CHECK(stack.sent_direct() == 9);

  // Traced once each, taken by the tap or not: per MESSAGE round rx, tx, rx, tx; the
  // INVITE rx and its 486 tx.
  auto events = cpm::trace::read_file(path);
  REQUIRE(events);
  auto count = [&](std::string_view way, std::string_view first) {
    return std::count_if(events->begin(), events->end(), [&](const cpm::trace::Event& e) {
      return e.dir == way && e.first_line.rfind(first, 0) == 0;
    });
  };
  CHECK(count("rx", "MESSAGE") == 4);
  CHECK(count("tx", "MESSAGE") == 4);
  CHECK(count("rx", "SIP/2.0 200") == 4);
  CHECK(count("tx", "SIP/2.0 200") == 4);
  CHECK(count("rx", "INVITE") == 1);
  CHECK(count("tx", "SIP/2.0 486") == 1);
  for (const auto& e : *events)
    CHECK(e.local == self);
  // In the order of the wire, the tap's too: a ladder drawn from the trace is right.
  std::vector<std::string> call3;
  for (const auto& e : *events)
    if (e.call_id == "tap-3")
      call3.push_back(e.dir + " " + e.first_line.substr(0, 10));
  CHECK(call3 == std::vector<std::string>{"rx MESSAGE si", "tx MESSAGE si", "rx SIP/2.0 20",
                                          "tx SIP/2.0 20"});
}

TEST_CASE("ua::Inbox on the tap: answered from our own transaction, a retransmission once")
{
  csip::Library lib;
  auto made = csip::Stack::create({"udp:127.0.0.1:0"}, "cpm-test", nullptr, "127.0.0.1:1");
  REQUIRE(made);
  auto& stack = **made;
  const std::string self = stack.bound().front().substr(4);
  struct sa to;
  REQUIRE(sa_set_str(&to, "127.0.0.1", uint16_t(std::stoi(self.substr(self.rfind(':') + 1)))) == 0);
  ua::Log log{"test", true, 0};
  std::vector<std::string> delivered;
  auto inbox = ua::Inbox::listen(stack, log, [&](const ua::Incoming& in, const csip::Hop& src) {
    delivered.push_back(in.text);
    CHECK(src.transport == "udp");
  });
  REQUIRE(inbox);
  auto alice = open_local();
  std::vector<std::string> answers;
  alice->set_handler([&](std::string_view d, const struct sa&) {
    answers.emplace_back(d);
    csip::stop(0);
  });
  auto round = [&](const std::string& text) {
    REQUIRE(alice->send_now(to, text) == 0);
    csip::Timer guard;
    guard.start(5000, [] { csip::stop(9); });
    REQUIRE(csip::run() == 0);
  };
  round(request("MESSAGE", *alice, self, 1)); // libre's: the tap learns the socket
  CHECK(stack.tapped() == 0);
  round(request("MESSAGE", *alice, self, 2));
  CHECK(stack.tapped() == 1);
  round(request("MESSAGE", *alice, self, 2)); // the same again: a retransmission
  CHECK(stack.tapped() == 2);
  // The first one again, which libre delivered: answered from the same table (libre's
  // message went through it too), not delivered a second time.
  round(request("MESSAGE", *alice, self, 1));
  CHECK(stack.tapped() == 3);
  auto options = request("OPTIONS", *alice, self, 3);
  round(options);
  CHECK(stack.tapped() == 4);
  CHECK(delivered == std::vector<std::string>{"hi", "hi"}); // no retransmission is
  REQUIRE(answers.size() == 5);
  for (const auto& a : answers) {
    wire::Message m;
    REQUIRE(wire::parse(a, m).verdict == wire::Verdict::Ok);
    CHECK(m.status == 200);
    CHECK_FALSE(m.to_tag().empty());
    CHECK(m.find("Server") != nullptr); // as libre's sip_treply writes it
    CHECK(m.via.received == "127.0.0.1");
  }
  CHECK(answers[2] == answers[1]); // the same answer again, To tag and all
  CHECK(answers[3] == answers[0]);
  CHECK(answers[4].find("\r\nAccept: message/cpim, text/plain\r\n") != std::string::npos);
}

TEST_CASE("ua::Pager on the tap: a 200 is read without libre, a 415 still through it")
{
  csip::Library lib;
  auto made = csip::Stack::create({"udp:127.0.0.1:0"}, "cpm-test", nullptr, "127.0.0.1:1");
  REQUIRE(made);
  auto& stack = **made;
  auto bob = open_local();
  std::vector<int> codes{200, 200, 415};
  size_t asked = 0;
  bob->set_handler([&](std::string_view d, const struct sa& src) {
    int code = codes[std::min(asked++, codes.size() - 1)];
    bob->send_now(src, answer(d, code, code == 200 ? "OK" : "Unsupported Media Type"));
  });
  ua::Pager pager(stack, [](const std::string& e) { FAIL(e); });
  std::vector<ua::Final> finals;
  auto send = [&] {
    ua::Message m;
    m.ruri = "sip:bob@b.example";
    m.from = "sip:alice@a.example";
    m.content_type = "text/plain";
    m.body = "hi";
    auto sent =
        pager.send(m, csip::Hop{"udp", "127.0.0.1", bob->port()}, false, [&](const ua::Final& f) {
          finals.push_back(f);
          csip::stop(0);
        });
    REQUIRE(sent);
    csip::Timer guard;
    guard.start(5000, [] { csip::stop(9); });
    REQUIRE(csip::run() == 0);
  };
  send(); // libre delivers the first 200: the tap learns the socket
  CHECK(stack.tapped() == 0);
  send();
  CHECK(stack.tapped() == 1);
  send(); // a 415 is libre's (its Accept is read from libre's message)
  CHECK(stack.tapped() == 1);
  REQUIRE(finals.size() == 3);
  CHECK(finals[0].status == 200);
  CHECK(finals[1].status == 200);
  CHECK(finals[1].reason == "OK");
  CHECK(finals[2].status == 415);
}

TEST_CASE("proxy with a known path MTU sends a 3,000-byte MESSAGE over UDP, not TCP")
{
  csip::Library lib;
  for (uint32_t mtu : {0u, 9000u}) {
    CAPTURE(mtu);
    csip::StackOptions so;
    so.path_mtu = mtu;
    auto made = csip::Stack::create({"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, "test", nullptr,
                                    "127.0.0.1:1", {}, so);
    REQUIRE(made);
    auto& stack = **made;
    CHECK(stack.udp_max() == cpm::sip::udp_max_for(mtu));
    const std::string self = stack.bound().front().substr(4);
    struct sa to;
    REQUIRE(sa_set_str(&to, "127.0.0.1", uint16_t(std::stoi(self.substr(self.rfind(':') + 1)))) ==
            0);
    auto alice = open_local();
    auto bob = open_local(); // UDP only: TCP to its port is refused
    std::vector<std::string> diags;
    proxy::Options po;
    po.diag = [&](const std::string& line) { diags.push_back(line); };
    auto px = proxy::Proxy::create(stack, po, [&](const proxy::Incoming&) {
      auto a = proxy::Action::forward();
      a.next_hop = fmt::format("sip:{}", bob->local_text());
      return a;
    });
    REQUIRE(px);
    size_t at_bob = 0;
    bob->set_handler([&](std::string_view d, const struct sa& src) {
      at_bob = d.size();
      bob->send_now(src, answer(d, 200, "OK"));
    });
    alice->set_handler([&](std::string_view, const struct sa&) { csip::stop(0); });
    std::string big = request("MESSAGE", *alice, self, 1);
    big.replace(big.find("Content-Length: 2\r\n\r\nhi"), std::string::npos,
                "Content-Length: 3000\r\n\r\n" + std::string(3000, 'x'));
    REQUIRE(alice->send_now(to, big) == 0);
    csip::Timer guard;
    guard.start(5000, [] { csip::stop(9); });
    REQUIRE(csip::run() == 0);
    CHECK(at_bob > 3000); // over UDP either way: bob listens on nothing else
    // Unknown MTU: TCP first (refused), then UDP as the fallback says; known: UDP at once.
    bool fell_back = std::any_of(diags.begin(), diags.end(), [](const std::string& d) {
      return d.find("refused; sent over UDP") != std::string::npos;
    });
    CHECK(fell_back == (mtu == 0));
  }
}

TEST_SUITE_END();
