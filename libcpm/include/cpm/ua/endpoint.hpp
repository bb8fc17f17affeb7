#pragma once
// A client's SIP endpoint: the stack on its listen addresses (defaults that reach the
// peer), the trace, the outbound proxy, its own address, the registration when asked, and
// the orderly end (unregister, let transactions finish, stop the loop).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/base/hep.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/config/cli.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sip.hpp"
#include "cpm/ua/credentials.hpp"
#include "cpm/ua/log.hpp"
#include "cpm/ua/registration.hpp"

namespace cpm::ua {

// What an endpoint is made of: the shared options after the config merge.
struct Settings {
  Log log;                         // log.prog also names the User-Agent and the default From
  std::vector<std::string> listen; // --listen; empty: udp+tcp where `peer` is reachable
  std::string proxy;               // --proxy, or ""
  std::string from;                // --from; empty: sip:PROG@<first bound address>
  std::string password;            // digest password (REGISTER, INVITE, MESSAGE)
  std::string missing_password;    // the error when challenged without one
  std::string trace;               // --trace FILE, or ""
  std::string trace_node;          // the node name in the trace
  std::string pcap;                // --pcap FILE, or ""
  hep::Options hep;                // --hep and the node's hep keys; target "": none
  std::string dns;                 // --dns HOST[:PORT], or "" for the system's
  std::string peer;                // without --proxy, the URI whose host picks the defaults
  bool need_tcp = false;           // add a tcp address when --listen gives only udp ones
  config::TlsSettings tls;         // --tls-* and the node's tls_* keys
  uint32_t path_mtu = 0;           // the node's path_mtu (sip::StackOptions)
};

// Settings from a client's shared options: listen, proxy, from and trace as given, the trace
// node named by --node, else `name` (--name), else the program.
Settings settings_of(const Log& log, const cli::Common& c, const std::string& name,
                     const std::string& password);

// What start() registers.
struct Registering {
  std::string icsi; // the service's feature tag in the Contact
  uint32_t expires = 3600;
  double timeout_s = 10; // no final answer within it: failure 3
};

class Endpoint {
public:
  static Result<std::unique_ptr<Endpoint>> create(const Settings& s);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  sip::Stack& stack() const { return *m_stack; }
  const std::optional<sip::Hop>& proxy() const { return m_proxy; }
  const std::string& from() const { return m_from; }
  const Log& log() const { return m_log; }
  // The trace writer, or nullptr without --trace.
  trace::Writer* tracer() { return m_trace.is_open() ? &m_trace : nullptr; }
  // Credentials for libre's challenges (digest_auth_h's argument, with aref = true).
  Digest& digest() { return *m_digest; }
  // The next hop toward `uri`: the outbound proxy, else the URI's own host.
  Result<sip::Hop> hop_to(std::string_view uri) const;

  // Set-up is done (listeners included): register first when `reg` is given, then write
  // the bound addresses to `ready_fd` (--ready-fd) and call `on_ready`. A registration that
  // fails calls `on_fail(code)` after its diagnostic (1 refused, 3 no answer); one that
  // cannot be sent is an error here.
  Result<void> start(const std::optional<Registering>& reg, int ready_fd,
                     std::function<void()> on_ready, std::function<void(int code)> on_fail);
  bool registered() const { return m_registered; }
  // Unregister, then stop the loop with `code` once no transaction of ours is left and
  // `busy` (if given) says false, or after two seconds at most.
  void finish(int code, std::function<bool()> busy = {});

private:
  Endpoint() = default;
  void on_register(int err, int status, const std::string& reason);
  void ready();
  void check_drained();

  Log m_log;
  trace::Writer m_trace;
  std::unique_ptr<sip::Stack> m_stack;
  std::optional<sip::Hop> m_proxy;
  std::string m_from;
  re_ptr<Digest> m_digest;
  std::unique_ptr<Registration> m_reg;
  bool m_registered = false;
  bool m_finishing = false;
  double m_reg_timeout = 0;
  int m_ready_fd = -1;
  std::function<void()> m_on_ready;
  std::function<void(int)> m_on_fail;
  uint32_t m_base_refs = 0;
  int m_exit = 0;
  uint64_t m_drain_until = 0;
  std::function<bool()> m_busy;
  sip::Timer m_deadline, m_drain;
};

} // namespace cpm::ua
