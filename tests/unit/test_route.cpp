#include <doctest/doctest.h>

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "cpm/codec/auth.hpp"
#include "cpm/core/route.hpp"

using cpm::config::SessionCase;
using cpm::route::Action;
using cpm::route::Context;
using cpm::route::decide;
using cpm::route::Decision;
using cpm::sip::Request;

namespace {

const std::string k_accept_cpm =
    "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\"";
const std::string k_pps_cpm = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg";

cpm::config::Node node(std::string name, std::string domain, std::string listen)
{
  cpm::config::Node n;
  n.name = std::move(name);
  if (!domain.empty())
    n.domains.push_back(std::move(domain));
  n.listen.push_back(std::move(listen));
  return n;
}

cpm::config::Trigger trigger(std::string name, std::string on, int priority, SessionCase c,
                             std::string server, int line)
{
  cpm::config::Trigger t;
  t.name = std::move(name);
  t.node = std::move(on);
  t.priority = priority;
  t.session_case = c;
  t.server = std::move(server);
  t.line = line;
  return t;
}

// The lab of HACKING.md: coreA/csA serve a.example, coreB/csB serve b.example, coreX/csX
// host the group sip:friends@x.example. coreA triggers on the CPM service indication
// (header conditions), coreB only on what it knows itself (methods).
cpm::config::File lab()
{
  cpm::config::File f;
  f.path = "lab.toml";
  auto a = node("coreA", "a.example", "udp:127.0.1.1:5060");
  a.listen.push_back("tcp:127.0.1.1:5060");
  a.peers["b.example"] = "udp:127.0.2.1:5060";
  a.peers["x.example"] = "udp:127.0.3.1:5060";
  a.psi["sip:conf-factory@a.example"] = "udp:127.0.1.2:5060";
  auto b = node("coreB", "b.example", "udp:127.0.2.1:5060");
  b.peers["A.Example"] = "udp:127.0.1.1:5060";
  b.peers["x.example"] = "tcp:127.0.3.1:5060";
  auto x = node("coreX", "x.example", "udp:127.0.3.1:5060");
  x.peers["b.example"] = "udp:127.0.2.1:5060";
  f.nodes = {a,
             b,
             x,
             node("csA", "a.example", "udp:127.0.1.2:5060"),
             node("csB", "b.example", "udp:127.0.2.2:5060"),
             node("csX", "x.example", "udp:127.0.3.2:5060")};
  f.nodes[3].role = f.nodes[4].role = f.nodes[5].role = cpm::config::Role::ConversationServer;

  auto orig_a =
      trigger("orig-cpm", "coreA", 10, SessionCase::Originating, "sip:127.0.1.2:5060", 20);
  orig_a.headers.push_back({"Accept-Contact", "oma\\.cpm"});
  auto term_a =
      trigger("term-cpm", "coreA", 20, SessionCase::Terminating, "sip:127.0.1.2:5060", 30);
  term_a.headers.push_back({"p-preferred-service", "oma\\.cpm\\.(msg|session)"});
  // coreB: a plain method condition, listed out of priority order on purpose.
  auto term_b = trigger("term-b", "coreB", 20, SessionCase::Terminating, "udp:127.0.2.2:5060", 50);
  term_b.methods = {"MESSAGE", "INVITE"};
  auto orig_b = trigger("orig-b", "coreB", 10, SessionCase::Originating, "udp:127.0.2.2:5060", 40);
  orig_b.methods = {"message", "INVITE"};
  f.triggers = {orig_a, term_a, term_b, orig_b};

  cpm::config::User alice;
  alice.uri = "sip:alice@a.example";
  cpm::config::User bob;
  bob.uri = "sip:bob@b.example";
  cpm::config::User carol;
  carol.uri = "sip:carol@b.example";
  f.users = {alice, bob, carol};

  cpm::config::Group friends;
  friends.uri = "sip:friends@x.example";
  friends.host = "csX";
  friends.members = {"sip:alice@a.example", "sip:bob@b.example", "sip:carol@b.example"};
  cpm::config::Group lost;
  lost.uri = "sip:lost@x.example";
  lost.host = "nowhere";
  f.groups = {friends, lost};
  return f;
}

cpm::location::Binding binding(std::string aor, std::string contact, std::string received,
                               std::string params, uint64_t seq,
                               cpm::location::Reach reach = cpm::location::Reach::Contact)
{
  cpm::location::Binding b;
  b.reach = reach;
  b.aor = std::move(aor);
  b.contact = std::move(contact);
  b.received = std::move(received);
  b.params = std::move(params);
  b.expires_at = 5000;
  b.seq = seq;
  return b;
}

Request message(std::string from, std::string to, std::string source, bool cpm = true)
{
  Request r;
  r.method = "MESSAGE";
  r.ruri = to;
  r.to_uri = to;
  r.from_uri = std::move(from);
  r.source = std::move(source);
  if (cpm) {
    r.headers.push_back({"Accept-Contact", k_accept_cpm});
    r.headers.push_back({"P-Preferred-Service", k_pps_cpm});
  }
  r.body_size = 200;
  return r;
}

bool explains(const Decision& d, const std::string& text)
{
  for (const auto& line : d.explain)
    if (line.find(text) != std::string::npos)
      return true;
  return false;
}

// The odi a fired trigger put on the Route back to the core.
std::string odi_of(const Decision& d)
{
  REQUIRE(d.push_routes.size() == 2);
  auto pos = d.push_routes[1].find(";odi=");
  REQUIRE(pos != std::string::npos);
  auto end = d.push_routes[1].find('>', pos);
  return d.push_routes[1].substr(pos + 5, end - pos - 5);
}

struct Lab {
  cpm::config::File file = lab();
  cpm::location::Store loc_a, loc_b;
  Context a, b;
  Lab()
  {
    a.file = b.file = &file;
    a.node = file.find_node("coreA");
    b.node = file.find_node("coreB");
    a.location = &loc_a;
    b.location = &loc_b;
    a.self_uri = "sip:127.0.1.1:5060";
    b.self_uri = "sip:127.0.2.1:5060";
    a.now = b.now = 1000;
    loc_a.upsert(binding("sip:alice@a.example", "sip:alice@127.0.1.10:5060", "", "", 0));
    loc_b.upsert(binding("sip:bob@b.example", "sip:bob@127.0.2.10:5060;transport=tcp",
                         "tcp:127.0.2.10:40123", "", 0, cpm::location::Reach::Connection));
  }
};

} // namespace

TEST_SUITE_BEGIN("route");

TEST_CASE("route::make_odi and parse_odi round-trip and reject garbage")
{
  SessionCase c = SessionCase::Terminating;
  int i = -1;
  CHECK(cpm::route::make_odi(SessionCase::Originating, 0) == "o.0");
  CHECK(cpm::route::make_odi(SessionCase::Terminating, 12) == "t.12");
  REQUIRE(cpm::route::parse_odi("o.3", c, i));
  CHECK(c == SessionCase::Originating);
  CHECK(i == 3);
  REQUIRE(cpm::route::parse_odi(cpm::route::make_odi(SessionCase::Terminating, 7), c, i));
  CHECK(c == SessionCase::Terminating);
  CHECK(i == 7);
  for (const char* bad : {"", "o", "o.", "x.1", "o.-1", "o.+1", "o.1x", "O.1", "o1", "t..1",
                          "o.99999999999", "o. 1", "o.01"}) {
    CAPTURE(bad);
    c = SessionCase::Terminating;
    i = 42;
    CHECK_FALSE(cpm::route::parse_odi(bad, c, i));
    CHECK(i == 42); // untouched on failure
  }
}

TEST_CASE("route::decide walks Figures 5 and 6 hop by hop")
{
  Lab lab;
  // [5.1 -> 5.2] alice's MESSAGE at coreA: the originating trigger on the CPM ICSI fires.
  auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
  auto d = decide(req, lab.a);
  REQUIRE(d.action == Action::Forward);
  CHECK(d.what == "trigger");
  CHECK(d.next_hop == "sip:127.0.1.2:5060");
  CHECK(d.ruri == "sip:bob@b.example");
  REQUIRE(d.push_routes.size() == 2);
  CHECK(d.push_routes[0] == "<sip:127.0.1.2:5060;lr>");
  CHECK(d.push_routes[1] == "<sip:127.0.1.1:5060;lr;odi=o.0>");
  CHECK(d.served_user == "sip:alice@a.example");
  CHECK(d.session_case == "orig");
  CHECK(
      explains(d, "trigger 'orig-cpm' (priority 10, originating): matched -> sip:127.0.1.2:5060"));
  CHECK(explains(d, "session case: not terminating"));

  // [5.3 -> 5.4] back from csA with o.0: on to coreB, the peer of b.example.
  req.odi = odi_of(d);
  req.source = "udp:127.0.1.2:5060";
  d = decide(req, lab.a);
  REQUIRE(d.action == Action::Forward);
  CHECK(d.what == "peer");
  CHECK(d.next_hop == "sip:127.0.2.1:5060");
  CHECK(d.ruri == "sip:bob@b.example");
  CHECK(d.push_routes.empty());
  CHECK(d.served_user.empty());
  CHECK(
      explains(d, "trigger 'orig-cpm' (priority 10, originating): skipped: already ran (odi o.0)"));
  CHECK(explains(d, "trigger 'term-cpm' (priority 20, terminating): skipped: session case is "
                    "not terminating"));
  CHECK(explains(d, "peer: domain b.example -> sip:127.0.2.1:5060"));

  // [6.1 -> 6.2] at coreB, from its peer: terminating trigger (a methods condition) -> csB.
  req.odi.clear();
  req.source = "udp:127.0.1.1:5060";
  req.from_peer = true;
  d = decide(req, lab.b);
  REQUIRE(d.action == Action::Forward);
  CHECK(d.what == "trigger");
  CHECK(d.next_hop == "sip:127.0.2.2:5060");
  CHECK(d.push_routes[0] == "<sip:127.0.2.2:5060;lr>");
  CHECK(d.push_routes[1] == "<sip:127.0.2.1:5060;lr;odi=t.1>");
  CHECK(d.served_user == "sip:bob@b.example");
  CHECK(d.session_case == "term");
  CHECK(explains(d, "trigger 'orig-b' (priority 10, originating): skipped: session case is not "
                    "originating"));
  CHECK(explains(d, "request from peer udp:127.0.1.1:5060"));

  // [6.3 -> 6.4] back from csB with t.1: bob's registered contact, over his TCP flow.
  req.odi = odi_of(d);
  req.source = "udp:127.0.2.2:5060";
  req.from_peer = false;
  d = decide(req, lab.b);
  REQUIRE(d.action == Action::Forward);
  CHECK(d.what == "flow");
  CHECK(d.ruri == "sip:bob@127.0.2.10:5060;transport=tcp");
  CHECK(d.next_hop == "sip:127.0.2.10:40123;transport=tcp");
  CHECK(explains(d, "location: sent to flow tcp:127.0.2.10:40123: the connection its REGISTER "
                    "came on"));
  CHECK(d.push_routes.empty());
  CHECK(explains(d, "trigger 'term-b' (priority 20, terminating): skipped: already ran (odi t.1)"));
  CHECK(explains(d, "location: sip:bob@b.example has 1 binding, chose "
                    "sip:bob@127.0.2.10:5060;transport=tcp"));

  // [6.9 -> 6.10] bob's delivery notification at coreB: originating trigger -> csB.
  auto note = message("sip:bob@b.example", "sip:alice@a.example", "tcp:127.0.2.10:40123");
  d = decide(note, lab.b);
  REQUIRE(d.action == Action::Forward);
  CHECK(d.what == "trigger");
  CHECK(d.next_hop == "sip:127.0.2.2:5060");
  CHECK(d.push_routes[1] == "<sip:127.0.2.1:5060;lr;odi=o.0>");
  CHECK(d.served_user == "sip:bob@b.example");
  CHECK(d.session_case == "orig");

  // [6.11 -> 6.12] back from csB: to coreA (peer key "A.Example" matches any case).
  note.odi = odi_of(d);
  note.source = "udp:127.0.2.2:5060";
  d = decide(note, lab.b);
  REQUIRE(d.action == Action::Forward);
  CHECK(d.what == "peer");
  CHECK(d.next_hop == "sip:127.0.1.1:5060");

  // [5.9 -> 5.10] at coreA from its peer: terminating trigger on P-Preferred-Service -> csA.
  note.odi.clear();
  note.source = "udp:127.0.2.1:5060";
  note.from_peer = true;
  d = decide(note, lab.a);
  REQUIRE(d.action == Action::Forward);
  CHECK(d.what == "trigger");
  CHECK(d.next_hop == "sip:127.0.1.2:5060");
  CHECK(d.push_routes[1] == "<sip:127.0.1.1:5060;lr;odi=t.1>");
  CHECK(d.served_user == "sip:alice@a.example");
  CHECK(d.session_case == "term");

  // [5.11 -> 5.12] back from csA: alice's contact.
  note.odi = odi_of(d);
  note.source = "udp:127.0.1.2:5060";
  note.from_peer = false;
  d = decide(note, lab.a);
  REQUIRE(d.action == Action::Forward);
  CHECK(d.what == "contact");
  CHECK(d.ruri == "sip:alice@127.0.1.10:5060");
  CHECK(d.next_hop == "sip:alice@127.0.1.10:5060");
}

TEST_CASE("route::decide trigger conditions")
{
  Lab lab;
  SUBCASE("header condition: no CPM indication, no originating trigger")
  {
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060", false);
    auto d = decide(req, lab.a);
    CHECK(d.what == "peer");
    CHECK(explains(d, "trigger 'orig-cpm' (priority 10, originating): no match: header "
                      "Accept-Contact has no value matching 'oma\\.cpm'"));
  }
  SUBCASE("methods condition: a SUBSCRIBE does not match")
  {
    auto req = message("sip:bob@b.example", "sip:alice@a.example", "udp:127.0.2.10:5060", false);
    req.method = "SUBSCRIBE";
    auto d = decide(req, lab.b);
    CHECK(d.what == "peer");
    CHECK(explains(d, "no match: method SUBSCRIBE not in [message, INVITE]"));
  }
  SUBCASE("P-Asserted-Identity is the served user, not From")
  {
    auto req = message("sip:mallory@evil.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
    req.asserted = "<sip:alice@A.example>";
    auto d = decide(req, lab.a);
    CHECK(d.what == "trigger");
    CHECK(d.served_user == "sip:alice@a.example");
    req.asserted = "sip:mallory@evil.example";
    req.from_uri = "sip:alice@a.example";
    d = decide(req, lab.a);
    CHECK(d.what == "peer");
    CHECK(explains(d, "not originating (sip:mallory@evil.example is not in our domains)"));
  }
  SUBCASE("users filter")
  {
    auto& t = lab.file.triggers[0];
    t.users = {"<sip:carol@A.EXAMPLE>"};
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
    auto d = decide(req, lab.a);
    CHECK(d.what == "peer");
    CHECK(explains(d, "no match: served user sip:alice@a.example not in its users"));
    t.users.push_back("sip:alice@a.example:5060;transport=udp");
    d = decide(req, lab.a);
    CHECK(d.what == "trigger");
  }
  SUBCASE("request_uri condition")
  {
    auto& t = lab.file.triggers[0];
    t.request_uri = "^tel:";
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
    auto d = decide(req, lab.a);
    CHECK(d.what == "peer");
    CHECK(explains(d, "no match: request URI sip:bob@b.example does not match '^tel:'"));
    req.ruri = "TEL:+15550100";
    lab.file.nodes[0].peers["tel"] = "udp:127.0.1.3:5060";
    d = decide(req, lab.a);
    CHECK(d.what == "trigger");
  }
  SUBCASE("an invalid regex never matches and says why")
  {
    lab.file.triggers[0].headers[0].pattern = "(unclosed";
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
    auto d = decide(req, lab.a);
    CHECK(d.what == "peer");
    CHECK(explains(d, "invalid regex '(unclosed'"));
  }
  SUBCASE("a trigger without a name is labelled by its line")
  {
    lab.file.triggers[0].name.clear();
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
    auto d = decide(req, lab.a);
    CHECK(explains(d, "trigger 'trigger@20' (priority 10, originating): matched"));
  }
  SUBCASE("a request from the trigger's own server without odi is not sent back")
  {
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.2:5060");
    auto d = decide(req, lab.a);
    CHECK(d.what == "peer");
    CHECK(explains(d, "skipped: the request came from its server udp:127.0.1.2:5060"));
  }
  SUBCASE("without self_uri the Route back names the node's first listen address")
  {
    lab.a.self_uri.clear();
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
    auto d = decide(req, lab.a);
    REQUIRE(d.push_routes.size() == 2);
    CHECK(d.push_routes[1] == "<sip:127.0.1.1:5060;lr;odi=o.0>");
  }
  SUBCASE("a server URI with ;lr already keeps one")
  {
    lab.file.triggers[0].server = "sip:127.0.1.2:5060;lr;transport=tcp";
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
    auto d = decide(req, lab.a);
    CHECK(d.push_routes[0] == "<sip:127.0.1.2:5060;lr;transport=tcp>");
  }
}

TEST_CASE("route::decide odi handling")
{
  Lab lab;
  // alice to alice2 in her own domain: both originating and terminating.
  lab.file.users.push_back({});
  lab.file.users.back().uri = "sip:alice2@a.example";
  lab.loc_a.upsert(binding("sip:alice2@a.example", "sip:alice2@127.0.1.11:5060", "", "", 0));
  auto req = message("sip:alice@a.example", "sip:alice2@a.example", "udp:127.0.1.10:5060");

  SUBCASE("the chain: orig, term, contact, and never the same trigger twice")
  {
    std::vector<std::string> hops;
    for (int step = 0; step < 10; ++step) { // bounded: at most one hop per trigger, plus one
      auto d = decide(req, lab.a);
      REQUIRE(d.action == Action::Forward);
      hops.push_back(d.what + " " + d.session_case);
      if (d.what != "trigger")
        break;
      req.odi = odi_of(d);
      req.source = "udp:127.0.1.2:5060";
    }
    REQUIRE(hops.size() == 3);
    CHECK(hops[0] == "trigger orig");
    CHECK(hops[1] == "trigger term");
    CHECK(hops[2] == "contact ");
  }
  SUBCASE("a core with a key signs its odi and ignores forged ones")
  {
    lab.a.odi_key = "secret";
    req.headers.push_back({"Call-ID", "c-odi"});
    auto d = decide(req, lab.a);
    REQUIRE(d.what == "trigger");
    req.odi = odi_of(d);
    CHECK(req.odi.size() == 14);
    req.source = "udp:127.0.1.2:5060";
    d = decide(req, lab.a);
    CHECK(d.session_case == "term");
    // A client that writes its own Route with ;odi= cannot skip its triggers.
    req.source = "udp:127.0.1.10:5060";
    for (const char* forged : {"t.99", "o.99.0123456789"}) {
      CAPTURE(forged);
      req.odi = forged;
      d = decide(req, lab.a);
      CHECK(d.what == "trigger");
      CHECK(d.session_case == "orig");
      CHECK(explains(d, "is not signed by this core"));
    }
  }
  SUBCASE("t.N means the originating case is finished")
  {
    req.odi = "t.0"; // index 0 is an originating trigger; no terminating one ran yet
    auto d = decide(req, lab.a);
    CHECK(d.what == "trigger");
    CHECK(d.session_case == "term");
    CHECK(explains(d, "skipped: originating case finished (odi t.0)"));
  }
  SUBCASE("an odi past the last trigger resumes after all of them")
  {
    req.odi = "o.99";
    auto d = decide(req, lab.a);
    CHECK(d.what == "trigger");
    CHECK(d.session_case == "term");
    req.odi = "t.99";
    d = decide(req, lab.a);
    CHECK(d.what == "contact");
  }
  SUBCASE("garbage odi is ignored with an explanation")
  {
    for (const char* bad : {"x.1", "o.", "garbage", "o.1.2", "t.-3"}) {
      CAPTURE(bad);
      req.odi = bad;
      auto d = decide(req, lab.a);
      CHECK(d.what == "trigger");
      CHECK(d.session_case == "orig");
      CHECK(explains(d, "odi '" + std::string(bad) + "' is malformed"));
    }
  }
}

TEST_CASE("route::decide location answers")
{
  Lab lab;
  SUBCASE("unknown user: 404")
  {
    auto req = message("sip:alice@a.example", "sip:nobody@b.example", "udp:127.0.2.2:5060");
    req.odi = "t.1";
    auto d = decide(req, lab.b);
    CHECK(d.action == Action::Reject);
    CHECK(d.status == 404);
    CHECK(d.reason == "Not Found");
    CHECK(d.what == "reject");
    CHECK(explains(d, "sip:nobody@b.example is not a user of ours and has no binding"));
  }
  SUBCASE("known user without binding: 480")
  {
    auto req = message("sip:alice@a.example", "sip:carol@b.example", "udp:127.0.2.2:5060");
    req.odi = "t.1";
    auto d = decide(req, lab.b);
    CHECK(d.action == Action::Reject);
    CHECK(d.status == 480);
    CHECK(d.reason == "Temporarily Unavailable");
    CHECK(explains(d, "sip:carol@b.example has no binding"));
  }
  SUBCASE("an expired binding does not count")
  {
    lab.b.now = 6000;
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.2.2:5060");
    req.odi = "t.1";
    auto d = decide(req, lab.b);
    CHECK(d.status == 480);
  }
  SUBCASE("an unconfigured user with a binding is reachable")
  {
    lab.loc_b.upsert(binding("sip:dave@b.example", "sip:dave@127.0.2.20:5060", "", "", 0));
    auto req = message("sip:alice@a.example", "sip:dave@B.EXAMPLE", "udp:127.0.2.2:5060");
    req.odi = "t.1";
    auto d = decide(req, lab.b);
    CHECK(d.what == "contact");
    CHECK(d.ruri == "sip:dave@127.0.2.20:5060");
  }
  SUBCASE("a binding goes to its Contact, or to its flow as its reach says")
  {
    using cpm::location::Reach;
    auto req = message("sip:alice@a.example", "sip:dave@b.example", "udp:127.0.2.2:5060");
    req.odi = "t.1";
    // Registered from another port (a third-party registration, a phone with separate
    // sockets): RFC 3261 §16.5 sends to the Contact.
    lab.loc_b.upsert(
        binding("sip:dave@b.example", "sip:dave@127.0.2.20:5070", "udp:127.0.2.20:5071", "", 0));
    auto d = decide(req, lab.b);
    CHECK(d.what == "contact");
    CHECK(d.ruri == "sip:dave@127.0.2.20:5070");
    CHECK(d.next_hop == "sip:dave@127.0.2.20:5070");
    CHECK(d.alternate_hop.empty());
    CHECK(explains(d, "location: sent to its Contact sip:dave@127.0.2.20:5070 (RFC 3261 "
                      "§16.5); its REGISTER came from udp:127.0.2.20:5071"));
    struct Case {
      Reach reach;
      std::string received, hop, why;
    };
    for (const auto& c :
         {Case{Reach::Connection, "tcp:127.0.2.20:40000", "sip:127.0.2.20:40000;transport=tcp",
               "the connection its REGISTER came on"},
          Case{Reach::Outbound, "udp:127.0.2.20:5071", "sip:127.0.2.20:5071", "RFC 5626 outbound"},
          Case{Reach::Received, "udp:10.0.0.1:5071", "sip:10.0.0.1:5071", "nat = \"received\""}}) {
      CAPTURE(c.received);
      lab.loc_b.upsert(
          binding("sip:dave@b.example", "sip:dave@127.0.2.20:5070", c.received, "", 0, c.reach));
      d = decide(req, lab.b);
      CHECK(d.what == "flow");
      CHECK(d.ruri == "sip:dave@127.0.2.20:5070"); // the request URI is the Contact still
      CHECK(d.next_hop == c.hop);
      CHECK(explains(d, "location: sent to flow " + c.received + ": "));
      CHECK(explains(d, c.why));
      // Only a connection may be gone while its binding lives: then the Contact, once.
      CHECK(d.alternate_hop ==
            (c.reach == Reach::Connection ? "sip:dave@127.0.2.20:5070" : std::string()));
    }
    // A flow binding that never knew its source falls back to the Contact.
    lab.loc_b.upsert(
        binding("sip:dave@b.example", "sip:dave@127.0.2.20:5070", "", "", 0, Reach::Outbound));
    CHECK(decide(req, lab.b).next_hop == "sip:dave@127.0.2.20:5070");
  }
  SUBCASE("no location store: like no binding")
  {
    lab.b.location = nullptr;
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.2.2:5060");
    req.odi = "t.1";
    CHECK(decide(req, lab.b).status == 480);
  }
  SUBCASE("Accept-Contact chooses among several contacts")
  {
    const std::string icsi =
        ";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\"";
    lab.loc_b.upsert(binding("sip:bob@b.example", "sip:bob@127.0.2.11:5060", "", icsi, 0));
    lab.loc_b.upsert(binding("sip:bob@b.example", "sip:bob@127.0.2.12:5060", "", "", 0));
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.2.2:5060");
    req.odi = "t.1";
    auto d = decide(req, lab.b);
    CHECK(d.what == "contact");
    CHECK(d.ruri == "sip:bob@127.0.2.11:5060");
    CHECK(explains(d, "location: sip:bob@b.example has 3 bindings, chose sip:bob@127.0.2.11:5060 "
                      "(best Accept-Contact match, then most recent)"));
    // Without a service indication the most recent registration wins.
    auto plain = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.2.2:5060", false);
    plain.odi = "t.1";
    d = decide(plain, lab.b);
    CHECK(d.ruri == "sip:bob@127.0.2.12:5060");
    CHECK(explains(d, "(most recent)"));
    // require;explicit on a feature no contact has: 480.
    plain.headers.push_back({"Accept-Contact", "*;+g.oma.sip-im;require;explicit"});
    d = decide(plain, lab.b);
    CHECK(d.status == 480);
    CHECK(explains(d, "none acceptable to Accept-Contact"));
  }
}

TEST_CASE("route::decide public service identities and groups")
{
  Lab lab;
  SUBCASE("node psi table")
  {
    auto req = message("sip:alice@a.example", "<sip:conf-factory@A.example:5060>",
                       "udp:127.0.1.10:5060", false);
    req.odi = "o.0";
    auto d = decide(req, lab.a);
    // The terminating trigger needs the CPM indication: skipped, then the PSI.
    REQUIRE(d.action == Action::Forward);
    CHECK(d.what == "psi");
    CHECK(d.next_hop == "sip:127.0.1.2:5060");
    CHECK(explains(d, "psi: sip:conf-factory@a.example is a public service identity"));
    req.ruri = "sip:Conf-Factory@a.example"; // the user part is case-sensitive
    CHECK(decide(req, lab.a).status == 404);
  }
  SUBCASE("a group of our domain goes to its host node")
  {
    Context x = lab.a;
    x.node = lab.file.find_node("coreX");
    x.self_uri = "sip:127.0.3.1:5060";
    auto req = message("sip:alice@a.example", "sip:friends@x.example", "udp:127.0.1.1:5060");
    req.from_peer = true;
    auto d = decide(req, x);
    REQUIRE(d.action == Action::Forward);
    CHECK(d.what == "psi");
    CHECK(d.next_hop == "sip:127.0.3.2:5060");
    CHECK(d.ruri == "sip:friends@x.example");
    CHECK(explains(d, "psi: group sip:friends@x.example is hosted by csX"));
    SUBCASE("a group with an unknown host falls through to location")
    {
      req.ruri = "sip:lost@x.example";
      d = decide(req, x);
      CHECK(d.status == 404);
      CHECK(explains(d, "names host node 'nowhere'"));
    }
  }
  SUBCASE("a group inviting its members is no served user: no originating triggers")
  {
    Context x = lab.a;
    x.node = lab.file.find_node("coreX");
    x.self_uri = "sip:127.0.3.1:5060";
    auto req = message("sip:friends@x.example", "sip:bob@b.example", "udp:127.0.3.2:5060");
    auto d = decide(req, x);
    CHECK(explains(d, "sip:friends@x.example is a public service identity, served by its host"));
    CHECK(d.what != "trigger");
  }
  SUBCASE("a group of another domain goes to that domain's peer")
  {
    auto req = message("sip:alice@a.example", "sip:friends@x.example", "udp:127.0.1.2:5060");
    req.odi = "o.0";
    auto d = decide(req, lab.a);
    CHECK(d.what == "peer");
    CHECK(d.next_hop == "sip:127.0.3.1:5060");
  }
}

TEST_CASE("route::decide peers and Route headers")
{
  Lab lab;
  SUBCASE("no peer for the domain: 404")
  {
    auto req = message("sip:alice@a.example", "sip:zed@c.example", "udp:127.0.1.2:5060");
    req.odi = "o.0";
    auto d = decide(req, lab.a);
    CHECK(d.status == 404);
    CHECK(explains(d, "no peer for domain c.example"));
    SUBCASE("unless a default peer \"*\" is configured")
    {
      lab.file.nodes[0].peers["*"] = "udp:127.0.9.1:5060";
      d = decide(req, lab.a);
      CHECK(d.what == "peer");
      CHECK(d.next_hop == "sip:127.0.9.1:5060");
    }
    SUBCASE("unless dns_peers: to the domain's DNS records (RFC 3263)")
    {
      lab.file.nodes[0].dns_peers = true;
      d = decide(req, lab.a);
      CHECK(d.action == Action::Forward);
      CHECK(d.what == "dns");
      CHECK(d.next_hop == "sip:c.example");
      CHECK(d.ruri == "sip:zed@c.example");
      CHECK(explains(d, "no peer for domain c.example; dns_peers: to its DNS records"));
      // The request URI's transport and port are kept: SRV at once, or A only.
      req.ruri = "sip:zed@c.example;transport=tcp";
      CHECK(decide(req, lab.a).next_hop == "sip:c.example;transport=tcp");
      req.ruri = "sip:zed@c.example:5070";
      CHECK(decide(req, lab.a).next_hop == "sip:c.example:5070");
      // A peers entry still wins; an IP literal is no domain to look up.
      lab.file.nodes[0].peers["c.example"] = "udp:127.0.9.2:5060";
      req.ruri = "sip:zed@c.example";
      CHECK(decide(req, lab.a).next_hop == "sip:127.0.9.2:5060");
      req.ruri = "sip:zed@127.0.9.3";
      CHECK(decide(req, lab.a).status == 404);
    }
  }
  SUBCASE("a TCP peer")
  {
    auto req = message("sip:bob@b.example", "sip:friends@x.example", "udp:127.0.2.2:5060");
    req.odi = "o.0";
    auto d = decide(req, lab.b);
    CHECK(d.next_hop == "sip:127.0.3.1:5060;transport=tcp");
  }
  SUBCASE("tel: goes to a peer named tel, else 404")
  {
    auto req = message("sip:alice@a.example", "tel:+15550100", "udp:127.0.1.2:5060");
    req.odi = "o.0";
    auto d = decide(req, lab.a);
    CHECK(d.status == 404);
    CHECK(explains(d, "no peer for domain tel"));
    lab.file.nodes[0].peers["tel"] = "udp:127.0.1.3:5060";
    d = decide(req, lab.a);
    CHECK(d.what == "peer");
    CHECK(d.next_hop == "sip:127.0.1.3:5060");
    CHECK(d.ruri == "tel:+15550100");
  }
  SUBCASE("an unparsable request URI: 416")
  {
    auto req = message("sip:alice@a.example", "mailto", "udp:127.0.1.2:5060");
    req.odi = "o.0";
    auto d = decide(req, lab.a);
    CHECK(d.status == 416);
  }
  SUBCASE("a remaining Route is followed without triggers")
  {
    auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
    req.routes = {"<sip:127.0.5.5:5060;lr>", "<sip:127.0.6.6;lr>"};
    auto d = decide(req, lab.a);
    REQUIRE(d.action == Action::Forward);
    CHECK(d.what == "route");
    CHECK(d.next_hop == "sip:127.0.5.5:5060;lr");
    CHECK(d.ruri == "sip:bob@b.example");
    CHECK(d.push_routes.empty());
    CHECK_FALSE(explains(d, "orig-cpm"));
    req.routes = {"<garbage>"};
    d = decide(req, lab.a);
    CHECK(d.status == 400);
  }
  SUBCASE("no node: 500")
  {
    Context none;
    auto d = decide(message("sip:a@a.example", "sip:b@b.example", ""), none);
    CHECK(d.status == 500);
  }
}

TEST_CASE("route::format_explain prints the request, the reasons and the decision")
{
  Lab lab;
  auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
  auto d = decide(req, lab.a);
  auto text = cpm::route::format_explain(req, d);
  CHECK(text.find("request: MESSAGE sip:bob@b.example\n") == 0);
  CHECK(text.find("  source: udp:127.0.1.10:5060\n") != std::string::npos);
  CHECK(text.find("trigger 'orig-cpm' (priority 10, originating): matched") != std::string::npos);
  CHECK(text.find("forward (trigger)\n") != std::string::npos);
  CHECK(text.find("  next hop: sip:127.0.1.2:5060\n") != std::string::npos);
  CHECK(text.find("  request URI: sip:bob@b.example\n") != std::string::npos);
  CHECK(text.find("  Route: <sip:127.0.1.1:5060;lr;odi=o.0>\n") != std::string::npos);
  CHECK(text.find("  P-Served-User: <sip:alice@a.example>;sescase=orig\n") != std::string::npos);
  req.ruri = "sip:zed@c.example";
  req.odi = "o.0";
  d = decide(req, lab.a);
  text = cpm::route::format_explain(req, d);
  CHECK(text.find("  odi: o.0\n") != std::string::npos);
  CHECK(text.find("no peer for domain c.example") != std::string::npos);
  CHECK(text.find("reject: 404 Not Found\n") != std::string::npos);
  CHECK(text.find("next hop") == std::string::npos);
}

TEST_CASE("config::File lookups used by routing")
{
  auto f = lab();
  REQUIRE(f.find_node("coreB"));
  CHECK(f.find_node("coreB")->domains[0] == "b.example");
  CHECK(f.find_node("nope") == nullptr);
  REQUIRE(f.find_user("<sip:bob@B.EXAMPLE:5060>"));
  CHECK(f.find_user("<sip:bob@B.EXAMPLE:5060>")->uri == "sip:bob@b.example");
  CHECK(f.find_user("sip:Bob@b.example") == nullptr);
  CHECK(f.find_user("garbage") == nullptr);
  REQUIRE(f.find_group("sip:friends@X.example"));
  CHECK(f.find_group("sip:friends@X.example")->host == "csX");
  CHECK(f.find_group("") == nullptr);
  auto tb = f.triggers_of("coreB");
  REQUIRE(tb.size() == 2);
  CHECK(tb[0]->name == "orig-b");
  CHECK(tb[1]->name == "term-b");
  CHECK(f.triggers_of("csA").empty());
  CHECK(f.node_uri("coreA") == "sip:127.0.1.1:5060");
  CHECK(f.node_uri("nope") == "");
  CHECK(cpm::config::to_string(cpm::config::Role::ConversationServer) == "conversation-server");
  CHECK(cpm::config::to_string(SessionCase::Terminating) == "terminating");
}

TEST_SUITE_BEGIN("route");

TEST_CASE("route::sign_odi binds a token to the core's key and the Call-ID")
{
  auto s = cpm::route::sign_odi("o.1", "key", "call-1");
  CHECK(s.rfind("o.1.", 0) == 0);
  CHECK(s.size() == 14);
  CHECK(cpm::route::verify_odi(s, "key", "call-1") == "o.1");
  CHECK(cpm::route::verify_odi(s, "other", "call-1").empty());
  CHECK(cpm::route::verify_odi(s, "key", "call-2").empty());
  CHECK(cpm::route::verify_odi("o.1", "key", "call-1").empty());
  CHECK(cpm::route::verify_odi("o.9.0000000000", "key", "call-1").empty());
  CHECK(cpm::route::verify_odi("", "key", "call-1").empty());
}

TEST_CASE("route::sign_odi is the token, a dot and 10 hex digits of MD5(key:token:call-id)")
{
  auto mac = cpm::auth::md5_hex("key:o.1:call-1").substr(0, 10);
  CHECK(cpm::route::sign_odi("o.1", "key", "call-1") == "o.1." + mac);
  CHECK(cpm::route::sign_odi("t.12", "", "") ==
        "t.12." + cpm::auth::md5_hex(":t.12:").substr(0, 10));
  CHECK(cpm::route::verify_odi("o.1." + mac, "key", "call-1") == "o.1");
  CHECK(cpm::route::verify_odi("o.1." + mac + "0", "key", "call-1").empty());
  CHECK(cpm::route::verify_odi("o.1." + mac.substr(0, 9), "key", "call-1").empty());
  CHECK(cpm::route::verify_odi("o.1.", "key", "call-1").empty());
}

TEST_CASE("route::pattern_search: the literal fast path answers as std::regex_search")
{
  // Which patterns take the literal path, and their unescaped literal.
  using cpm::route::literal_pattern;
  CHECK(literal_pattern("3gpp-service\\.ims\\.icsi\\.oma\\.cpm") ==
        "3gpp-service.ims.icsi.oma.cpm");
  CHECK(literal_pattern("") == "");
  CHECK(literal_pattern("a\\/b\\-c\\(\\)\\[\\]\\{\\}\\|\\^\\$\\*\\+\\?\\\\") ==
        "a/b-c()[]{}|^$*+?\\");
  CHECK(literal_pattern("a-b/c d;e=\"f\"") == "a-b/c d;e=\"f\"");
  for (const char* p :
       {"a.b", "\\d", "\\b",  "\\n", "\\x41", "\\1", "\\", "ab\\", "x+",  "^a",  "a$",
        "(a)", "[a]", "a{2}", "a|b", "a*",    "a?",  "]",  "}",    "\\a", "\\.."})
    CHECK_MESSAGE(!literal_pattern(p), p);

  // Every pattern against every text, by pattern_search and by std::regex directly.
  const std::string nul(1, '\0');
  const std::vector<std::string> patterns = {
      "3gpp-service\\.ims\\.icsi\\.oma\\.cpm",
      "3GPP-SERVICE\\.IMS",
      "icsi.oma", // an unescaped dot: any character
      "\\d",
      "ims\\.\\d",
      "",
      "a",
      "Z",
      "sip:bob@b\\.example",
      "a\\/b\\-c",
      "\\(x\\)\\[y\\]\\{z\\}\\|\\^\\$\\*\\+\\?\\\\",
      "\xc3\xa9t\xc3\xa9",
      "\xc3\x89T\xc3\x89",
      "@",
      "[",
      "`",
      "{",
      "a" + nul + "b",
      "ab" + nul,
      "-",
      "aab",
  };
  const std::vector<std::string> texts = {
      "",
      "a",
      "A",
      "z",
      "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg",
      "URN:URN-7:3GPP-SERVICE.IMS.ICSI.OMA.CPM.MSG",
      "urn:urn-7:3gpp-service.ims.icsi.oma.cpm",
      "urn:urn-7:3gpp-service.ims.icsi.oma.cp",
      "3gpp-serviceXims",
      "icsiXoma",
      "icsi.oma",
      "ims.7",
      "ims.x",
      "sip:Bob@B.Example",
      "sip:bob@bXexample",
      "A/B-C",
      "(x)[y]{z}|^$*+?\\",
      "(X)[Y]{Z}|^$*+?\\",
      "\xc3\xa9t\xc3\xa9",
      "\xc3\x89t\xc3\x89",
      "\xc3\xa9T\xc3\xa9",
      "@`[{",
      "a" + nul + "b",
      "A" + nul + "B" + nul,
      "-",
      "aaab",
      "aab",
      "ab",
  };
  // An invalid regex ("[", "{") matches nothing and says so.
  for (const auto& p : patterns) {
    std::optional<std::regex> re;
    try {
      re.emplace(p, std::regex::ECMAScript | std::regex::icase);
    } catch (const std::regex_error&) {
    }
    for (const auto& t : texts) {
      std::string error;
      bool ours = cpm::route::pattern_search(t, p, error);
      bool theirs = re && std::regex_search(t, *re);
      CHECK_MESSAGE(ours == theirs, (std::string("pattern '") + p + "' text '" + t + "'"));
      CHECK_MESSAGE(error.empty() == re.has_value(), p);
    }
  }
  // Some of those did take the literal path (else the table tests nothing of it).
  CHECK(literal_pattern(patterns[0]));
  CHECK(literal_pattern(patterns[10]));
  CHECK(literal_pattern(patterns[12]));
  CHECK(literal_pattern(patterns[17]));
  CHECK_FALSE(literal_pattern(patterns[2]));
  CHECK_FALSE(literal_pattern(patterns[3]));
}

TEST_CASE("route::pattern_search reports an invalid regex and matches nothing")
{
  std::string error;
  CHECK_FALSE(cpm::route::pattern_search("abc", "a(b", error));
  CHECK(error.rfind("invalid regex 'a(b': ", 0) == 0);
  error.clear();
  // Cached: the same answer the second time.
  CHECK_FALSE(cpm::route::pattern_search("abc", "a(b", error));
  CHECK(error.rfind("invalid regex 'a(b': ", 0) == 0);
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("route");

TEST_CASE("route::decide without explain decides the same and writes no reasons")
{
  Lab lab;
  auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
  auto with = decide(req, lab.a);
  lab.a.explain = false;
  auto without = decide(req, lab.a);
  CHECK_FALSE(with.explain.empty());
  CHECK(without.explain.empty());
  CHECK(without.what == with.what);
  CHECK(without.next_hop == with.next_hop);
  CHECK(without.push_routes.size() == with.push_routes.size());
}

TEST_CASE("route::decide into a kept Decision leaves nothing of the one before")
{
  Lab lab;
  // Each request decided into the same Decision (as a busy core does) and afresh.
  auto same = [&](const Request& req, Decision& kept) {
    decide(req, lab.a, kept);
    auto fresh = decide(req, lab.a);
    CHECK(kept.action == fresh.action);
    CHECK(kept.status == fresh.status);
    CHECK(kept.reason == fresh.reason);
    CHECK(kept.ruri == fresh.ruri);
    CHECK(kept.next_hop == fresh.next_hop);
    CHECK(kept.alternate_hop == fresh.alternate_hop);
    CHECK(kept.push_routes == fresh.push_routes);
    CHECK(kept.served_user == fresh.served_user);
    CHECK(kept.session_case == fresh.session_case);
    CHECK(kept.what == fresh.what);
    CHECK(kept.explain == fresh.explain);
  };
  Decision kept;
  // A trigger fires (two Routes, a served user), then the same request back from csA goes
  // to the peer, then a request for an unknown user of ours is refused.
  auto req = message("sip:alice@a.example", "sip:bob@b.example", "udp:127.0.1.10:5060");
  same(req, kept);
  CHECK(kept.what == "trigger");
  req.odi = odi_of(kept);
  req.source = "udp:127.0.1.2:5060";
  same(req, kept);
  CHECK(kept.what == "peer");
  CHECK(kept.push_routes.empty());
  CHECK(kept.served_user.empty());
  auto unknown = message("sip:bob@b.example", "sip:nobody@a.example", "udp:127.0.2.1:5060", false);
  unknown.from_peer = true;
  same(unknown, kept);
  CHECK(kept.action == Action::Reject);
  CHECK(kept.next_hop.empty());
  // Back to a forward: nothing of the refusal is left.
  same(req, kept);
  CHECK(kept.reason.empty());
  CHECK(kept.status == 0);
}

TEST_SUITE_END();
