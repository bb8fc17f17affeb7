// A client's registration on libre's sipreg.
#include "cpm/ua/registration.hpp"

#include <cstring>
#include <fmt/format.h>

#include "cpm/codec/service.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/rt/pl.hpp"

#include "cpm/rt/re.hpp"

namespace cpm::ua {

std::string registrar_of(std::string_view aor)
{
  auto u = sip::parse_uri(aor);
  if (!u)
    return {};
  return "sip:" + u->host + (u->port.empty() ? "" : ":" + u->port);
}

std::string user_of(std::string_view uri, std::string_view fallback)
{
  auto user = sip::uri_user(uri);
  return user.empty() ? std::string(fallback) : user;
}

Result<std::unique_ptr<Registration>> Registration::start(sip::Stack& stack, const Params& p,
                                                          Digest& digest, const Log& log,
                                                          Handler on_answer)
{
  std::unique_ptr<Registration> r(new Registration());
  r->m_log = log;
  r->m_on_answer = std::move(on_answer);
  std::string registrar = registrar_of(p.aor);
  const char* routev[] = {p.route.c_str()};
  std::string params = service::contact_feature(p.icsi).substr(1); // without its ';'
  int err = sipreg_register(re_out(r->m_reg), stack.get(), registrar.c_str(), p.aor.c_str(),
                            nullptr, p.aor.c_str(), p.expires, p.contact_user.c_str(), routev, 1, 0,
                            digest_auth_h, &digest, true, resp_h, r.get(), params.c_str(), nullptr);
  if (err)
    return fail(fmt::format("cannot register: {}", std::strerror(err)), err == EINVAL ? 2 : 3);
  return r;
}

// libre's sipreg answers the unregister itself (its resph becomes a dummy).
Registration::~Registration() = default;

void Registration::resp_h(int err, const struct sip_msg* msg, void* arg) noexcept
{
  auto* self = static_cast<Registration*>(arg);
  if (!err && (!msg || msg->scode < 200))
    return;
  sip::guarded(self->m_log.fatal(), "the REGISTER answer handler", [&] {
    if (err)
      self->m_on_answer(err, 0, "");
    else
      self->m_on_answer(0, msg->scode, pl_string(msg->reason));
  });
}

} // namespace cpm::ua
