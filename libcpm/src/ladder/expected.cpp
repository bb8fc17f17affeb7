// Expected ladders (cpm-ladder(1)): [alias] and [transaction] sections of steps.
#include "cpm/base/text.hpp"
#include "cpm/ladder/ladder.hpp"
#include "cpm/ladder/ladder_detail.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

namespace cpm::ladder {

namespace {

using detail::split_ws;
using text::trim;

// An expected ladder read line by line; each step of the format is one member.
class Reader {
public:
  explicit Reader(const std::string& name) : m_name(name) {}
  // Read line `n` (a comment and surrounding blanks already cut off; not empty).
  Result<void> line(std::string_view line, int n);
  // The checks of the whole file, then the aliases resolved.
  Result<Expected> finish();

private:
  // "NAME:LINE: msg" at the current line.
  tl::unexpected<Error> err(const std::string& msg) const
  {
    return fail(fmt::format("{}:{}: {}", m_name, m_n, msg));
  }
  // "[alias]" or "[transaction NAME]".
  Result<void> section(std::string_view line);
  // "NAME = NODE" in [alias].
  Result<void> alias(std::string_view line);
  // "after [5.1] [5.2]" in a transaction.
  Result<void> after(Transaction& t, const std::vector<std::string>& words);
  // "[STEP] FROM -> TO METHOD [URI]" or "[STEP] FROM -> TO CODE [REASON]".
  Result<void> step(Transaction& t, const std::vector<std::string>& words);
  // The rest of a step whose word `at` is an SMPP PDU: "submit_sm" or "submit_sm_resp [STATUS]".
  Result<void> smpp_step(Transaction& t, Step s, const std::vector<std::string>& words, size_t at);

  enum class Section { none, alias, transaction };
  const std::string& m_name;
  Expected m_ex;
  Section m_sec = Section::none;
  std::set<std::string> m_labels;
  std::vector<std::pair<std::string, int>> m_afters; // label, line
  int m_n = 0;
};

Result<void> Reader::line(std::string_view line, int n)
{
  m_n = n;
  if (line.front() == '[' && line.back() == ']' && line.find("->") == std::string_view::npos)
    return section(line);
  if (m_sec == Section::none)
    return err("expected [alias] or [transaction NAME] first");
  if (m_sec == Section::alias)
    return alias(line);
  auto& t = m_ex.transactions.back();
  auto words = split_ws(line);
  if (words[0] == "after")
    return after(t, words);
  return step(t, words);
}

Result<void> Reader::section(std::string_view line)
{
  auto words = split_ws(line.substr(1, line.size() - 2));
  if (words.size() == 1 && words[0] == "alias") {
    m_sec = Section::alias;
  } else if (!words.empty() && words[0] == "transaction" && words.size() <= 2) {
    m_sec = Section::transaction;
    Transaction t;
    t.name =
        words.size() == 2 ? words[1] : fmt::format("transaction{}", m_ex.transactions.size() + 1);
    t.line = m_n;
    m_ex.transactions.push_back(std::move(t));
  } else {
    return err(fmt::format("unknown section '{}'", line));
  }
  return {};
}

Result<void> Reader::alias(std::string_view line)
{
  auto eq = line.find('=');
  if (eq == std::string_view::npos)
    return err("expected 'NAME = NODE' in [alias]");
  auto k = std::string(trim(line.substr(0, eq)));
  auto v = std::string(trim(line.substr(eq + 1)));
  if (k.empty() || v.empty() || k.find(' ') != std::string::npos ||
      v.find(' ') != std::string::npos)
    return err("expected 'NAME = NODE' in [alias]");
  m_ex.alias[k] = v;
  return {};
}

Result<void> Reader::after(Transaction& t, const std::vector<std::string>& words)
{
  if (words.size() < 2)
    return err("'after' needs at least one step label");
  for (size_t i = 1; i < words.size(); ++i) {
    auto l = words[i];
    if (l.size() > 2 && l.front() == '[' && l.back() == ']')
      l = l.substr(1, l.size() - 2);
    t.after.push_back(l);
    m_afters.emplace_back(l, m_n);
  }
  return {};
}

Result<void> Reader::step(Transaction& t, const std::vector<std::string>& words)
{
  Step s;
  s.line = m_n;
  size_t i = 0;
  if (words[0].front() == '[') {
    if (words[0].size() < 3 || words[0].back() != ']')
      return err(fmt::format("bad step label '{}'", words[0]));
    s.label = words[0].substr(1, words[0].size() - 2);
    if (!m_labels.insert(s.label).second)
      return err(fmt::format("step [{}] defined twice", s.label));
    i = 1;
  }
  if (words.size() < i + 4 || words[i + 1] != "->")
    return err("expected '[STEP] FROM -> TO METHOD [URI]' or '[STEP] FROM -> TO CODE [REASON]'");
  s.from = words[i];
  s.to = words[i + 2];
  const auto& what = words[i + 3];
  if (is_smpp_pdu(what)) // an SMPP PDU: "submit_sm", "submit_sm_resp [STATUS]"
    return smpp_step(t, std::move(s), words, i + 3);
  if (what.size() == 3 && std::all_of(what.begin(), what.end(), ::isdigit)) {
    s.status = std::stoi(what);
    if (s.status < 100)
      return err(fmt::format("bad status code '{}'", what));
    t.responses.push_back(std::move(s));
  } else {
    s.reinvite = what == "re-INVITE";
    if (!s.reinvite &&
        !std::all_of(what.begin(), what.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      return err(fmt::format(
          "'{}' is neither a method (upper case), a status code nor an SMPP PDU (lower case)",
          what));
    s.request = true;
    s.method = s.reinvite ? "INVITE" : what;
    if (words.size() > i + 5)
      return err(fmt::format("unexpected '{}' after the request URI", words[i + 5]));
    if (words.size() == i + 5)
      s.uri = words[i + 4];
    t.requests.push_back(std::move(s));
  }
  return {};
}

Result<void> Reader::smpp_step(Transaction& t, Step s, const std::vector<std::string>& words,
                               size_t at)
{
  s.smpp = true;
  s.method = words[at];
  if (!detail::strip_resp(s.method)) {
    if (words.size() > at + 1)
      return err(fmt::format("unexpected '{}' after the SMPP PDU", words[at + 1]));
    s.request = true;
    t.requests.push_back(std::move(s));
    return {};
  }
  if (words.size() > at + 2)
    return err(fmt::format("unexpected '{}' after the command_status", words[at + 2]));
  if (words.size() == at + 2) {
    auto code = smpp_status_code(words[at + 1]);
    if (code < 0)
      return err(fmt::format("bad SMPP command_status '{}' (ESME_ name, 0xHEX or decimal)",
                             words[at + 1]));
    s.status = static_cast<int>(code);
  }
  t.responses.push_back(std::move(s));
  return {};
}

Result<Expected> Reader::finish()
{
  if (m_ex.transactions.empty())
    return fail(fmt::format("{}: no [transaction] section", m_name));
  for (const auto& t : m_ex.transactions)
    if (t.requests.empty())
      return fail(fmt::format("{}:{}: transaction {} has no request hop", m_name, t.line, t.name));
  for (const auto& [l, line] : m_afters)
    if (!m_labels.count(l))
      return fail(fmt::format("{}:{}: 'after' names an unknown step [{}]", m_name, line, l));
  auto map = [&](std::string& node) {
    if (auto it = m_ex.alias.find(node); it != m_ex.alias.end())
      node = it->second;
  };
  for (auto& t : m_ex.transactions)
    for (auto* v : {&t.requests, &t.responses})
      for (auto& s : *v) {
        map(s.from);
        map(s.to);
      }
  return std::move(m_ex);
}

} // namespace

Result<Expected> parse_expected(std::string_view text, const std::string& name)
{
  Reader r(name);
  int n = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    ++n;
    if (auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty())
      continue;
    if (auto ok = r.line(line, n); !ok)
      return tl::unexpected(ok.error());
  }
  return r.finish();
}

Result<Expected> read_expected(const std::string& path)
{
  std::ifstream in(path);
  if (!in)
    return fail(fmt::format("cannot read expected ladder {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_expected(ss.str(), path);
}

} // namespace cpm::ladder
