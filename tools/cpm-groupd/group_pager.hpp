#pragma once
// Pager Mode messages to a pre-defined group hosted here (FLOWS.md "Pager mode CPM Message
// to a pre-defined group"): authorize the sender, send one MESSAGE per other member through
// the node's core, answer the sender.
#include <memory>

#include "cpm/proxy/proxy.hpp"
#include "env.hpp"

namespace cpm::groupd {

class GroupPager {
public:
  explicit GroupPager(Env env);
  ~GroupPager();
  GroupPager(const GroupPager&) = delete;
  GroupPager& operator=(const GroupPager&) = delete;

  // A MESSAGE whose request URI is group `g` (hosted by this node).
  proxy::Action message(const proxy::Incoming& in, const config::Group& g);

  struct Impl;

private:
  std::unique_ptr<Impl> m;
};

} // namespace cpm::groupd
