// The tables of cpm.toml(5) one at a time: [[node]], [[user]], [[trigger]], [[group]], read
// and validated (names and URIs checked, node names resolved to URIs).
#include "cpm/base/hep.hpp"
#include "cpm/base/text.hpp"
#include "cpm/config/config.hpp"
#include "cpm/grammar/address.hpp"
#include "reader.hpp"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fmt/format.h>
#include <regex>

namespace cpm::config::detail {

namespace {

using text::is_token;
using text::lower;

// A URI this file accepts as an address of record or service identity.
bool is_uri(std::string_view s)
{
  auto l = lower(s.substr(0, std::min<size_t>(s.size(), 5)));
  auto has = [&](std::string_view scheme) {
    return l.rfind(scheme, 0) == 0 && s.size() > scheme.size();
  };
  return has("sip:") || has("sips:") || has("tel:");
}

// An E.164 number as [[user]] tel takes it: "+" and 1 to 15 digits, no separators.
bool is_e164(std::string_view s)
{
  return s.size() >= 2 && s.size() <= 16 && s[0] == '+' &&
         s.find_first_not_of("0123456789", 1) == std::string_view::npos;
}

// A policy pattern: "*", "*@host" or a URI.
bool is_pattern(std::string_view s)
{
  if (s == "*")
    return true;
  if (s.size() > 2 && s.substr(0, 2) == "*@")
    return s.find_first_of(" \t@", 2) == std::string_view::npos;
  return is_uri(s);
}

std::optional<Role> parse_role(std::string_view s)
{
  if (s == "core")
    return Role::Core;
  if (s == "conversation-server")
    return Role::ConversationServer;
  if (s == "client")
    return Role::Client;
  if (s == "iwf")
    return Role::Iwf;
  if (s == "smsc")
    return Role::Smsc;
  return std::nullopt;
}

bool regex_ok(const std::string& pattern, std::string& why)
{
  try {
    std::regex re(pattern, std::regex::ECMAScript | std::regex::icase);
    return true;
  } catch (const std::regex_error& e) {
    why = e.what();
    return false;
  }
}

// A value naming a node (no ':') becomes that node's URI; other values are kept.
void resolve(const File& f, Reader& r, int line, const std::string& what, std::string& value)
{
  if (value.empty()) {
    r.fail_at(line, fmt::format("{} is empty", what));
    return;
  }
  if (value.find(':') != std::string::npos)
    return;
  if (!f.find_node(value)) {
    r.fail_at(line, fmt::format("{}: no node named '{}' (want a node name, a SIP URI or "
                                "udp:HOST:PORT)",
                                what, value));
    return;
  }
  auto uri = f.node_uri(value);
  if (uri.empty()) {
    r.fail_at(line, fmt::format("{}: node '{}' has no listen address", what, value));
    return;
  }
  value = uri;
}

// SDP media types (RFC 4566 §5.14) that a session policy may name.
void check_media(Reader& r, const std::vector<std::string>& v)
{
  static const std::vector<std::string> known{"message", "audio", "video", "text", "application"};
  for (auto& s : v)
    if (std::find(known.begin(), known.end(), s) == known.end())
      r.fail_key(
          "media",
          fmt::format("has '{}', which is not message, audio, video, text or application", s));
}

void check_uris(Reader& r, std::string_view key, const std::vector<std::string>& v, bool patterns)
{
  for (auto& s : v)
    if (patterns ? !is_pattern(s) : !is_uri(s))
      r.fail_key(
          key, fmt::format("has '{}', which is not {}", s,
                           patterns ? "a URI, \"*@host\" or \"*\"" : "a sip:, sips: or tel: URI"));
}

} // namespace

Result<Node> parse_node(const std::string& path, const toml::table& t)
{
  Node n;
  n.line = line_of(t);
  Reader r(path, t, "node");
  r.str("name", n.name);
  if (!n.name.empty())
    r.set_label(fmt::format("node '{}'", n.name));
  r.known({"name",
           "role",
           "domain",
           "alias",
           "listen",
           "peers",
           "psi",
           "proxy",
           "from",
           "password",
           "registrar_db",
           "outbox_db",
           "outbox_attempts",
           "outbox_backoff_ms",
           "auth",
           "auth_association",
           "nonce_lifetime",
           "trusted",
           "untrusted",
           "realm",
           "min_expires",
           "max_expires",
           "default_expires",
           "nat",
           "max_message_size",
           "media",
           "trace",
           "pcap",
           "hep",
           "hep_id",
           "hep_node",
           "hep_key",
           "timeout_ms",
           "path_mtu",
           "flood_limit",
           "flood_window_ms",
           "flood_block_s",
           "max_request_size",
           "flood_exempt",
           "max_lingering",
           "rtp_timeout_ms",
           "realtime_priority",
           "msrp_tls",
           "smsc",
           "system_id",
           "system_type",
           "iwf_db",
           "smpp_window",
           "enquire_link_ms",
           "reconnect_ms",
           "validity_s",
           "sms_routes",
           "iwf",
           "non_cpm_domains",
           "dns",
           "dns_peers",
           "tls_cert",
           "tls_key",
           "tls_ca",
           "tls_verify"});
  r.require("name");
  r.require("role");
  if (r.ok() && n.name.empty())
    r.fail_key("name", "must not be empty");
  std::string role;
  r.str("role", role);
  if (r.ok()) {
    if (auto v = parse_role(role))
      n.role = *v;
    else
      r.fail_at(r.line("role"), "role must be core, conversation-server, client, iwf or smsc");
  }
  r.strs("domain", n.domains, true);
  r.strs("alias", n.aliases, true);
  r.strs("listen", n.listen, true);
  r.str_map("peers", n.peers);
  r.str_map("psi", n.psi);
  r.str("proxy", n.proxy);
  r.str("from", n.from);
  r.str("password", n.password);
  r.str("registrar_db", n.registrar_db);
  r.str("outbox_db", n.outbox_db);
  r.integer("outbox_attempts", n.outbox_attempts, 1, 100);
  r.integer("outbox_backoff_ms", n.outbox_backoff_ms, 0, INT_MAX);
  r.boolean("auth", n.auth);
  r.boolean("auth_association", n.auth_association);
  r.integer("nonce_lifetime", n.nonce_lifetime, 10, 86400);
  r.strs("trusted", n.trusted, false);
  std::string untrusted = "strip";
  r.str("untrusted", untrusted);
  if (untrusted == "refuse")
    n.untrusted_refuse = true;
  else if (untrusted != "strip")
    r.fail_key("untrusted", fmt::format("is '{}': want \"strip\" or \"refuse\"", untrusted));
  r.str("realm", n.realm);
  r.integer("min_expires", n.min_expires, 0, UINT32_MAX);
  r.integer("max_expires", n.max_expires, 0, UINT32_MAX);
  r.integer("default_expires", n.default_expires, 0, UINT32_MAX);
  std::string nat = "off";
  r.str("nat", nat);
  if (nat == "received")
    n.nat_received = true;
  else if (nat != "off")
    r.fail_key("nat", fmt::format("is '{}': want \"off\" or \"received\"", nat));
  r.size("max_message_size", n.max_message_size);
  r.strs("media", n.media, false);
  check_media(r, n.media);
  r.str("trace", n.trace);
  r.str("pcap", n.pcap);
  r.str("hep", n.hep);
  if (!n.hep.empty() && !hep::parse_target(n.hep))
    r.fail_key("hep", fmt::format("is '{}': want \"udp:HOST:PORT\", HOST an IP address", n.hep));
  r.integer("hep_id", n.hep_id, 0, UINT32_MAX);
  r.str("hep_node", n.hep_node);
  r.str("hep_key", n.hep_key);
  r.str("dns", n.dns);
  if (r.has("dns"))
    if (auto d = sip::parse_dns_server(n.dns); !d)
      r.fail_key("dns", d.error().message);
  r.boolean("dns_peers", n.dns_peers);
  r.str("tls_cert", n.tls.cert);
  r.str("tls_key", n.tls.key);
  r.str("tls_ca", n.tls.ca);
  r.boolean("tls_verify", n.tls.verify);
  r.integer("timeout_ms", n.timeout_ms, 0, INT_MAX);
  r.integer("path_mtu", n.path_mtu, 0, 65535);
  if (n.path_mtu && n.path_mtu < 576)
    r.fail_key("path_mtu", "must be 0 (unknown) or at least 576 (RFC 791's minimum datagram)");
  r.integer("flood_limit", n.flood_limit, 0, UINT32_MAX);
  r.integer("flood_window_ms", n.flood_window_ms, 10, 3600000);
  r.integer("flood_block_s", n.flood_block_s, 1, 86400);
  // libre closes a TCP connection whose message goes past 64 KiB: no 513 could come then.
  r.size("max_request_size", n.max_request_size);
  if (n.max_request_size && *n.max_request_size > 65536)
    r.fail_key("max_request_size", "must be at most 65536 (libre's TCP receive buffer); 0: "
                                   "no limit");
  r.strs("flood_exempt", n.flood_exempt, true);
  for (const auto& a : n.flood_exempt)
    if (!sip::parse_dns_server(a)) // an IP literal: "127.0.1.5", "::1"
      r.fail_key("flood_exempt", fmt::format("'{}' is not an IP address", a));
  r.integer("max_lingering", n.max_lingering, 0, UINT32_MAX);
  r.integer("rtp_timeout_ms", n.rtp_timeout_ms, 1, INT_MAX);
  r.integer("realtime_priority", n.realtime_priority, 0, 99);
  r.boolean("msrp_tls", n.msrp_tls);
  r.str("smsc", n.smsc);
  r.str("system_id", n.system_id);
  r.str("system_type", n.system_type);
  r.str("iwf_db", n.iwf_db);
  r.integer("smpp_window", n.smpp_window, 1, 1000);
  r.integer("enquire_link_ms", n.enquire_link_ms, 100, 3600000);
  r.integer("reconnect_ms", n.reconnect_ms, 10, 3600000);
  r.integer("validity_s", n.validity_s, 0, 31 * 86400);
  r.strs("sms_routes", n.sms_routes, false);
  r.str("iwf", n.iwf);
  r.strs("non_cpm_domains", n.non_cpm_domains, false);
  if (!r.ok())
    return tl::unexpected(r.error());

  for (auto& d : n.domains)
    if (d.empty() || d.find_first_of(" \t:@;") != std::string::npos)
      r.fail_at(r.line("domain"), fmt::format("bad domain '{}'", d));
  for (auto& d : n.non_cpm_domains)
    if (d.empty() || d.find_first_of(" \t:@;") != std::string::npos)
      r.fail_at(r.line("non_cpm_domains"), fmt::format("bad domain '{}'", d));
  for (auto& a : n.aliases) {
    a = text::lower(a);
    if (!sip::is_host_name(a))
      r.fail_at(r.line("alias"), fmt::format("bad alias '{}': want a host name", a));
  }
  if (n.role != Role::ConversationServer)
    for (const char* key : {"iwf", "non_cpm_domains", "realtime_priority"})
      if (r.has(key))
        r.fail_at(r.line(key), fmt::format("{} belongs to a conversation-server", key));
  if (n.role != Role::Client && n.role != Role::ConversationServer && r.has("msrp_tls"))
    r.fail_at(r.line("msrp_tls"), "msrp_tls belongs to a client or a conversation-server");
  for (auto& p : n.sms_routes)
    if (p.size() < 2 || p[0] != '+' || p.find_first_not_of("0123456789", 1) != std::string::npos)
      r.fail_at(r.line("sms_routes"),
                fmt::format("sms_routes has '{}': want an E.164 prefix such as \"+1555\"", p));
  if (n.role != Role::Iwf && r.has("sms_routes"))
    r.fail_at(r.line("sms_routes"), "sms_routes belongs to an iwf");
  if (n.role == Role::Iwf || n.role == Role::Smsc)
    for (const auto& f : smpp_too_long(n))
      r.fail_at(r.line(f.key), fmt::format("{} '{}' is longer than SMPP 3.4 allows ({} characters)",
                                           f.key, f.value, f.limit));
  if (n.role == Role::Core && n.domains.empty())
    r.fail_at(n.line, "a core needs a domain");
  for (auto& l : n.listen)
    if (auto s = sip::parse_listen(l); !s)
      r.fail_at(r.line("listen"), s.error().message);
  for (auto& [uri, _] : n.psi)
    if (!is_uri(uri))
      r.fail_at(r.line("psi"), fmt::format("psi '{}' is not a sip:, sips: or tel: URI", uri));
  if (!n.from.empty() && !is_uri(n.from))
    r.fail_at(r.line("from"), fmt::format("from '{}' is not a sip:, sips: or tel: URI", n.from));
  if (n.min_expires > n.max_expires)
    r.fail_at(r.line("min_expires"), "min_expires is greater than max_expires");
  else if (r.has("default_expires") &&
           (n.default_expires < n.min_expires || n.default_expires > n.max_expires))
    r.fail_at(r.line("default_expires"), "default_expires is outside min_expires..max_expires");
  if (!r.ok())
    return tl::unexpected(r.error());
  if (n.realm.empty() && !n.domains.empty())
    n.realm = n.domains.front();
  n.registrar_db = beside(path, n.registrar_db);
  n.outbox_db = beside(path, n.outbox_db);
  n.iwf_db = beside(path, n.iwf_db);
  n.tls.cert = beside(path, n.tls.cert);
  n.tls.key = beside(path, n.tls.key);
  n.tls.ca = beside(path, n.tls.ca);
  if (n.default_expires > n.max_expires)
    n.default_expires = n.max_expires;
  if (n.default_expires < n.min_expires)
    n.default_expires = n.min_expires;
  return n;
}

// Second pass over a node, once all nodes are known: resolve node names.
Result<void> resolve_node(const std::string& path, const toml::table& t, const File& f, Node& n)
{
  Reader r(path, t, fmt::format("node '{}'", n.name));
  std::map<std::string, int> peer_lines, psi_lines;
  std::map<std::string, std::string> scratch;
  r.str_map("peers", scratch, &peer_lines);
  r.str_map("psi", scratch, &psi_lines);
  for (auto& [domain, addr] : n.peers)
    resolve(f, r, peer_lines[domain], fmt::format("peers '{}'", domain), addr);
  for (auto& [uri, addr] : n.psi)
    resolve(f, r, psi_lines[uri], fmt::format("psi '{}'", uri), addr);
  if (r.has("proxy"))
    resolve(f, r, r.line("proxy"), "proxy", n.proxy);
  if (r.has("iwf"))
    resolve(f, r, r.line("iwf"), "iwf", n.iwf);
  if (!r.ok())
    return tl::unexpected(r.error());
  return {};
}

Result<User> parse_user(const std::string& path, const toml::table& t)
{
  User u;
  u.line = line_of(t);
  Reader r(path, t, "user");
  r.str("uri", u.uri);
  if (!u.uri.empty())
    r.set_label(fmt::format("user '{}'", u.uri));
  r.known({"uri", "password", "block_to", "allow_to", "block_from", "allow_from", "barred",
           "max_message_size", "media", "tel", "sms_fallback"});
  r.require("uri");
  r.str("password", u.password);
  auto& p = u.policy;
  r.strs("block_to", p.block_to, false);
  r.strs("allow_to", p.allow_to, false);
  r.strs("block_from", p.block_from, false);
  r.strs("allow_from", p.allow_from, false);
  r.boolean("barred", p.barred);
  r.size("max_message_size", p.max_message_size);
  r.strs("media", p.media, false);
  check_media(r, p.media);
  r.str("tel", u.tel);
  r.boolean("sms_fallback", u.sms_fallback);
  if (r.ok() && r.has("tel") && !is_e164(u.tel))
    r.fail_key("tel", fmt::format("'{}' is not an E.164 number (+ and 1 to 15 digits)", u.tel));
  if (r.ok() && !is_uri(u.uri))
    r.fail_key("uri", fmt::format("'{}' is not a sip:, sips: or tel: URI", u.uri));
  check_uris(r, "block_to", p.block_to, true);
  check_uris(r, "allow_to", p.allow_to, true);
  check_uris(r, "block_from", p.block_from, true);
  check_uris(r, "allow_from", p.allow_from, true);
  if (!r.ok())
    return tl::unexpected(r.error());
  return u;
}

Result<Trigger> parse_trigger(const std::string& path, const toml::table& t, const File& f)
{
  Trigger g;
  g.line = line_of(t);
  Reader r(path, t, "trigger");
  r.str("name", g.name);
  if (g.name.empty())
    g.name = fmt::format("trigger@{}", g.line);
  r.set_label(fmt::format("trigger '{}'", g.name));
  r.known({"name", "node", "priority", "session_case", "methods", "request_uri", "headers", "users",
           "server", "default_handling"});
  r.require("node");
  r.require("session_case");
  r.require("server");
  r.str("node", g.node);
  r.integer("priority", g.priority, INT_MIN, INT_MAX);
  std::string sc, dh;
  r.str("session_case", sc);
  r.strs("methods", g.methods, true);
  r.str("request_uri", g.request_uri);
  std::map<std::string, std::string> headers;
  std::map<std::string, int> header_lines;
  r.str_map("headers", headers, &header_lines);
  r.strs("users", g.users, false);
  r.str("server", g.server);
  r.str("default_handling", dh);
  if (!r.ok())
    return tl::unexpected(r.error());

  if (sc == "originating")
    g.session_case = SessionCase::Originating;
  else if (sc == "terminating")
    g.session_case = SessionCase::Terminating;
  else
    r.fail_at(r.line("session_case"), "session_case must be originating or terminating");
  if (dh.empty() || dh == "continue")
    g.continue_on_failure = true;
  else if (dh == "terminate")
    g.continue_on_failure = false;
  else
    r.fail_at(r.line("default_handling"), "default_handling must be continue or terminate");
  const Node* node = f.find_node(g.node);
  if (!node)
    r.fail_at(r.line("node"), fmt::format("no node named '{}'", g.node));
  else if (node->role != Role::Core)
    r.fail_at(r.line("node"), fmt::format("node '{}' is a {}, triggers belong to a core", g.node,
                                          to_string(node->role)));
  for (auto& m : g.methods)
    if (!is_token(m))
      r.fail_at(r.line("methods"), fmt::format("bad method '{}'", m));
  std::string why;
  if (!g.request_uri.empty() && !regex_ok(g.request_uri, why))
    r.fail_at(r.line("request_uri"), fmt::format("bad regex in request_uri: {}", why));
  for (auto& [name, pattern] : headers) {
    if (!is_token(name))
      r.fail_at(header_lines[name], fmt::format("bad header name '{}'", name));
    else if (!regex_ok(pattern, why))
      r.fail_at(header_lines[name], fmt::format("bad regex for header '{}': {}", name, why));
    g.headers.push_back({name, pattern});
  }
  check_uris(r, "users", g.users, false);
  if (r.ok())
    resolve(f, r, r.line("server"), "server", g.server);
  if (!r.ok())
    return tl::unexpected(r.error());
  return g;
}

Result<Group> parse_group(const std::string& path, const toml::table& t, const File& f)
{
  Group g;
  g.line = line_of(t);
  Reader r(path, t, "group");
  r.str("uri", g.uri);
  if (!g.uri.empty())
    r.set_label(fmt::format("group '{}'", g.uri));
  r.known({"uri", "host", "members", "may_invite", "max_participants", "media", "may_add_media",
           "invite_timeout_ms"});
  r.require("uri");
  r.require("host");
  r.str("host", g.host);
  r.strs("members", g.members, false);
  r.str("may_invite", g.may_invite);
  r.integer("max_participants", g.max_participants, 0, INT_MAX);
  r.strs("media", g.media, false);
  r.str("may_add_media", g.may_add_media);
  r.integer("invite_timeout_ms", g.invite_timeout_ms, 0, INT_MAX);
  check_media(r, g.media);
  if (!r.ok())
    return tl::unexpected(r.error());
  if (!is_uri(g.uri))
    r.fail_key("uri", fmt::format("'{}' is not a sip:, sips: or tel: URI", g.uri));
  const Node* host = f.find_node(g.host);
  if (!host)
    r.fail_at(r.line("host"), fmt::format("no node named '{}'", g.host));
  else if (host->role != Role::ConversationServer)
    r.fail_at(r.line("host"),
              fmt::format("node '{}' is a {}, groups are hosted by a conversation-server", g.host,
                          to_string(host->role)));
  check_uris(r, "members", g.members, false);
  if (g.may_invite != "members" && g.may_invite != "anyone")
    r.fail_at(r.line("may_invite"), "may_invite must be members or anyone");
  if (g.may_add_media != "participants" && g.may_add_media != "inviter" &&
      g.may_add_media != "nobody")
    r.fail_at(r.line("may_add_media"), "may_add_media must be participants, inviter or nobody");
  if (!r.ok())
    return tl::unexpected(r.error());
  return g;
}

} // namespace cpm::config::detail
