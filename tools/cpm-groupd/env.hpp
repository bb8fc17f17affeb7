#pragma once
// What the parts of cpm-groupd share: the stack, the config (updated in place on SIGHUP)
// and the diagnostics.
#include <functional>
#include <string>

#include "cpm/config/config.hpp"
#include "cpm/rt/sip.hpp"

namespace cpm::groupd {

struct Env {
  sip::Stack* stack = nullptr;
  const config::File* file = nullptr; // outlives the parts; reloaded in place
  const config::Node* node = nullptr;
  std::function<void(const std::string&)> diag;    // always shown (unless -q)
  std::function<void(const std::string&)> verbose; // shown with -v
};

} // namespace cpm::groupd
