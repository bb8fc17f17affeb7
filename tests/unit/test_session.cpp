// ua::Sessions over 127.0.0.1 in one libre loop: a call between two SIP stacks.
#include <doctest/doctest.h>

#include <cerrno>
#include <fmt/format.h>
#include <memory>
#include <string>

#include "cpm/rt/sip.hpp"
#include "cpm/ua/credentials.hpp"
#include "cpm/ua/session.hpp"

namespace ua = cpm::ua;

namespace {

const char* const k_offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                            "t=0 0\r\nm=message 9 TCP/MSRP *\r\n";

struct Party {
  std::unique_ptr<cpm::sip::Stack> stack;
  cpm::re_ptr<ua::Digest> digest;
  std::unique_ptr<ua::Sessions> sessions;
};

Party party(const ua::Log& log, ua::Sessions::OnInvite on_invite)
{
  Party p;
  auto s = cpm::sip::Stack::create({"udp:127.0.0.1:0"}, "test");
  REQUIRE(s);
  p.stack = std::move(*s);
  p.digest = ua::make_digest({"sip:x@127.0.0.1", "", "no password", log});
  auto ss = ua::Sessions::listen(*p.stack, *p.digest, log, std::move(on_invite));
  REQUIRE(ss);
  p.sessions = std::move(*ss);
  return p;
}

} // namespace

TEST_SUITE_BEGIN("ua");

TEST_CASE("ua::Sessions: a call is rung, answered, established and hung up")
{
  cpm::sip::Library lib;
  ua::Log log{"test", true, 0};
  std::unique_ptr<ua::Session> bob_sess, alice_sess;
  std::string offer_seen, answer_seen;
  int rung = 0;
  ua::Ending bob_end;
  bool bob_established = false;

  auto bob = party(log, [&](ua::Invitation& inv) {
    offer_seen = inv.sdp;
    ua::SessionHandlers h;
    h.established = [&] { bob_established = true; };
    h.answer = [](std::string_view) { return true; };
    h.closed = [&](const ua::Ending& e) {
      bob_end = e;
      bob_sess.reset(); // released inside its own handler: freed on the next turn
      cpm::sip::stop(0);
    };
    auto s = inv.accept("bob", "", h);
    REQUIRE(s);
    bob_sess = std::move(*s);
    REQUIRE(bob_sess->answer(k_offer, ""));
  });
  auto alice = party(log, [](ua::Invitation& inv) { inv.reject(486, "Busy Here"); });

  auto port = cpm::sip::parse_listen(bob.stack->bound().front())->port;
  ua::Call c;
  c.to = fmt::format("sip:bob@127.0.0.1:{}", port);
  c.from = "sip:alice@127.0.0.1";
  c.contact_user = "alice";
  c.sdp = k_offer;
  ua::SessionHandlers h;
  h.progress = [&](int status) { rung = status; };
  h.answer = [&](std::string_view sdp) {
    answer_seen = std::string(sdp);
    return true;
  };
  h.established = [&] { alice_sess.reset(); }; // hang up at once: a BYE
  auto s = alice.sessions->connect(c, h);
  REQUIRE(s);
  alice_sess = std::move(*s);

  cpm::sip::Timer guard;
  guard.start(10000, [] { cpm::sip::stop(99); });
  CHECK(cpm::sip::run() == 0);
  CHECK(offer_seen == k_offer);
  CHECK(answer_seen == k_offer);
  CHECK(rung == 180);
  CHECK(bob_established);
  CHECK(bob_end.err == ECONNRESET);
  CHECK_FALSE(alice_sess);
}

TEST_CASE("ua::Sessions: a refused call ends with the refusal")
{
  cpm::sip::Library lib;
  ua::Log log{"test", true, 0};
  auto bob = party(log, [](ua::Invitation& inv) { inv.reject(603, "Decline"); });
  auto alice = party(log, [](ua::Invitation& inv) { inv.reject(486, "Busy Here"); });
  auto port = cpm::sip::parse_listen(bob.stack->bound().front())->port;
  ua::Call c;
  c.to = fmt::format("sip:bob@127.0.0.1:{}", port);
  c.from = "sip:alice@127.0.0.1";
  c.contact_user = "alice";
  c.sdp = k_offer;
  ua::Ending end;
  std::unique_ptr<ua::Session> sess;
  ua::SessionHandlers h;
  h.closed = [&](const ua::Ending& e) {
    end = e;
    sess.reset();
    cpm::sip::stop(0);
  };
  auto s = alice.sessions->connect(c, h);
  REQUIRE(s);
  sess = std::move(*s);
  cpm::sip::Timer guard;
  guard.start(10000, [] { cpm::sip::stop(99); });
  CHECK(cpm::sip::run() == 0);
  CHECK(end.status == 603);
  CHECK(end.reason == "Decline");
}

TEST_SUITE_END();
