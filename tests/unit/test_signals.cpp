// sip::Signals and sip::Hangup on one libre loop: several alive at once, each signal to its
// own holder, and a signal another holds refused.
#include <doctest/doctest.h>

#include <csignal>
#include <stdexcept>
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

TEST_SUITE_END();
