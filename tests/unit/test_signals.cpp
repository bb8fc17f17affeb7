// sip::Signals and sip::Hangup on one libre loop: several alive at once, each signal to its
// own holder, and a signal another holds refused.
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <stdexcept>
#include <sys/stat.h>
#include <vector>

#include "cpm/rt/loop.hpp"
#include "cpm/rt/signals.hpp"

namespace sip = cpm::sip;

TEST_SUITE_BEGIN("signals");

TEST_CASE("sip::Signals and sip::Hangup alive at once each get their own signals")
{
  sip::Library lib;
  std::vector<int> usr;
  int hups = 0;
  sip::Signals signals({SIGUSR1, SIGUSR2}, [&](int sig) {
    usr.push_back(sig);
    if (hups == 1 && usr.size() == 2)
      sip::stop(0);
  });
  sip::Hangup hangup([&] {
    ++hups;
    if (hups == 1 && usr.size() == 2)
      sip::stop(0);
  });
  sip::Timer give_up;
  give_up.start(5000, [] { sip::stop(7); });
  std::raise(SIGUSR2);
  std::raise(SIGHUP);
  std::raise(SIGUSR1);
  CHECK(sip::run() == 0);
  CHECK(hups == 1);
  CHECK(usr == std::vector<int>{SIGUSR2, SIGUSR1});
}

TEST_CASE("sip::Signals refuses a signal another live Signals holds, and frees it after")
{
  sip::Library lib;
  {
    sip::Hangup hangup([] {});
    CHECK_THROWS_AS(sip::Signals({SIGUSR1, SIGHUP}, [](int) {}), std::logic_error);
    // The refused one took nothing: SIGUSR1 is still free.
    CHECK_NOTHROW(sip::Signals({SIGUSR1}, [](int) {}));
  }
  CHECK_NOTHROW(sip::Signals({SIGHUP}, [](int) {}));
}

namespace {

std::set<int> open_fds()
{
  std::set<int> out;
  DIR* d = opendir("/proc/self/fd");
  REQUIRE(d);
  while (const struct dirent* e = readdir(d))
    if (e->d_name[0] != '.' && std::atoi(e->d_name) != dirfd(d))
      out.insert(std::atoi(e->d_name));
  closedir(d);
  return out;
}

} // namespace

TEST_CASE("sip::Signals' self-pipe is close-on-exec and non-blocking")
{
  // A program that runs another (cpm-send --exec, a test harness) must not hand it the
  // pipe: F_SETFL ignored the O_CLOEXEC once passed to it, so the flag is given at creation.
  sip::Library lib;
  auto before = open_fds();
  sip::Signals sig({SIGUSR2}, [](int) {});
  auto after = open_fds();
  // The pipe's two ends (libre may open its epoll descriptor here too: not ours).
  std::vector<int> added;
  for (int fd : after) {
    struct stat st;
    if (!before.count(fd) && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
      added.push_back(fd);
  }
  REQUIRE(added.size() == 2);
  for (int fd : added) {
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
  }
}

TEST_SUITE_END();
