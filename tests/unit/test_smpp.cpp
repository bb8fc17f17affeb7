#include <doctest/doctest.h>
#include <string>

#include "cpm/smpp/describe.hpp"
#include "cpm/smpp/framer.hpp"
#include "cpm/smpp/pdu.hpp"
#include "cpm/smpp/receipt.hpp"

namespace smpp = cpm::smpp;

namespace {

// Octets from hex digits, spaces ignored: "00 00 00 10".
std::string hex(std::string_view h)
{
  std::string out;
  int hi = -1;
  for (char c : h) {
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0)
      continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(char(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

// A C-octet string's octets: the text and its NUL.
std::string cs(std::string_view s)
{
  return std::string(s) + std::string(1, '\0');
}

// Four octets, big-endian.
std::string be32(uint32_t v)
{
  return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

// A PDU laid out by hand: header (its command_length computed) and body.
std::string pdu_bytes(uint32_t command, uint32_t status, uint32_t seq, const std::string& body)
{
  return be32(uint32_t(16 + body.size())) + be32(command) + be32(status) + be32(seq) + body;
}

// SMPP 3.4 §4.4.1 submit_sm, field by field: no service_type, +15550100 -> +15550101
// (TON 1, NPI 1), registered_delivery 1, data_coding 0, "hello".
std::string submit_sm_body()
{
  return cs("") + hex("01 01") + cs("15550100") + hex("01 01") + cs("15550101") + hex("00 00 00") +
         cs("") + cs("") + hex("01 00 00 00") + hex("05") + "hello";
}

smpp::Pdu round_trip(const smpp::Pdu& p)
{
  auto b = smpp::pack(p);
  REQUIRE_MESSAGE(b, (b ? "" : b.error().message));
  auto back = smpp::unpack(*b);
  REQUIRE_MESSAGE(back, (back ? "" : back.error().message));
  return *back;
}

} // namespace

TEST_SUITE_BEGIN("smpp");

TEST_CASE("smpp::unpack reads a bind_transmitter laid out as §4.1.1 says")
{
  // system_id SMPP3TEST, password secret08, system_type SUBMIT1, interface_version 0x34,
  // addr_ton 1, addr_npi 1, address_range "": 47 octets (0x2F).
  std::string b = hex("0000002F 00000002 00000000 00000001"
                      "534D5050 33544553 54007365 63726574 30380053 55424D49 54310034 010100");
  REQUIRE(b.size() == 0x2F);
  auto p = smpp::unpack(b);
  REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
  CHECK(p->command == smpp::Command::bind_transmitter);
  CHECK(p->sequence == 1);
  CHECK(p->system_id == "SMPP3TEST");
  CHECK(p->password == "secret08");
  CHECK(p->system_type == "SUBMIT1");
  CHECK(p->interface_version == 0x34);
  CHECK(p->address_range == smpp::Address{1, 1, ""});
  auto again = smpp::pack(*p);
  REQUIRE(again);
  CHECK(*again == b);
  SUBCASE("another interface_version is kept, not refused")
  {
    std::string v50 = b;
    v50[0x2B] = 0x50;
    auto q = smpp::unpack(v50);
    REQUIRE(q);
    CHECK(q->interface_version == 0x50);
    CHECK(*smpp::pack(*q) == v50);
  }
}

TEST_CASE("smpp::pack writes submit_sm octet for octet as §4.4.1 lays it out")
{
  smpp::Pdu p;
  p.command = smpp::Command::submit_sm;
  p.sequence = 7;
  p.source = {1, 1, "15550100"};
  p.destination = {1, 1, "15550101"};
  p.registered_delivery = smpp::k_receipt_final;
  p.short_message = "hello";
  auto b = smpp::pack(p);
  REQUIRE(b);
  CHECK(*b == pdu_bytes(4, 0, 7, submit_sm_body()));
  auto back = smpp::unpack(*b);
  REQUIRE(back);
  CHECK(back->source == p.source);
  CHECK(back->destination == p.destination);
  CHECK(back->registered_delivery == 1);
  CHECK(back->short_message == "hello");
  CHECK(back->tlvs.empty());
  CHECK(smpp::describe(*back) ==
        "submit_sm seq=7 src=15550100 dst=15550101 registered_delivery=1 sm_len=5");
}

TEST_CASE("smpp: every PDU the toolkit sends packs and unpacks to itself")
{
  SUBCASE("bind_transceiver and its response with sc_interface_version")
  {
    smpp::Pdu b;
    b.command = smpp::Command::bind_transceiver;
    b.sequence = 1;
    b.system_id = "iwf";
    b.password = "secret";
    b.system_type = "cpm";
    auto p = round_trip(b);
    CHECK(p.system_id == "iwf");
    CHECK(p.password == "secret");
    CHECK(p.system_type == "cpm");
    CHECK(p.interface_version == 0x34);
    auto r = smpp::response(b);
    r.system_id = "nc";
    r.set_u8(smpp::k_tlv_sc_interface_version, 0x34);
    auto q = round_trip(r);
    CHECK(q.command == smpp::Command::bind_transceiver_resp);
    CHECK(q.sequence == 1);
    CHECK(q.system_id == "nc");
    CHECK(q.u8(smpp::k_tlv_sc_interface_version) == 0x34);
  }
  SUBCASE("submit_sm with a UDH part, UCS-2, validity and sar parameters")
  {
    smpp::Pdu s;
    s.command = smpp::Command::submit_sm;
    s.sequence = 0x7FFFFFFF;
    s.source = {1, 1, "15550100"};
    s.destination = {5, 0, "Lab"};
    s.esm_class = smpp::k_esm_udhi;
    s.data_coding = smpp::k_dcs_ucs2;
    s.validity_period = "000001000000000R";
    s.short_message = hex("050003A10201") + std::string("\x00h\x00i\xd8\x3d\xde\x00", 8);
    s.set_u16(smpp::k_tlv_sar_msg_ref_num, 0xA1);
    s.set_u8(smpp::k_tlv_sar_total_segments, 2);
    s.set_u8(smpp::k_tlv_sar_segment_seqnum, 1);
    s.set(0x1401, "vendor"); // an unknown parameter is kept
    auto p = round_trip(s);
    CHECK(p.short_message == s.short_message);
    CHECK(p.validity_period == s.validity_period);
    CHECK(p.destination == s.destination);
    CHECK(p.tlvs == s.tlvs);
    CHECK(p.u16(smpp::k_tlv_sar_msg_ref_num) == 0xA1);
    CHECK(smpp::describe(p) == "submit_sm seq=2147483647 src=15550100 dst=5/0:Lab esm_class=0x40 "
                               "dcs=8 validity=000001000000000R sar=1/2 sm_len=14");
  }
  SUBCASE("submit_sm_resp, deliver_sm_resp, the header-only PDUs")
  {
    smpp::Pdu s;
    s.command = smpp::Command::submit_sm;
    s.sequence = 9;
    auto r = smpp::response(s);
    r.message_id = "4f2a";
    auto p = round_trip(r);
    CHECK(p.command == smpp::Command::submit_sm_resp);
    CHECK(p.message_id == "4f2a");
    CHECK(smpp::describe(p) == "submit_sm_resp seq=9 message_id=4f2a");
    smpp::Pdu d;
    d.command = smpp::Command::deliver_sm;
    d.sequence = 3;
    CHECK(round_trip(smpp::response(d)).command == smpp::Command::deliver_sm_resp);
    for (auto c : {smpp::Command::enquire_link, smpp::Command::enquire_link_resp,
                   smpp::Command::unbind, smpp::Command::unbind_resp}) {
      smpp::Pdu h;
      h.command = c;
      h.sequence = 42;
      auto b = smpp::pack(h);
      REQUIRE(b);
      CHECK(b->size() == 16);
      CHECK(round_trip(h).command == c);
    }
  }
  SUBCASE("error responses are headers; a vendor status is kept as it is")
  {
    smpp::Pdu s;
    s.command = smpp::Command::submit_sm;
    s.sequence = 5;
    auto r = smpp::response(s, smpp::k_esme_rthrottled);
    r.message_id = "ignored";
    auto b = smpp::pack(r);
    REQUIRE(b);
    CHECK(*b == pdu_bytes(0x80000004, 0x58, 5, ""));
    CHECK(smpp::describe(*smpp::unpack(*b)) == "submit_sm_resp seq=5 status=ESME_RTHROTTLED");
    auto vendor = smpp::unpack(pdu_bytes(0x80000004, 0x401, 6, ""));
    REQUIRE(vendor);
    CHECK(vendor->status == 0x401);
    CHECK(smpp::status_name(0x401) == "0x00000401");
    // Some SMSCs send the empty message_id even with an error: read, body ignored.
    auto with_body = smpp::unpack(pdu_bytes(0x80000004, 0x14, 7, cs("")));
    REQUIRE(with_body);
    CHECK(with_body->status == smpp::k_esme_rmsgqful);
    auto nack = smpp::unpack(pdu_bytes(0x80000000, 3, 0, ""));
    REQUIRE(nack); // sequence 0: the peer could not read ours
    CHECK(smpp::describe(*nack) == "generic_nack seq=0 status=ESME_RINVCMDID");
    CHECK(*smpp::pack(smpp::generic_nack(0, 2)) == pdu_bytes(0x80000000, 2, 0, ""));
  }
}

TEST_CASE("smpp::pack refuses what does not fit a field")
{
  smpp::Pdu b;
  b.command = smpp::Command::bind_transceiver;
  b.system_id = "a-system-id-of-16";
  CHECK_FALSE(smpp::pack(b));
  b.system_id = "iwf";
  b.password = "123456789";
  CHECK_FALSE(smpp::pack(b));
  smpp::Pdu s;
  s.command = smpp::Command::submit_sm;
  s.destination.addr = std::string("1\0002", 3);
  CHECK_FALSE(smpp::pack(s));
  s.destination.addr = "1";
  s.short_message.assign(254, 'x');
  CHECK_FALSE(smpp::pack(s));
  s.short_message.assign(253, 'x');
  CHECK(smpp::pack(s));
  s.source.ton = 9; // no such type of number
  CHECK_FALSE(smpp::pack(s));
  smpp::Pdu q;
  q.command = smpp::Command::query_sm;
  CHECK_FALSE(smpp::pack(q));
}

TEST_CASE("smpp::unpack answers bad PDUs with what their generic_nack needs")
{
  std::string good = pdu_bytes(4, 0, 11, submit_sm_body());
  REQUIRE(smpp::unpack(good));
  SUBCASE("a command_length that is not the PDU's size")
  {
    std::string lie = good;
    lie[3] = char(lie[3] + 4);
    auto e = smpp::unpack(lie);
    REQUIRE_FALSE(e);
    CHECK(e.error().status == smpp::k_esme_rinvcmdlen);
    CHECK(e.error().sequence == 11);
    CHECK(e.error().command == smpp::Command::submit_sm);
  }
  SUBCASE("an unknown command_id")
  {
    auto e = smpp::unpack(pdu_bytes(0x00000099, 0, 12, ""));
    REQUIRE_FALSE(e);
    CHECK(e.error().status == smpp::k_esme_rinvcmdid);
    CHECK(e.error().sequence == 12);
    CHECK(smpp::describe(pdu_bytes(0x00000099, 0, 12, ""), e.error()) ==
          "command_0x00000099 seq=12 unreadable: unknown command_id 0x00000099");
    auto q = smpp::unpack(pdu_bytes(0x00000003, 0, 13, cs("1") + hex("0101") + cs("2")));
    REQUIRE_FALSE(q); // query_sm: known, not handled
    CHECK(q.error().status == smpp::k_esme_rinvcmdid);
  }
  SUBCASE("a body cut short, its length consistent with what was sent")
  {
    for (size_t cut = 1; cut < submit_sm_body().size(); ++cut) {
      auto e = smpp::unpack(pdu_bytes(4, 0, 14, submit_sm_body().substr(0, cut)));
      CHECK_FALSE(e);
      if (!e)
        CHECK(e.error().sequence == 14);
    }
  }
  SUBCASE("a C-octet string without its NUL up to the end")
  {
    auto e = smpp::unpack(pdu_bytes(9, 0, 15, "iwfiwfiwf"));
    REQUIRE_FALSE(e);
    CHECK(e.error().status == smpp::k_esme_rinvcmdlen);
  }
  SUBCASE("an optional parameter running past the PDU, or a lying fixed size")
  {
    auto e = smpp::unpack(pdu_bytes(4, 0, 16, submit_sm_body() + hex("0424 0010 4142")));
    REQUIRE_FALSE(e);
    CHECK(e.error().sequence == 16);
    auto f = smpp::unpack(pdu_bytes(5, 0, 17, submit_sm_body() + hex("0427 0002 0202")));
    CHECK_FALSE(f);
    auto g = smpp::unpack(pdu_bytes(4, 0, 18, submit_sm_body() + hex("04")));
    REQUIRE_FALSE(g); // libsmpp34 finds it first: ESME_RINVCMDLEN
    CHECK(g.error().sequence == 18);
  }
  SUBCASE("a header-only PDU with a body, a sequence number 0")
  {
    CHECK_FALSE(smpp::unpack(pdu_bytes(0x15, 0, 19, "x")));
    CHECK_FALSE(smpp::unpack(pdu_bytes(4, 0, 0, submit_sm_body())));
  }
  SUBCASE("fewer than 16 octets")
  {
    auto e = smpp::unpack(hex("0000000C 00000015 0000"));
    REQUIRE_FALSE(e);
    CHECK(e.error().status == smpp::k_esme_rinvcmdlen);
  }
}

TEST_CASE("smpp::Framer cuts any split of the stream into PDUs")
{
  std::string a = pdu_bytes(0x15, 0, 1, "");
  std::string b = pdu_bytes(4, 0, 2, submit_sm_body());
  std::string stream = a + b + a;
  for (size_t step : {size_t(1), size_t(3), size_t(16), stream.size()}) {
    smpp::Framer f;
    std::vector<std::string> out;
    for (size_t i = 0; i < stream.size(); i += step) {
      f.feed(std::string_view(stream).substr(i, step));
      while (auto n = f.next()) {
        REQUIRE(*n);
        out.push_back(**n);
      }
    }
    REQUIRE(out.size() == 3);
    CHECK(out[0] == a);
    CHECK(out[1] == b);
    CHECK(out[2] == a);
    CHECK(f.buffered() == 0);
  }
  SUBCASE("a length under 16 or over the limit is a lie that names the sequence")
  {
    smpp::Framer f;
    f.feed(hex("0000000F 00000004 00000000 0000002A"));
    auto n = f.next();
    REQUIRE(n);
    REQUIRE_FALSE(*n);
    CHECK(n->error().sequence == 42);
    CHECK(n->error().status == smpp::k_esme_rinvcmdlen);
    smpp::Framer g(1024);
    g.feed(hex("00000401 00000004"));
    CHECK_FALSE(g.next()); // waits for the sequence number
    g.feed(hex("00000000 0000002B"));
    auto m = g.next();
    REQUIRE(m);
    REQUIRE_FALSE(*m);
    CHECK(m->error().sequence == 43);
  }
}

TEST_CASE("smpp: receipt text as Appendix B writes it")
{
  auto r = smpp::parse_receipt_text("id:0123456789 sub:001 dlvrd:001 submit date:0610190922 "
                                    "done date:0610190923 stat:DELIVRD err:000 Text:Hello World");
  REQUIRE(r);
  CHECK(r->id == "0123456789");
  CHECK(r->sub == "001");
  CHECK(r->dlvrd == "001");
  CHECK(r->submit_date == "0610190922");
  CHECK(r->done_date == "0610190923");
  CHECK(r->stat == "DELIVRD");
  CHECK(r->err == "000");
  CHECK(r->text == "Hello World");
  CHECK(smpp::format_receipt_text(*r) ==
        "id:0123456789 sub:001 dlvrd:001 submit date:0610190922 done date:0610190923 "
        "stat:DELIVRD err:000 text:Hello World");
  CHECK(smpp::parse_stat(r->stat) == smpp::MessageState::delivered);
  SUBCASE("any order, unknown words skipped, only id and stat required")
  {
    auto s = smpp::parse_receipt_text("STAT:UNDELIV foo id:ab-1 err:034");
    REQUIRE(s);
    CHECK(s->id == "ab-1");
    CHECK(smpp::parse_stat(s->stat) == smpp::MessageState::undeliverable);
    CHECK(s->err == "034");
    CHECK_FALSE(smpp::parse_receipt_text("stat:DELIVRD"));
    CHECK_FALSE(smpp::parse_receipt_text("id:1 err:0"));
    CHECK_FALSE(smpp::parse_receipt_text(""));
    CHECK_FALSE(smpp::parse_receipt_text("id: stat:DELIVRD"));
  }
  CHECK(smpp::receipt_date(0) == "7001010000");
  CHECK(smpp::receipt_date(1796553000) == "2612061030");
  CHECK(smpp::stat_text(smpp::MessageState::rejected) == "REJECTD");
  CHECK(smpp::parse_stat("delivered") == smpp::MessageState::delivered);
  CHECK_FALSE(smpp::parse_stat("DONE"));
  CHECK(smpp::is_final(smpp::MessageState::expired));
  CHECK_FALSE(smpp::is_final(smpp::MessageState::enroute));
}

TEST_CASE("smpp::read_receipt prefers the parameters and falls back to the text")
{
  smpp::Pdu sub;
  sub.command = smpp::Command::submit_sm;
  sub.source = {1, 1, "15550100"};
  sub.destination = {1, 1, "15550101"};
  smpp::ReceiptText t;
  t.submit_date = t.done_date = "2611291950";
  t.text = "hello";
  auto d = smpp::make_receipt(sub, "1f", smpp::MessageState::undeliverable, t);
  d.sequence = 3;
  auto p = round_trip(d);
  CHECK(p.source == sub.destination);
  CHECK(p.destination == sub.source);
  CHECK(smpp::is_receipt(p));
  auto r = smpp::read_receipt(p);
  REQUIRE(r);
  CHECK(r->message_id == "1f");
  CHECK(r->state == smpp::MessageState::undeliverable);
  CHECK(r->err == "001");
  CHECK(smpp::describe(p) ==
        "deliver_sm seq=3 src=15550101 dst=15550100 receipt id=1f stat=UNDELIV");
  SUBCASE("text only")
  {
    p.tlvs.clear();
    p.short_message = "id:77 sub:001 dlvrd:001 submit date:2611291950 done date:2611291951 "
                      "stat:DELIVRD err:000 text:hi";
    auto q = smpp::read_receipt(round_trip(p));
    REQUIRE(q);
    CHECK(q->message_id == "77");
    CHECK(q->state == smpp::MessageState::delivered);
  }
  SUBCASE("parameters only, the text something else")
  {
    p.short_message = "your message was delivered";
    p.tlvs.clear();
    p.set_cstring(smpp::k_tlv_receipted_message_id, "88");
    p.set_u8(smpp::k_tlv_message_state, 3);
    auto q = smpp::read_receipt(p);
    REQUIRE(q);
    CHECK(q->message_id == "88");
    CHECK(q->state == smpp::MessageState::expired);
    CHECK_FALSE(q->text);
  }
  SUBCASE("neither: an error; a plain SMS is no receipt")
  {
    p.short_message = "hello";
    p.tlvs.clear();
    CHECK_FALSE(smpp::read_receipt(p));
    p.esm_class = 0;
    CHECK_FALSE(smpp::is_receipt(p));
    CHECK_FALSE(smpp::read_receipt(p));
  }
}

TEST_SUITE_END();
