#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "cpm-iwf/numbers.hpp"
#include "cpm-iwf/pipe_link.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"
#include "cpm/iw/mapping.hpp"
#include "cpm/iw/store.hpp"
#include "cpm/sms/coding.hpp"

using namespace cpm;

namespace {

// A CPIM message from alice to `to` with `notify` requested.
std::string cpim_text(const std::string& to, const std::string& text, const std::string& notify,
                      const std::string& mid = "m1", const std::string& ctype = "text/plain")
{
  cpim::Outgoing o;
  o.from = "sip:alice@a.example";
  o.to = to;
  o.message_id = mid;
  o.datetime = "2026-11-29T10:00:00Z";
  o.notification = notify;
  o.content_type = ctype;
  o.body = text;
  return cpim::encode(cpim::make(o));
}

struct TempDir {
  std::filesystem::path path;
  TempDir()
  {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cpm-iw-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir()
  {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

} // namespace

TEST_SUITE_BEGIN("iw");

TEST_CASE("iw::number_of takes tel: and user=phone URIs only")
{
  CHECK(iw::number_of("tel:+15550100") == "+15550100");
  CHECK(iw::number_of("tel:+1-555-0100") == "+15550100");
  CHECK(iw::number_of("sip:+15550100@a.example;user=phone") == "+15550100");
  CHECK_FALSE(iw::number_of("sip:+15550100@a.example"));
  CHECK_FALSE(iw::number_of("sip:alice@a.example"));
  CHECK_FALSE(iw::number_of("tel:5550100"));
  CHECK_FALSE(iw::number_of("tel:+15x50100"));
  CHECK_FALSE(iw::number_of("tel:+12345678901234567"));
}

TEST_CASE("iw::read_message")
{
  SUBCASE("CPIM text with a delivery notification")
  {
    auto in = iw::read_message("tel:+15550100", "sip:alice@a.example", "message/cpim",
                               cpim_text("tel:+15550100", "Hi", "positive-delivery"));
    REQUIRE(in);
    REQUIRE(in->message);
    CHECK(in->message->recipient == "+15550100");
    CHECK(in->message->text == "Hi");
    CHECK(in->message->sender == "sip:alice@a.example");
    CHECK(in->message->message_id == "m1");
    CHECK(in->message->positive);
    CHECK_FALSE(in->message->negative);
  }
  SUBCASE("plain text")
  {
    auto in = iw::read_message("tel:+15550100", "sip:alice@a.example", "text/plain;charset=utf-8",
                               "Hello");
    REQUIRE(in);
    CHECK(in->message->text == "Hello");
    CHECK_FALSE(in->message->report());
  }
  SUBCASE("no number: 404")
  {
    auto in = iw::read_message("sip:bob@b.example", "sip:alice@a.example", "text/plain", "x");
    REQUIRE_FALSE(in);
    CHECK(in.error().status == 404);
  }
  SUBCASE("another content type: 415 with Accept")
  {
    auto in = iw::read_message("tel:+15550100", "sip:alice@a.example", "image/png", "x");
    REQUIRE_FALSE(in);
    CHECK(in.error().status == 415);
    CHECK(in.error().headers.at(0).rfind("Accept:", 0) == 0);
  }
  SUBCASE("CPIM without a text part: 488 with Warning")
  {
    auto in = iw::read_message("tel:+15550100", "sip:alice@a.example", "message/cpim",
                               cpim_text("tel:+15550100", "<b/>", "", "m2", "text/html"));
    REQUIRE_FALSE(in);
    CHECK(in.error().status == 488);
    CHECK(in.error().headers.at(0).rfind("Warning: 399", 0) == 0);
  }
  SUBCASE("malformed CPIM: 400")
  {
    auto in = iw::read_message("tel:+15550100", "sip:alice@a.example", "message/cpim", "junk");
    REQUIRE_FALSE(in);
    CHECK(in.error().status == 400);
  }
  SUBCASE("an IMDN towards a number is a notice")
  {
    imdn::Notification n;
    n.message_id = "abc";
    n.datetime = "2026-11-29T10:00:00Z";
    n.status = imdn::Status::Delivered;
    auto body =
        cpim_text("tel:+15550199", imdn::encode(n), "", "m3", std::string(imdn::k_content_type));
    auto in = iw::read_message("tel:+15550199", "sip:alice@a.example", "message/cpim", body);
    REQUIRE(in);
    REQUIRE(in->notice);
    CHECK(in->notice->recipient == "+15550199");
    CHECK(in->notice->imdn.message_id == "abc");
  }
}

TEST_CASE("iw::read_message refuses a number that no SMS route covers with 404")
{
  const std::vector<std::string> routes = {"+1555", "+4420"};
  auto ok = iw::read_message("tel:+15550100", "sip:alice@a.example", "text/plain", "hi", routes);
  REQUIRE(ok);
  CHECK(ok->message->recipient == "+15550100");
  CHECK(iw::read_message("tel:+442079460000", "sip:alice@a.example", "text/plain", "hi", routes));
  auto no = iw::read_message("tel:+33140000000", "sip:alice@a.example", "text/plain", "hi", routes);
  REQUIRE_FALSE(no);
  CHECK(no.error().status == 404);
  CHECK(no.error().why == "no SMS route for +33140000000 (sms_routes of the IWF)");
  // No routes: every number.
  CHECK(iw::read_message("tel:+33140000000", "sip:alice@a.example", "text/plain", "hi"));
}

TEST_CASE("iw::state_of reads receipt states")
{
  CHECK(iw::state_of("DELIVRD") == iw::State::Delivered);
  CHECK(iw::state_of("undeliv") == iw::State::Undeliverable);
  CHECK(iw::state_of(2) == iw::State::Delivered);
  CHECK(iw::state_of(5) == iw::State::Undeliverable);
  CHECK_FALSE(iw::state_of(0));
  CHECK_FALSE(iw::state_of("NOPE"));
  CHECK_FALSE(iw::final(iw::State::Enroute));
  CHECK(iw::imdn_status(iw::State::Expired) == imdn::Status::Failed);
}

TEST_CASE("iw::notification_for is an IMDN from the number to the sender")
{
  iw::Submission s;
  s.recipient = "+15550100";
  s.sender = "sip:alice@a.example";
  s.message_id = "m1";
  s.datetime = "2026-11-29T10:00:00Z";
  auto c = cpim::decode(iw::notification_for(s, imdn::Status::Failed, "2026-11-29T10:00:01Z"));
  REQUIRE(c);
  CHECK(cpim::address(*c->get("From")) == "tel:+15550100");
  CHECK(cpim::address(*c->get("To")) == "sip:alice@a.example");
  auto n = imdn::decode(c->body);
  REQUIRE(n);
  CHECK(n->message_id == "m1");
  CHECK(n->status == imdn::Status::Failed);
}

TEST_CASE("iw::Store: Figure 7, accept, submit, receipt, notification")
{
  TempDir d;
  const std::string path = (d.path / "iwf.sqlite").string();
  iw::Submission s;
  s.recipient = "+15550100";
  s.text = "Hi";
  s.sender = "sip:alice@a.example";
  s.message_id = "m1";
  s.positive = true;
  {
    auto st = iw::Store::open(path);
    REQUIRE(st);
    auto a = st->accept(s, "+15550101", "msg alice m1", 1000);
    REQUIRE(a);
    CHECK(a->fresh);
    auto again = st->accept(s, "+15550101", "msg alice m1", 1001);
    REQUIRE(again);
    CHECK_FALSE(again->fresh);
    auto due = st->due_sms(1000, 10);
    REQUIRE(due);
    REQUIRE(due->size() == 1);
    CHECK(due->at(0).dst == "+15550100");
    CHECK(due->at(0).src == "+15550101");
    CHECK(due->at(0).report);
    // In flight: left out.
    CHECK(st->due_sms(1000, 10, {a->id})->empty());
  }
  // A restart before submit_sm_resp: submitted once more.
  auto st = iw::Store::open(path);
  REQUIRE(st);
  auto due = st->due_sms(2000, 10);
  REQUIRE(due->size() == 1);
  const int64_t id = due->at(0).id;
  REQUIRE(st->submitted(id, {"smsc-1", "smsc-2"}));
  CHECK(st->due_sms(2000, 10)->empty());
  CHECK(*st->awaiting_receipts() == 1);
  // Unknown id; one part delivered; the other too: notified.
  CHECK_FALSE(st->receipt("nope", iw::State::Delivered, "t", 3000)->known);
  auto r1 = st->receipt("smsc-1", iw::State::Delivered, "t", 3000);
  REQUIRE(r1);
  CHECK(r1->known);
  CHECK_FALSE(r1->complete);
  auto r2 = st->receipt("smsc-2", iw::State::Delivered, "t", 3001);
  REQUIRE(r2);
  CHECK(r2->complete);
  REQUIRE(r2->notified);
  CHECK(*st->awaiting_receipts() == 0);
  auto out = st->due_cpm(4000, 10);
  REQUIRE(out->size() == 1);
  CHECK(out->at(0).ruri == "sip:alice@a.example");
  CHECK(out->at(0).from == "tel:+15550100");
  CHECK(out->at(0).body.find("delivered") != std::string::npos);
  CHECK(st->cpm_done(out->at(0).id));
  CHECK(st->due_cpm(4000, 10)->empty());
  // A repeat after it is done is still recognised.
  CHECK_FALSE(st->accept(s, "+15550101", "msg alice m1", 5000)->fresh);
}

TEST_CASE("iw::Store: a refused submission fails with a notification when asked")
{
  auto st = iw::Store::open(":memory:");
  REQUIRE(st);
  iw::Submission s;
  s.recipient = "+15550100";
  s.text = "Hi";
  s.sender = "sip:alice@a.example";
  s.message_id = "m9";
  s.negative = true;
  auto a = st->accept(s, "+1", "k", 0);
  store::Backoff b;
  b.attempts = 2;
  b.first_ms = 10;
  auto f1 = st->submit_failed(a->id, "throttled", 0, b, false, "t");
  REQUIRE(f1);
  CHECK(f1->retry.again);
  CHECK(f1->retry.at_ms == 10);
  CHECK(st->due_sms(5, 10)->empty());
  CHECK(st->due_sms(10, 10)->size() == 1);
  auto f2 = st->submit_failed(a->id, "refused", 20, b, false, "t");
  REQUIRE(f2);
  CHECK_FALSE(f2->retry.again);
  REQUIRE(f2->notified);
  CHECK(*st->queued_sms() == 0);
  auto out = st->due_cpm(100, 10);
  REQUIRE(out->size() == 1);
  CHECK(out->at(0).body.find("failed") != std::string::npos);
}

TEST_CASE("iw::Store: Figure 8, parts in any order, duplicates dropped, notification back")
{
  auto st = iw::Store::open(":memory:");
  REQUIRE(st);
  iw::InSms p;
  p.src = "+15550199";
  p.dst = "+15550101";
  p.user = "sip:alice@a.example";
  p.report = true;
  p.smsc_id = "n-1";
  p.ref = 7;
  p.total = 2;
  p.seq = 2;
  p.text = " world";
  p.key = "k2";
  auto a2 = st->arrive(p, "t", 0);
  REQUIRE(a2);
  CHECK_FALSE(a2->complete);
  CHECK(st->arrive(p, "t", 1)->duplicate);
  p.key = "";
  CHECK(st->arrive(p, "t", 1)->duplicate);
  p.seq = 1;
  p.text = "Hello";
  p.key = "k1";
  auto a1 = st->arrive(p, "t", 2);
  REQUIRE(a1);
  CHECK(a1->complete);
  auto out = st->due_cpm(10, 10);
  REQUIRE(out->size() == 1);
  CHECK(out->at(0).ruri == "sip:alice@a.example");
  CHECK(out->at(0).from == "tel:+15550199");
  auto c = cpim::decode(out->at(0).body);
  REQUIRE(c);
  CHECK(c->body == "Hello world");
  auto mid = c->get_ns(cpim::k_imdn_ns, "Message-ID");
  REQUIRE(mid);
  CHECK(c->get_ns(cpim::k_imdn_ns, "Disposition-Notification"));
  // alice's notification maps back to an SME acknowledgement.
  iw::Notice n;
  n.recipient = "+15550199";
  n.from = "sip:alice@a.example";
  n.imdn.message_id = *mid;
  n.imdn.status = imdn::Status::Delivered;
  auto ack = st->acknowledge(n, 20);
  REQUIRE(ack);
  REQUIRE(*ack);
  auto sms = st->due_sms(20, 10);
  REQUIRE(sms->size() == 1);
  CHECK(sms->at(0).kind == iw::OutSms::Kind::Ack);
  CHECK(sms->at(0).dst == "+15550199");
  CHECK(sms->at(0).src == "+15550101");
  CHECK(sms->at(0).ref == "n-1");
  CHECK(sms->at(0).state == "DELIVRD");
  // Only once.
  CHECK_FALSE(*st->acknowledge(n, 21));
}

TEST_CASE("iw::Store: an incomplete SMS is delivered after the timeout, gaps marked")
{
  auto st = iw::Store::open(":memory:");
  iw::InSms p;
  p.src = "+15550199";
  p.dst = "+15550101";
  p.user = "sip:alice@a.example";
  p.ref = 1;
  p.total = 3;
  p.seq = 1;
  p.text = "A";
  REQUIRE(st->arrive(p, "t", 100));
  CHECK(st->expire_parts(50, "t", 150)->empty());
  auto e = st->expire_parts(200, "t", 250);
  REQUIRE(e);
  CHECK(e->size() == 1);
  auto out = st->due_cpm(300, 10);
  REQUIRE(out->size() == 1);
  CHECK(cpim::decode(out->at(0).body)->body == "A\u2026");
}

TEST_CASE(
    "iw::Store: parts are decoded together, a surrogate pair and an escape split between them kept")
{
  auto st = iw::Store::open(":memory:");
  REQUIRE(st);
  auto part = [](int seq, int total, sms::Coding c, std::vector<uint8_t> octets) {
    iw::InSms p;
    p.src = "+15550199";
    p.dst = "+15550101";
    p.user = "sip:alice@a.example";
    p.ref = 9;
    p.total = total;
    p.seq = seq;
    p.coding = int(c);
    p.payload.assign(octets.begin(), octets.end());
    p.key = "k" + std::to_string(seq) + std::to_string(int(c));
    return p;
  };
  // "a😀" in UTF-16BE (0061 D83D DE00), cut inside the surrogate pair, the second part first.
  REQUIRE(st->arrive(part(2, 2, sms::Coding::Ucs2, {0xDE, 0x00}), "t", 10));
  auto a = st->arrive(part(1, 2, sms::Coding::Ucs2, {0x00, 0x61, 0xD8, 0x3D}), "t", 11);
  REQUIRE(a);
  CHECK(a->complete);
  auto out = st->due_cpm(20, 10);
  REQUIRE(out->size() == 1);
  CHECK(cpim::decode(out->at(0).body)->body == "a\U0001F600");
  REQUIRE(st->cpm_done(out->at(0).id));
  // "x€" in GSM 7-bit ('x', ESC 0x1B, 0x65), the escape its own part.
  iw::InSms g1 = part(1, 2, sms::Coding::Gsm7, {0x78, 0x1B});
  g1.ref = 10;
  iw::InSms g2 = part(2, 2, sms::Coding::Gsm7, {0x65});
  g2.ref = 10;
  REQUIRE(st->arrive(g1, "t", 30));
  REQUIRE(st->arrive(g2, "t", 31));
  out = st->due_cpm(40, 10);
  REQUIRE(out->size() == 1);
  CHECK(cpim::decode(out->at(0).body)->body == "x\u20AC");
}

TEST_CASE("iw::Store: an SMS the CPM user never takes is reported UNDELIV when it asked")
{
  auto st = iw::Store::open(":memory:");
  REQUIRE(st);
  store::Backoff b;
  b.attempts = 2;
  b.first_ms = 10;
  for (bool report : {true, false}) {
    iw::InSms p;
    p.src = "+15550199";
    p.dst = "+15550101";
    p.user = "sip:alice@a.example";
    p.text = report ? "tell me" : "never mind";
    p.report = report;
    p.smsc_id = "n-7";
    REQUIRE(st->arrive(p, "t", 100));
    auto out = st->due_cpm(100, 10);
    REQUIRE(out->size() == 1);
    auto r1 = st->cpm_failed(out->at(0).id, 100, b, false);
    REQUIRE(r1);
    CHECK(r1->again);
    CHECK_FALSE(r1->acknowledged);
    auto r2 = st->cpm_failed(out->at(0).id, 200, b, false);
    REQUIRE(r2);
    CHECK_FALSE(r2->again);
    CHECK(r2->acknowledged == report);
    CHECK(st->due_cpm(100000, 10)->empty());
    auto sms = st->due_sms(300, 10);
    REQUIRE(sms);
    if (report) {
      REQUIRE(sms->size() == 1);
      CHECK(sms->at(0).kind == iw::OutSms::Kind::Ack);
      CHECK(sms->at(0).dst == "+15550199");
      CHECK(sms->at(0).src == "+15550101");
      CHECK(sms->at(0).ref == "n-7");
      CHECK(sms->at(0).state == "UNDELIV");
      REQUIRE(st->submitted(sms->at(0).id, {}));
    } else {
      CHECK(sms->empty());
    }
  }
}

TEST_CASE("iwf::parse_pipe_line")
{
  auto r = iwf::parse_pipe_line(R"({"type":"receipt","id":"7","stat":"UNDELIV"})");
  REQUIRE(r);
  CHECK(r->kind == iwf::PipeInput::Kind::Receipt);
  CHECK(r->ref == "7");
  CHECK(r->state == iw::State::Undeliverable);
  auto s = iwf::parse_pipe_line(
      R"({"type":"sms","id":"n1","from":"+15550199","to":"+15550101","text":"Hi","report":true})");
  REQUIRE(s);
  CHECK(s->sms.src == "+15550199");
  CHECK(s->sms.report);
  CHECK_FALSE(iwf::parse_pipe_line("not json"));
  CHECK_FALSE(iwf::parse_pipe_line(R"({"type":"sms","from":"abc","to":"+1555"})"));
  CHECK_FALSE(iwf::parse_pipe_line(R"({"type":"receipt"})"));
  CHECK_FALSE(iwf::parse_pipe_line(R"({"type":"sms","from":"+1","to":"+2","total":2,"seq":1})"));
  CHECK_FALSE(iwf::parse_pipe_line(R"({"type":"what"})"));
  iw::OutSms o;
  o.id = 3;
  o.src = "+1";
  o.dst = "+2";
  o.text = "x";
  CHECK(iwf::pipe_line(o) ==
        R"({"from":"+1","id":"3","report":false,"text":"x","to":"+2","type":"sms"})");
}

TEST_SUITE_END();

TEST_CASE("cpm-iwf's smsc: an address, a host name and port, or a node")
{
  auto f = config::parse(R"(
[[node]]
name = "nc"
role = "smsc"
listen = ["tcp:127.0.1.4:2775"]
)",
                         "lab.toml");
  REQUIRE(f);
  CHECK(iwf::smsc_address(*f, "127.0.1.4:2775").value() == "127.0.1.4:2775");
  CHECK(iwf::smsc_address(*f, "tcp:127.0.1.4:2776").value() == "127.0.1.4:2776");
  CHECK(iwf::smsc_address(*f, "SMSC.b.example:2775").value() == "smsc.b.example:2775");
  CHECK(iwf::smsc_address(*f, "tcp:smsc.b.example:2775").value() == "smsc.b.example:2775");
  CHECK(iwf::smsc_address(*f, "nc").value() == "127.0.1.4:2775");
  CHECK_FALSE(iwf::smsc_address(*f, "smsc.b.example"));       // no node of that name
  CHECK_FALSE(iwf::smsc_address(*f, "smsc.b.example:0"));     // no port
  CHECK_FALSE(iwf::smsc_address(*f, "smsc.b.example:99999")); // no port
  CHECK_FALSE(iwf::smsc_address(*f, "udp:smsc.b.example:2775"));
  CHECK_FALSE(iwf::smsc_address(*f, "bad name:2775"));
}
