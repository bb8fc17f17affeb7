#pragma once
// RAII wrappers over libre's SIP stack and main loop. <re.h> is included only in
// libcpm/src/sip*.cpp; this header forward-declares what it needs.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/request.hpp"
#include "cpm/rt/re_ptr.hpp"

struct sip;
struct sip_msg;
struct mbuf;

namespace cpm::sip {

// libre_init()/libre_close() for the life of a process (or a test).
class Library {
public:
  Library();
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

// Run libre's main loop until stop() or SIGINT/SIGTERM. `on_signal` is called from the loop
// (not from signal context) for SIGINT/SIGTERM; when empty, a signal stops the loop with 0.
// Returns the code given to stop().
int run(std::function<void(int sig)> on_signal = {});
// Ask run() to return `code` (safe from any libre callback; a stop before run() is kept).
void stop(int code);
// Call `fn` after `ms` milliseconds on the loop (one-shot). The returned handle cancels on
// destruction.
class Timer {
public:
  Timer();
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void start(uint64_t ms, std::function<void()> fn);
  void cancel();
  bool active() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m;
};
// While alive, SIGHUP calls `fn` on the loop (through a self-pipe: never in signal context).
// One at a time per process.
class Hangup {
public:
  explicit Hangup(std::function<void()> fn);
  ~Hangup();
  Hangup(const Hangup&) = delete;
  Hangup& operator=(const Hangup&) = delete;

private:
  std::function<void()> m_fn;
  int m_pipe[2] = {-1, -1};
  static void on_read(int flags, void* arg) noexcept;
};

// Milliseconds of a monotonic clock (libre's tmr_jiffies).
uint64_t jiffies();

// A libre SIP stack with its transports, tracing every message to a trace::Writer.
class Stack {
public:
  // Listen on every spec; `software` becomes Server:/User-Agent:.
  static Result<std::unique_ptr<Stack>> create(const std::vector<std::string>& listen,
                                               const std::string& software,
                                               trace::Writer* trace = nullptr);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  struct ::sip* get() const { return m_sip.get(); }
  // The bound addresses in --listen syntax with real ports ("udp:127.0.0.1:40312").
  const std::vector<std::string>& bound() const { return m_bound; }
  // The first bound address as a SIP URI ("sip:127.0.0.1:40312", ";transport=tcp" for tcp).
  std::string uri() const;
  // Write bound() as one space-separated line to fd and close it (--ready-fd).
  void report_ready(int fd) const;
  // True if `host:port` (any transport) is one of this stack's addresses.
  bool is_local(std::string_view host, uint16_t port) const;
  trace::Writer* tracer() const { return m_trace; }

private:
  Stack() = default;
  re_ptr<struct ::sip> m_sip;
  std::vector<std::string> m_bound;
  std::vector<ListenSpec> m_specs;
  trace::Writer* m_trace = nullptr;
  friend struct StackAccess;
};

// The request of a libre message in the form route::decide() takes. `self` removes top
// Route entries addressed to the stack (their odi parameter is kept in Request::odi).
sip::Request to_request(const struct ::sip_msg* msg, const Stack* self);

// The Contact "user" to give libre's sipsess for `Contact: <uri>params`: libre prints
// "Contact: <%s>" and has no way to add header parameters (";isfocus", feature tags), so
// the string closes the bracket itself and goes on with one more header line,
// "NAME: <VALUE", whose '<' libre's closing '>' completes.
std::string sipsess_contact(std::string_view uri, std::string_view params,
                            std::string_view header_name, std::string_view header_value);

// Digest credentials for libre's sip_auth_h: the username is the address of record without
// its scheme ("alice@a.example"). Returns 0 or an errno.
int digest_credentials(std::string_view aor, const std::string& password, char** user, char** pass);

// The body of a libre message (clamped to Content-Length), valid while the message lives.
std::string_view body_of(const struct ::sip_msg* msg);
// Its Content-Type "type/subtype" (lower case, no parameters), or "".
std::string content_type_of(const struct ::sip_msg* msg);

// Parse SIP text (a file given to --explain) into a sip::Request; nothing is sent.
Result<sip::Request> parse_request_text(std::string_view text);

} // namespace cpm::sip
