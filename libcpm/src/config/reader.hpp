#pragma once
// Reading cpm.toml's tables (not a public interface: toml++ stays private to libcpm, so this
// header sits beside the sources that use it).
#include <algorithm>
#include <climits>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <vector>

#include "cpm/config/config.hpp"

namespace cpm::config::detail {

inline int line_of(const toml::node& n)
{
  return static_cast<int>(n.source().begin.line);
}

inline const char* type_name(const toml::node& n)
{
  switch (n.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a float";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  default:
    return "a date or time";
  }
}

// Reads the keys of one table, remembering the first error. Messages look like
// "lab.toml:7: node 'csA': role must be ...".
class Reader {
public:
  Reader(const std::string& path, const toml::table& t, std::string label)
      : m_path(path), m_t(t), m_label(std::move(label))
  {
  }

  bool ok() const { return !m_err; }
  Error error() const { return *m_err; }
  void set_label(std::string label) { m_label = std::move(label); }

  int line() const { return line_of(m_t); }
  int line(std::string_view key) const
  {
    auto* n = m_t.get(key);
    return n ? line_of(*n) : line();
  }
  bool has(std::string_view key) const { return m_t.contains(key); }

  void fail_at(int line, const std::string& msg)
  {
    if (!m_err)
      m_err = Error{
          fmt::format("{}:{}: {}{}", m_path, line, m_label.empty() ? "" : m_label + ": ", msg), 2};
  }
  void fail_key(std::string_view key, const std::string& msg)
  {
    fail_at(line(key), fmt::format("key '{}' {}", key, msg));
  }

  // Every key of the table must be in `keys`; reports the first unknown one by line.
  void known(std::initializer_list<std::string_view> keys)
  {
    const toml::node* worst = nullptr;
    std::string name;
    for (auto&& [k, v] : m_t) {
      if (std::find(keys.begin(), keys.end(), k.str()) != keys.end())
        continue;
      if (!worst || line_of(v) < line_of(*worst)) {
        worst = &v;
        name = std::string(k.str());
      }
    }
    if (worst)
      fail_at(line_of(*worst), fmt::format("unknown key '{}'", name));
  }

  void require(std::string_view key)
  {
    if (!has(key))
      fail_at(line(), fmt::format("missing key '{}'", key));
  }

  void str(std::string_view key, std::string& out)
  {
    auto* n = m_t.get(key);
    if (!n)
      return;
    if (auto v = n->value<std::string>())
      out = *v;
    else
      fail_key(key, fmt::format("must be a string, not {}", type_name(*n)));
  }

  // A string or an array of strings.
  void strs(std::string_view key, std::vector<std::string>& out, bool single_ok)
  {
    auto* n = m_t.get(key);
    if (!n)
      return;
    const char* want =
        single_ok ? "must be a string or an array of strings" : "must be an array of strings";
    if (single_ok && n->is_string()) {
      out = {*n->value<std::string>()};
      return;
    }
    auto* a = n->as_array();
    if (!a) {
      fail_key(key, fmt::format("{}, not {}", want, type_name(*n)));
      return;
    }
    out.clear();
    for (auto&& e : *a) {
      auto v = e.value<std::string>();
      if (!v) {
        fail_at(line_of(e), fmt::format("key '{}' {}", key, want));
        return;
      }
      out.push_back(*v);
    }
  }

  // A table of strings; `lines` gets the line of each entry.
  void str_map(std::string_view key, std::map<std::string, std::string>& out,
               std::map<std::string, int>* lines = nullptr)
  {
    auto* n = m_t.get(key);
    if (!n)
      return;
    auto* t = n->as_table();
    if (!t) {
      fail_key(key, fmt::format("must be a table of strings, not {}", type_name(*n)));
      return;
    }
    for (auto&& [k, v] : *t) {
      auto s = v.value<std::string>();
      if (!s) {
        fail_at(line_of(v), fmt::format("key '{}': value of '{}' must be a string, not {}", key,
                                        k.str(), type_name(v)));
        return;
      }
      out[std::string(k.str())] = *s;
      if (lines)
        (*lines)[std::string(k.str())] = line_of(v);
    }
  }

  void boolean(std::string_view key, bool& out)
  {
    auto* n = m_t.get(key);
    if (!n)
      return;
    if (auto v = n->value_exact<bool>())
      out = *v;
    else
      fail_key(key, fmt::format("must be a boolean, not {}", type_name(*n)));
  }

  template <class I> void integer(std::string_view key, I& out, int64_t min, int64_t max)
  {
    auto* n = m_t.get(key);
    if (!n)
      return;
    auto v = n->value_exact<int64_t>();
    if (!v) {
      fail_key(key, fmt::format("must be an integer, not {}", type_name(*n)));
      return;
    }
    if (*v < min || *v > max) {
      fail_key(key, fmt::format("must be between {} and {}", min, max));
      return;
    }
    out = static_cast<I>(*v);
  }

  void size(std::string_view key, std::optional<uint64_t>& out)
  {
    if (!has(key))
      return;
    int64_t v = 0;
    integer(key, v, 0, INT64_MAX);
    if (ok())
      out = static_cast<uint64_t>(v);
  }

private:
  const std::string& m_path;
  const toml::table& m_t;
  std::string m_label;
  std::optional<Error> m_err;
};

// The tables of one kind, each read and checked on its own ("lab.toml:7: node 'csA': ...").
Result<Node> parse_node(const std::string& path, const toml::table& t);
// Second pass over a node, once all nodes are known: resolve node names.
Result<void> resolve_node(const std::string& path, const toml::table& t, const File& f, Node& n);
Result<User> parse_user(const std::string& path, const toml::table& t);
Result<Trigger> parse_trigger(const std::string& path, const toml::table& t, const File& f);
Result<Group> parse_group(const std::string& path, const toml::table& t, const File& f);

} // namespace cpm::config::detail
