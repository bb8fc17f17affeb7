#pragma once
// A node's SIP over TLS settings: the node keys tls_cert, tls_key, tls_ca, tls_verify
// (cpm.toml(5)) and the options --tls-cert, --tls-key, --tls-ca, --no-tls-verify.
#include <string>

namespace cpm::config {

// What rt/tls.hpp makes a libre TLS context from.
struct TlsSettings {
  std::string cert;   // PEM certificate chain, this node's own first; empty: none
  std::string key;    // PEM private key; empty: in cert's file
  std::string ca;     // PEM file of the CAs to trust; empty: the system's store
  bool verify = true; // verify the peer's certificate (and the name, where libre allows)
};

// Fill what `cli` left empty from `node` (the command line wins); verify is off when either
// turns it off.
inline void merge(TlsSettings& cli, const TlsSettings& node)
{
  if (cli.cert.empty())
    cli.cert = node.cert;
  if (cli.key.empty())
    cli.key = node.key;
  if (cli.ca.empty())
    cli.ca = node.ca;
  cli.verify = cli.verify && node.verify;
}

} // namespace cpm::config
