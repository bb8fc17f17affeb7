// The controlling function: placeholder while the focus is written (issue 3).
#include "focus.hpp"

namespace cpm::groupd {

struct Focus::Impl {
  Env env;
};

Result<std::unique_ptr<Focus>> Focus::create(Env env)
{
  std::unique_ptr<Focus> f(new Focus);
  f->m = std::make_unique<Impl>(Impl{std::move(env)});
  return f;
}
Focus::~Focus() = default;

proxy::Action Focus::invite(const proxy::Incoming&, const config::Group&)
{
  return proxy::Action::reply(501, "Not Implemented");
}
size_t Focus::sessions() const
{
  return 0;
}
void Focus::shutdown() {}

} // namespace cpm::groupd
