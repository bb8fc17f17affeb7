// sip::Reinvite through ua::Session::modify over 127.0.0.1 in one libre loop: a re-INVITE
// answered 200 (its answer reported, ACKed, and ACKed again for a retransmitted 200), and
// one refused 488 with a Warning (status and Warning reported, the session still up).
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <memory>
#include <string>

#include "cpm/rt/reinvite.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/credentials.hpp"
#include "cpm/ua/session.hpp"

#include "cpm/rt/re.hpp"

namespace ua = cpm::ua;

namespace {

const char* const k_offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                            "t=0 0\r\nm=message 9 TCP/MSRP *\r\n";
const char* const k_offer2 = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                             "t=0 0\r\nm=message 9 TCP/MSRP *\r\nm=audio 4000 RTP/AVP 0\r\n";

// What bob's raw listener (ahead of sipsess) does with an in-dialog INVITE (Hold: nothing,
// it stays pending at alice).
enum class Mode { Pass, Refuse, Twice, Hold };

struct Bob {
  Mode mode = Mode::Pass;
  int acks = 0; // ACKs of a re-INVITE (CSeq above the INVITE's)
  uint32_t invite_cseq = 0;
  cpm::re_slot<struct sip_lsnr> lsnr;
  struct ::sip* sip = nullptr;
  std::string contact;           // "Contact: <sip:bob@127.0.0.1:PORT>"
  int held = 0;                  // re-INVITEs (and retransmissions) held
  std::function<void()> on_held; // after the first

  static bool req_h(const struct sip_msg* msg, void* arg) noexcept
  {
    auto& b = *static_cast<Bob*>(arg);
    if (pl_strcmp(&msg->met, "INVITE") == 0 && !pl_isset(&msg->to.tag))
      b.invite_cseq = msg->cseq.num;
    if (pl_strcmp(&msg->met, "ACK") == 0 && msg->cseq.num > b.invite_cseq) {
      ++b.acks;
      return b.mode != Mode::Pass; // sipsess knows nothing of a re-INVITE we answered
    }
    if (pl_strcmp(&msg->met, "INVITE") != 0 || !pl_isset(&msg->to.tag) || b.mode == Mode::Pass)
      return false;
    if (b.mode == Mode::Hold) {
      if (++b.held == 1 && b.on_held)
        b.on_held();
      return true;
    }
    if (b.mode == Mode::Refuse) {
      (void)sip_replyf(b.sip, msg, 488, "Not Acceptable Here",
                       "Warning: 399 csB \"bob may not receive audio\"\r\n"
                       "Content-Length: 0\r\n\r\n");
      return true;
    }
    // A 200 sent twice (statelessly): the second is a retransmission alice must ACK again.
    std::string body = k_offer2;
    for (int i = 0; i < 2; ++i)
      (void)sip_replyf(b.sip, msg, 200, "OK",
                       "%s\r\nContent-Type: application/sdp\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       b.contact.c_str(), body.size(), body.c_str());
    return true;
  }
};

struct Call {
  std::unique_ptr<cpm::sip::Stack> alice_stack, bob_stack;
  cpm::re_ptr<ua::Digest> digest;
  std::unique_ptr<ua::Sessions> alice, bob;
  std::unique_ptr<ua::Session> alice_sess, bob_sess;
  Bob raw;
  std::string bob_offer_seen;
  std::function<void()> on_established;
  int alice_glares = 0; // re-INVITEs alice answered 491
};

void setup(Call& c, const ua::Log& log)
{
  auto a = cpm::sip::Stack::create({"udp:127.0.0.1:0"}, "test");
  auto b = cpm::sip::Stack::create({"udp:127.0.0.1:0"}, "test");
  REQUIRE(a);
  REQUIRE(b);
  c.alice_stack = std::move(*a);
  c.bob_stack = std::move(*b);
  c.digest = ua::make_digest({"sip:x@127.0.0.1", "", "no password", log});
  c.raw.sip = c.bob_stack->get();
  REQUIRE(sip_listen(c.raw.lsnr.out(), c.bob_stack->get(), true, Bob::req_h, &c.raw) == 0);
  auto bs = ua::Sessions::listen(*c.bob_stack, *c.digest, log, [&c](ua::Invitation& inv) {
    ua::SessionHandlers h;
    h.offer = [&c](std::string_view sdp) -> std::optional<std::string> {
      c.bob_offer_seen = std::string(sdp);
      return std::string(k_offer2);
    };
    auto s = inv.accept("bob", "", h);
    REQUIRE(s);
    c.bob_sess = std::move(*s);
    REQUIRE(c.bob_sess->answer(k_offer, ""));
  });
  REQUIRE(bs);
  c.bob = std::move(*bs);
  auto as = ua::Sessions::listen(*c.alice_stack, *c.digest, log,
                                 [](ua::Invitation& inv) { inv.reject(486, "Busy Here"); });
  REQUIRE(as);
  c.alice = std::move(*as);
  auto port = cpm::sip::parse_listen(c.bob_stack->bound().front())->port;
  c.raw.contact = fmt::format("Contact: <sip:bob@127.0.0.1:{}>", port);
  ua::Call call;
  call.to = fmt::format("sip:bob@127.0.0.1:{}", port);
  call.from = "sip:alice@127.0.0.1";
  call.contact_user = "alice";
  call.sdp = k_offer;
  ua::SessionHandlers h;
  h.answer = [](std::string_view) { return true; };
  h.established = [&c] { c.on_established(); };
  h.glare = [&c] { ++c.alice_glares; };
  auto s = c.alice->connect(call, h);
  REQUIRE(s);
  c.alice_sess = std::move(*s);
}

int run_loop()
{
  cpm::sip::Timer guard;
  guard.start(10000, [] { cpm::sip::stop(99); });
  return cpm::sip::run();
}

} // namespace

TEST_SUITE_BEGIN("rt");

TEST_CASE("sip::Reinvite: a 200 reports the answer and is ACKed")
{
  cpm::sip::Library lib;
  ua::Log log{"test", true, 0};
  Call c;
  cpm::sip::ReinviteResult got;
  c.on_established = [&] {
    CHECK_FALSE(c.alice_sess->modifying());
    auto r = c.alice_sess->modify(k_offer2, [&](const cpm::sip::ReinviteResult& res) {
      got = res;
      cpm::sip::stop(0);
    });
    REQUIRE(r);
    CHECK(c.alice_sess->modifying());
    CHECK_FALSE(c.alice_sess->modify(k_offer2, [](const cpm::sip::ReinviteResult&) {}));
  };
  setup(c, log);
  CHECK(run_loop() == 0);
  CHECK(got.ok());
  CHECK(got.status == 200);
  CHECK(got.sdp == k_offer2);
  CHECK(c.bob_offer_seen == k_offer2);
  // The ACK arrives after the report: one more turn of the loop.
  cpm::sip::Timer t;
  t.start(200, [] { cpm::sip::stop(0); });
  CHECK(run_loop() == 0);
  CHECK(c.raw.acks == 1);
}

TEST_CASE("sip::Reinvite: a 488 reports its status and Warning, and the session stays")
{
  cpm::sip::Library lib;
  ua::Log log{"test", true, 0};
  Call c;
  c.raw.mode = Mode::Refuse;
  cpm::sip::ReinviteResult got;
  bool closed = false;
  c.on_established = [&] {
    REQUIRE(c.alice_sess->modify(k_offer2, [&](const cpm::sip::ReinviteResult& r) {
      got = r;
      cpm::sip::stop(0);
    }));
  };
  setup(c, log);
  CHECK(run_loop() == 0);
  CHECK_FALSE(got.ok());
  CHECK(got.status == 488);
  CHECK(got.warning == "399 csB \"bob may not receive audio\"");
  CHECK_FALSE(c.alice_sess->modifying());
  // Another modification may follow; this one is answered by bob's sipsess.
  c.raw.mode = Mode::Pass;
  REQUIRE(c.alice_sess->modify(k_offer2, [&](const cpm::sip::ReinviteResult& r) {
    got = r;
    cpm::sip::stop(0);
  }));
  CHECK(run_loop() == 0);
  CHECK(got.status == 200);
  CHECK_FALSE(closed);
}

TEST_CASE("sip::Reinvite: a retransmitted 200 is ACKed again")
{
  cpm::sip::Library lib;
  ua::Log log{"test", true, 0};
  Call c;
  c.raw.mode = Mode::Twice;
  cpm::sip::ReinviteResult got;
  c.on_established = [&] {
    REQUIRE(c.alice_sess->modify(k_offer2, [&](const cpm::sip::ReinviteResult& r) { got = r; }));
  };
  setup(c, log);
  cpm::sip::Timer t;
  t.start(500, [] { cpm::sip::stop(0); });
  CHECK(run_loop() == 0);
  CHECK(got.status == 200);
  CHECK(c.raw.acks == 2);
}

TEST_CASE("ua::Session: a re-INVITE while ours is pending is answered 491 (glare)")
{
  cpm::sip::Library lib;
  ua::Log log{"test", true, 0};
  Call c;
  c.raw.mode = Mode::Hold;
  cpm::sip::ReinviteResult alice_got, bob_got;
  bool alice_done = false;
  c.on_established = [&] {
    REQUIRE(c.alice_sess->modify(k_offer2, [&](const cpm::sip::ReinviteResult& r) {
      alice_got = r;
      alice_done = true;
    }));
  };
  // Bob's own re-INVITE crosses alice's, which bob holds unanswered.
  c.raw.on_held = [&] {
    REQUIRE(c.bob_sess);
    REQUIRE(c.bob_sess->modify(k_offer2, [&](const cpm::sip::ReinviteResult& r) {
      bob_got = r;
      cpm::sip::stop(0);
    }));
  };
  setup(c, log);
  CHECK(run_loop() == 0);
  CHECK(bob_got.status == 491);
  CHECK(bob_got.reason == "Request Pending");
  CHECK(c.alice_glares == 1);
  CHECK(c.alice_sess->modifying()); // hers still waits (bob holds it)
  CHECK_FALSE(alice_done);
  CHECK(c.alice_sess->owns_call_id());
  CHECK_FALSE(c.bob_sess->owns_call_id());
}

TEST_CASE("sip::glare_delay_ms: 2.1 to 4 s for the Call-ID's owner, else 0 to 2 s, in 10 ms")
{
  using cpm::sip::glare_delay_ms;
  CHECK(glare_delay_ms(true, 0) == 2100);
  CHECK(glare_delay_ms(true, 190) == 4000);
  CHECK(glare_delay_ms(true, 191) == 2100);
  CHECK(glare_delay_ms(false, 0) == 0);
  CHECK(glare_delay_ms(false, 200) == 2000);
  CHECK(glare_delay_ms(false, 201) == 0);
  for (int i = 0; i < 200; ++i) {
    auto own = glare_delay_ms(true);
    auto other = glare_delay_ms(false);
    CHECK((own >= 2100 && own <= 4000 && own % 10 == 0));
    CHECK((other <= 2000 && other % 10 == 0));
  }
}

TEST_SUITE_END();
