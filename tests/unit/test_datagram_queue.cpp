// rt::DatagramQueue: datagrams queued and sent with sendmmsg, in order, from real sockets on
// 127.0.0.1; the bounds on slots and bytes; a refused datagram skipped and reported.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cpm/rt/datagram_queue.hpp"
#include "cpm/rt/re.hpp"
#include "plain_udp.hpp"

namespace rt = cpm::rt;

using Socket = cpm::test::PlainUdp;

TEST_SUITE_BEGIN("datagram_queue");

TEST_CASE("queued datagrams go in one sendmmsg, in order, to their own destinations")
{
  Socket from, a, b;
  rt::DatagramQueue q(8, 65535);
  CHECK(q.empty());
  REQUIRE(q.push(a.addr, "one"));
  REQUIRE(q.push(b.addr, "two"));
  REQUIRE(q.push(a.addr, "three"));
  CHECK(q.size() == 3);
  auto f = q.flush(from.fd, {});
  CHECK(f.sent == 3);
  CHECK(f.calls == 1);
  CHECK_FALSE(f.blocked);
  CHECK(q.empty());
  CHECK(a.receive() == "one");
  CHECK(a.receive() == "three");
  CHECK(b.receive() == "two");
  // Empty again: the space is reused.
  REQUIRE(q.push(b.addr, "four"));
  CHECK(q.flush(from.fd, {}).sent == 1);
  CHECK(b.receive() == "four");
}

TEST_CASE("the queue is bounded by slots and by bytes")
{
  Socket from, to;
  rt::DatagramQueue slots(2, 65535);
  CHECK(slots.push(to.addr, "a"));
  CHECK(slots.push(to.addr, "b"));
  CHECK_FALSE(slots.push(to.addr, "c"));
  CHECK(slots.size() == 2);

  rt::DatagramQueue bytes(16, 10);
  CHECK(bytes.push(to.addr, "123456"));
  CHECK_FALSE(bytes.push(to.addr, "12345")); // 11 bytes would not fit
  CHECK(bytes.push(to.addr, "1234"));        // 10 do
  CHECK(bytes.flush(from.fd, {}).sent == 2);
  CHECK(to.receive() == "123456");
  CHECK(to.receive() == "1234");
  CHECK(bytes.push(to.addr, "0123456789")); // all the room again
}

TEST_CASE("a datagram the kernel refuses is reported and skipped, the rest still go")
{
  Socket from, to;
  struct sa v6;
  REQUIRE(sa_set_str(&v6, "::1", 5060) == 0); // not for an IPv4 socket
  rt::DatagramQueue q(8, 65535);
  REQUIRE(q.push(to.addr, "before"));
  REQUIRE(q.push(v6, "refused"));
  REQUIRE(q.push(to.addr, "after"));
  std::vector<int> errs;
  std::vector<uint16_t> ports;
  auto f = q.flush(from.fd, [&](int err, const struct sa& dst) {
    errs.push_back(err);
    ports.push_back(sa_port(&dst));
  });
  CHECK(f.sent == 2);
  CHECK(f.calls >= 2);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] != 0);
  CHECK(ports[0] == 5060);
  CHECK(q.empty());
  CHECK(to.receive() == "before");
  CHECK(to.receive() == "after");
}

TEST_SUITE_END();
