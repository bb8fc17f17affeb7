#include <doctest/doctest.h>

#include "cpm-send/send.hpp"
#include "cpm/codec/cpim.hpp"
#include "cpm/codec/imdn.hpp"

using namespace cpm::send;

TEST_SUITE_BEGIN("send");

TEST_CASE("send::validate checks option combinations")
{
  Options o;
  o.to = "sip:bob@127.0.0.1:5060";
  CHECK(validate(o));
  SUBCASE("missing TO")
  {
    o.to.clear();
    CHECK_FALSE(validate(o));
  }
  SUBCASE("--wait without --notify")
  {
    o.wait = true;
    CHECK_FALSE(validate(o));
    o.notify = "delivery";
    CHECK(validate(o));
  }
  SUBCASE("--rate without --lines")
  {
    o.rate = 5;
    CHECK_FALSE(validate(o));
  }
  SUBCASE("--window from 1 to 100000")
  {
    o.window = 0;
    CHECK_FALSE(validate(o));
    o.window = 100001;
    CHECK_FALSE(validate(o));
    o.window = 1;
    CHECK(validate(o));
  }
  SUBCASE("bad --notify")
  {
    o.notify = "soon";
    CHECK_FALSE(validate(o));
  }
  SUBCASE("TO with a host name goes by DNS; a malformed host needs --proxy")
  {
    o.to = "sip:bob@b.example";
    CHECK(validate(o));
    o.to = "sip:bob@b..example";
    CHECK_FALSE(validate(o));
    o.common.proxy = "udp:127.0.0.1:5060";
    CHECK(validate(o));
  }
  SUBCASE("--register needs --proxy and --from")
  {
    o.do_register = true;
    CHECK_FALSE(validate(o));
    o.common.proxy = "udp:127.0.0.1:5060";
    CHECK_FALSE(validate(o));
    o.common.from = "sip:alice@a.example";
    CHECK(validate(o));
  }
  SUBCASE("--timeout must be positive")
  {
    o.timeout = 0;
    CHECK_FALSE(validate(o));
  }
  SUBCASE("--plain cannot request notifications, and only sends")
  {
    o.plain = true;
    CHECK(validate(o));
    o.notify = "delivery";
    auto r = validate(o);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("--notify") != std::string::npos);
    o.notify.clear();
    o.lines = true;
    CHECK(validate(o));
    o.lines = false;
    o.receive = true;
    o.to.clear();
    CHECK_FALSE(validate(o));
  }
  SUBCASE("--recipients is at least 1 and needs --notify")
  {
    o.recipients = 0;
    CHECK_FALSE(validate(o));
    o.recipients = 2;
    CHECK_FALSE(validate(o));
    o.notify = "delivery";
    CHECK(validate(o));
  }
}

TEST_CASE("send::apply_config takes the node and user settings")
{
  cpm::config::File f;
  f.path = "lab.toml";
  cpm::config::Node n;
  n.name = "alice";
  n.role = cpm::config::Role::Client;
  n.from = "sip:alice@a.example";
  n.proxy = "udp:127.0.1.1:5060";
  n.listen = {"udp:127.0.1.10:5060"};
  f.nodes.push_back(n);
  cpm::config::User u;
  u.uri = "sip:alice@a.example";
  u.password = "secret";
  f.users.push_back(u);
  Options o;
  o.common.node = "alice";
  o.common.proxy = "udp:127.0.9.9:5060"; // the command line wins
  REQUIRE(apply_config(o, f));
  CHECK(o.common.from == "sip:alice@a.example");
  CHECK(o.common.proxy == "udp:127.0.9.9:5060");
  CHECK(o.common.listen == std::vector<std::string>{"udp:127.0.1.10:5060"});
  CHECK(o.password == "secret");
  SUBCASE("unknown node")
  {
    Options p;
    p.common.node = "mallory";
    CHECK_FALSE(apply_config(p, f));
  }
  SUBCASE("not a client")
  {
    f.nodes[0].role = cpm::config::Role::Core;
    Options p;
    p.common.node = "alice";
    CHECK_FALSE(apply_config(p, f));
  }
}

TEST_CASE("send::guess_content_type")
{
  CHECK(guess_content_type("a/b.txt") == "text/plain;charset=utf-8");
  CHECK(guess_content_type("pic.PNG") == "image/png");
  CHECK(guess_content_type("noext") == "text/plain;charset=utf-8");
  CHECK(guess_content_type("dir.d/file") == "text/plain;charset=utf-8");
}

TEST_CASE("send::Stats percentiles and summary")
{
  Stats s;
  CHECK(s.percentile(50) == 0);
  for (int i = 1; i <= 100; ++i)
    s.latency_ms.push_back(i);
  s.sent = s.ok = 100;
  CHECK(s.percentile(50) == 50);
  CHECK(s.percentile(90) == 90);
  CHECK(s.percentile(99) == 99);
  CHECK(s.summary().find("sent 100, 2xx 100, failed 0") == 0);
  CHECK(s.exit_status() == 0);
  s.no_answer = 1;
  CHECK(s.exit_status() == 3);
  s.failed = 1;
  CHECK(s.exit_status() == 1);
}

TEST_CASE("send::Stats with --wait counts the notifications")
{
  Stats s;
  s.sent = s.ok = 3;
  s.waited = true;
  s.notified = 2;
  s.unnotified = 1;
  CHECK(s.summary().find("sent 3, 2xx 3, failed 0, no answer 0, notified 2, negative 0, not "
                         "notified 1,") == 0);
  CHECK(s.exit_status() == 3);
  s.negative = 1;
  CHECK(s.exit_status() == 1);
}

TEST_CASE("send::LineWaits completes each message once")
{
  LineWaits w(true, false, 1);
  w.expect("m1");
  w.expect("m2");
  w.expect("m3");
  CHECK(w.pending() == 3);
  SUBCASE("a positive notification completes its message; a repeated one is unknown")
  {
    CHECK(w.add("m1", "sip:bob@b.example", "delivery", true) == LineWaits::Outcome::positive);
    CHECK(w.add("m1", "sip:bob@b.example", "delivery", true) == LineWaits::Outcome::unknown);
    CHECK(w.pending() == 2);
  }
  SUBCASE("a negative one completes it as negative")
  {
    CHECK(w.add("m2", "sip:bob@b.example", "delivery", false) == LineWaits::Outcome::negative);
    CHECK(w.pending() == 2);
  }
  SUBCASE("another message's notification, or a forgotten message's, is unknown")
  {
    CHECK(w.add("other", "sip:bob@b.example", "delivery", true) == LineWaits::Outcome::unknown);
    w.forget("m3");
    CHECK(w.add("m3", "sip:bob@b.example", "delivery", true) == LineWaits::Outcome::unknown);
    CHECK(w.pending() == 2);
  }
  SUBCASE("delivery and display from two recipients: complete after all four")
  {
    LineWaits g(true, true, 2);
    g.expect("g");
    CHECK(g.add("g", "sip:bob@b.example", "delivery", true) == LineWaits::Outcome::pending);
    CHECK(g.add("g", "sip:bob@b.example", "display", true) == LineWaits::Outcome::pending);
    CHECK(g.add("g", "sip:carol@b.example", "delivery", true) == LineWaits::Outcome::pending);
    CHECK(g.add("g", "sip:carol@b.example", "display", true) == LineWaits::Outcome::positive);
    CHECK(g.pending() == 0);
  }
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("send");

TEST_CASE("send options: a repeatable option does not swallow the positional TO")
{
  Options opt;
  CLI::App app{"t", "cpm-send"};
  add_options(app, opt);
  const char* argv[] = {"cpm-send", "--listen",        "udp:127.0.0.1:0",
                        "--listen", "tcp:127.0.0.1:0", "sip:bob@b.example",
                        "Hello"};
  REQUIRE_NOTHROW(app.parse(7, const_cast<char**>(argv)));
  CHECK(opt.common.listen == std::vector<std::string>{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"});
  CHECK(opt.to == "sip:bob@b.example");
  CHECK(opt.text == std::vector<std::string>{"Hello"});
}

TEST_SUITE_END();
