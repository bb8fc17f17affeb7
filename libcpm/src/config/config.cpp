// The TOML configuration (cpm.toml(5)): parse with toml++, validate into config::File. The
// tables one by one: tables.cpp; the lookups: config_lookup.cpp.
#include "cpm/config/config.hpp"
#include "reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace cpm::config {

namespace {

using namespace detail;

// An array of tables at top level ([[node]] ...); a missing key is an empty array.
Result<const toml::array*> tables(const std::string& path, const toml::table& root,
                                  std::string_view key)
{
  auto* n = root.get(key);
  if (!n)
    return nullptr;
  auto* a = n->as_array();
  bool ok = a && std::all_of(a->begin(), a->end(), [](auto&& e) { return e.is_table(); });
  if (!ok)
    return fail(fmt::format("{}:{}: key '{}' must be an array of tables ([[{}]])", path,
                            line_of(*n), key, key));
  return a;
}

} // namespace

// to_string and the File lookups live in config_lookup.cpp.

Result<File> parse(const std::string& text, const std::string& path)
{
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return fail(fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  File f;
  f.path = path;
  {
    Reader r(path, root, "");
    r.known({"node", "user", "trigger", "group"});
    if (!r.ok())
      return tl::unexpected(r.error());
  }
  auto node_tables = tables(path, root, "node");
  auto user_tables = tables(path, root, "user");
  auto trigger_tables = tables(path, root, "trigger");
  auto group_tables = tables(path, root, "group");
  for (auto* a : {&node_tables, &user_tables, &trigger_tables, &group_tables})
    if (!*a)
      return tl::unexpected(a->error());

  if (*node_tables) {
    for (auto&& e : **node_tables) {
      auto n = parse_node(path, *e.as_table());
      if (!n)
        return tl::unexpected(n.error());
      if (auto* prev = f.find_node(n->name))
        return fail(fmt::format("{}:{}: node '{}': duplicate node name (first defined on line {})",
                                path, n->line, n->name, prev->line));
      f.nodes.push_back(std::move(*n));
    }
    for (size_t i = 0; i < f.nodes.size(); ++i) {
      Node copy = f.nodes[i];
      auto ok = resolve_node(path, *(**node_tables)[i].as_table(), f, copy);
      if (!ok)
        return tl::unexpected(ok.error());
      f.nodes[i] = std::move(copy);
    }
  }
  if (*user_tables)
    for (auto&& e : **user_tables) {
      auto u = parse_user(path, *e.as_table());
      if (!u)
        return tl::unexpected(u.error());
      if (auto* prev = f.find_user(u->uri))
        return fail(fmt::format("{}:{}: user '{}': duplicate user (first defined on line {})", path,
                                u->line, u->uri, prev->line));
      if (auto* prev = f.find_user_by_tel(u->tel))
        return fail(fmt::format("{}:{}: user '{}': tel '{}' is also user '{}''s (line {})", path,
                                u->line, u->uri, u->tel, prev->uri, prev->line));
      f.users.push_back(std::move(*u));
    }
  if (*trigger_tables)
    for (auto&& e : **trigger_tables) {
      auto t = parse_trigger(path, *e.as_table(), f);
      if (!t)
        return tl::unexpected(t.error());
      f.triggers.push_back(std::move(*t));
    }
  if (*group_tables)
    for (auto&& e : **group_tables) {
      auto g = parse_group(path, *e.as_table(), f);
      if (!g)
        return tl::unexpected(g.error());
      if (auto* prev = f.find_group(g->uri))
        return fail(fmt::format("{}:{}: group '{}': duplicate group (first defined on line {})",
                                path, g->line, g->uri, prev->line));
      f.groups.push_back(std::move(*g));
    }
  std::stable_sort(f.triggers.begin(), f.triggers.end(), [](const Trigger& a, const Trigger& b) {
    return std::tie(a.node, a.priority, a.line) < std::tie(b.node, b.priority, b.line);
  });
  return f;
}

Result<File> load(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    return fail(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  return parse(ss.str(), path);
}

} // namespace cpm::config
