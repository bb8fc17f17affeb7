#pragma once
// Pager Mode messages to a pre-defined group hosted here (FLOWS.md "Pager mode CPM Message
// to a pre-defined group"): authorize the sender, keep the message and one delivery per
// other member in the node's outbox, answer 202, send one MESSAGE per member through the
// node's core, retry what fails for a while, and tell the sender of every member it could
// not reach. A restart resumes what the outbox holds.
#include <memory>

#include "cpm/base/error.hpp"
#include "cpm/proxy/proxy.hpp"
#include "env.hpp"

namespace cpm::groupd {

class GroupPager {
public:
  // Open the node's outbox (`outbox_db`, else one in memory) and resume every delivery it
  // holds once the loop runs; an error names the file.
  static Result<std::unique_ptr<GroupPager>> create(Env env);
  ~GroupPager();
  GroupPager(const GroupPager&) = delete;
  GroupPager& operator=(const GroupPager&) = delete;

  // The secret `name` kept in the outbox file (in memory without one): store::Outbox::secret.
  Result<std::string> secret(std::string_view name, std::string_view fresh);
  // A MESSAGE whose request URI is group `g` (hosted by this node).
  proxy::Action message(const proxy::Incoming& in, const config::Group& g);

  struct Impl;

private:
  GroupPager();
  std::unique_ptr<Impl> m;
};

} // namespace cpm::groupd
