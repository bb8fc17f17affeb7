#pragma once
// A plain blocking UDP socket that unit tests use as a peer (one copy, not one per test).
#include <doctest/doctest.h>

#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cpm/rt/re.hpp"

namespace cpm::test {

// A plain blocking UDP socket on 127.0.0.1 at an ephemeral port; a receive gives up after
// 5 s (a safety net: the datagrams it waits for are sent before it reads).
struct PlainUdp {
  int fd = -1;
  struct sa addr;
  PlainUdp()
  {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sa_set_str(&addr, "127.0.0.1", 0);
    REQUIRE(::bind(fd, &addr.u.sa, addr.len) == 0);
    socklen_t len = sizeof addr.u;
    REQUIRE(getsockname(fd, &addr.u.sa, &len) == 0);
    addr.len = len;
    struct timeval tv {
      5, 0
    };
    REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    int big = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  }
  ~PlainUdp() { ::close(fd); }
  PlainUdp(const PlainUdp&) = delete;
  PlainUdp& operator=(const PlainUdp&) = delete;
  uint16_t port() const { return sa_port(&addr); }
  void send_to(const struct sa& dst, const std::string& text) const
  {
    REQUIRE(::sendto(fd, text.data(), text.size(), 0, &dst.u.sa, dst.len) == ssize_t(text.size()));
  }
  // One datagram and the port it came from, or "" after the timeout.
  std::string receive(uint16_t* from = nullptr) const
  {
    char buf[65536];
    struct sa src;
    socklen_t len = sizeof src.u;
    ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, &src.u.sa, &len);
    if (n < 0)
      return {};
    src.len = len;
    if (from)
      *from = sa_port(&src);
    return std::string(buf, size_t(n));
  }
};

} // namespace cpm::test
