// A libre TLS context from a node's TlsSettings: certificate chain, key, trusted CAs, and a
// verify callback that names the refused certificate and why.
#include "cpm/rt/tls.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cpm/base/text.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/rt/re.hpp"

// re_tls.h declares it only under USE_OPENSSL, which would also change re_sha.h.
extern "C" struct ssl_ctx_st* tls_openssl_context(const struct tls* tls);

namespace cpm::sip {

namespace {

// The SSL_CTX ex_data slot that holds the TlsContext.
int context_index()
{
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL's queued errors as one sentence, the queue emptied.
std::string openssl_errors()
{
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// A file that cannot be opened, in words ("" when it opens).
std::string unreadable(const std::string& path)
{
  std::ifstream f(path);
  if (f)
    return {};
  return std::strerror(errno);
}

// The names a certificate is for: its DNS and IP subjectAltNames, else its subject CN.
std::string names_of(X509* cert)
{
  std::string out;
  auto add = [&](const std::string& n) { out += (out.empty() ? "" : ", ") + n; };
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type == GEN_DNS) {
        add(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                        size_t(ASN1_STRING_length(g->d.dNSName))));
      } else if (g->type == GEN_IPADD) {
        const unsigned char* ip = ASN1_STRING_get0_data(g->d.iPAddress);
        int len = ASN1_STRING_length(g->d.iPAddress);
        char buf[64] = "";
        if (len == 4)
          std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
        else
          std::snprintf(buf, sizeof buf, "(IPv6)");
        add(buf);
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (out.empty()) {
    char cn[256] = "";
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      add(cn);
  }
  return out.empty() ? "no name" : out;
}

// The certificate's subject in one line.
std::string subject_of(X509* cert)
{
  char buf[512] = "";
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

// True when the SSL object was given a host to check (verify_host): OpenSSL checks it then.
bool has_own_host(SSL* ssl)
{
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (X509_VERIFY_PARAM_get0_host(param, 0))
    return true;
  char* ip = X509_VERIFY_PARAM_get1_ip_asc(param);
  bool has = ip != nullptr;
  OPENSSL_free(ip);
  return has;
}

// True when `cert` is for `host`, an IP literal or a DNS name (no partial wildcards).
bool names_host(X509* cert, const std::string& host)
{
  if (is_ip_literal(host))
    return X509_check_ip_asc(cert, host.c_str(), 0) == 1;
  return X509_check_host(cert, host.c_str(), host.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                         nullptr) == 1;
}

// OpenSSL's verify callback: keep OpenSSL's verdict on the chain, add the check of the
// server's name against the expected peers, and say every refusal in words.
int verify_cb(int ok, X509_STORE_CTX* store) noexcept
{
  try {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    if (!ssl)
      return ok;
    auto* self =
        static_cast<TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
    if (!self)
      return ok;
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    int depth = X509_STORE_CTX_get_error_depth(store);
    const char* who = SSL_is_server(ssl) ? "the client's" : "the server's";
    if (!ok) {
      int e = X509_STORE_CTX_get_error(store);
      std::string why = X509_verify_cert_error_string(e);
      if (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        const char* host = X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0);
        why = fmt::format("it is for {}, not for {}", cert ? names_of(cert) : "?",
                          host ? host : "the address connected to");
      }
      self->refused(fmt::format("TLS: {} certificate ({}) is refused: {}{}", who,
                                cert ? subject_of(cert) : "none", why,
                                depth > 0 ? fmt::format(" (chain depth {})", depth) : ""));
      return 0;
    }
    if (depth == 0 && cert && !SSL_is_server(ssl) && !has_own_host(ssl) &&
        !self->expected_peers().empty()) {
      const auto& hosts = self->expected_peers();
      if (std::none_of(hosts.begin(), hosts.end(),
                       [&](const std::string& h) { return names_host(cert, h); })) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
        std::string want;
        for (const auto& h : hosts)
          want += (want.empty() ? "" : ", ") + h;
        self->refused(fmt::format("TLS: the server's certificate ({}) is refused: it is for {}, "
                                  "none of the hosts this node reaches over TLS ({})",
                                  subject_of(cert), names_of(cert), want));
        return 0;
      }
    }
    return 1;
  } catch (...) {
    return 0;
  }
}

} // namespace

Result<std::unique_ptr<TlsContext>> TlsContext::create(const config::TlsSettings& settings)
{
  std::unique_ptr<TlsContext> self(new TlsContext());
  self->m_settings = settings;
  int err = tls_alloc(re_out(self->m_tls), TLS_METHOD_SSLV23, nullptr, nullptr);
  if (err)
    return fail(fmt::format("cannot create a TLS context: {}", std::strerror(err)), 3);
  SSL_CTX* ctx = tls_openssl_context(self->m_tls.get());
  ERR_clear_error();
  // RFC 8996: TLS 1.0 and 1.1 are deprecated.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!settings.cert.empty()) {
    if (auto why = unreadable(settings.cert); !why.empty())
      return fail(fmt::format("tls_cert '{}': {}", settings.cert, why), 2);
    if (SSL_CTX_use_certificate_chain_file(ctx, settings.cert.c_str()) != 1)
      return fail(fmt::format("tls_cert '{}': cannot read the certificate chain: {}", settings.cert,
                              openssl_errors()),
                  2);
    const std::string& key = settings.key.empty() ? settings.cert : settings.key;
    const char* key_name = settings.key.empty() ? "tls_cert" : "tls_key";
    if (auto why = unreadable(key); !why.empty())
      return fail(fmt::format("{} '{}': {}", key_name, key, why), 2);
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      std::string why = openssl_errors();
      if (why.find("mismatch") != std::string::npos)
        return fail(fmt::format("{} '{}': the private key does not match the certificate of "
                                "'{}'",
                                key_name, key, settings.cert),
                    2);
      return fail(fmt::format("{} '{}': cannot read the private key{}: {}", key_name, key,
                              settings.key.empty() ? " (give tls_key when it is in a file "
                                                     "of its own)"
                                                   : "",
                              why),
                  2);
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
      return fail(fmt::format("{} '{}': the private key does not match the certificate of "
                              "'{}': {}",
                              key_name, key, settings.cert, openssl_errors()),
                  2);
  } else if (!settings.key.empty()) {
    return fail(fmt::format("tls_key '{}' is given without tls_cert", settings.key), 2);
  }
  if (!settings.ca.empty()) {
    if (auto why = unreadable(settings.ca); !why.empty())
      return fail(fmt::format("tls_ca '{}': {}", settings.ca, why), 2);
    if (SSL_CTX_load_verify_locations(ctx, settings.ca.c_str(), nullptr) != 1)
      return fail(fmt::format("tls_ca '{}': cannot read the CA certificates: {}", settings.ca,
                              openssl_errors()),
                  2);
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return fail(fmt::format("cannot read the system's CA store: {}", openssl_errors()), 3);
  }
  SSL_CTX_set_ex_data(ctx, context_index(), self.get());
  if (settings.verify)
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
  else
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  return self;
}

TlsContext::~TlsContext()
{
  // Connections may outlive us (libre refcounts the context): they must not call back here.
  if (m_tls)
    SSL_CTX_set_ex_data(tls_openssl_context(m_tls.get()), context_index(), nullptr);
}

void TlsContext::expect_peer(const std::string& host)
{
  std::string h = text::lower(host);
  if (!h.empty() && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  if (h.empty() || std::find(m_expected.begin(), m_expected.end(), h) != m_expected.end())
    return;
  m_expected.push_back(std::move(h));
}

Result<void> TlsContext::verify_host(struct ::tls_conn* tc, const std::string& host) const
{
  if (!tc)
    return fail("no TLS connection");
  // RFC 6066 §3: no SNI for an IP literal.
  if (!is_ip_literal(host))
    (void)tls_set_servername(tc, host.c_str());
  if (!m_settings.verify)
    return {};
  if (int err = tls_set_verify_server(tc, host.c_str()))
    return fail(fmt::format("cannot verify TLS host '{}': {}", host, std::strerror(err)));
  return {};
}

void TlsContext::refused(const std::string& why)
{
  m_last_refusal = why;
  if (m_on_refusal)
    m_on_refusal(why);
}

std::string TlsContext::last_refusal() const
{
  return m_last_refusal;
}

} // namespace cpm::sip
