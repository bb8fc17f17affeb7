#pragma once
// The TOML configuration (cpm.toml(5)) as plain structs. One file can describe a whole lab
// network; a program picks its node with --node NAME.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/config/tls_settings.hpp"

namespace cpm::config {

enum class Role { Core, ConversationServer, Client, Iwf, Smsc };

enum class SessionCase { Originating, Terminating };

// A header condition of a trigger: the named header (any instance) must contain a value
// matching `pattern` (ECMAScript regex, case-insensitive, searched, not anchored).
struct HeaderCondition {
  std::string name;
  std::string pattern;
};

// An iFC-like trigger of a core ([[trigger]]).
struct Trigger {
  std::string name; // optional label, for --explain; defaults to "trigger@LINE"
  std::string node; // the core it belongs to
  int priority = 0; // lower runs first
  SessionCase session_case = SessionCase::Originating;
  std::vector<std::string> methods;     // empty: any method
  std::string request_uri;              // regex on the request URI; empty: any
  std::vector<HeaderCondition> headers; // all must match
  std::vector<std::string> users;       // served users this applies to; empty: every served user
  std::string server;                   // the application server, a SIP URI "sip:127.0.1.2:5060"
  bool continue_on_failure = true;      // default_handling = "continue" | "terminate"
  int line = 0;                         // where it was defined, for messages
};

// Service policy of a served user, enforced by its conversation server.
struct Policy {
  std::vector<std::string> block_to;   // originating: recipients this user may not send to
  std::vector<std::string> allow_to;   // originating: if non-empty, the only allowed recipients
  std::vector<std::string> block_from; // terminating: senders refused for this user
  std::vector<std::string> allow_from; // terminating: if non-empty, the only allowed senders
  bool barred = false;                 // originating: this user may not send at all
  std::optional<uint64_t> max_message_size; // body bytes; over it: 413
  // Session media types this user may use ("message", "audio"); empty: the node's.
  std::vector<std::string> media;
};

// A subscriber ([[user]]).
struct User {
  std::string uri; // "sip:alice@a.example"
  std::string password;
  Policy policy;
  // The user's E.164 number ("+15550101"): tel:+15550101 and sip:+15550101@...;user=phone
  // reach this user, and so do SMS to it (Figure 8); empty: none.
  std::string tel;
  // Messages this user sends that the terminating side answers 404 or 480 go out as SMS
  // through the conversation server's `iwf` instead (the recipient's `tel`).
  bool sms_fallback = false;
  int line = 0;
};

// A pre-defined group ([[group]]), hosted by a conversation server node.
struct Group {
  std::string uri;
  std::string host; // node name of the conversation server hosting it
  std::vector<std::string> members;
  std::string may_invite = "members"; // "members" | "anyone"
  int max_participants = 0;           // 0: no limit
  // Media types a group session may carry ("message", "audio"); empty: message only.
  std::vector<std::string> media;
  // Who may add a medium to a running session: "participants" | "inviter" | "nobody".
  std::string may_add_media = "participants";
  int invite_timeout_ms = 0; // members who do not answer in time: 0 = 60 s
  int line = 0;
};

// One running program ([[node]]).
struct Node {
  std::string name;
  Role role = Role::Core;
  std::vector<std::string> domains;
  // Host names the node is also known by in DNS ("cs.a.example", a trigger's server): a
  // Route naming one of them is its own (Kamailio's alias).
  std::vector<std::string> aliases;
  std::vector<std::string> listen;          // "udp:127.0.1.1:5060"
  std::map<std::string, std::string> peers; // domain -> core URI ("udp:..." or "sip:...")
  std::map<std::string, std::string> psi;   // public service identity URI -> server URI
  std::string proxy;                        // outbound proxy (clients, conversation servers)
  std::string from;                         // client's own URI
  std::string password;                     // client's password (else the [[user]]'s)
  // A core's SQLite file of bindings (relative to the config file's directory); empty:
  // kept in memory only.
  std::string registrar_db;
  // A conversation server's SQLite outbox of accepted group messages (relative to the
  // config file's directory); empty: kept in memory only.
  std::string outbox_db;
  int outbox_attempts = 5;      // attempts per member, the first included
  int outbox_backoff_ms = 2000; // wait before the second attempt, doubled for each next
  // A core: digest authentication of REGISTER and of the originating requests of its
  // users that come from outside the trust domain (407, RFC 3261 §22.3).
  bool auth = false;
  // A core with auth: a request that comes over the flow, or from the contact address, that
  // its user registered from is that user's without a challenge (a P-CSCF's association).
  bool auth_association = true;
  int64_t nonce_lifetime = 300; // seconds a digest nonce is good for
  // The RFC 3325 trust domain beyond the default (the config's cores, conversation servers
  // and IWFs, and a core's peers and trigger servers): node names, addresses ("127.0.0.9",
  // "udp:10.0.0.1:5060") or names resolved by DNS ("as.b.example").
  std::vector<std::string> trusted;
  // What a request from outside the trust domain with P-Asserted-Identity, P-Served-User or
  // an odi Route gets: false: those are removed; true (untrusted = "refuse"): 403.
  bool untrusted_refuse = false;
  std::string realm; // digest realm; default: first domain
  uint32_t min_expires = 60;
  uint32_t max_expires = 7200;
  uint32_t default_expires = 3600;
  // nat = "received": a core reaches UDP registrations at the REGISTER's source address
  // instead of their Contact (clients behind NAT); nat = "off" (the default) does not.
  bool nat_received = false;
  std::optional<uint64_t> max_message_size; // conversation server default for its users
  std::vector<std::string> media;           // conversation server default: allowed media
  // A conversation server's interworking function, a SIP URI ("sip:127.0.1.3:5060"; a node
  // name in the file): messages to numbers that are no user's `tel`, to `non_cpm_domains`,
  // and SMS fallbacks go there through `proxy`. Empty: none.
  std::string iwf;
  std::vector<std::string> non_cpm_domains; // domains whose users are reached by SMS
  std::string trace;                        // trace file (overridden by --trace)
  std::string pcap;                         // capture file (overridden by --pcap)
  std::string hep;      // HEP collector "udp:HOST:PORT" (overridden by --hep); empty: none
  int64_t hep_id = -1;  // HEP capture agent id (overridden by --hep-id); -1: 1
  std::string hep_node; // HEP node name; empty: the node's name
  std::string hep_key;  // HEP authentication key; empty: none
  // The DNS server names are resolved on ("127.0.0.1:5353"; overridden by --dns); empty:
  // the system's (/etc/resolv.conf).
  std::string dns;
  // A core: a domain no `peers` entry names (and no "*") is reached by its DNS records
  // (RFC 3263) instead of being answered 404.
  bool dns_peers = false;
  // SIP over TLS: tls_cert, tls_key, tls_ca (relative to the config file's directory) and
  // tls_verify (overridden by --tls-cert, --tls-key, --tls-ca, --no-tls-verify).
  TlsSettings tls;
  // Flood limits of a node's proxy (proxy/flood.hpp): requests per window from one source
  // address (0: no limit), the window, how long a source over it is ignored, the largest
  // request (bytes; over it: 513; 0: no limit; default proxy::k_max_request_size) and the
  // addresses never limited by rate beside the file's own nodes.
  uint32_t flood_limit = 0;
  uint32_t flood_window_ms = 2000;
  uint32_t flood_block_s = 300;
  std::optional<uint64_t> max_request_size;
  std::vector<std::string> flood_exempt;
  // The path MTU towards the node's UDP next hops, when it is known (bytes, 576..65535; a
  // lab on loopback: 65535). RFC 3261 §18.1.1: a request within 200 bytes of it goes over
  // TCP instead; 0 (unknown, the default): a request over 1300 bytes does.
  uint32_t path_mtu = 0;
  int timeout_ms = 0;         // non-answer timeout; 0: program default
  uint32_t max_lingering = 0; // completed UDP transactions kept for Timer J; 0: default
  int rtp_timeout_ms = 10000; // a focus logs a participant whose RTP stops for longer
  // A conversation server's SCHED_FIFO priority (1..99) for its mixer's 20 ms clock; 0: the
  // normal scheduler.
  int realtime_priority = 0;
  // A client's or a conversation server's chat goes over TLS (RFC 4975 §14: msrps:,
  // TCP/TLS/MSRP) in the sessions it offers, as it does over sips:/TLS signalling; overridden
  // by --msrp-tls.
  bool msrp_tls = false;
  // An IWF's SMSC ("127.0.1.4:2775", or a node name) and its bind (SMPP 3.4 §4.1).
  std::string smsc;
  std::string system_id;
  std::string system_type;
  // An IWF's SQLite store (relative to the config file's directory); empty: memory only.
  std::string iwf_db;
  int smpp_window = 10;        // SMPP PDUs outstanding at once
  int enquire_link_ms = 30000; // keep-alive interval
  int reconnect_ms = 1000;     // first wait before reconnecting, doubled, capped at 60 s
  int validity_s = 0;          // submit_sm validity period; 0: the SMSC's default
  // The numbers an IWF can reach as E.164 prefixes ("+1555", "+44"); empty: every number.
  std::vector<std::string> sms_routes;
  int line = 0;
};

// A whole configuration file.
struct File {
  std::string path;
  std::vector<Node> nodes;
  std::vector<User> users;
  std::vector<Trigger> triggers; // sorted by (node, priority, line)
  std::vector<Group> groups;

  const Node* find_node(const std::string& name) const;
  const User* find_user(const std::string& uri) const;
  // The user whose `tel` is `number` ("+15550101"), or nullptr.
  const User* find_user_by_tel(std::string_view number) const;
  const Group* find_group(const std::string& uri) const;
  // Triggers of one node, by priority.
  std::vector<const Trigger*> triggers_of(const std::string& node) const;
  // The first listen address of a node as a SIP URI ("sip:127.0.1.2:5060"), or "".
  std::string node_uri(const std::string& name) const;
};

// Parse and validate TOML text. Errors name `path`, the line and the key:
// "lab.toml:12: unknown key 'prot'". Unknown keys are errors.
Result<File> parse(const std::string& text, const std::string& path);
// Read and parse a file.
Result<File> load(const std::string& path);

// What a program starts from: the file of --config (empty without one) and the node of
// --node (a default node named `fallback_name` with `role` without one). A --node without
// --config, an unknown node or one of another role is an error naming the file.
struct Selection {
  File file;
  Node node;
};
Result<Selection> load_node(const std::string& path, const std::string& node_name, Role role,
                            const std::string& fallback_name);

// A file named in the config file at `config_path`: a relative `file` is taken relative to
// the config file's directory (as a user who moves the two together expects); an absolute
// one, "" or SQLite's ":memory:", as it is.
std::string beside(const std::string& config_path, const std::string& file);

// An SMPP account field of a node (iwf or smsc) longer than SMPP 3.4 allows (§4.1.1:
// C-Octet Strings of 16, 9 and 13 octets with their NUL).
struct SmppTooLong {
  std::string key; // "system_id", "password" or "system_type"
  std::string value;
  size_t limit = 0; // characters
};
// Those fields of `n`, in the order system_id, password, system_type.
std::vector<SmppTooLong> smpp_too_long(const Node& n);

std::string to_string(Role r);
std::string to_string(SessionCase c);

} // namespace cpm::config
