#include <doctest/doctest.h>

#include <fmt/format.h>
#include <map>

#include "cpm/ladder/ladder.hpp"

using cpm::trace::Event;
namespace ladder = cpm::ladder;

TEST_SUITE_BEGIN("ladder");

namespace {

const std::map<std::string, std::string> k_at = {
    {"alice", "127.0.1.10:5060"}, {"coreA", "127.0.1.1:5060"}, {"csA", "127.0.1.2:5060"},
    {"coreX", "127.0.3.1:5060"},  {"csX", "127.0.3.2:5060"},   {"coreB", "127.0.2.1:5060"},
    {"csB", "127.0.2.2:5060"},    {"bob", "127.0.2.10:5060"},  {"carol", "127.0.2.11:5060"},
    {"iwf", "127.0.1.3:5060"},    {"nc", "127.0.1.4:2775"},
};

// A run whose every hop is the sender's tx event.
struct Hops {
  std::vector<Event> events;
  int64_t now = 1'700'000'000'000'000;

  void send(const std::string& from, const std::string& to, const std::string& msg,
            const std::string& transport = "udp")
  {
    Event e;
    e.time_us = now += 1000;
    e.node = from;
    e.dir = "tx";
    e.transport = transport;
    e.local = k_at.at(from);
    e.peer = k_at.at(to);
    e.first_line = cpm::trace::first_line(msg);
    e.call_id = transport == "smpp" ? "" : cpm::trace::call_id(msg);
    e.message = msg;
    events.push_back(e);
    // The receiver shows its address too.
    Event r = e;
    r.node = to;
    r.dir = "rx";
    r.local = k_at.at(to);
    r.peer = k_at.at(from);
    events.push_back(r);
  }
  std::vector<ladder::Arrow> annotated(const ladder::Roles& roles = {}) const
  {
    auto hs = ladder::arrows(events);
    ladder::annotate(hs, roles);
    return hs;
  }
};

std::string sip(const std::string& start, const std::string& call_id, const std::string& cseq,
                const std::string& more, const std::string& type = "", const std::string& body = "")
{
  std::string ct = type.empty() ? "" : "Content-Type: " + type + "\r\n";
  return fmt::format("{}\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\nFrom: <sip:alice@a.example>;tag=a"
                     "\r\nTo: <sip:bob@b.example>\r\nCall-ID: {}\r\nCSeq: {}\r\n{}{}"
                     "Content-Length: {}\r\n\r\n{}",
                     start, call_id, cseq, more, ct, body.size(), body);
}

std::string cpim(const std::string& type, const std::string& content,
                 const std::string& disposition = "")
{
  return fmt::format("From: <sip:alice@a.example>\r\nTo: <sip:bob@b.example>\r\n"
                     "NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: m1\r\n{}\r\n"
                     "Content-Type: {}\r\n\r\n{}",
                     disposition.empty() ? ""
                                         : "imdn.Disposition-Notification: " + disposition + "\r\n",
                     type, content);
}

const std::string k_sdp = "v=0\r\no=- 1 1 IN IP4 127.0.1.10\r\ns=-\r\nc=IN IP4 127.0.1.10\r\n"
                          "t=0 0\r\nm=message 7394 TCP/MSRP *\r\na=accept-types:message/cpim\r\n"
                          "m=audio 0 RTP/AVP 0\r\n";

} // namespace

TEST_CASE("ladder::annotate names a CPIM message, its IMDNs and the notifications it asks for")
{
  Hops run;
  run.send("alice", "coreA",
           sip("MESSAGE sip:bob@b.example SIP/2.0", "c1", "1 MESSAGE", "", "message/cpim",
               cpim("text/plain", "Hello", "positive-delivery, display")));
  run.send("bob", "coreB",
           sip("MESSAGE sip:alice@a.example SIP/2.0", "c2", "1 MESSAGE", "", "message/cpim",
               cpim("message/imdn+xml",
                    "<?xml version=\"1.0\"?><imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">"
                    "<message-id>m1</message-id><delivery-notification><status><delivered/>"
                    "</status></delivery-notification></imdn>")));
  run.send("bob", "coreB",
           sip("MESSAGE sip:alice@a.example SIP/2.0", "c3", "1 MESSAGE", "", "message/cpim",
               cpim("message/imdn+xml",
                    "<i:imdn xmlns:i=\"urn:ietf:params:xml:ns:imdn\"><i:display-notification>"
                    "<i:status><i:displayed/></i:status></i:display-notification></i:imdn>")));
  run.send("bob", "coreB",
           sip("MESSAGE sip:alice@a.example SIP/2.0", "c4", "1 MESSAGE", "", "message/imdn+xml",
               "<imdn><delivery-notification><status><failed/></status>"
               "</delivery-notification></imdn>"));
  run.send("alice", "coreA",
           sip("MESSAGE sip:bob@b.example SIP/2.0", "c5", "1 MESSAGE",
               "Content-Encoding: deflate\r\n", "message/cpim", "xx"));
  run.send("alice", "coreA",
           sip("MESSAGE sip:bob@b.example SIP/2.0", "c6", "1 MESSAGE", "", "text/plain", "Hi"));
  auto hs = run.annotated();
  REQUIRE(hs.size() == 6);
  CHECK(hs[0].what == "CPIM message, asks positive-delivery, display");
  CHECK(hs[1].what == "IMDN delivered");
  CHECK(hs[2].what == "IMDN displayed");
  CHECK(hs[3].what == "IMDN delivery failed");
  CHECK(hs[4].what == "CPIM, deflate-coded");
  CHECK(hs[5].what == "plain text (no CPIM)");
}

TEST_CASE("ladder::annotate describes a relayed request in full once, then shortly")
{
  Hops run;
  auto m = sip("MESSAGE sip:bob@b.example SIP/2.0", "c1", "1 MESSAGE", "", "message/cpim",
               cpim("text/plain", "Hello", "positive-delivery"));
  run.send("alice", "coreA", m);
  run.send("coreA", "coreB", m);
  run.send("alice", "coreA",
           sip("MESSAGE sip:bob@b.example SIP/2.0", "c2", "1 MESSAGE", "", "message/cpim",
               cpim("text/plain", "Again", "positive-delivery")));
  auto hs = run.annotated();
  REQUIRE(hs.size() == 3);
  CHECK(hs[0].what == "CPIM message, asks positive-delivery");
  CHECK(hs[1].what == "CPIM message");
  CHECK(hs[2].what == "CPIM message, asks positive-delivery"); // another transaction
}

TEST_CASE("ladder::annotate tells an SDP offer, its answer and a re-offer apart")
{
  Hops run;
  run.send("alice", "coreA",
           sip("INVITE sip:bob@b.example SIP/2.0", "c1", "1 INVITE", "", "application/sdp", k_sdp));
  run.send("coreA", "alice", sip("SIP/2.0 200 OK", "c1", "1 INVITE", "", "application/sdp", k_sdp));
  // Inside the dialog (To with a tag): a re-offer.
  auto re =
      sip("INVITE sip:bob@127.0.2.10 SIP/2.0", "c1", "2 INVITE", "", "application/sdp", k_sdp);
  re.replace(re.find("<sip:bob@b.example>"), 19, "<sip:bob@b.example>;tag=b");
  run.send("alice", "coreA", re);
  // An INVITE without an offer: the 200 makes it.
  run.send("alice", "coreA", sip("INVITE sip:bob@b.example SIP/2.0", "c2", "1 INVITE", ""));
  run.send("coreA", "alice", sip("SIP/2.0 200 OK", "c2", "1 INVITE", "", "application/sdp", k_sdp));
  run.send("alice", "coreA",
           sip("ACK sip:bob@127.0.2.10 SIP/2.0", "c2", "1 ACK", "", "application/sdp", k_sdp));
  auto hs = run.annotated();
  REQUIRE(hs.size() == 6);
  CHECK(hs[2].why == "inside the dialog, by its route set");
  CHECK(hs[0].what == "SDP offer: message, audio off");
  CHECK(hs[1].what == "SDP answer: message, audio off");
  CHECK(hs[2].what == "SDP re-offer: message, audio off");
  CHECK(hs[3].what == "no SDP offer");
  CHECK(hs[4].what == "SDP offer: message, audio off");
  CHECK(hs[5].what == "SDP answer: message, audio off");
}

TEST_CASE("ladder::annotate reads a trigger, its return with odi and a group's fan-out")
{
  Hops run;
  auto msg = [&](const std::string& call_id, const std::string& route, const std::string& from) {
    auto m = sip("MESSAGE sip:bob@b.example SIP/2.0", call_id, "1 MESSAGE",
                 route.empty() ? "" : "Route: " + route + "\r\n", "message/cpim",
                 cpim("text/plain", "Hello"));
    if (!from.empty())
      m.replace(m.find("<sip:alice@a.example>;tag=a"), 27, "<" + from + ">;tag=g");
    return m;
  };
  run.send("alice", "coreA", msg("c1", "", ""));
  run.send("coreA", "csA",
           msg("c1",
               "<sip:127.0.1.2:5060;lr;cpm-served=sip:alice%40a.example;cpm-case=orig>, "
               "<sip:127.0.1.1:5060;lr;odi=o.0.0123456789>",
               ""));
  run.send("csA", "coreA", msg("c1", "<sip:127.0.1.1:5060;lr;odi=o.0.0123456789>", ""));
  run.send("coreB", "csB", msg("c1", "<sip:127.0.2.2;lr>,<sip:127.0.2.1;lr;odi=t.1>", ""));
  // The group: csX was sent sip:friends@x.example and sends as it, once per member.
  auto to_group = sip("MESSAGE sip:friends@x.example SIP/2.0", "g1", "1 MESSAGE", "",
                      "message/cpim", cpim("text/plain", "Hi all"));
  run.send("coreX", "csX", to_group);
  run.send("csX", "coreX", msg("g2", "", "sip:friends@x.example"));
  run.send("csX", "coreX", msg("g3", "", "sip:friends@x.example"));
  // Interworking, by the roles a config gives.
  run.send("coreA", "iwf",
           sip("MESSAGE tel:+15550001 SIP/2.0", "c9", "1 MESSAGE", "", "text/plain", "Hi"));
  run.send("coreA", "coreX",
           sip("MESSAGE sip:friends@x.example SIP/2.0", "g0", "1 MESSAGE", "", "text/plain", "Hi"));
  auto hs = run.annotated(
      {{"iwf", "iwf"}, {"coreA", "core"}, {"coreX", "core"}, {"csX", "conversation-server"}});
  REQUIRE(hs.size() == 9);
  CHECK(hs[0].why == "");
  CHECK(hs[1].why ==
        "originating trigger to the Conversation Server, served user sip:alice@a.example");
  CHECK(hs[2].why == "return with odi o.0.0123456789 (originating case)");
  CHECK(hs[3].why == "terminating trigger to the Conversation Server");
  CHECK(hs[4].why == "to the Conversation Server of the request URI");
  CHECK(hs[5].why == "group fan-out as sip:friends@x.example");
  CHECK(hs[6].why == "group fan-out as sip:friends@x.example");
  CHECK(hs[7].why == "interworking: to the IWF, on to SMS");
  CHECK(hs[8].why == "to the network of x.example");
  CHECK(ladder::note(hs[2]) == "CPIM message; return with odi o.0.0123456789 (originating case)");
}

TEST_CASE("ladder::annotate names SMPP PDUs and a response's Warning")
{
  Hops run;
  run.send("iwf", "nc",
           "submit_sm seq=7 src=1:1:alice dst=1:1:+15550001 registered_delivery=1 "
           "sar=1/2 sm_len=153",
           "smpp");
  run.send("nc", "iwf", "submit_sm_resp seq=7 message_id=\"42\"", "smpp");
  run.send("nc", "iwf",
           "deliver_sm seq=3 src=1:1:+15550001 dst=1:1:alice receipt id=\"42\" "
           "stat=DELIVRD",
           "smpp");
  run.send("nc", "iwf", "submit_sm_resp seq=8 status=ESME_RTHROTTLED", "smpp");
  run.send("coreA", "alice",
           sip("SIP/2.0 488 Not Acceptable Here", "c1", "1 INVITE",
               "Warning: 399 csA \"audio is not allowed for sip:alice@a.example\"\r\n"));
  auto hs = run.annotated();
  REQUIRE(hs.size() == 5);
  CHECK(hs[0].what == "SMS to a phone, part 1/2, receipt asked");
  CHECK(hs[0].why == "interworking: SMS over SMPP");
  CHECK(hs[1].what == "accepted, SMSC id \"42\"");
  CHECK(hs[2].what == "SMS delivery receipt DELIVRD");
  CHECK(hs[3].what == "refused: ESME_RTHROTTLED");
  CHECK(hs[4].why == "csA: audio is not allowed for sip:alice@a.example");
}

TEST_CASE("ladder::annotate knows the IWF by its SMPP PDUs when the run shows no bind")
{
  // Figure 8 as a lab draws it: the IWF bound before these traces began.
  Hops run;
  run.send("nc", "iwf", "deliver_sm seq=1 src=1:1:+15550100 dst=1:1:+15550102", "smpp");
  run.send("iwf", "coreA",
           sip("MESSAGE sip:alice@a.example SIP/2.0", "s1", "1 MESSAGE", "", "message/cpim",
               cpim("text/plain", "Hello from SMS")));
  // alice's answer to the phone, through her core to the IWF.
  auto answer = sip("MESSAGE tel:+15550100 SIP/2.0", "s2", "1 MESSAGE", "", "text/plain", "Hi");
  run.send("alice", "coreA", answer);
  run.send("coreA", "iwf", answer);
  auto hs = run.annotated();
  REQUIRE(hs.size() == 4);
  CHECK(hs[0].why == "interworking: SMS over SMPP");
  CHECK(hs[1].why == "interworking: from the IWF (SMS side)");
  CHECK(hs[3].why == "interworking: to the IWF, on to SMS");

  // A submit_sm says the same of its sender, and a config's roles come first.
  Hops out;
  out.send("iwf", "nc", "submit_sm seq=2 src=1:1:+15550102 dst=1:1:+15550100", "smpp");
  out.send("coreA", "iwf",
           sip("MESSAGE tel:+15550100 SIP/2.0", "s3", "1 MESSAGE", "", "text/plain", "Hi"));
  CHECK(out.annotated()[1].why == "interworking: to the IWF, on to SMS");
  CHECK(out.annotated({{"iwf", "core"}})[1].why == "");
}

TEST_CASE("ladder notes and steps are drawn as columns that --check ignores")
{
  Hops run;
  run.send("alice", "coreA",
           sip("MESSAGE sip:bob@b.example SIP/2.0", "c1", "1 MESSAGE", "", "message/cpim",
               cpim("text/plain", "Hello")));
  run.send("coreA", "bob",
           sip("MESSAGE sip:bob@127.0.2.10 SIP/2.0", "c1", "1 MESSAGE", "", "message/cpim",
               cpim("text/plain", "Hello")));
  run.send("bob", "coreA", sip("SIP/2.0 200 OK", "c1", "1 MESSAGE", ""));
  run.send("coreA", "alice", sip("SIP/2.0 200 OK", "c1", "1 MESSAGE", ""));
  auto hs = run.annotated();
  auto plain = ladder::arrows(run.events);
  CHECK(ladder::format_lines(plain) == " 1  alice  -> coreA  MESSAGE sip:bob@b.example\n"
                                       " 2  coreA  -> bob    MESSAGE sip:bob@127.0.2.10\n"
                                       " 3  bob    -> coreA  200 OK\n"
                                       " 4  coreA  -> alice  200 OK\n");

  auto want = ladder::parse_expected("[transaction m]\n[1] alice -> coreA MESSAGE\n"
                                     "coreA -> bob MESSAGE\n[3] bob -> coreA 200\n",
                                     "t.ladder");
  REQUIRE(want);
  auto res = ladder::check(*want, hs);
  CHECK_FALSE(res.ok); // coreA -> alice 200 is not in the ladder
  REQUIRE(res.steps.size() == 4);
  for (size_t i = 0; i < hs.size(); ++i)
    hs[i].step = res.steps[i];
  auto text = ladder::format_lines(hs);
  CHECK(text == " 1  [1]  alice  -> coreA  MESSAGE sip:bob@b.example   # CPIM message\n"
                " 2  =    coreA  -> bob    MESSAGE sip:bob@127.0.2.10  # CPIM message\n"
                " 3  [3]  bob    -> coreA  200 OK\n"
                " 4  +    coreA  -> alice  200 OK\n");
  // The drawn ladder, steps and notes included, is still an expected ladder's text once its
  // numbers and steps are cut: notes are comments.
  auto detail = ladder::format_detail(hs, 2);
  CHECK(detail.find("hop 2 of 4: coreA -> bob  MESSAGE sip:bob@127.0.2.10\n") == 0);
  CHECK(detail.find("what: CPIM message\n") != std::string::npos);
  CHECK(detail.find("step: = (a step without a label)\n") != std::string::npos);
  CHECK(detail.find("\nMESSAGE sip:bob@127.0.2.10 SIP/2.0\nVia:") != std::string::npos);
  CHECK(detail.find('\r') == std::string::npos);
  CHECK(ladder::format_detail(hs, 5).empty());
  CHECK(ladder::format_detail(hs, 0).empty());

  auto svg = ladder::format_svg(hs, {"alice", "coreA", "bob"});
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.find("<g class=\"hop\" id=\"hop4\">") != std::string::npos);
  CHECK(svg.find(">[1]</text>") != std::string::npos);
  CHECK(svg.find(">CPIM message</text>") != std::string::npos);
  CHECK(svg.find("</svg>\n") == svg.size() - 7);

  auto cols = ladder::format_columns(hs, {"alice", "coreA", "bob"});
  CHECK(cols.find("# CPIM message\n") != std::string::npos);
  auto mermaid = ladder::format_mermaid(hs, {});
  CHECK(mermaid.find("n1->>n2: [1] MESSAGE sip:bob@b.example<br/>CPIM message\n") !=
        std::string::npos);
}

TEST_CASE("ladder::format_svg escapes what it draws")
{
  ladder::Arrow h;
  h.from = "a<b";
  h.to = "c&d";
  h.request = true;
  h.method = "MESSAGE";
  h.uri = "sip:x@y;p=\"q\"";
  h.what = "CPIM <odd> & \x01 more";
  auto svg = ladder::format_svg({h}, {});
  CHECK(svg.find("a&lt;b") != std::string::npos);
  CHECK(svg.find("c&amp;d") != std::string::npos);
  CHECK(svg.find("p=&quot;q&quot;") != std::string::npos);
  CHECK(svg.find("CPIM &lt;odd&gt; &amp;  more") != std::string::npos);
  CHECK(svg.find('\x01') == std::string::npos);
}

TEST_SUITE_END();
