#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "cpm/config/config.hpp"
#include "cpm/grammar/address.hpp"

using namespace cpm::config;

TEST_SUITE_BEGIN("config");

namespace {

const char* const k_good = R"(# a small lab
[[node]]
name = "coreA"
role = "core"
domain = ["a.example", "A2.example"]
listen = ["udp:127.0.1.1:5060", "tcp:127.0.1.1:5060"]
peers = { "b.example" = "coreB", "c.example" = "udp:127.0.9.1:5060", "d.example" = "sip:127.0.9.2:5070" }
psi = { "sip:conf@a.example" = "csA" }
auth = true
min_expires = 30
max_expires = 600
default_expires = 300
timeout_ms = 5000
registrar_db = "/tmp/coreA.db"
trace = "coreA.jsonl"

[[node]]
name = "csA"
role = "conversation-server"
domain = "a.example"
listen = "tcp:127.0.1.2:5062"
proxy = "coreA"
max_message_size = 4096

[[node]]
name = "coreB"
role = "core"
domain = "b.example"
listen = "udp:[::1]:5060"

[[node]]
name = "alice"
role = "client"
from = "sip:alice@a.example"
password = "pw"
proxy = "udp:127.0.1.1:5060"

[[node]]
name = "iwf"
role = "iwf"
domain = "a.example"

[[user]]
uri = "sip:alice@A.Example"
password = "alice-secret"
block_to = ["sip:eve@b.example", "*@evil.example"]
allow_from = ["*"]
max_message_size = 100

[[user]]
uri = "tel:+15551234"
barred = true

[[trigger]]
name = "late"
node = "coreA"
priority = 20
session_case = "terminating"
server = "csA"

[[trigger]]
node = "coreA"
priority = 10
session_case = "originating"
methods = ["MESSAGE", "INVITE"]
request_uri = '^sip:.*@b\.example$'
headers = { "Accept-Contact" = 'oma\.cpm', "P-Preferred-Service" = 'cpm' }
users = ["sip:alice@a.example"]
server = "sip:127.0.1.2:5062;transport=tcp"
default_handling = "terminate"

[[trigger]]
name = "same-priority-second"
node = "coreA"
priority = 10
session_case = "originating"
server = "csA"

[[trigger]]
name = "on-b"
node = "coreB"
priority = 1
session_case = "originating"
methods = "MESSAGE"
server = "udp:127.0.2.2:5060"

[[group]]
uri = "sip:friends@a.example"
host = "csA"
members = ["sip:alice@a.example", "sip:bob@b.example"]
may_invite = "anyone"
max_participants = 5
)";

// The error message of parsing `text` as "lab.toml", or "" when it parses.
std::string error_of(const std::string& text)
{
  auto f = parse(text, "lab.toml");
  return f ? std::string() : f.error().message;
}

const std::string k_core = "[[node]]\nname = \"coreA\"\nrole = \"core\"\ndomain = \"a.example\"\n"
                           "listen = \"udp:127.0.1.1:5060\"\n";
const std::string k_cs = "[[node]]\nname = \"csA\"\nrole = \"conversation-server\"\n"
                         "listen = \"udp:127.0.1.2:5060\"\n";

} // namespace

TEST_CASE("config::parse reads a complete file")
{
  auto f = parse(k_good, "lab.toml");
  REQUIRE_MESSAGE(f, (f ? "" : f.error().message));
  CHECK(f->path == "lab.toml");
  REQUIRE(f->nodes.size() == 5);

  const Node* core = f->find_node("coreA");
  REQUIRE(core);
  CHECK(core->role == Role::Core);
  CHECK(core->domains == std::vector<std::string>{"a.example", "A2.example"});
  CHECK(core->listen.size() == 2);
  CHECK(core->auth);
  CHECK(core->realm == "a.example");
  CHECK(core->min_expires == 30);
  CHECK(core->max_expires == 600);
  CHECK(core->default_expires == 300);
  CHECK(core->timeout_ms == 5000);
  CHECK_FALSE(core->nat_received); // nat = "off" by default
  CHECK(core->registrar_db == "/tmp/coreA.db");
  CHECK(core->trace == "coreA.jsonl");
  CHECK_FALSE(core->max_message_size);
  CHECK(core->line == 2);

  const Node* cs = f->find_node("csA");
  REQUIRE(cs);
  CHECK(cs->role == Role::ConversationServer);
  CHECK(cs->listen == std::vector<std::string>{"tcp:127.0.1.2:5062"});
  REQUIRE(cs->max_message_size);
  CHECK(*cs->max_message_size == 4096);
  CHECK(cs->min_expires == 60);
  CHECK(cs->max_expires == 7200);
  CHECK(cs->default_expires == 3600);
  CHECK_FALSE(cs->auth);

  const Node* alice = f->find_node("alice");
  REQUIRE(alice);
  CHECK(alice->role == Role::Client);
  CHECK(alice->from == "sip:alice@a.example");
  CHECK(alice->password == "pw");
  CHECK(alice->realm.empty());
  CHECK(f->find_node("iwf")->role == Role::Iwf);
  CHECK_FALSE(f->find_node("nobody"));

  SUBCASE("users and policies")
  {
    REQUIRE(f->users.size() == 2);
    const User* u = f->find_user("sip:alice@a.example");
    REQUIRE(u);
    CHECK(u->password == "alice-secret");
    CHECK(u->policy.block_to == std::vector<std::string>{"sip:eve@b.example", "*@evil.example"});
    CHECK(u->policy.allow_from == std::vector<std::string>{"*"});
    CHECK(u->policy.allow_to.empty());
    CHECK(u->policy.block_from.empty());
    CHECK_FALSE(u->policy.barred);
    REQUIRE(u->policy.max_message_size);
    CHECK(*u->policy.max_message_size == 100);
    const User* t = f->find_user("tel:+15551234");
    REQUIRE(t);
    CHECK(t->policy.barred);
  }
  SUBCASE("groups")
  {
    const Group* g = f->find_group("sip:friends@A.EXAMPLE");
    REQUIRE(g);
    CHECK(g->host == "csA");
    CHECK(g->members.size() == 2);
    CHECK(g->may_invite == "anyone");
    CHECK(g->max_participants == 5);
    CHECK_FALSE(f->find_group("sip:enemies@a.example"));
  }
  SUBCASE("triggers")
  {
    REQUIRE(f->triggers.size() == 4);
    auto a = f->triggers_of("coreA");
    REQUIRE(a.size() == 3);
    CHECK(a[0]->name == "trigger@61");
    CHECK(a[0]->priority == 10);
    CHECK(a[0]->session_case == SessionCase::Originating);
    CHECK(a[0]->methods == std::vector<std::string>{"MESSAGE", "INVITE"});
    CHECK(a[0]->request_uri == "^sip:.*@b\\.example$");
    REQUIRE(a[0]->headers.size() == 2);
    CHECK(a[0]->headers[0].name == "Accept-Contact");
    CHECK(a[0]->headers[0].pattern == "oma\\.cpm");
    CHECK(a[0]->users == std::vector<std::string>{"sip:alice@a.example"});
    CHECK(a[0]->server == "sip:127.0.1.2:5062;transport=tcp");
    CHECK_FALSE(a[0]->continue_on_failure);
    CHECK(a[1]->name == "same-priority-second");
    CHECK(a[2]->name == "late");
    CHECK(a[2]->session_case == SessionCase::Terminating);
    CHECK(a[2]->continue_on_failure);
    CHECK(a[2]->methods.empty());
    auto b = f->triggers_of("coreB");
    REQUIRE(b.size() == 1);
    CHECK(b[0]->methods == std::vector<std::string>{"MESSAGE"});
    CHECK(b[0]->server == "udp:127.0.2.2:5060");
    CHECK(f->triggers_of("csA").empty());
    // File::triggers is sorted by (node, priority, line) too.
    CHECK(f->triggers[0].name == "trigger@61");
    CHECK(f->triggers[1].name == "same-priority-second");
    CHECK(f->triggers[2].name == "late");
    CHECK(f->triggers[3].name == "on-b");
  }
}

TEST_CASE("config node names resolve to node URIs")
{
  auto f = parse(k_good, "lab.toml");
  REQUIRE(f);
  CHECK(f->node_uri("coreA") == "sip:127.0.1.1:5060");
  CHECK(f->node_uri("csA") == "sip:127.0.1.2:5062;transport=tcp");
  CHECK(f->node_uri("coreB") == "sip:[::1]:5060");
  CHECK(f->node_uri("alice") == ""); // no listen address
  CHECK(f->node_uri("nobody") == "");
  const Node* core = f->find_node("coreA");
  CHECK(core->peers.at("b.example") == "sip:[::1]:5060");
  CHECK(core->peers.at("c.example") == "udp:127.0.9.1:5060"); // kept as given
  CHECK(core->peers.at("d.example") == "sip:127.0.9.2:5070");
  CHECK(core->psi.at("sip:conf@a.example") == "sip:127.0.1.2:5062;transport=tcp");
  CHECK(f->find_node("csA")->proxy == "sip:127.0.1.1:5060");
  CHECK(f->find_node("alice")->proxy == "udp:127.0.1.1:5060");
  CHECK(f->triggers_of("coreA")[2]->server == "sip:127.0.1.2:5062;transport=tcp");

  SUBCASE("an unknown node name is an error on its line")
  {
    CHECK(error_of(k_core + "peers = { \"b.example\" = \"coreZ\" }\n") ==
          "lab.toml:6: node 'coreA': peers 'b.example': no node named 'coreZ' (want a node "
          "name, a SIP URI or udp:HOST:PORT)");
    CHECK(error_of(k_cs + "proxy = \"core\"\n")
              .find("lab.toml:5: node 'csA': proxy: no node "
                    "named 'core'") == 0);
  }
  SUBCASE("a node without listen address cannot be named")
  {
    CHECK(error_of(k_core + "proxy = \"c\"\n[[node]]\nname = \"c\"\nrole = \"client\"\n") ==
          "lab.toml:6: node 'coreA': proxy: node 'c' has no listen address");
  }
}

TEST_CASE("config::File lookups")
{
  auto f = parse(k_good, "lab.toml");
  REQUIRE(f);
  SUBCASE("find_user compares the host case-insensitively and ignores parameters")
  {
    CHECK(f->find_user("sip:alice@a.example"));
    CHECK(f->find_user("sip:alice@A.EXAMPLE;transport=udp"));
    CHECK(f->find_user("SIP:alice@a.example"));
    CHECK_FALSE(f->find_user("sip:Alice@a.example")); // the user part is case-sensitive
    CHECK_FALSE(f->find_user("sip:alice@b.example"));
    CHECK_FALSE(f->find_user("sips:alice@a.example"));
    CHECK_FALSE(f->find_user(""));
    CHECK_FALSE(f->find_user("alice"));
  }
  SUBCASE("to_string")
  {
    CHECK(to_string(Role::Core) == "core");
    CHECK(to_string(Role::ConversationServer) == "conversation-server");
    CHECK(to_string(Role::Client) == "client");
    CHECK(to_string(Role::Iwf) == "iwf");
    CHECK(to_string(SessionCase::Originating) == "originating");
    CHECK(to_string(SessionCase::Terminating) == "terminating");
  }
}

TEST_CASE("config::parse accepts an empty file")
{
  auto f = parse("", "empty.toml");
  REQUIRE(f);
  CHECK(f->nodes.empty());
  CHECK(f->triggers.empty());
}

TEST_CASE("config::parse reads a core's nat setting")
{
  for (auto [value, received] : {std::pair{"off", false}, std::pair{"received", true}}) {
    auto f = parse(k_core + "nat = \"" + value + "\"\n", "lab.toml");
    REQUIRE_MESSAGE(f, (f ? "" : f.error().message));
    CHECK(f->nodes.front().nat_received == received);
  }
}

TEST_CASE("config::parse takes a relative registrar_db beside the config file")
{
  auto db = [](const std::string& value, const std::string& path) {
    auto f = parse(k_core + "registrar_db = \"" + value + "\"\n", path);
    REQUIRE_MESSAGE(f, (f ? "" : f.error().message));
    return f->nodes.front().registrar_db;
  };
  CHECK(db("coreA.db", "/etc/cpm/lab.toml") == "/etc/cpm/coreA.db");
  CHECK(db("state/coreA.db", "labs/lab.toml") == "labs/state/coreA.db");
  CHECK(db("coreA.db", "lab.toml") == "coreA.db"); // the config is in the working directory
  CHECK(db("/var/lib/cpm/coreA.db", "/etc/cpm/lab.toml") == "/var/lib/cpm/coreA.db");
  auto none = parse(k_core, "/etc/cpm/lab.toml");
  REQUIRE(none);
  CHECK(none->nodes.front().registrar_db.empty()); // no key: memory only
  CHECK(beside("/etc/cpm/lab.toml", "") == "");
}

TEST_CASE("config::parse errors name file, line and key")
{
  SUBCASE("TOML syntax")
  {
    CHECK(error_of("[[node]]\nname = \"x\nrole = \"core\"\n").rfind("lab.toml:2: ", 0) == 0);
    CHECK(error_of("[[node]]\nname = \"a\"\nname = \"b\"\n").rfind("lab.toml:3: ", 0) == 0);
  }
  SUBCASE("unknown key at top")
  {
    CHECK(error_of("prot = 1\n") == "lab.toml:1: unknown key 'prot'");
    CHECK(error_of(k_core + "[zzz]\nx = 1\n") == "lab.toml:6: unknown key 'zzz'");
  }
  SUBCASE("unknown key in a node")
  {
    CHECK(error_of(k_core + "prot = \"udp\"\n") == "lab.toml:6: node 'coreA': unknown key 'prot'");
    // The first by line, not by name.
    CHECK(error_of(k_core + "zz = 1\naa = 2\n") == "lab.toml:6: node 'coreA': unknown key 'zz'");
  }
  SUBCASE("unknown key in a trigger, user and group")
  {
    CHECK(error_of(k_core + k_cs +
                   "[[trigger]]\nnode = \"coreA\"\nsession_case = \"originating\"\n"
                   "server = \"csA\"\nheader = { \"To\" = \"x\" }\n") ==
          "lab.toml:14: trigger 'trigger@10': unknown key 'header'");
    CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\npolicy = { barred = true }\n") ==
          "lab.toml:3: user 'sip:a@a.example': unknown key 'policy'");
    CHECK(error_of(k_core + k_cs +
                   "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csA\"\n"
                   "member = []\n") ==
          "lab.toml:13: group 'sip:g@a.example': unknown key 'member'");
  }
  SUBCASE("wrong type")
  {
    CHECK(error_of(k_core + "auth = \"yes\"\n") ==
          "lab.toml:6: node 'coreA': key 'auth' must be a boolean, not a string");
    CHECK(error_of(k_core + "min_expires = \"60\"\n") ==
          "lab.toml:6: node 'coreA': key 'min_expires' must be an integer, not a string");
    CHECK(error_of(k_core + "min_expires = -1\n") ==
          "lab.toml:6: node 'coreA': key 'min_expires' must be between 0 and 4294967295");
    CHECK(error_of(k_core + "nat = \"yes\"\n") ==
          "lab.toml:6: node 'coreA': key 'nat' is 'yes': want \"off\" or \"received\"");
    CHECK(error_of(k_core + "nat = true\n") ==
          "lab.toml:6: node 'coreA': key 'nat' must be a string, not a boolean");
    CHECK(error_of(k_core + "timeout_ms = 1.5\n") ==
          "lab.toml:6: node 'coreA': key 'timeout_ms' must be an integer, not a float");
    CHECK(error_of(k_core + "peers = \"coreB\"\n") ==
          "lab.toml:6: node 'coreA': key 'peers' must be a table of strings, not a string");
    CHECK(error_of(k_core + "peers = { \"b.example\" = 5 }\n") ==
          "lab.toml:6: node 'coreA': key 'peers': value of 'b.example' must be a string, not "
          "an integer");
    CHECK(error_of("[[node]]\nname = \"c\"\nrole = \"client\"\nlisten = [\n\"udp:127.0.0.1:1\",\n"
                   "7]\n") ==
          "lab.toml:6: node 'c': key 'listen' must be a string or an array of strings");
    CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\nblock_to = \"*\"\n") ==
          "lab.toml:3: user 'sip:a@a.example': key 'block_to' must be an array of strings, not "
          "a string");
    CHECK(error_of("node = { name = \"x\" }\n") ==
          "lab.toml:1: key 'node' must be an array of tables ([[node]])");
    CHECK(error_of("user = [1, 2]\n") ==
          "lab.toml:1: key 'user' must be an array of tables ([[user]])");
  }
  SUBCASE("bad role")
  {
    CHECK(error_of("[[node]]\nname = \"csA\"\n\n\n\n\nrole = \"server\"\n") ==
          "lab.toml:7: node 'csA': role must be core, conversation-server, client, iwf or smsc");
  }
  SUBCASE("missing keys")
  {
    CHECK(error_of("[[node]]\nrole = \"core\"\n") == "lab.toml:1: node: missing key 'name'");
    CHECK(error_of("[[node]]\nname = \"x\"\n") == "lab.toml:1: node 'x': missing key 'role'");
    CHECK(error_of("[[node]]\nname = \"\"\nrole = \"client\"\n") ==
          "lab.toml:2: node: key 'name' must not be empty");
    CHECK(error_of("[[node]]\nname = \"x\"\nrole = \"core\"\n") ==
          "lab.toml:1: node 'x': a core needs a domain");
    CHECK(error_of("[[user]]\npassword = \"x\"\n") == "lab.toml:1: user: missing key 'uri'");
  }
  SUBCASE("bad listen")
  {
    auto e = error_of("[[node]]\nname = \"c\"\nrole = \"client\"\nlisten = \"sctp:127.0.0.1:5\"\n");
    CHECK(e.rfind("lab.toml:4: node 'c': bad listen address 'sctp:127.0.0.1:5'", 0) == 0);
    CHECK(error_of("[[node]]\nname = \"c\"\nrole = \"client\"\nlisten = [\"udp:localhost:5\"]\n")
              .rfind("lab.toml:4: node 'c': ", 0) == 0);
    CHECK(error_of("[[node]]\nname = \"c\"\nrole = \"client\"\nlisten = \"udp:127.0.0.1\"\n")
              .rfind("lab.toml:4: node 'c': ", 0) == 0);
  }
  SUBCASE("bad URIs and values")
  {
    CHECK(error_of("[[user]]\nuri = \"alice@a.example\"\n") ==
          "lab.toml:2: user 'alice@a.example': key 'uri' 'alice@a.example' is not a sip:, "
          "sips: or tel: URI");
    CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\nallow_to = [\"bob\"]\n") ==
          "lab.toml:3: user 'sip:a@a.example': key 'allow_to' has 'bob', which is not a URI, "
          "\"*@host\" or \"*\"");
    CHECK(error_of("[[node]]\nname = \"c\"\nrole = \"client\"\nfrom = \"alice\"\n") ==
          "lab.toml:4: node 'c': from 'alice' is not a sip:, sips: or tel: URI");
    CHECK(error_of(k_core + "min_expires = 100\nmax_expires = 50\n") ==
          "lab.toml:6: node 'coreA': min_expires is greater than max_expires");
    CHECK(error_of(k_core + "default_expires = 10\n") ==
          "lab.toml:6: node 'coreA': default_expires is outside min_expires..max_expires");
    CHECK(error_of("[[node]]\nname = \"c\"\nrole = \"client\"\ndomain = \"a.example:5060\"\n") ==
          "lab.toml:4: node 'c': bad domain 'a.example:5060'");
  }
  SUBCASE("duplicates")
  {
    CHECK(error_of(k_core + k_core) ==
          "lab.toml:6: node 'coreA': duplicate node name (first defined on line 1)");
    CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\n[[user]]\nuri = \"sip:a@A.example\"\n") ==
          "lab.toml:3: user 'sip:a@A.example': duplicate user (first defined on line 1)");
  }
}

TEST_CASE("config::parse validates triggers")
{
  const std::string head = k_core + k_cs; // trigger tables start on line 10
  auto trig = [&](const std::string& body) {
    return error_of(head + "[[trigger]]\nname = \"t\"\n" + body);
  };
  const std::string ok = "node = \"coreA\"\nsession_case = \"originating\"\nserver = \"csA\"\n";
  CHECK(trig(ok).empty());

  SUBCASE("bad regex in request_uri names its line")
  {
    CHECK(trig(ok + "request_uri = '(unclosed'\n")
              .rfind("lab.toml:15: trigger 't': bad regex in request_uri: ", 0) == 0);
  }
  SUBCASE("bad regex in a header condition names its line")
  {
    CHECK(trig(ok + "headers = { \"Accept-Contact\" = 'oma[cpm' }\n")
              .rfind("lab.toml:15: trigger 't': bad regex for header 'Accept-Contact': ", 0) == 0);
    CHECK(trig(ok + "headers = { \"Accept Contact\" = 'x' }\n") ==
          "lab.toml:15: trigger 't': bad header name 'Accept Contact'");
  }
  SUBCASE("dangling trigger node")
  {
    CHECK(trig("node = \"coreZ\"\nsession_case = \"originating\"\nserver = \"csA\"\n") ==
          "lab.toml:12: trigger 't': no node named 'coreZ'");
  }
  SUBCASE("trigger on a node that is not a core")
  {
    CHECK(trig("node = \"csA\"\nsession_case = \"originating\"\nserver = \"csA\"\n") ==
          "lab.toml:12: trigger 't': node 'csA' is a conversation-server, triggers belong to a "
          "core");
  }
  SUBCASE("dangling server")
  {
    CHECK(trig("node = \"coreA\"\nsession_case = \"originating\"\nserver = \"csZ\"\n")
              .rfind("lab.toml:14: trigger 't': server: no node named 'csZ'", 0) == 0);
  }
  SUBCASE("bad enumerations")
  {
    CHECK(trig("node = \"coreA\"\nsession_case = \"orig\"\nserver = \"csA\"\n") ==
          "lab.toml:13: trigger 't': session_case must be originating or terminating");
    CHECK(trig(ok + "default_handling = \"abort\"\n") ==
          "lab.toml:15: trigger 't': default_handling must be continue or terminate");
    CHECK(trig(ok + "methods = [\"MES SAGE\"]\n") ==
          "lab.toml:15: trigger 't': bad method 'MES SAGE'");
    CHECK(trig(ok + "users = [\"alice\"]\n") ==
          "lab.toml:15: trigger 't': key 'users' has 'alice', which is not a sip:, sips: or tel: "
          "URI");
  }
  SUBCASE("missing keys")
  {
    CHECK(trig("node = \"coreA\"\nserver = \"csA\"\n") ==
          "lab.toml:10: trigger 't': missing key 'session_case'");
    CHECK(trig("node = \"coreA\"\nsession_case = \"originating\"\n") ==
          "lab.toml:10: trigger 't': missing key 'server'");
  }
}

TEST_CASE("config::parse validates groups")
{
  const std::string head = k_core + k_cs; // the group table starts on line 10
  CHECK(error_of(head + "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csA\"\n").empty());
  CHECK(error_of(head + "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csZ\"\n") ==
        "lab.toml:12: group 'sip:g@a.example': no node named 'csZ'");
  CHECK(error_of(head + "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"coreA\"\n") ==
        "lab.toml:12: group 'sip:g@a.example': node 'coreA' is a core, groups are hosted by a "
        "conversation-server");
  CHECK(error_of(head + "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csA\"\n"
                        "may_invite = \"all\"\n") ==
        "lab.toml:13: group 'sip:g@a.example': may_invite must be members or anyone");
  CHECK(error_of(head + "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csA\"\n"
                        "may_add_media = \"members\"\n") ==
        "lab.toml:13: group 'sip:g@a.example': may_add_media must be participants, inviter or "
        "nobody");
  CHECK(error_of(head + "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csA\"\n"
                        "may_add_media = \"inviter\"\n")
            .empty());
  CHECK(error_of(head + "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csA\"\n"
                        "members = [\"bob\"]\n") ==
        "lab.toml:13: group 'sip:g@a.example': key 'members' has 'bob', which is not a sip:, "
        "sips: or tel: URI");
  CHECK(error_of(head + "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csA\"\n"
                        "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csA\"\n") ==
        "lab.toml:13: group 'sip:g@a.example': duplicate group (first defined on line 10)");
}

TEST_CASE("config::load reports unreadable files")
{
  auto f = load("/nonexistent/cpm-lab.toml");
  REQUIRE_FALSE(f);
  CHECK(f.error().message.rfind("/nonexistent/cpm-lab.toml: cannot read", 0) == 0);
  CHECK(f.error().code == 2);
}

TEST_CASE("config::load reads both example labs")
{
  for (const char* name : {"lab-icsi.toml", "lab-user.toml"}) {
    CAPTURE(name);
    auto f = load(std::string(CPM_SOURCE_DIR) + "/examples/" + name);
    REQUIRE_MESSAGE(f, (f ? "" : f.error().message));
    for (const char* n : {"coreA", "csA", "alice", "coreB", "csB", "bob", "carol", "coreX", "csX"})
      CHECK_MESSAGE(f->find_node(n), n);
    // lab-icsi.toml has the interworking function of a.example and its SMSC too.
    const bool icsi = std::string(name) == "lab-icsi.toml";
    CHECK(f->nodes.size() == (icsi ? 11u : 9u));
    if (icsi) {
      CHECK(f->find_node("csA")->iwf == "sip:127.0.1.3:5060");
      CHECK(f->find_user_by_tel("+15550101") == f->find_user("sip:bob@b.example"));
    }
    CHECK(f->node_uri("csA") == "sip:127.0.1.2:5060");
    const Node* core = f->find_node("coreA");
    CHECK(core->domains == std::vector<std::string>{"a.example"});
    // Every core keeps its registrations in a file of its own beside the config.
    for (const char* c : {"coreA", "coreB", "coreX"}) {
      CAPTURE(c);
      auto stem = std::string(name).substr(0, std::string(name).size() - 5);
      CHECK(f->find_node(c)->registrar_db ==
            std::string(CPM_SOURCE_DIR) + "/examples/" + stem + "-" + c + ".registrar.sqlite");
    }
    CHECK(core->peers.at("b.example") == "sip:127.0.2.1:5060");
    CHECK(core->peers.at("x.example") == "sip:127.0.3.1:5060");
    CHECK(f->find_node("alice")->proxy == "sip:127.0.1.1:5060");
    CHECK(f->find_node("carol")->from == "sip:carol@b.example");
    const User* mallory = f->find_user("sip:mallory@a.example");
    REQUIRE(mallory);
    CHECK(mallory->policy.barred);
    CHECK(f->users.size() == 4);
    const Group* g = f->find_group("sip:friends@x.example");
    REQUIRE(g);
    CHECK(g->host == "csX");
    CHECK(g->members.size() == 3);
    for (const char* c : {"coreA", "coreB", "coreX"}) {
      CAPTURE(c);
      auto t = f->triggers_of(c);
      REQUIRE(t.size() == 2);
      CHECK(t[0]->session_case == SessionCase::Originating);
      CHECK(t[0]->priority == 10);
      CHECK(t[1]->session_case == SessionCase::Terminating);
      CHECK(t[1]->priority == 20);
      std::string cs = std::string("cs") + (c + 4);
      for (auto* tr : t) {
        CHECK(tr->server == f->node_uri(cs));
        CHECK(tr->methods == std::vector<std::string>{"MESSAGE", "INVITE"});
        CHECK(tr->continue_on_failure);
        if (std::string(name) == "lab-icsi.toml") {
          REQUIRE(tr->headers.size() == 1);
          CHECK(tr->headers[0].pattern == "3gpp-service\\.ims\\.icsi\\.oma\\.cpm");
        } else {
          CHECK(tr->headers.empty());
        }
      }
    }
  }
}

TEST_CASE("config::parse fails cleanly on every truncation of a good file")
{
  const std::string good = k_good;
  int failed = 0;
  for (size_t n = 0; n < good.size(); n += 7) {
    auto f = parse(good.substr(0, n), "lab.toml");
    if (!f) {
      ++failed;
      CHECK(f.error().message.rfind("lab.toml:", 0) == 0);
      CHECK(f.error().code == 2);
    }
  }
  CHECK(failed > 0);
}

TEST_CASE("config::parse reads the example of cpm.toml(5)")
{
  std::ifstream in(std::string(CPM_SOURCE_DIR) + "/man/cpm.toml.5");
  REQUIRE(in);
  // The first literal display after ".Sh EXAMPLES" is a complete lab.
  std::string line, text;
  bool examples = false, inside = false;
  while (std::getline(in, line)) {
    if (line == ".Sh EXAMPLES")
      examples = true;
    else if (examples && line.rfind(".Bd -literal", 0) == 0)
      inside = true;
    else if (inside && line == ".Ed")
      break;
    else if (inside)
      text += line + "\n";
  }
  REQUIRE(text.find("[[node]]") != std::string::npos);
  auto f = parse(text, "cpm.toml.5");
  REQUIRE_MESSAGE(f, (f ? "" : f.error().message));
  CHECK(f->nodes.size() == 3);
  CHECK(f->triggers_of("coreA").size() == 2);
  CHECK(f->find_node("csA")->proxy == "sip:127.0.1.1:5060");
}

TEST_SUITE_BEGIN("config");

TEST_CASE("config::load_node picks a node of the right role or a default one")
{
  namespace config = cpm::config;
  auto dflt = config::load_node("", "", config::Role::Core, "cpm-core-route");
  REQUIRE(dflt);
  CHECK(dflt->node.name == "cpm-core-route");
  CHECK(dflt->node.role == config::Role::Core);
  CHECK(dflt->file.nodes.empty());

  const std::string lab = std::string(CPM_SOURCE_DIR) + "/examples/lab-icsi.toml";
  auto core = config::load_node(lab, "coreA", config::Role::Core, "x");
  REQUIRE(core);
  CHECK(core->node.name == "coreA");
  CHECK_FALSE(core->file.nodes.empty());

  auto wrong = config::load_node(lab, "csA", config::Role::Core, "x");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().message.find("node 'csA' is a conversation-server, not a core") !=
        std::string::npos);
  auto missing = config::load_node(lab, "nobody", config::Role::Core, "x");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("no node named 'nobody'") != std::string::npos);
  CHECK_FALSE(config::load_node("", "coreA", config::Role::Core, "x"));
  CHECK_FALSE(config::load_node("/nonexistent/lab.toml", "", config::Role::Core, "x"));
}

TEST_SUITE_END();

TEST_CASE("config media lists of nodes, users and groups")
{
  auto f = parse(k_cs + "media = [\"message\"]\n" +
                     "[[user]]\nuri = \"sip:a@a.example\"\nmedia = [\"message\", \"audio\"]\n" +
                     "[[group]]\nuri = \"sip:g@a.example\"\nhost = \"csA\"\nmedia = [\"audio\"]\n"
                     "invite_timeout_ms = 5000\n",
                 "lab.toml");
  REQUIRE(f);
  CHECK(f->nodes.at(0).media == std::vector<std::string>{"message"});
  CHECK(f->users.at(0).policy.media == std::vector<std::string>{"message", "audio"});
  CHECK(f->groups.at(0).media == std::vector<std::string>{"audio"});
  CHECK(f->groups.at(0).invite_timeout_ms == 5000);
  CHECK(error_of("[[user]]\nuri = \"sip:a@a.example\"\nmedia = [\"smell\"]\n") ==
        "lab.toml:3: user 'sip:a@a.example': key 'media' has 'smell', which is not message, audio, "
        "video, text or application");
}
TEST_CASE("config SMPP accounts of iwf and smsc nodes fit SMPP 3.4's fields")
{
  const std::string iwf = "[[node]]\nname = \"iwf\"\nrole = \"iwf\"\nsmsc = \"127.0.0.1:2775\"\n";
  CHECK(error_of(iwf + "system_id = \"cpm-iwf\"\npassword = \"iwf-pass\"\n").empty());
  auto f = parse(iwf + "sms_routes = [\"+1555\", \"+44\"]\n", "lab.toml");
  REQUIRE(f);
  CHECK(f->nodes.at(0).sms_routes == std::vector<std::string>{"+1555", "+44"});
  CHECK(error_of(iwf + "sms_routes = [\"1555\"]\n")
            .find("sms_routes has '1555': want an E.164 prefix") != std::string::npos);
  CHECK(error_of(iwf + "password = \"iwf-secret\"\n") ==
        "lab.toml:5: node 'iwf': password 'iwf-secret' is longer than SMPP 3.4 allows (8 "
        "characters)");
  CHECK(error_of("[[node]]\nname = \"nc\"\nrole = \"smsc\"\nsystem_id = "
                 "\"a-much-too-long-id\"\n")
            .find("system_id 'a-much-too-long-id' is longer than SMPP 3.4 allows (15") !=
        std::string::npos);
}
TEST_CASE("config HEP keys of any node: hep, hep_id, hep_node, hep_key")
{
  auto plain = parse(k_core, "lab.toml");
  REQUIRE(plain);
  CHECK(plain->nodes.at(0).hep.empty());
  CHECK(plain->nodes.at(0).hep_id == -1);
  auto f = parse(k_core + "hep = \"udp:127.0.0.9:9060\"\nhep_id = 4294967295\n"
                          "hep_node = \"A\"\nhep_key = \"k\"\n",
                 "lab.toml");
  REQUIRE_MESSAGE(f, (f ? "" : f.error().message));
  const auto& n = f->nodes.at(0);
  CHECK(n.hep == "udp:127.0.0.9:9060");
  CHECK(n.hep_id == 4294967295);
  CHECK(n.hep_node == "A");
  CHECK(n.hep_key == "k");
  CHECK(error_of(k_core + "hep = \"tcp:127.0.0.9:9060\"\n")
            .find("node 'coreA': key 'hep' is 'tcp:127.0.0.9:9060': want \"udp:HOST:PORT\"") !=
        std::string::npos);
  CHECK(error_of(k_core + "hep = \"udp:homer.example:9060\"\n").find("key 'hep'") !=
        std::string::npos);
  CHECK(error_of(k_core + "hep_id = -1\n").find("key 'hep_id' must be between 0 and") !=
        std::string::npos);
}

TEST_CASE("config path_mtu of any node: RFC 3261 §18.1.1's size for UDP")
{
  auto plain = parse(k_core, "lab.toml");
  REQUIRE(plain);
  CHECK(plain->nodes.at(0).path_mtu == 0);
  CHECK(cpm::sip::udp_max_for(0) == 1300);
  auto f = parse(k_cs + "path_mtu = 65535\n", "lab.toml");
  REQUIRE(f);
  CHECK(f->nodes.at(0).path_mtu == 65535);
  CHECK(cpm::sip::udp_max_for(65535) == 65335);
  CHECK(cpm::sip::udp_max_for(1500) == 1300);
  CHECK(error_of(k_core + "path_mtu = 500\n")
            .find("node 'coreA': key 'path_mtu' must be 0 (unknown) or at least 576") !=
        std::string::npos);
  CHECK(error_of(k_core + "path_mtu = 70000\n").find("key 'path_mtu' must be between 0 and") !=
        std::string::npos);
}

TEST_CASE("config realtime_priority of a conversation server")
{
  auto plain = parse(k_cs, "lab.toml");
  REQUIRE(plain);
  CHECK(plain->nodes.at(0).realtime_priority == 0);
  auto f = parse(k_cs + "realtime_priority = 10\n", "lab.toml");
  REQUIRE(f);
  CHECK(f->nodes.at(0).realtime_priority == 10);
  CHECK(error_of(k_cs + "realtime_priority = 100\n")
            .find("node 'csA': key 'realtime_priority' must be between 0 and 99") !=
        std::string::npos);
  CHECK(error_of(k_cs + "realtime_priority = \"high\"\n")
            .find("key 'realtime_priority' must be an integer") != std::string::npos);
  CHECK(error_of(k_core + "realtime_priority = 10\n")
            .find("realtime_priority belongs to a conversation-server") != std::string::npos);
}

TEST_CASE("config msrp_tls of a conversation server or a client")
{
  auto plain = parse(k_cs, "lab.toml");
  REQUIRE(plain);
  CHECK_FALSE(plain->nodes.at(0).msrp_tls);
  auto f = parse(k_cs + "msrp_tls = true\n", "lab.toml");
  REQUIRE(f);
  CHECK(f->nodes.at(0).msrp_tls);
  auto c = parse("[[node]]\nname = \"alice\"\nrole = \"client\"\nmsrp_tls = true\n", "lab.toml");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
  CHECK(c->nodes.at(0).msrp_tls);
  CHECK(error_of(k_cs + "msrp_tls = 1\n").find("key 'msrp_tls'") != std::string::npos);
  CHECK(error_of(k_core + "msrp_tls = true\n")
            .find("msrp_tls belongs to a client or a conversation-server") != std::string::npos);
}
TEST_SUITE_END();
