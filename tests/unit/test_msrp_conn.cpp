// MSRP sessions over 127.0.0.1 in one libre loop (two Listeners, or one and a raw reader).
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <netinet/in.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>

#include "cpm/base/trace.hpp"
#include "cpm/codec/msrp.hpp"
#include "cpm/rt/msrp_session.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/rt/tls.hpp"

#include "cpm/rt/re.hpp"

namespace msrp = cpm::msrp;

namespace {

std::string pattern(size_t n, unsigned seed)
{
  std::mt19937 rng(seed);
  std::string s(n, 'x');
  for (auto& c : s)
    c = static_cast<char>(rng() & 0xff);
  return s;
}

// Runs the loop until a callback calls cpm::sip::stop(); a guard stops it with 99.
int run_loop(uint64_t guard_ms = 15000)
{
  cpm::sip::Timer guard;
  guard.start(guard_ms, [] { cpm::sip::stop(99); });
  return cpm::sip::run();
}

// A peer that reads only when told: a plain socket with a small receive buffer, parsed with
// msrp::Parser, answering 200 to every SEND.
struct SlowReader {
  int lfd = -1, cfd = -1;
  uint16_t port = 0;
  bool paused = false;
  bool silent = false; // answer only the binding SEND, then read and never answer
  size_t frames = 0;
  std::string error;
  msrp::Parser parser;
  msrp::Reassembler reasm;
  std::optional<msrp::Message> message;
  std::function<void()> on_done;

  SlowReader()
  {
    lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 16 * 1024;
    (void)setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(lfd, 4) == 0);
    socklen_t len = sizeof(a);
    REQUIRE(getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
    REQUIRE(fd_listen(lfd, FD_READ, &SlowReader::on_accept, this) == 0);
  }
  ~SlowReader()
  {
    for (int fd : {cfd, lfd})
      if (fd >= 0) {
        fd_close(fd);
        ::close(fd);
      }
  }
  static void on_accept(int, void* arg)
  {
    auto* r = static_cast<SlowReader*>(arg);
    r->cfd = ::accept(r->lfd, nullptr, nullptr);
    if (r->cfd < 0)
      return;
    (void)fcntl(r->cfd, F_SETFL, O_NONBLOCK);
    fd_close(r->lfd);
    (void)fd_listen(r->cfd, FD_READ, &SlowReader::on_read, r);
  }
  void resume()
  {
    paused = false;
    (void)fd_listen(cfd, FD_READ, &SlowReader::on_read, this);
  }
  static void on_read(int, void* arg)
  {
    auto* r = static_cast<SlowReader*>(arg);
    char buf[8192];
    ssize_t n = ::recv(r->cfd, buf, sizeof(buf), 0);
    if (n <= 0) {
      if (n == 0 || errno != EAGAIN) {
        r->error = "connection closed";
        fd_close(r->cfd);
        cpm::sip::stop(3);
      }
      return;
    }
    std::vector<msrp::Frame> out;
    auto ok = r->parser.feed(std::string_view(buf, size_t(n)), out);
    if (!ok) {
      r->error = ok.error().message;
      cpm::sip::stop(4);
      return;
    }
    for (auto& f : out) {
      ++r->frames;
      if (!f.request || f.method != "SEND" || msrp::check_request(f)) {
        r->error = "unexpected frame " + f.tid;
        cpm::sip::stop(5);
        return;
      }
      if (r->silent && r->frames > 1)
        continue;
      auto resp = msrp::encode(msrp::make_response(f, 200));
      if (::send(r->cfd, resp->data(), resp->size(), MSG_NOSIGNAL) != ssize_t(resp->size()))
        r->error = "short write of a response";
      auto m = r->reasm.feed(f);
      if (!m) {
        r->error = m.error().message;
        cpm::sip::stop(6);
        return;
      }
      if (*m && !(*m)->body.empty()) {
        r->message = std::move(**m);
        cpm::sip::stop(0);
        return;
      }
    }
    if (r->frames == 1 && !r->paused && !r->silent) { // the binding SEND is answered: pause
      r->paused = true;
      fd_close(r->cfd);
    }
  }
};

// A TLS context of the unit tests' certificates (tests/data/tls: node.pem names 127.0.0.1).
std::unique_ptr<cpm::sip::TlsContext> tls_context(const std::string& cert, bool verify = true)
{
  const std::string dir = std::string(CPM_DATA_DIR) + "/tls/";
  cpm::config::TlsSettings s;
  s.cert = dir + cert;
  s.ca = dir + "ca.pem";
  s.verify = verify;
  auto ctx = cpm::sip::TlsContext::create(s);
  REQUIRE_MESSAGE(ctx, (ctx ? "" : ctx.error().message));
  return std::move(*ctx);
}

// One message from a session on `client` to one on `server`, both msrps:. Returns what
// arrived ("" for nothing); `diags` and `closed` get what the client's session said.
std::string tls_exchange(msrp::Listener& client, msrp::Listener& server,
                         std::vector<std::string>& diags, std::optional<int>& closed)
{
  std::string got;
  msrp::Callbacks scb;
  scb.on_message = [&](const msrp::Message& m) {
    got = m.body;
    cpm::sip::stop(0);
  };
  auto s2 = server.session(scb, true);
  msrp::Callbacks ccb;
  ccb.on_diag = [&](const std::string& d) { diags.push_back(d); };
  ccb.on_closed = [&](int err) {
    closed = err;
    cpm::sip::stop(0);
  };
  auto s1 = client.session(ccb, true);
  CHECK(s1->local().secure);
  CHECK(s2->local().secure);
  CHECK(s2->local().port == server.tls_port());
  s1->set_remote({s2->local()});
  REQUIRE(s1->connect());
  s1->send(msrp::Message{"", "text/plain", "over tls", false, "yes"});
  CHECK(run_loop() == 0);
  return got;
}

} // namespace

TEST_SUITE_BEGIN("msrp");

TEST_CASE("msrp::Session carries a 1 MiB message and 100 small ones whole and in order")
{
  cpm::sip::Library lib;
  char trace_name[] = "/tmp/test_msrp_conn_XXXXXX";
  int tfd = mkstemp(trace_name);
  REQUIRE(tfd >= 0);
  ::close(tfd);
  cpm::trace::Writer writer;
  REQUIRE(writer.open(trace_name, "alice"));
  auto l1 = msrp::Listener::create("127.0.0.1", 0, &writer);
  auto l2 = msrp::Listener::create("127.0.0.1", 0);
  REQUIRE(l1);
  REQUIRE(l2);
  CHECK((*l1)->port() != 0);
  CHECK((*l1)->port() != (*l2)->port());

  const std::string big = pattern(1024 * 1024 + 5, 3);
  std::vector<msrp::Message> got;
  std::vector<std::pair<std::string, int>> reports;
  std::vector<std::string> failures;
  std::string last_id;
  bool connected1 = false, connected2 = false;
  auto check_done = [&] {
    if (got.size() == 101 && reports.size() == 1)
      cpm::sip::stop(0);
  };
  std::unique_ptr<msrp::Session> s1;
  msrp::Callbacks cb2;
  cb2.on_connected = [&] { connected2 = true; };
  cb2.on_message = [&](const msrp::Message& m) {
    got.push_back(m);
    check_done();
  };
  auto s2 = (*l2)->session(cb2);
  msrp::Callbacks cb1;
  cb1.on_connected = [&] {
    connected1 = true;
    msrp::Message m;
    m.content_type = "application/octet-stream";
    m.body = big;
    s1->send(m);
    for (int i = 0; i < 100; ++i) {
      msrp::Message small;
      small.content_type = "text/plain";
      small.body = "message " + std::to_string(i);
      small.success_report = i == 99;
      last_id = s1->send(small);
    }
  };
  cb1.on_report = [&](const std::string& id, int status) {
    reports.emplace_back(id, status);
    check_done();
  };
  cb1.on_failure = [&](const std::string& id, int) { failures.push_back(id); };
  s1 = (*l1)->session(cb1);
  CHECK(s1->local().session_id != s2->local().session_id);
  s1->set_remote({s2->local()});
  s2->set_remote({s1->local()});
  REQUIRE(s1->connect());
  CHECK(run_loop() == 0);
  CHECK(connected1);
  CHECK(connected2);
  CHECK(s1->connected());
  CHECK(s2->connected());
  REQUIRE(got.size() == 101);
  CHECK(got[0].body == big);
  CHECK(got[0].content_type == "application/octet-stream");
  for (int i = 0; i < 100; ++i)
    CHECK(got[size_t(i) + 1].body == "message " + std::to_string(i));
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].first == last_id);
  CHECK(reports[0].second == 200);
  CHECK(failures.empty());

  auto events = cpm::trace::read_file(trace_name);
  std::remove(trace_name);
  REQUIRE(events);
  size_t tx = 0, rx = 0;
  for (auto& e : *events) {
    CHECK(e.transport == "tcp");
    CHECK(e.first_line.rfind("MSRP ", 0) == 0);
    CHECK(e.local.rfind("127.0.0.1:", 0) == 0);
    CHECK(e.peer == "127.0.0.1:" + std::to_string((*l2)->port()));
    (e.dir == "tx" ? tx : rx) += 1;
  }
  CHECK(tx >= 1 + 513 + 100); // binding SEND, the chunks of 1 MiB, the small ones
  CHECK(rx >= 1);             // responses (at least the binding one) and the REPORT
}

TEST_CASE("msrp::Session does not corrupt a 4 MiB message to a slow reader")
{
  cpm::sip::Library lib;
  SlowReader reader;
  auto l1 = msrp::Listener::create("127.0.0.1", 0);
  REQUIRE(l1);
  const std::string big = pattern(4 * 1024 * 1024, 9);
  std::unique_ptr<msrp::Session> s1;
  size_t backlog_after_send = 0;
  cpm::sip::Timer resume;
  msrp::Callbacks cb;
  cb.on_connected = [&] {
    msrp::Message m;
    m.content_type = "application/octet-stream";
    m.body = big;
    s1->send(m);
    backlog_after_send = s1->backlog();
    resume.start(50, [&] { reader.resume(); });
  };
  std::vector<std::string> diags;
  cb.on_diag = [&](const std::string& d) { diags.push_back(d); };
  s1 = (*l1)->session(cb);
  auto to = msrp::parse_uri("msrp://127.0.0.1:" + std::to_string(reader.port) + "/slow1;tcp");
  REQUIRE(to);
  s1->set_remote({*to});
  REQUIRE(s1->connect());
  CHECK(run_loop() == 0);
  CHECK(reader.error == "");
  // More than libre's 512 KiB queue was waiting: our own queue held it.
  CHECK(backlog_after_send > 512 * 1024);
  REQUIRE(reader.message);
  CHECK(reader.message->body.size() == big.size());
  CHECK(reader.message->body == big);
  CHECK(reader.frames == 1 + 2048);
  CHECK(diags.empty());
}

TEST_CASE("msrp::Session fails a message whose SEND gets no response with 408")
{
  cpm::sip::Library lib;
  SlowReader reader;
  reader.silent = true;
  auto l1 = msrp::Listener::create("127.0.0.1", 0);
  REQUIRE(l1);
  std::unique_ptr<msrp::Session> s1;
  std::string sent_id, failed_id;
  int failed_status = -1;
  uint64_t sent_at = 0, failed_at = 0;
  msrp::Callbacks cb;
  cb.on_connected = [&] {
    msrp::Message m;
    m.content_type = "text/plain";
    m.body = "anyone there?";
    sent_id = s1->send(m);
    sent_at = cpm::sip::jiffies();
  };
  cb.on_failure = [&](const std::string& id, int status) {
    failed_id = id;
    failed_status = status;
    failed_at = cpm::sip::jiffies();
    cpm::sip::stop(0);
  };
  s1 = (*l1)->session(cb);
  s1->set_transaction_timeout(300);
  auto to = msrp::parse_uri("msrp://127.0.0.1:" + std::to_string(reader.port) + "/silent;tcp");
  REQUIRE(to);
  s1->set_remote({*to});
  REQUIRE(s1->connect());
  CHECK(run_loop(10000) == 0);
  CHECK(reader.error == "");
  CHECK(reader.frames == 2); // the binding SEND and the message
  CHECK(failed_status == 408);
  CHECK(failed_id == sent_id);
  CHECK(failed_at >= sent_at + 250); // not before the timeout (timer granularity aside)
}

TEST_CASE("msrp::Listener answers 481 to a connection for an unknown session")
{
  cpm::sip::Library lib;
  auto l1 = msrp::Listener::create("127.0.0.1", 0);
  auto l2 = msrp::Listener::create("127.0.0.1", 0);
  REQUIRE(l1);
  REQUIRE(l2);
  msrp::Callbacks known;
  auto s2 = (*l2)->session(known);
  std::vector<std::string> diags;
  std::optional<int> closed;
  bool connected = false;
  msrp::Callbacks cb;
  cb.on_diag = [&](const std::string& d) { diags.push_back(d); };
  cb.on_connected = [&] { connected = true; };
  std::vector<std::pair<std::string, int>> failures;
  cb.on_failure = [&](const std::string& mid, int st) { failures.emplace_back(mid, st); };
  cb.on_closed = [&](int err) {
    closed = err;
    cpm::sip::stop(0);
  };
  auto s1 = (*l1)->session(cb);
  auto wrong = s2->local();
  wrong.session_id = "nosuchsession";
  s1->set_remote({wrong});
  REQUIRE(s1->connect());
  std::string id = s1->send(msrp::Message{"", "text/plain", "lost", false, "yes"});
  CHECK(run_loop() == 0);
  CHECK_FALSE(connected);
  CHECK_FALSE(s1->connected());
  REQUIRE(closed);
  CHECK(*closed != 0);
  REQUIRE(!diags.empty());
  bool saw_481 = false;
  for (auto& d : diags)
    saw_481 |= d.find("481") != std::string::npos;
  CHECK(saw_481);
  REQUIRE(failures.size() == 1); // the queued message never went out
  CHECK(failures[0].first == id);
  CHECK(failures[0].second == 0);
  CHECK_FALSE(s2->connected());
  SUBCASE("a session without remote path cannot connect")
  {
    auto s3 = (*l1)->session({});
    CHECK_FALSE(s3->connect());
  }
}

TEST_CASE("msrp::Session over TLS (msrps:) verifies the certificate of the side it connects to")
{
  cpm::sip::Library lib;
  auto good = tls_context("node.pem");
  std::vector<std::string> diags;
  std::optional<int> closed;

  SUBCASE("a certificate of our CA that names the address: the message arrives, traced as tls")
  {
    char trace_name[] = "/tmp/test_msrp_tls_XXXXXX";
    int tfd = mkstemp(trace_name);
    REQUIRE(tfd >= 0);
    ::close(tfd);
    cpm::trace::Writer writer;
    REQUIRE(writer.open(trace_name, "alice"));
    auto server_ctx = tls_context("node.pem");
    auto l1 = msrp::Listener::create("127.0.0.1", 0, &writer, good.get());
    auto l2 = msrp::Listener::create("127.0.0.1", 0, nullptr, server_ctx.get());
    REQUIRE(l1);
    REQUIRE(l2);
    CHECK((*l2)->has_tls());
    CHECK((*l2)->tls_port() != 0);
    CHECK((*l2)->tls_port() != (*l2)->port());
    CHECK(tls_exchange(**l1, **l2, diags, closed) == "over tls");
    CHECK(diags.empty());
    auto events = cpm::trace::read_file(trace_name);
    std::remove(trace_name);
    REQUIRE(events);
    REQUIRE_FALSE(events->empty());
    for (auto& e : *events)
      CHECK(e.transport == "tls");
  }
  SUBCASE("another CA's certificate is refused, and the diagnostic says so")
  {
    auto rogue = tls_context("rogue.pem");
    auto l1 = msrp::Listener::create("127.0.0.1", 0, nullptr, good.get());
    auto l2 = msrp::Listener::create("127.0.0.1", 0, nullptr, rogue.get());
    REQUIRE(l1);
    REQUIRE(l2);
    CHECK(tls_exchange(**l1, **l2, diags, closed) == "");
    REQUIRE(closed);
    CHECK(*closed != 0);
    REQUIRE_FALSE(diags.empty());
    CHECK(diags[0].find("msrp: TLS to 127.0.0.1:") == 0);
    CHECK(diags[0].find("refused") != std::string::npos);
    CHECK(diags[0].find("certificate") != std::string::npos);
  }
  SUBCASE("a certificate of our CA for another name is refused")
  {
    auto wrong = tls_context("wrongname.pem");
    auto l1 = msrp::Listener::create("127.0.0.1", 0, nullptr, good.get());
    auto l2 = msrp::Listener::create("127.0.0.1", 0, nullptr, wrong.get());
    REQUIRE(l1);
    REQUIRE(l2);
    CHECK(tls_exchange(**l1, **l2, diags, closed) == "");
    REQUIRE_FALSE(diags.empty());
    CHECK(diags[0].find("wrong.test") != std::string::npos);
  }
  SUBCASE("without verification another CA's certificate is taken")
  {
    auto lax = tls_context("node.pem", false);
    auto rogue = tls_context("rogue.pem", false);
    auto l1 = msrp::Listener::create("127.0.0.1", 0, nullptr, lax.get());
    auto l2 = msrp::Listener::create("127.0.0.1", 0, nullptr, rogue.get());
    REQUIRE(l1);
    REQUIRE(l2);
    CHECK(tls_exchange(**l1, **l2, diags, closed) == "over tls");
  }
  SUBCASE("a listener without TLS makes plain sessions and cannot reach an msrps: URI")
  {
    auto l1 = msrp::Listener::create("127.0.0.1", 0);
    auto l2 = msrp::Listener::create("127.0.0.1", 0, nullptr, good.get());
    REQUIRE(l1);
    REQUIRE(l2);
    CHECK_FALSE((*l1)->has_tls());
    auto s1 = (*l1)->session({}, true);
    CHECK_FALSE(s1->local().secure);
    auto s2 = (*l2)->session({}, true);
    s1->set_remote({s2->local()});
    auto r = s1->connect();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("TLS") != std::string::npos);
  }
}

TEST_CASE("msrp::offer_tls: asked for, or the signalling is secure")
{
  CHECK(msrp::offer_tls(true, "sip:bob@b.example", ""));
  CHECK_FALSE(msrp::offer_tls(false, "sip:bob@b.example", ""));
  CHECK_FALSE(msrp::offer_tls(false, "sip:bob@b.example", "udp"));
  CHECK(msrp::offer_tls(false, "sip:bob@b.example", "TLS"));
  CHECK(msrp::offer_tls(false, "SIPS:bob@b.example", ""));
  CHECK(msrp::offer_tls(false, "sip:bob@127.0.0.1:5061;transport=tls", ""));
  CHECK(msrp::offer_tls(false, "<sip:bob@b.example;Transport=TLS>", ""));
  CHECK(msrp::offer_tls(false, "sip:bob@b.example;transport=tls;lr", ""));
  CHECK_FALSE(msrp::offer_tls(false, "sip:bob@b.example;transport=tlsx", ""));
  CHECK_FALSE(msrp::offer_tls(false, "sip:bob@b.example?x=;transport=tls", ""));
}

TEST_SUITE_END();
