#pragma once
// The life of a daemon (cpm-core-route, cpm-groupd, cpm-iwf), the same for each: its node
// from the config and the shared options, the SIP stack on the listen addresses with its
// trace, readiness on --ready-fd and stderr, SIGHUP reloads the config file, SIGINT and
// SIGTERM stop it cleanly. Exit status 0 (stopped), 2 (usage or config), 3 (network).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/config/cli.hpp"
#include "cpm/config/config.hpp"
#include "cpm/rt/resolve.hpp"
#include "cpm/rt/sip.hpp"

namespace cpm::daemon {

// What a daemon is to the runner.
struct Spec {
  std::string prog;  // "cpm-groupd": prefix of its diagnostics; Server:/User-Agent: too
  config::Role role; // what its --node must be
  // --name: the node's name when there is no --node, and its name in traces.
  std::string name;
  // Where it listens when neither the config nor --listen says (empty: that is an error).
  std::vector<std::string> default_listen;
};

class Runner;

// The program's part of a daemon; Runner::run() calls it in this order. None of these is
// a libre callback (reload() is called from the loop through sip::Hangup, guarded).
class Role {
public:
  virtual ~Role() = default;
  // The node is loaded and the shared options merged over it (Runner::node()): merge the
  // program's own options, flags winning.
  virtual Result<void> configure(Runner& d) = 0;
  // A mode that does not serve (cpm-core-route --explain): its exit status; nullopt
  // serves.
  virtual std::optional<int> instead_of_serving(Runner&) { return std::nullopt; }
  // The stack listens (Runner::stack()): build what serves on it (proxy, focus...).
  virtual Result<void> start(Runner& d) = 0;
  // SIGHUP replaced Runner::file() in place (the node stays): the rest of the line
  // "reloaded FILE ...", e.g. "(3 users)".
  virtual std::string reloaded(Runner& d) = 0;
  // The loop ended, or start() failed: release what start() built, while the stack lives.
  virtual void stop(Runner& d) = 0;
};

class Runner {
public:
  Runner(Spec spec, const cli::Common& common);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // The whole life: --list-nodes, the config, then serve until SIGINT/SIGTERM. Returns the
  // exit status; never throws ("internal error" and 3).
  int run(Role& role);

  const Spec& spec() const { return m_spec; }
  const cli::Common& common() const { return m_common; }
  // The config file (empty without --config); reloaded in place on SIGHUP.
  config::File& file() { return m_file; }
  const config::File& file() const { return m_file; }
  // This daemon's node: from the config, with the command line merged over it.
  config::Node& node() { return m_node; }
  const config::Node& node() const { return m_node; }
  // The SIP stack, from before Role::start() to after Role::stop().
  sip::Stack& stack() { return *m_stack; }
  const sip::Stack& stack() const { return *m_stack; }
  // "prog: line" on stderr, unless -q.
  void diag(const std::string& line) const;
  // Keep a trust domain's names (trust::Domain::names()) resolved on the stack's DNS client
  // (sip::NameWatch, asked again every minute), each change and failure said as "trust
  // domain: ..."; `on_addresses` hands them to the domain (add_resolved).
  std::unique_ptr<sip::NameWatch> watch_trust_names(std::vector<std::string> names,
                                                    sip::NameWatch::OnAddresses on_addresses);
  // The same, with -v only.
  void verbose(const std::string& line) const;

private:
  Result<void> configure(Role& role);
  int serve(Role& role);
  int listen(Role& role);
  void reload(Role& role);
  // The TLS hosts of the node's proxy, peers, psi, iwf and triggers as the stack's expected
  // TLS peers (TlsContext::expect_peer).
  void expect_tls_peers();

  Spec m_spec;
  const cli::Common& m_common;
  config::File m_file;
  config::Node m_node;
  trace::Writer m_tracer;
  std::unique_ptr<sip::Stack> m_stack;
};

} // namespace cpm::daemon
