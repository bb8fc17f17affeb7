#pragma once
// A libre TLS context (struct tls, OpenSSL underneath) made from a node's TlsSettings, with
// certificate verification that says in words why a peer was refused. Used by the SIP stack
// (tls: transports) and by MSRP over TLS.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/config/tls_settings.hpp"
#include "cpm/rt/re_ptr.hpp"

struct tls;
struct tls_conn;

namespace cpm::sip {

// One TLS context for every connection of a node, incoming and outgoing.
//
// Verification (settings.verify): the peer's chain must lead to a CA of settings.ca (else
// of the system's store). Where we hold the tls_conn (MSRP, verify_host) the server's
// certificate must also name the host we connected to. For the connections libre's SIP
// transport opens itself, libre 1.1 gives no tls_conn and no name: there the server's
// certificate must name one of the hosts given to expect_peer (the node's TLS proxy, peers,
// routes), or, when none was given, the chain alone is checked. A client that shows a
// certificate is verified the same way (chain only); one that shows none is accepted.
class TlsContext {
public:
  // Load settings.cert (chain) and settings.key (else the key in cert's file) and the CAs.
  // Errors name the file and the key: "tls_cert '/x/a.pem': cannot read the certificate
  // chain: ...". With no cert the context can only be a client.
  static Result<std::unique_ptr<TlsContext>> create(const config::TlsSettings& settings);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  struct ::tls* get() const { return m_tls.get(); }
  const config::TlsSettings& settings() const { return m_settings; }
  bool verify() const { return m_settings.verify; }
  // A host (name or IP literal) a server's certificate may name on connections libre's SIP
  // transport opens; case-insensitive, duplicates ignored.
  void expect_peer(const std::string& host);
  const std::vector<std::string>& expected_peers() const { return m_expected; }
  // For a connection we started (tls_start_tcp): send `host` as SNI and, when verifying,
  // require the server's certificate to name it (libre's tls_set_verify_server).
  Result<void> verify_host(struct ::tls_conn* tc, const std::string& host) const;
  // Called with a sentence for each refused peer certificate ("the certificate of the peer
  // is refused: ..."); default: none. The sentence is also kept as last_refusal().
  void on_refusal(std::function<void(const std::string&)> f) { m_on_refusal = std::move(f); }
  // The last refusal in words, "" when none.
  std::string last_refusal() const;

  // For the verify callback (rt/tls.cpp).
  void refused(const std::string& why);

private:
  TlsContext() = default;
  config::TlsSettings m_settings;
  re_ptr<struct ::tls> m_tls;
  std::vector<std::string> m_expected;
  std::function<void(const std::string&)> m_on_refusal;
  std::string m_last_refusal;
};

} // namespace cpm::sip
