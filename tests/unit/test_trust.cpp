// Unit tests of the trust domain (core/trust), who a request is from (core/identity) and
// the digest state behind them (codec/auth: Nonces, NonceUse).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cpm/codec/auth.hpp"
#include "cpm/config/config.hpp"
#include "cpm/core/identity.hpp"
#include "cpm/core/location.hpp"
#include "cpm/core/trust.hpp"

namespace {

using namespace cpm;

const char* k_lab = R"(
[[node]]
name = "coreA"
role = "core"
domain = "a.example"
listen = ["udp:127.0.1.1:5060", "tcp:127.0.1.1:5060"]
peers = { "b.example" = "coreB" }
auth = true

[[node]]
name = "csA"
role = "conversation-server"
domain = "a.example"
listen = ["udp:127.0.1.2:5060"]
proxy = "coreA"

[[node]]
name = "coreB"
role = "core"
domain = "b.example"
listen = ["udp:127.0.2.1:5060"]

[[node]]
name = "alice"
role = "client"
listen = ["udp:127.0.1.10:5060"]
from = "sip:alice@a.example"
proxy = "coreA"

[[user]]
uri = "sip:alice@a.example"
password = "alice-secret"
tel = "+15550102"

[[user]]
uri = "sip:mallory@a.example"
password = "mallory-secret"
)";

config::File lab()
{
  auto f = config::parse(k_lab, "lab.toml");
  REQUIRE(f);
  return *f;
}

sip::Request message(std::string from, std::string source)
{
  sip::Request r;
  r.method = "MESSAGE";
  r.ruri = "sip:bob@b.example";
  r.from_uri = std::move(from);
  r.to_uri = r.ruri;
  r.source = std::move(source);
  r.headers = {{"Via", "SIP/2.0/UDP 127.0.1.66:5060;branch=z9hG4bK1"},
               {"Call-ID", "c1"},
               {"CSeq", "1 MESSAGE"}};
  return r;
}

// The credentials a client answers `challenge` with.
std::string answer(const std::string& challenge, const char* user, const char* password,
                   uint32_t nc = 1)
{
  auto value = challenge.substr(challenge.find(':') + 2);
  return auth::respond(value, "MESSAGE", "sip:bob@b.example", user, password, "c0ffee", nc);
}

// A core's identity state.
struct Core {
  config::File file = lab();
  const config::Node* node = file.find_node("coreA");
  location::Store store;
  trust::Domain domain;
  auth::Nonces nonces{"secret"};
  auth::NonceUse uses;
  Core()
  {
    auto d = trust::Domain::of(file, *node);
    REQUIRE(d);
    domain = *d;
  }
  identity::Settings settings()
  {
    identity::Settings s;
    s.file = &file;
    s.node = node;
    s.location = &store;
    s.domain = &domain;
    s.nonces = &nonces;
    s.uses = &uses;
    return s;
  }
};

} // namespace

TEST_SUITE_BEGIN("trust");

TEST_CASE("trust::Domain of a core: the file's network nodes and its peers, not its clients")
{
  auto file = lab();
  auto d = trust::Domain::of(file, *file.find_node("coreA"));
  REQUIRE(d);
  CHECK(d->trusts("udp:127.0.1.2:5060"));        // csA
  CHECK(d->trusts("udp:127.0.2.1:5060"));        // coreB, a peer
  CHECK_FALSE(d->trusts("udp:127.0.1.2:5070"));  // csA's address, another UDP port
  CHECK(d->trusts("tcp:127.0.1.2:40123"));       // csA over TCP: an ephemeral port
  CHECK_FALSE(d->trusts("udp:127.0.1.10:5060")); // alice, a client
  CHECK_FALSE(d->trusts("udp:127.0.1.66:5060"));
  SUBCASE("an unbound TCP connection on one host is the member its Via names")
  {
    CHECK(d->trusts("tcp:127.0.0.1:40000", "127.0.1.2"));
    CHECK(d->trusts("tls:127.0.0.1:40000", "127.0.1.2"));
    CHECK_FALSE(d->trusts("udp:127.0.0.1:40000", "127.0.1.2"));
    CHECK_FALSE(d->trusts("tcp:127.0.0.1:40000", "127.0.1.10")); // alice is no member
    CHECK_FALSE(d->trusts("tcp:10.0.0.5:40000", "127.0.1.2"));   // not this host
    // In a namespace the kernel picks the interface's first address: maybe our own.
    CHECK(d->trusts("tcp:127.0.1.1:40000", "127.0.1.2"));
    CHECK_FALSE(d->trusts("tcp:127.0.1.1:40000", "10.9.9.9"));
  }
}

TEST_CASE("trust::Domain of a conversation server is its own core, plus `trusted`")
{
  auto file = lab();
  auto node = *file.find_node("csA");
  auto d = trust::Domain::of(file, node);
  REQUIRE(d);
  CHECK(d->trusts("udp:127.0.1.1:5060"));
  CHECK_FALSE(d->trusts("udp:127.0.2.1:5060")); // another network's core
  node.trusted = {"coreB", "127.0.0.9", "udp:10.1.1.1:5062"};
  d = trust::Domain::of(file, node);
  REQUIRE(d);
  CHECK(d->trusts("udp:127.0.2.1:5060"));
  CHECK(d->trusts("udp:127.0.0.9:1234")); // a bare address: any port
  CHECK(d->trusts("udp:10.1.1.1:5062"));
  CHECK_FALSE(d->trusts("udp:10.1.1.1:5060"));
  CHECK(d->trusts("tcp:10.1.1.1:41000"));
  // A proxy named by its domain (found by DNS) is the core of the file serving it.
  node.trusted.clear();
  node.proxy = "sip:b.example";
  d = trust::Domain::of(file, node);
  REQUIRE(d);
  CHECK(d->trusts("udp:127.0.2.1:5060"));
  CHECK_FALSE(d->trusts("udp:127.0.1.1:5060"));
  node.proxy = "sip:c.example"; // nobody of the file: a name for DNS
  d = trust::Domain::of(file, node);
  REQUIRE(d);
  CHECK(d->names() == std::vector<std::string>{"c.example"});
  CHECK_FALSE(d->trusts("udp:127.0.2.1:5060"));
  node.trusted = {"AS.c.example", "not a name"};
  CHECK_FALSE(trust::Domain::of(file, node));
  node.trusted = {"AS.c.example"};
  d = trust::Domain::of(file, node);
  REQUIRE(d);
  CHECK(d->names() == std::vector<std::string>{"c.example", "as.c.example"});
  CHECK(trust::Domain::of(file, *file.find_node("alice"))->empty());
}

TEST_CASE("trust::Domain: a name is a member once it resolves, at the addresses it has now")
{
  auto file = lab();
  auto node = *file.find_node("csA");
  node.proxy.clear();
  node.trusted = {"as.c.example"};
  auto d = trust::Domain::of(file, node);
  REQUIRE(d);
  CHECK_FALSE(d->empty());
  CHECK_FALSE(d->trusts("udp:10.0.0.7:5060"));
  CHECK(d->describe() == "as.c.example (by DNS, no address yet)");
  d->add_resolved("as.c.example", {"10.0.0.7", "2001:db8::7"});
  CHECK(d->trusts("udp:10.0.0.7:5060")); // any port
  CHECK(d->trusts("tcp:[2001:db8::7]:40000"));
  CHECK(d->trusts_hop("sip:10.0.0.7:5070"));
  CHECK(d->describe() ==
        "10.0.0.7 (any port, as.c.example), [2001:db8::7] (any port, as.c.example)");
  d->add_resolved("as.c.example", {"10.0.0.8"}); // moved
  CHECK_FALSE(d->trusts("udp:10.0.0.7:5060"));
  CHECK(d->trusts("udp:10.0.0.8:5060"));
}

TEST_CASE("trust::Domain of a core holds its triggers' servers")
{
  auto file = lab();
  auto& core = *file.find_node("coreA");
  config::Trigger t;
  t.node = "coreA";
  t.server = "sip:as.c.example";
  file.triggers.push_back(t);
  config::Trigger ip;
  ip.node = "coreA";
  ip.server = "sip:10.9.9.1:5080";
  file.triggers.push_back(ip);
  auto d = trust::Domain::of(file, core);
  REQUIRE(d);
  CHECK(d->names() == std::vector<std::string>{"as.c.example"});
  CHECK(d->trusts("udp:10.9.9.1:5080"));
}

TEST_CASE("trust::keeps_asserted follows RFC 3325 and Privacy")
{
  auto file = lab();
  auto d = *trust::Domain::of(file, *file.find_node("coreA"));
  auto req = message("sip:alice@a.example", "udp:127.0.1.10:5060");
  CHECK(trust::keeps_asserted(d, "sip:127.0.2.1:5060", false, req));       // trusted peer
  CHECK(trust::keeps_asserted(d, "sip:alice@127.0.1.10:5060", true, req)); // a user
  CHECK_FALSE(trust::keeps_asserted(d, "sip:10.9.9.9:5060", false, req));  // untrusted
  req.headers.push_back({"Privacy", "none"});
  CHECK(trust::keeps_asserted(d, "sip:10.9.9.9:5060", false, req));
  req.headers.back().value = "header; id";
  CHECK(trust::keeps_asserted(d, "sip:127.0.2.1:5060", false, req));
  CHECK_FALSE(trust::keeps_asserted(d, "sip:alice@127.0.1.10:5060", true, req));
  CHECK_FALSE(trust::keeps_asserted(d, "sip:10.9.9.9:5060", false, req));
}

TEST_CASE("trust::owns: a user's URI and its tel forms")
{
  auto file = lab();
  const auto& alice = *file.find_user("sip:alice@a.example");
  CHECK(trust::owns(alice, "<sip:alice@A.example>"));
  CHECK(trust::owns(alice, "tel:+15550102"));
  CHECK(trust::owns(alice, "sip:+15550102@a.example;user=phone"));
  CHECK_FALSE(trust::owns(alice, "sip:mallory@a.example"));
  CHECK_FALSE(trust::owns(alice, "tel:+15550103"));
}

TEST_CASE("auth::Nonces are new per challenge and carry their lifetime")
{
  auth::Nonces n("k");
  auto a = n.make(1000);
  auto b = n.make(1000);
  CHECK(a != b);
  CHECK(n.valid(a, 1000));
  CHECK(n.valid(b, 1299));
  CHECK_FALSE(n.valid(b, 1301));
  CHECK_FALSE(n.valid(a, 1030, 10));
  auto forged = a;
  forged[forged.find('.') + 1] ^= 1;
  CHECK_FALSE(n.valid(forged, 1000));
  CHECK_FALSE(auth::Nonces("other").valid(a, 1000));
  CHECK_FALSE(n.valid("", 1000));
  CHECK_FALSE(n.valid("zz.1.abc", 1000));
}

TEST_CASE("auth::NonceUse refuses a repeated nonce count and forgets old nonces")
{
  auth::NonceUse u;
  using V = auth::NonceUse::Verdict;
  CHECK(u.use("n1", "00000001", 100, 300) == V::Fresh);
  CHECK(u.use("n1", "00000003", 100, 300) == V::Fresh); // out of order is fine
  CHECK(u.use("n1", "00000002", 101, 300) == V::Fresh);
  CHECK(u.use("n1", "00000001", 102, 300) == V::Replay);
  CHECK(u.use("n2", "00000001", 102, 300) == V::Fresh);
  CHECK(u.use("n1", "", 102, 300) == V::Replay);
  CHECK(u.use("n1", "xyz", 102, 300) == V::Replay);
  CHECK(u.size() == 2);
  CHECK(u.use("n3", "00000001", 500, 300) == V::Fresh); // n1 and n2 are past their life
  CHECK(u.size() == 1);
  for (uint32_t i = 1; i <= auth::NonceUse::k_max_uses; ++i)
    REQUIRE(u.use("n4", fmt::format("{:08x}", i), 500, 300) == V::Fresh);
  CHECK(u.use("n4", "ffffffff", 500, 300) == V::WornOut);
}

TEST_CASE("identity::decide believes the trust domain and strips or refuses the rest")
{
  Core c;
  auto req = message("sip:alice@a.example", "udp:127.0.1.2:5060");
  req.asserted = "sip:alice@a.example";
  req.headers.push_back({"P-Asserted-Identity", "<sip:alice@a.example>"});
  auto o = identity::decide(req, c.settings(), 1000);
  CHECK(o.forward);
  CHECK(o.trusted);
  CHECK(o.how == "trusted");
  CHECK(req.asserted == "sip:alice@a.example");

  req.source = "udp:127.0.1.66:5060";
  req.from_uri = "sip:bob@b.example"; // not ours, to a foreign domain: no relay
  req.odi = "o.1";
  o = identity::decide(req, c.settings(), 1000);
  CHECK_FALSE(o.forward);
  CHECK(o.status == 403);
  CHECK(req.asserted.empty());
  CHECK(req.odi.empty());
  CHECK(req.value("P-Asserted-Identity").empty());

  auto node = *c.node;
  node.untrusted_refuse = true;
  auto s = c.settings();
  s.node = &node;
  auto req2 = message("sip:alice@a.example", "udp:127.0.1.66:5060");
  req2.headers.push_back({"P-Served-User", "<sip:alice@a.example>"});
  o = identity::decide(req2, s, 1000);
  CHECK_FALSE(o.forward);
  CHECK(o.status == 403);
  REQUIRE(o.headers.size() == 1);
  CHECK(o.headers[0].find("P-Served-User from outside the trust domain") != std::string::npos);

  node.untrusted_refuse = false;
  node.auth = false;
  o = identity::decide(req2, s, 1000);
  CHECK(o.forward);
  CHECK(o.how == "unauthenticated");
  CHECK(o.asserted.empty());
  CHECK(req2.value("P-Served-User").empty());
}

TEST_CASE("identity::decide authenticates a user's request and asserts the identity")
{
  Core c;
  auto req = message("sip:alice@a.example", "udp:127.0.1.66:5060");
  auto o = identity::decide(req, c.settings(), 1000);
  REQUIRE_FALSE(o.forward);
  CHECK(o.status == 407);
  REQUIRE(o.headers.size() == 1);
  auto challenge = o.headers[0];
  CHECK(challenge.rfind("Proxy-Authenticate: Digest ", 0) == 0);

  auto with = [&](const std::string& authz, const std::string& from = "sip:alice@a.example") {
    auto r = message(from, "udp:127.0.1.66:5060");
    r.headers.push_back({"Proxy-Authorization", authz});
    return r;
  };
  auto good = with(answer(challenge, "alice@a.example", "alice-secret"));
  o = identity::decide(good, c.settings(), 1001);
  REQUIRE(o.forward);
  CHECK(o.how == "digest");
  CHECK(o.asserted == "sip:alice@a.example");
  CHECK(good.asserted == "sip:alice@a.example");
  CHECK(o.add_headers == std::vector<std::string>{"P-Asserted-Identity: <sip:alice@a.example>"});

  SUBCASE("the same nonce and count again is a replay")
  {
    auto again = with(answer(challenge, "alice@a.example", "alice-secret"));
    o = identity::decide(again, c.settings(), 1002);
    CHECK(o.status == 407);
    CHECK(o.diag.find("a replay") != std::string::npos);
    auto next = with(answer(challenge, "alice@a.example", "alice-secret", 2));
    CHECK(identity::decide(next, c.settings(), 1002).forward);
  }
  SUBCASE("a wrong password is 403, a stale nonce a new challenge")
  {
    auto wrong = with(answer(challenge, "alice@a.example", "guess", 5));
    CHECK(identity::decide(wrong, c.settings(), 1002).status == 403);
    auto stale = with(answer(challenge, "alice@a.example", "alice-secret", 6));
    o = identity::decide(stale, c.settings(), 1000 + 301);
    CHECK(o.status == 407);
    CHECK(o.headers[0].find("stale=true") != std::string::npos);
  }
  SUBCASE("another user's credentials under From alice: that user is asserted")
  {
    auto m = with(answer(challenge, "mallory@a.example", "mallory-secret", 7));
    o = identity::decide(m, c.settings(), 1002);
    REQUIRE(o.forward);
    CHECK(o.asserted == "sip:mallory@a.example");
  }
  SUBCASE("P-Preferred-Identity: asserted when the user owns it")
  {
    auto p = with(answer(challenge, "alice@a.example", "alice-secret", 8));
    p.headers.push_back({"P-Preferred-Identity", "<tel:+15550102>"});
    o = identity::decide(p, c.settings(), 1002);
    CHECK(o.asserted == "tel:+15550102");
    auto q = with(answer(challenge, "alice@a.example", "alice-secret", 9));
    q.headers.push_back({"P-Preferred-Identity", "<sip:mallory@a.example>"});
    o = identity::decide(q, c.settings(), 1002);
    CHECK(o.asserted == "sip:alice@a.example");
  }
}

TEST_CASE("identity::decide takes the flow or contact a user registered from")
{
  Core c;
  location::Binding b;
  b.aor = "sip:alice@a.example";
  b.contact = "sip:alice@127.0.1.10:5060";
  b.received = "udp:127.0.1.10:5060";
  b.expires_at = 5000;
  REQUIRE(c.store.upsert(b));
  auto req = message("sip:alice@a.example", "udp:127.0.1.10:5060");
  auto o = identity::decide(req, c.settings(), 1000);
  REQUIRE(o.forward);
  CHECK(o.how == "association");
  CHECK(o.asserted == "sip:alice@a.example");
  // Another port of that host is another flow.
  auto other = message("sip:alice@a.example", "udp:127.0.1.10:5070");
  CHECK(identity::decide(other, c.settings(), 1000).status == 407);
  // Off: a challenge all the same.
  auto node = *c.node;
  node.auth_association = false;
  auto s = c.settings();
  s.node = &node;
  auto req2 = message("sip:alice@a.example", "udp:127.0.1.10:5060");
  CHECK(identity::decide(req2, s, 1000).status == 407);
}

TEST_CASE("identity::decide without explain decides the same and writes no reasons")
{
  Core c;
  auto quiet = c.settings();
  quiet.explain = false;
  // Trusted, then from outside with auth off: the same outcome, no lines formatted.
  auto req = message("sip:alice@a.example", "udp:127.0.1.2:5060");
  auto with = identity::decide(req, c.settings(), 1000);
  auto without = identity::decide(req, quiet, 1000);
  CHECK_FALSE(with.explain.empty());
  CHECK(without.explain.empty());
  CHECK(without.how == with.how);
  CHECK(without.forward == with.forward);
  auto node = *c.node;
  node.auth = false;
  auto s = c.settings();
  s.node = &node;
  quiet.node = &node;
  auto out = message("sip:alice@a.example", "udp:127.0.1.66:5060");
  with = identity::decide(out, s, 1000);
  without = identity::decide(out, quiet, 1000);
  CHECK_FALSE(with.explain.empty());
  CHECK(without.explain.empty());
  CHECK(without.how == "unauthenticated");
  CHECK(without.how == with.how);
  CHECK(without.remove_headers == with.remove_headers);
}

TEST_CASE("identity::source_by_via reads received and rport")
{
  sip::Request r;
  r.headers = {{"Via", "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;received=192.0.2.4;rport=6000"}};
  CHECK(identity::source_by_via(r) == "udp:192.0.2.4:6000");
  r.headers = {{"Via", "SIP/2.0/TCP [::1]:5060;branch=z9hG4bK1"}};
  CHECK(identity::source_by_via(r) == "tcp:[::1]:5060");
  CHECK(trust::top_via_host(r) == "[::1]");
  r.headers.clear();
  CHECK(identity::source_by_via(r).empty());
}

TEST_SUITE_END();
