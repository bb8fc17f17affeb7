#pragma once
// A client's registration with its outbound proxy (libre's sipreg): REGISTER with the CPM
// feature tag in the Contact, digest credentials when challenged, refreshes, and the
// unregister (Expires 0) when it is released.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cpm/base/error.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/credentials.hpp"

struct sipreg;

namespace cpm::ua {

// The registrar of an address of record: its domain ("sip:a.example" for
// sip:alice@a.example; the host part when it has no user); "" when it is malformed.
std::string registrar_of(std::string_view aor);
// The user part of a SIP URI ("alice" for sip:alice@a.example), or `fallback` without one.
std::string user_of(std::string_view uri, std::string_view fallback);

class Registration {
public:
  struct Params {
    std::string aor;          // To and From of the REGISTER
    std::string route;        // the outbound proxy's URI (the REGISTER goes there)
    std::string icsi;         // the service's ICSI, a Contact feature tag
    std::string contact_user; // the Contact's user part
    uint32_t expires = 3600;
  };
  // Every final answer (refreshes too): status and reason, or err without an answer.
  using Handler = std::function<void(int err, int status, const std::string& reason)>;

  // Send the first REGISTER; libre holds `digest` for its challenges. An error's code is 2
  // for arguments libre refuses, else 3.
  static Result<std::unique_ptr<Registration>>
  start(sip::Stack& stack, const Params& p, Digest& digest, const Log& log, Handler on_answer);
  // Unregisters (libre sends REGISTER with Expires 0 and forgets the answer).
  ~Registration();
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

private:
  Registration() = default;
  static void resp_h(int err, const struct sip_msg* msg, void* arg) noexcept;

  Log m_log;
  Handler m_on_answer;
  re_ptr<struct sipreg> m_reg;
};

} // namespace cpm::ua
