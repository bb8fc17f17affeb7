// Lookups over a parsed configuration (config.cpp does the parsing).
#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <tuple>

#include "cpm/config/config.hpp"
#include "cpm/grammar/uri.hpp"

namespace cpm::config {

const Node* File::find_node(const std::string& name) const
{
  for (const auto& n : nodes)
    if (n.name == name)
      return &n;
  return nullptr;
}

const User* File::find_user(const std::string& uri) const
{
  auto aor = sip::canonical_aor(uri);
  if (aor.empty())
    return nullptr;
  for (const auto& u : users)
    if (sip::canonical_aor(u.uri) == aor)
      return &u;
  return nullptr;
}

const User* File::find_user_by_tel(std::string_view number) const
{
  if (number.empty())
    return nullptr;
  for (const auto& u : users)
    if (u.tel == number)
      return &u;
  return nullptr;
}

const Group* File::find_group(const std::string& uri) const
{
  // Compared in place: the core asks this for every request it routes.
  for (const auto& g : groups)
    if (sip::same_aor(g.uri, uri))
      return &g;
  return nullptr;
}

std::vector<const Trigger*> File::triggers_of(const std::string& node) const
{
  std::vector<const Trigger*> out;
  for (const auto& t : triggers)
    if (t.node == node)
      out.push_back(&t);
  std::stable_sort(out.begin(), out.end(), [](const Trigger* a, const Trigger* b) {
    if (a->priority != b->priority)
      return a->priority < b->priority;
    return a->line < b->line;
  });
  return out;
}

std::string File::node_uri(const std::string& name) const
{
  const Node* n = find_node(name);
  if (!n || n->listen.empty())
    return "";
  return sip::to_sip_uri(n->listen.front());
}

Result<Selection> load_node(const std::string& path, const std::string& node_name, Role role,
                            const std::string& fallback_name)
{
  Selection sel;
  if (!path.empty()) {
    auto f = load(path);
    if (!f)
      return tl::unexpected(f.error());
    sel.file = std::move(*f);
  } else if (!node_name.empty()) {
    return fail("--node needs --config");
  }
  if (node_name.empty()) {
    sel.node.name = fallback_name;
    sel.node.role = role;
    return sel;
  }
  const Node* n = sel.file.find_node(node_name);
  if (!n)
    return fail(fmt::format("{}: no node named '{}'", path, node_name));
  if (n->role != role)
    return fail(fmt::format("{}: node '{}' is a {}, not a {}", path, node_name, to_string(n->role),
                            to_string(role)));
  sel.node = *n;
  return sel;
}

std::string to_string(Role r)
{
  switch (r) {
  case Role::Core:
    return "core";
  case Role::ConversationServer:
    return "conversation-server";
  case Role::Client:
    return "client";
  case Role::Iwf:
    return "iwf";
  case Role::Smsc:
    return "smsc";
  }
  return "unknown";
}

std::string to_string(SessionCase c)
{
  return c == SessionCase::Originating ? "originating" : "terminating";
}

std::vector<SmppTooLong> smpp_too_long(const Node& n)
{
  std::vector<SmppTooLong> out;
  for (const auto& [key, value, limit] : {std::tuple{"system_id", &n.system_id, size_t(15)},
                                          std::tuple{"password", &n.password, size_t(8)},
                                          std::tuple{"system_type", &n.system_type, size_t(12)}})
    if (value->size() > limit)
      out.push_back({key, *value, limit});
  return out;
}

std::string beside(const std::string& config_path, const std::string& file)
{
  std::filesystem::path f(file);
  if (file.empty() || file == ":memory:" || f.is_absolute())
    return file;
  auto dir = std::filesystem::path(config_path).parent_path();
  return dir.empty() ? file : (dir / f).string();
}

} // namespace cpm::config
