// A run's arrows compared with an expected ladder, transaction by transaction (FLOWS.md).
#include "cpm/ladder/ladder.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <numeric>
#include <set>

namespace cpm::ladder {

namespace {

struct UnionFind {
  std::vector<size_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  size_t find(size_t x)
  {
    while (parent[x] != x)
      x = parent[x] = parent[parent[x]];
    return x;
  }
  void join(size_t a, size_t b)
  {
    a = find(a);
    b = find(b);
    if (a != b)
      parent[std::max(a, b)] = std::min(a, b);
  }
};

std::string fmt_secs(int64_t us)
{
  return fmt::format("{:.3f}s", static_cast<double>(us) / 1e6);
}

bool same(const Step& s, const Arrow& h)
{
  if (s.from != h.from || s.to != h.to || s.request != h.request || s.smpp != h.smpp)
    return false;
  if (s.smpp)
    return s.method == h.method && (s.request || s.status == h.status);
  if (s.request) {
    if (s.method != h.method)
      return false;
    if (s.method == "INVITE" && s.reinvite != h.in_dialog)
      return false;
    if (!s.uri.empty()) {
      // An expected URI without parameters ignores the actual URI's parameters.
      auto u = h.uri;
      if (s.uri.find(';') == std::string::npos)
        u = u.substr(0, u.find(';'));
      return s.uri == u;
    }
    return true;
  }
  return s.status == h.status;
}

// One line of a diff: ' ' both, '-' expected only, '+' actual only.
struct Op {
  char kind;
  const Step* step;
  const Arrow* hop;
};

// Longest common subsequence of expected steps and actual hops, as diff operations.
std::vector<Op> diff(const std::vector<const Step*>& want, const std::vector<const Arrow*>& got)
{
  auto n = want.size(), m = got.size();
  std::vector<std::vector<size_t>> l(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      l[i][j] = same(*want[i], *got[j]) ? l[i + 1][j + 1] + 1 : std::max(l[i + 1][j], l[i][j + 1]);
  std::vector<Op> ops;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && same(*want[i], *got[j])) {
      ops.push_back({' ', want[i++], got[j++]});
    } else if (j < m && (i == n || l[i][j + 1] >= l[i + 1][j])) {
      ops.push_back({'+', nullptr, got[j++]});
    } else {
      ops.push_back({'-', want[i++], nullptr});
    }
  }
  return ops;
}

// A transaction of the run: a request hop by hop and its responses.
struct Group {
  std::vector<const Arrow*> requests;
  std::vector<const Arrow*> responses;
  bool used = false;
};

// The comparison of one expected transaction with one group.
struct Match {
  std::vector<Op> requests;
  std::vector<std::pair<int, std::vector<Op>>> responses; // per status code
  size_t score = 0;
  bool ok = true;
};

Match compare(const Transaction& t, const Group& g)
{
  Match m;
  std::vector<const Step*> wr;
  for (const auto& s : t.requests)
    wr.push_back(&s);
  m.requests = diff(wr, g.requests);
  std::set<int> codes;
  for (const auto& s : t.responses)
    codes.insert(s.status);
  for (const auto* h : g.responses)
    if (h->status >= 200 || h->smpp)
      codes.insert(h->status); // a provisional code the ladder does not show is not compared
  for (int code : codes) {
    std::vector<const Step*> ws;
    std::vector<const Arrow*> gs;
    for (const auto& s : t.responses)
      if (s.status == code)
        ws.push_back(&s);
    for (const auto* h : g.responses)
      if (h->status == code)
        gs.push_back(h);
    m.responses.emplace_back(code, diff(ws, gs));
  }
  auto tally = [&](const std::vector<Op>& ops) {
    for (const auto& op : ops) {
      if (op.kind == ' ')
        ++m.score;
      else
        m.ok = false;
    }
  };
  tally(m.requests);
  for (const auto& [code, ops] : m.responses)
    tally(ops);
  return m;
}

std::string describe_step(const Step& s)
{
  auto method = s.reinvite ? std::string("re-INVITE") : s.method;
  auto what =
      s.request ? (s.uri.empty() ? method : method + " " + s.uri) : std::to_string(s.status);
  if (s.smpp && !s.request) {
    auto name = smpp_status_name(static_cast<uint32_t>(s.status));
    what = s.method + "_resp" + (s.status == 0 ? "" : " " + (name.empty() ? what : name));
  }
  return fmt::format("{:<8} {} -> {}  {}", s.label.empty() ? "" : "[" + s.label + "]", s.from, s.to,
                     what);
}

std::string describe_arrow(const Arrow& h, int64_t t0)
{
  return fmt::format("{} -> {}  {}   (at {})", h.from, h.to, label(h, true),
                     fmt_secs(h.time_us - t0));
}

// A node that sends one message on two or more Call-IDs of its own making (a group's
// fan-out) makes one transaction per copy: the keys ("m\nMETHOD\nIMDN-ID") of those messages,
// which are not joined (the ladder relates them with `after`).
std::set<std::string> fanned_out(const std::vector<Arrow>& hs)
{
  std::set<std::string> fanned;
  std::map<std::string, std::map<std::string, std::set<std::string>>> sent, received;
  for (const auto& h : hs) {
    if (!h.request || h.imdn_id.empty())
      continue;
    auto k = fmt::format("m\n{}\n{}", h.method, h.imdn_id);
    sent[k][h.from].insert(h.call_id);
    received[k][h.to].insert(h.call_id);
  }
  for (const auto& [k, by_node] : sent)
    for (const auto& [node, ids] : by_node) {
      size_t fresh = 0;
      for (const auto& id : ids)
        fresh += received[k][node].count(id) ? 0 : 1;
      if (fresh >= 2)
        fanned.insert(k);
    }
  return fanned;
}

// Group hops into transactions: Call-ID + CSeq (a proxy keeps them), joined across a
// B2BUA by the CPIM imdn.Message-ID of the requests (FLOWS.md).
std::vector<Group> transactions(const std::vector<Arrow>& hs)
{
  UnionFind uf(hs.size());
  auto fanned = fanned_out(hs);
  std::map<std::string, size_t> first;
  auto key = [&](size_t i, const std::string& k) {
    auto [it, fresh] = first.emplace(k, i);
    if (!fresh)
      uf.join(it->second, i);
  };
  for (size_t i = 0; i < hs.size(); ++i) {
    key(i, fmt::format("c\n{}\n{}\n{}", hs[i].call_id, hs[i].cseq, hs[i].method));
    if (hs[i].request && !hs[i].imdn_id.empty()) {
      auto k = fmt::format("m\n{}\n{}", hs[i].method, hs[i].imdn_id);
      if (!fanned.count(k))
        key(i, k);
    }
  }
  std::map<size_t, Group> by_root;
  for (size_t i = 0; i < hs.size(); ++i) {
    auto& g = by_root[uf.find(i)];
    (hs[i].request ? g.requests : g.responses).push_back(&hs[i]);
  }
  std::vector<Group> groups;
  for (auto& [root, g] : by_root)
    groups.push_back(std::move(g));
  return groups;
}

// The comparison of the run's groups with the expected transactions, writing the report.
class Checker {
public:
  Checker(std::vector<Group> groups, int64_t t0) : m_groups(std::move(groups)), m_t0(t0)
  {
    m_res.ok = true;
  }
  // Find the group of `t` and report how it agrees.
  void match(const Transaction& t);
  // Causal order between transactions ("after" lines).
  void check_order();
  // The groups no transaction claimed.
  void report_extra();
  // The outcome, its last line written.
  CheckResult result();
  // The step a hop matched ("5.1", "=" without label, "+" when the ladder lacks it), or "".
  std::string step_of(const Arrow* h) const
  {
    auto it = m_step_of.find(h);
    return it == m_step_of.end() ? std::string() : it->second;
  }

private:
  // The unused group that agrees best with `t`, or null; its comparison in `bm`.
  Group* best_group(const Transaction& t, Match& bm);
  // Note the labelled steps of `ops`; when `bm` mismatches, show them under `title`.
  void show(const Match& bm, const std::string& title, const std::vector<Op>& ops);

  std::vector<Group> m_groups;
  int64_t m_t0;
  CheckResult m_res;
  std::map<std::string, const Arrow*> m_at_label; // step label -> the hop it matched
  std::map<const Arrow*, std::string> m_step_of;  // hop -> its step (CheckResult::steps)
  std::vector<std::pair<const Transaction*, const Group*>> m_pairs;
};

Group* Checker::best_group(const Transaction& t, Match& bm)
{
  Group* best = nullptr;
  for (auto& g : m_groups) {
    if (g.used)
      continue;
    auto m = compare(t, g);
    if (!best || m.score > bm.score) {
      best = &g;
      bm = std::move(m);
    }
  }
  return best;
}

void Checker::match(const Transaction& t)
{
  std::string& out = m_res.report;
  Match bm;
  Group* best = best_group(t, bm);
  if (!best || bm.score == 0) {
    m_res.ok = false;
    out += fmt::format("transaction {}: not found in the run\n", t.name);
    for (const auto* v : {&t.requests, &t.responses})
      for (const auto& s : *v)
        out += fmt::format("  - {}\n", describe_step(s));
    return;
  }
  best->used = true;
  m_pairs.emplace_back(&t, best);
  size_t hops_n = best->requests.size() + best->responses.size();
  if (bm.ok) {
    out += fmt::format("transaction {}: ok ({} hops)\n", t.name, hops_n);
  } else {
    m_res.ok = false;
    out += fmt::format("transaction {}: MISMATCH (- expected, + actual)\n", t.name);
  }
  show(bm, "request", bm.requests);
  for (const auto& [code, ops] : bm.responses)
    show(bm, fmt::format("responses {}", code), ops);
}

void Checker::show(const Match& bm, const std::string& title, const std::vector<Op>& ops)
{
  std::string& out = m_res.report;
  bool all_ok = std::all_of(ops.begin(), ops.end(), [](const Op& o) { return o.kind == ' '; });
  for (const auto& op : ops) {
    if (op.step && op.hop && !op.step->label.empty())
      m_at_label[op.step->label] = op.hop;
    if (op.hop)
      m_step_of[op.hop] = !op.step ? "+" : op.step->label.empty() ? "=" : op.step->label;
  }
  if (bm.ok || ops.empty())
    return;
  out += fmt::format("  {}{}\n", title, all_ok ? ": ok" : "");
  if (all_ok)
    return;
  for (const auto& op : ops) {
    if (op.kind == '+')
      out += fmt::format("  + {:<8} {}\n", "", describe_arrow(*op.hop, m_t0));
    else
      out += fmt::format("  {} {}\n", op.kind, describe_step(*op.step));
  }
}

void Checker::check_order()
{
  std::string& out = m_res.report;
  for (const auto& [t, g] : m_pairs) {
    if (g->requests.empty())
      continue;
    const Arrow* start = g->requests.front();
    for (const auto& l : t->after) {
      auto it = m_at_label.find(l);
      if (it == m_at_label.end()) {
        m_res.ok = false;
        out += fmt::format("transaction {}: cannot check 'after [{}]': step [{}] did not happen\n",
                           t->name, l, l);
      } else if (start->time_us < it->second->time_us) {
        m_res.ok = false;
        out += fmt::format(
            "transaction {}: WRONG ORDER: its first hop ({}) came before [{}] ({})\n", t->name,
            describe_arrow(*start, m_t0), l, describe_arrow(*it->second, m_t0));
      }
    }
  }
}

void Checker::report_extra()
{
  std::string& out = m_res.report;
  for (const auto& g : m_groups) {
    if (g.used)
      continue;
    m_res.ok = false;
    const Arrow* h = !g.requests.empty() ? g.requests.front() : g.responses.front();
    out += fmt::format("extra transaction (Call-ID {}, {} {}): not in the ladder\n", h->call_id,
                       h->cseq, h->method);
    for (const auto* v : {&g.requests, &g.responses})
      for (const auto* x : *v) {
        // assign(count, char): GCC 12's -O3 -Wrestrict warns (wrongly) on `= "+"` here.
        m_step_of[x].assign(1, '+');
        out += fmt::format("  + {:<8} {}\n", "", describe_arrow(*x, m_t0));
      }
  }
}

CheckResult Checker::result()
{
  m_res.report += m_res.ok ? "ladder matches\n" : "ladder does not match\n";
  return std::move(m_res);
}

// Whether a step of `want` is a REGISTER: then REGISTER hops are compared, not left out.
bool names_register(const Expected& want)
{
  for (const auto& t : want.transactions)
    for (const auto& s : t.requests)
      if (s.method == "REGISTER")
        return true;
  return false;
}

} // namespace

CheckResult check(const Expected& want, const std::vector<Arrow>& run)
{
  Filter sip_only;
  sip_only.msrp = true; // FLOWS.md's ladders are SIP; MSRP is drawn, not compared
  sip_only.register_ = !names_register(want); // a registration ladder compares REGISTER
  auto hs = filter(run, sip_only);
  int64_t t0 = hs.empty() ? 0 : hs.front().time_us;
  Checker c(transactions(hs), t0);
  for (const auto& t : want.transactions)
    c.match(t);
  c.check_order();
  c.report_extra();
  auto res = c.result();
  // The compared hops are a filtered copy: walk the run alongside it.
  res.steps.resize(run.size());
  size_t j = 0;
  for (size_t i = 0; i < run.size() && j < hs.size(); ++i)
    if (filter({run[i]}, sip_only).size() == 1)
      res.steps[i] = c.step_of(&hs[j++]);
  return res;
}

} // namespace cpm::ladder
