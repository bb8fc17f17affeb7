// Pager Mode messages to a group: placeholder until the fan-out lands (issue 3).
#include "group_pager.hpp"

namespace cpm::groupd {

struct GroupPager::Impl {
  Env env;
};

GroupPager::GroupPager(Env env) : m(std::make_unique<Impl>(Impl{std::move(env)})) {}
GroupPager::~GroupPager() = default;

proxy::Action GroupPager::message(const proxy::Incoming&, const config::Group&)
{
  return proxy::Action::reply(501, "Not Implemented");
}

} // namespace cpm::groupd
