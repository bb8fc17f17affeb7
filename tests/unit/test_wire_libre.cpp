// The SIP parser of our own against libre's decoder (issue 13): on every message both
// accept they read the same method, Request-URI, Call-ID, CSeq, top Via branch and
// Content-Length. The messages only one of them accepts are listed, with the reason.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cpm/grammar/wire.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/pl.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "helpers.hpp"

using namespace cpm::sip;

namespace {

using cpm::test::crlf;

// Ordinary messages like those the other unit tests and the flows send.
std::vector<std::pair<std::string, std::string>> ordinary()
{
  return {
      {"message", crlf("MESSAGE sip:bob@b.example SIP/2.0\n"
                       "Via: SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bK1;rport\n"
                       "Via: SIP/2.0/UDP 127.0.1.9:5060;branch=z9hG4bK0\n"
                       "Route: <sip:core.a.example;lr>\n"
                       "Route: <sip:next.example;lr>\n"
                       "Max-Forwards: 70\n"
                       "From: <sip:alice@a.example>;tag=f\n"
                       "To: <sip:bob@b.example>\n"
                       "Call-ID: c1\n"
                       "CSeq: 1 MESSAGE\n"
                       "P-Served-User: <sip:mallory@a.example>\n"
                       "a: *;+g.oma.sip-im\n"
                       "Content-Type: text/plain\n"
                       "Content-Length: 5\n"
                       "\n"
                       "hello trailing")},
      {"invite", crlf("INVITE sip:bob@127.0.0.1:5070;transport=udp SIP/2.0\n"
                      "Via: SIP/2.0/UDP [::1]:5062;branch=z9hG4bK-inv;received=::1\n"
                      "Max-Forwards: 69\n"
                      "Record-Route: <sip:127.0.0.1;lr;ftag=x>\n"
                      "From: \"Alice\" <sip:alice@a.example>;tag=1928301774\n"
                      "To: Bob <sip:bob@b.example>\n"
                      "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n"
                      "CSeq: 314159 INVITE\n"
                      "Contact: <sip:alice@127.0.0.1:5062>\n"
                      "Content-Type: application/sdp\n"
                      "Content-Length: 10\n"
                      "\n"
                      "v=0\no=- 1")},
      {"register", crlf("REGISTER sip:b.example SIP/2.0\n"
                        "v: SIP/2.0/TCP 127.0.0.1:40000;branch=z9hG4bKreg;rport\n"
                        "f: <sip:bob@b.example>;tag=r1\n"
                        "t: <sip:bob@b.example>\n"
                        "i: reg-1\n"
                        "CSeq: 2 REGISTER\n"
                        "m: <sip:bob@127.0.0.1:40000;transport=tcp>;expires=600;+g.oma.sip-im\n"
                        "Expires: 600\n"
                        "l: 0\n"
                        "\n")},
      {"response",
       crlf("SIP/2.0 200 OK\n"
            "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2;received=127.0.0.1;rport=5060\n"
            "From: <sip:alice@a.example>;tag=f\n"
            "To: <sip:bob@b.example>;tag=t\n"
            "Call-ID: c2\n"
            "CSeq: 9 MESSAGE\n"
            "Content-Length: 0\n"
            "\n")},
      {"ack-no-length", crlf("ACK sip:bob@b.example SIP/2.0\n"
                             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK3\n"
                             "From: <sip:alice@a.example>;tag=f\n"
                             "To: <sip:bob@b.example>;tag=t\n"
                             "Call-ID: c3\n"
                             "CSeq: 4 ACK\n"
                             "\n")},
  };
}

std::vector<std::pair<std::string, std::string>> torture()
{
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(CPM_DATA_DIR) + "/rfc4475")) {
    if (e.path().extension() != ".dat")
      continue;
    std::ifstream f(e.path(), std::ios::binary);
    out.emplace_back(e.path().filename().string(),
                     std::string(std::istreambuf_iterator<char>(f), {}));
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_SUITE_BEGIN("wire");

TEST_CASE("wire::parse agrees with libre's sip_msg_decode on the messages both accept")
{
  auto all = ordinary();
  for (auto& t : torture())
    all.push_back(std::move(t));
  std::string only_libre, only_ours; // names, each followed by a space
  size_t both = 0;
  wire::Message m;
  for (const auto& [name, text] : all) {
    CAPTURE(name);
    auto mb = cpm::mbuf_copy(text);
    REQUIRE(mb);
    cpm::re_ptr<struct sip_msg> msg;
    bool libre_ok = sip_msg_decode(cpm::re_out(msg), mb.get()) == 0;
    bool ours_ok = wire::parse(text, m).verdict == wire::Verdict::Ok;
    if (libre_ok && !ours_ok)
      only_libre += name + ' ';
    if (ours_ok && !libre_ok)
      only_ours += name + ' ';
    if (!libre_ok || !ours_ok)
      continue;
    ++both;
    CHECK(m.request == msg->req);
    if (m.request) {
      CHECK(m.method == cpm::pl_view(msg->met));
      CHECK(m.ruri == cpm::pl_view(msg->ruri));
    } else {
      CHECK(m.status == int(msg->scode));
    }
    CHECK(m.call_id == cpm::pl_view(msg->callid));
    CHECK(m.cseq == msg->cseq.num);
    CHECK(m.cseq_method == cpm::pl_view(msg->cseq.met));
    CHECK(m.via.branch == cpm::pl_view(msg->via.branch));
    if (msg->clen.p)
      CHECK(m.content_length == long(pl_u32(&msg->clen)));
    else
      CHECK(m.content_length == -1);
  }
  // Both accept the ordinary messages and the valid torture messages libre can read.
  CHECK(both >= 30);
  // Only libre accepts: invalid messages it does not check (it decodes what it needs and
  // leaves the rest to the stack); ours refuses each as HACKING.md ("RFC 4475") says:
  // bigcode (status > 699), clerr (Content-Length past the end), escruri (headers in a
  // SIP Request-URI), insuf (no Call-ID/From/To), mcl01 (two Content-Lengths), mismatch01
  // and mismatch02 (CSeq method), multi01 (two Call-IDs/CSeqs...), ncl (negative
  // Content-Length), quotbal (open quote in To), scalar02 and scalarlg (CSeq >= 2^31).
  CHECK(only_libre == "bigcode.dat clerr.dat escruri.dat insuf.dat mcl01.dat mismatch01.dat "
                      "mismatch02.dat multi01.dat ncl.dat quotbal.dat scalar02.dat scalarlg.dat ");
  // Only ours accepts: messages a proxy can route that libre's decoder refuses. longreq and
  // inv2543: a top Via without branch (RFC 2543 style), which libre's Via decoder requires;
  // unksm2: To and From URIs of other schemes (isbn:, http:), which its address decoder
  // refuses; baddn: an unquoted display name with a comma (a proxy reads only the tag).
  CHECK(only_ours == "baddn.dat inv2543.dat longreq.dat unksm2.dat ");
}

TEST_SUITE_END();
