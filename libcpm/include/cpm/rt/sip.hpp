#pragma once
// RAII wrappers over libre's SIP stack (stack.cpp) and messages (message.cpp); the loop
// they run on is loop.hpp, included here. libre's structs are forward-declared (re.hpp only
// in .cpp files).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/base/trace.hpp"
#include "cpm/config/tls_settings.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/request.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/re_ptr.hpp"
#include "cpm/rt/sip_tcp.hpp"
#include "cpm/rt/udp_socket.hpp"

struct sa;
struct sip;
struct sip_msg;
struct mbuf;
struct dnsc;

namespace cpm::sip {

class TlsContext;

// How a Stack is made, beyond its listen addresses.
struct StackOptions {
  // Own the sockets of the "udp:" listen addresses (rt::UdpSocket: recvmmsg bursts, large
  // buffers) instead of libre: a datagram to them goes to the handler their owner sets
  // (own_udp()), not to libre. libre's UDP transport gets the same IP at an ephemeral port
  // for its own client transactions (sip_request: INVITE, next hops named by DNS), whose
  // Via names that port, so that their responses come back to libre. libre 1.1 has no way
  // to be handed a datagram: what arrives on an owned socket never reaches its listeners
  // (sip_listen, sipsess), and whatever libre sends over UDP (sip_treply too) leaves from
  // its own port, so the owner answers on the owned socket itself.
  bool own_udp = false;
  // Their options; the stack's trace, and a diagnostic prefixed by the program's name, when
  // these leave them empty.
  rt::UdpOptions udp;
  // The same for the "tcp:" listen addresses (rt::SipTcp: our framing, outgoing connections
  // bound to the listen address's IP): a connection to them is ours, and what comes over it
  // goes to the handler of own_tcp(), never to libre. libre's TCP transport gets the same
  // IP at an ephemeral port for what it still sends itself over TCP (sip_request: INVITE,
  // next hops named by DNS; a conversation server's sipsess), connecting unbound as it does.
  bool own_tcp = false;
  rt::TcpOptions tcp;
  // The path MTU when it is known (config path_mtu), 0 when not: sets udp_max().
  uint32_t path_mtu = 0;
};

// An errno from libre's client side in words: strerror, except EDESTADDRREQ, which libre's
// sip_request gives when a name has no NAPTR, SRV, A or AAAA record to send to.
std::string errno_text(int err);

// A libre SIP stack with its transports and its DNS client, tracing every message to a
// trace::Writer. libre's sip_request resolves a next hop named by a domain as RFC 3263
// says (NAPTR, SRV, A/AAAA; the next SRV target after a transport error, a timeout or a
// 503) on that DNS client.
class Stack {
public:
  // Listen on every spec; `software` becomes Server:/User-Agent:. `dns` is the DNS server
  // ("HOST[:PORT]", --dns), "" for the system's (/etc/resolv.conf). A "tls:" spec listens
  // for SIP over TLS on a TlsContext made from `tls` (rt/tls.hpp); it is also what libre
  // opens TLS connections with, so a node that sends over TLS needs one.
  static Result<std::unique_ptr<Stack>>
  create(const std::vector<std::string>& listen, const std::string& software,
         trace::Writer* trace = nullptr, const std::string& dns = {},
         const config::TlsSettings& tls = {}, const StackOptions& options = {});
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  struct ::sip* get() const { return m_sip.get(); }
  // The bound addresses in --listen syntax with real ports ("udp:127.0.0.1:40312"); with
  // own_udp/own_tcp, those of the owned sockets (libre's ephemeral ports are not listed).
  const std::vector<std::string>& bound() const { return m_bound; }
  // The first bound address as a SIP URI ("sip:127.0.0.1:40312", ";transport=tcp" for tcp).
  std::string uri() const;
  // Write bound() as one space-separated line to fd and close it (--ready-fd).
  void report_ready(int fd) const;
  // True if `host:port` (any transport) is one of this stack's addresses (with own_udp,
  // own_tcp, libre's ephemeral ports too), or `host` is one of its names (set_names) and `port`
  // is 0 (absent) or one of its ports.
  bool is_local(std::string_view host, uint16_t port) const;
  // The domain names this stack answers to (a core's domains): a Route naming one of them
  // ("sip:a.example;lr", a proxy reached by DNS) is addressed to this stack.
  void set_names(std::vector<std::string> names) { m_names = std::move(names); }
  trace::Writer* tracer() const { return m_trace; }
  // The largest request its proxy and pager send over UDP (RFC 3261 §18.1.1; bigger ones go
  // over TCP when there is TCP): udp_max_for(StackOptions::path_mtu).
  size_t udp_max() const { return m_udp_max; }
  // What Server:/User-Agent: say (Stack::create's `software`).
  const std::string& software() const { return m_software; }
  // The DNS servers names are resolved on ("127.0.0.1:53, ..."); "" when there is none.
  const std::string& dns_servers() const { return m_dns_servers; }
  // The DNS client itself, for names that are not SIP next hops (rt/resolve.hpp).
  struct ::dnsc* dnsc() const { return m_dnsc.get(); }
  // Why a request to `hop` could not go out with errno `err`, in words: for a name with no
  // DNS server, says so and how to give one.
  std::string send_error(const Hop& hop, int err) const;
  // The TLS context of the "tls:" transports, nullptr without one.
  TlsContext* tls() const { return m_tls.get(); }
  // A host whose certificate a TLS server we connect to may show (TlsContext::expect_peer):
  // the node's TLS proxy, peers and routes. Ignored without TLS or for a hop that is not tls.
  void expect_tls_peer(const Hop& hop);
  // With StackOptions::own_udp, the owned sockets in the order of their "udp:" listen
  // addresses (empty otherwise). Each reads nothing into SIP until its owner sets a handler.
  std::vector<rt::UdpSocket*> own_udp() const;
  // With StackOptions::own_tcp, the owned listeners in the order of their "tcp:" listen
  // addresses (empty otherwise).
  std::vector<rt::SipTcp*> own_tcp() const;

  // A tap on libre's UDP transports: each datagram they receive is first offered to the
  // taps' `claim`, in the order they were added, before libre decodes it (libre 1.1's udp
  // helpers). A datagram claimed is traced as libre would trace it, then given to that
  // tap's `serve` at once, and libre never sees it; the rest go on to libre (its decoder,
  // sip_listen, sipsess) as before. `local` is the transport's address, `sock` libre's
  // socket (sip_send answers from it).
  //
  // libre 1.1 hands out a transport's socket only with a message it received, so each
  // socket is tapped from the first message libre delivers on it: that one, and anything
  // before it, still goes through libre.
  struct UdpTap {
    std::function<bool(std::string_view data, const struct ::sa& src)> claim;
    std::function<void(std::string_view data, const struct ::sa& src, const struct ::sa& local,
                       void* sock)>
        serve;
  };
  // Add a tap; the number that removes it.
  uint64_t add_udp_tap(UdpTap tap);
  void remove_udp_tap(uint64_t id);
  // How many datagrams the taps have taken (tests, benchmarks).
  uint64_t tapped() const;
  // How many datagrams the stack read itself from libre's UDP sockets, claimed or handed on
  // to libre (tests). Once a socket is tapped, its reads are the stack's own: bursts of
  // recvmmsg into buffers allocated once, where libre 1.1 reads one datagram per wake-up
  // into an 8 KiB buffer of its own; what no tap claims goes to libre's receive handler.
  // This needs libre 1.1's private socket layout, checked against its public calls; where
  // they disagree, libre keeps reading and this stays 0.
  uint64_t drained() const;
  // Send the datagram `bytes` to `dst` as sip_send(get(), sock, SIP_TRANSP_UDP, &dst, ...)
  // would: from the same socket (libre's UDP transport for dst's family when `sock` is
  // null), with the same trace line. From a socket whose reads are the stack's own
  // (drained()), that is one sendto of ours; otherwise libre sends it (a copy into an mbuf
  // and sip_send). Returns errno.
  int send_udp(void* sock, const struct ::sa& dst, std::string_view bytes);
  // How many datagrams send_udp() wrote itself, without libre (tests).
  uint64_t sent_direct() const;
  // While one lives, what send_udp() writes itself is queued, and it all goes with one
  // sendmmsg per socket when the last one ends; the stack's own reads do the same for each
  // burst they serve. For a handler that sends several datagrams at once (a paced sender's
  // tick).
  class Batch {
  public:
    explicit Batch(Stack& stack);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

  private:
    Stack& m_stack;
  };

private:
  Result<void> add_libre_ephemeral(bool tcp, const Hop& spec, const struct ::sa& addr,
                                   std::optional<struct ::sa>& bound);
  Result<void> add_own_tcp(Hop spec, const struct ::sa& addr, const rt::TcpOptions& tcp,
                           const std::string& prog);
  Stack() = default;
  Result<void> add_own_udp(Hop spec, const struct ::sa& addr, const rt::UdpOptions& udp,
                           const std::string& prog);
  std::unique_ptr<TlsContext> m_tls;
  re_ptr<struct ::dnsc> m_dnsc;
  std::string m_dns_servers;
  std::string m_software;
  size_t m_udp_max = k_udp_max;
  std::vector<std::string> m_names;
  re_ptr<struct ::sip> m_sip;
  std::vector<std::string> m_bound;
  std::vector<Hop> m_specs;
  // With own_udp/own_tcp: libre's UDP and TCP transports (ephemeral ports).
  std::vector<Hop> m_libre_ephemeral;
  std::vector<std::unique_ptr<rt::UdpSocket>> m_own_udp;
  std::vector<std::unique_ptr<rt::SipTcp>> m_own_tcp;
  trace::Writer* m_trace = nullptr;
  struct Taps; // stack.cpp
  std::unique_ptr<Taps> m_taps;
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

// The whole of a message libre received, start line to the end of its body (over a stream
// libre ends the buffer at the body's Content-Length), for wire::parse; valid while the
// message lives.
std::string_view raw_of(const struct ::sip_msg& msg);
// The body of a libre message (clamped to Content-Length), valid while the message lives.
std::string_view body_of(const struct ::sip_msg* msg);
// Its Content-Type "type/subtype" (lower case, no parameters), or "".
std::string content_type_of(const struct ::sip_msg* msg);
// Its Content-Encoding values joined by ", " (RFC 3261 §20.12), or "" when there is none.
std::string content_encoding_of(const struct ::sip_msg* msg);
// Its Accept values joined by ", " (RFC 3261 §20.1; a 415's list), or "" when there is none.
std::string accept_of(const struct ::sip_msg* msg);
// Answer `msg` statefully with `status` and `reason`, and header lines (without CRLF) of
// its own; libre's sip_treply with no `headers`.
void treply(const Stack& stack, const struct ::sip_msg* msg, int status, const std::string& reason,
            const std::vector<std::string>& headers = {});

// Parse SIP text (a file given to --explain) into a sip::Request; nothing is sent.
Result<sip::Request> parse_request_text(std::string_view text);

} // namespace cpm::sip
