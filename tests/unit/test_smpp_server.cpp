// SMPP over 127.0.0.1 in one libre loop: smpp::Server and an ESME made of smpp::Connection.
#include <doctest/doctest.h>

#include <deque>
#include <fcntl.h>
#include <functional>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "cpm/rt/loop.hpp"
#include "cpm/rt/smpp_conn.hpp"
#include "cpm/rt/smpp_server.hpp"
#include "cpm/smpp/framer.hpp"

namespace smpp = cpm::smpp;

namespace {

// Runs the loop until a callback calls cpm::sip::stop(); a guard stops it with 99.
int run_loop(uint64_t guard_ms = 10000)
{
  cpm::sip::Timer guard;
  guard.start(guard_ms, [] { cpm::sip::stop(99); });
  return cpm::sip::run();
}

smpp::Pdu bind(const std::string& password, uint32_t seq)
{
  smpp::Pdu b;
  b.command = smpp::Command::bind_transceiver;
  b.sequence = seq;
  b.system_id = "iwf";
  b.password = password;
  return b;
}

// A scripted ESME: sends the next step when the previous one was answered.
struct Esme {
  std::unique_ptr<smpp::Connection> conn;
  std::vector<smpp::Pdu> got;
  std::vector<smpp::DecodeError> bad;
  std::deque<std::function<void()>> steps;
  bool closed = false;

  void next()
  {
    if (steps.empty()) {
      cpm::sip::stop(0);
      return;
    }
    auto f = std::move(steps.front());
    steps.pop_front();
    f();
  }
};

} // namespace

TEST_SUITE_BEGIN("smpp");

TEST_CASE("smpp::Server binds, serves submit_sm and enquire_link, and delivers with its own "
          "sequence numbers")
{
  cpm::sip::Library lib;
  std::vector<std::string> diags;
  std::vector<smpp::Pdu> submitted;
  std::vector<std::pair<uint64_t, uint32_t>> answered; // tag, status (or 999: session gone)
  smpp::SessionId bound_id = 0;
  smpp::Server::Options opt;
  opt.host = "127.0.0.1";
  opt.port = 0;
  opt.system_id = "nc";
  opt.account = "iwf";
  opt.password = "secret";
  opt.diag = [&](const std::string& l) { diags.push_back(l); };
  smpp::Server::Callbacks cb;
  cb.on_request = [&](smpp::SessionId, const smpp::Pdu& p) {
    submitted.push_back(p);
    auto r = smpp::response(p);
    r.message_id = "m" + std::to_string(submitted.size());
    return r;
  };
  cb.on_bound = [&](smpp::SessionId id, const smpp::Pdu&) { bound_id = id; };
  cb.on_response = [&](smpp::SessionId, uint64_t tag, const smpp::Pdu* r) {
    answered.emplace_back(tag, r ? r->status : 999);
  };
  auto srv = smpp::Server::listen(opt, cb);
  REQUIRE(srv);
  REQUIRE((*srv)->port() != 0);

  Esme esme;
  int delivered = 0;
  smpp::Connection::Callbacks ecb;
  ecb.on_connected = [&] { esme.next(); };
  ecb.on_pdu = [&](smpp::Pdu& p) {
    esme.got.push_back(p);
    if (p.command == smpp::Command::deliver_sm) {
      (void)esme.conn->send(smpp::response(p));
      if (++delivered == 2) // both are here: move on
        esme.next();
      return;
    }
    esme.next();
  };
  ecb.on_closed = [&](int) {
    esme.closed = true;
    esme.next();
  };
  auto send = [&](smpp::Pdu p) { return [&esme, p] { REQUIRE(esme.conn->send(p)); }; };
  smpp::Pdu submit;
  submit.command = smpp::Command::submit_sm;
  submit.sequence = 3;
  submit.source.addr = "15550100";
  submit.destination.addr = "15550101";
  submit.short_message = "hi";
  smpp::Pdu enquire;
  enquire.command = smpp::Command::enquire_link;
  enquire.sequence = 5;
  smpp::Pdu unbind;
  unbind.command = smpp::Command::unbind;
  unbind.sequence = 6;

  esme.steps.push_back(send(submit));            // before the bind: ESME_RINVBNDSTS
  esme.steps.push_back(send(bind("wrong", 1)));  // ESME_RINVPASWD
  esme.steps.push_back(send(bind("secret", 2))); // bound
  esme.steps.push_back(send(submit));            // m1
  esme.steps.push_back([&] {                     // deliver_sm from the SMSC
    smpp::Pdu d;
    d.command = smpp::Command::deliver_sm;
    d.source.addr = "15550101";
    d.destination.addr = "15550100";
    d.short_message = "back";
    REQUIRE((*srv)->send(bound_id, d, 77));
    REQUIRE((*srv)->send(bound_id, d, 78));
  });
  esme.steps.push_back(send(enquire));
  esme.steps.push_back(send(unbind));
  esme.steps.push_back([] {}); // the server closes after unbind_resp

  auto c = smpp::Connection::connect("127.0.0.1", (*srv)->port(), "", ecb, nullptr);
  REQUIRE(c);
  esme.conn = std::move(*c);
  CHECK(run_loop() == 0);

  REQUIRE(esme.got.size() == 8);
  CHECK(esme.got[0].command == smpp::Command::submit_sm_resp);
  CHECK(esme.got[0].status == smpp::k_esme_rinvbndsts);
  CHECK(esme.got[1].command == smpp::Command::bind_transceiver_resp);
  CHECK(esme.got[1].status == smpp::k_esme_rinvpaswd);
  CHECK(esme.got[2].status == smpp::k_esme_rok);
  CHECK(esme.got[2].system_id == "nc");
  CHECK(esme.got[2].u8(smpp::k_tlv_sc_interface_version) == 0x34);
  CHECK(esme.got[3].message_id == "m1");
  CHECK(esme.got[3].sequence == 3);
  CHECK(esme.got[4].command == smpp::Command::deliver_sm);
  CHECK(esme.got[5].command == smpp::Command::deliver_sm);
  CHECK(esme.got[4].sequence != esme.got[5].sequence);
  CHECK(esme.got[6].command == smpp::Command::enquire_link_resp);
  CHECK(esme.got[7].command == smpp::Command::unbind_resp);
  CHECK(esme.closed);
  REQUIRE(submitted.size() == 1);
  CHECK(submitted[0].short_message == "hi");
  REQUIRE(answered.size() == 2);
  CHECK(answered[0] == std::pair<uint64_t, uint32_t>{77, 0});
  CHECK(answered[1] == std::pair<uint64_t, uint32_t>{78, 0});
  CHECK(diags.size() == 2); // the early submit_sm and the wrong password
}

TEST_CASE("smpp::Connection answers a bad PDU with generic_nack and reads the next one")
{
  cpm::sip::Library lib;
  std::vector<std::string> diags;
  smpp::Server::Options opt;
  opt.host = "127.0.0.1";
  opt.port = 0;
  opt.diag = [&](const std::string& l) { diags.push_back(l); };
  auto srv = smpp::Server::listen(opt, {});
  REQUIRE(srv);

  // A raw client: the octets are written before the loop runs (the kernel accepts the
  // connection), and read back by a timer until the connection closes.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons((*srv)->port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  auto header = [](uint32_t len, uint32_t cmd, uint32_t seq) {
    std::string h;
    for (uint32_t v : {len, cmd, 0u, seq})
      for (int sh = 24; sh >= 0; sh -= 8)
        h.push_back(char(v >> sh));
    return h;
  };
  std::string out = header(16, 0x99, 8);                        // unknown command_id
  out += header(20, 0x04, 10) + std::string("\0\1\1", 3) + "1"; // submit_sm cut short
  out += header(16, 0x15, 9);                                   // enquire_link: served
  out += header(8, 0x15, 11);                                   // a length that lies: closes
  REQUIRE(::write(fd, out.data(), out.size()) == ssize_t(out.size()));
  REQUIRE(::fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
  smpp::Framer in;
  bool eof = false;
  cpm::sip::Timer poll;
  std::function<void()> tick = [&] {
    char buf[512];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
      in.feed(std::string_view(buf, size_t(n)));
    if (n == 0) {
      eof = true;
      cpm::sip::stop(0);
      return;
    }
    poll.start(5, tick);
  };
  poll.start(5, tick);
  CHECK(run_loop() == 0);
  ::close(fd);
  CHECK(eof);
  std::vector<smpp::Pdu> got;
  while (auto n = in.next()) {
    REQUIRE(*n);
    auto p = smpp::unpack(**n);
    REQUIRE(p);
    got.push_back(*p);
  }
  REQUIRE(got.size() == 4);
  CHECK(got[0].command == smpp::Command::generic_nack);
  CHECK(got[0].status == smpp::k_esme_rinvcmdid);
  CHECK(got[0].sequence == 8);
  CHECK(got[1].command == smpp::Command::generic_nack);
  CHECK(got[1].sequence == 10);
  CHECK(got[2].command == smpp::Command::enquire_link_resp);
  CHECK(got[2].sequence == 9);
  CHECK(got[3].command == smpp::Command::generic_nack);
  CHECK(got[3].status == smpp::k_esme_rinvcmdlen);
  CHECK(diags.size() == 3);
}

TEST_SUITE_END();
