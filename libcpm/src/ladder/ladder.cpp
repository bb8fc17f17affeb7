// Ladders: traces into hops, hops into text/Mermaid, and the comparison with FLOWS.md ladders.
#include "cpm/ladder/ladder.hpp"
#include "cpm/base/text.hpp"
#include "cpm/grammar/address.hpp"
#include "cpm/grammar/header.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

namespace cpm::ladder {

namespace {

using text::iequals;
using text::trim;

// The words of `s` (text::split_ws) as strings.
std::vector<std::string> split_ws(std::string_view s)
{
  auto words = text::split_ws(s);
  return {words.begin(), words.end()};
}

// Split a message into its header lines and its body.
void split_message(std::string_view msg, std::vector<std::string_view>& headers,
                   std::string_view& body)
{
  size_t pos = 0;
  bool first = true;
  body = {};
  while (pos < msg.size()) {
    auto end = msg.find('\n', pos);
    if (end == std::string_view::npos)
      end = msg.size();
    auto line = msg.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    pos = end + 1;
    if (first) { // the start line
      first = false;
      continue;
    }
    if (line.empty()) {
      body = pos < msg.size() ? msg.substr(pos) : std::string_view{};
      return;
    }
    headers.push_back(line);
  }
}

// The value of the first header named `name` (or its compact form), or "".
std::string header(const std::vector<std::string_view>& headers, std::string_view name)
{
  for (auto line : headers) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    if (iequals(sip::long_name(trim(line.substr(0, colon))), name))
      return std::string(trim(line.substr(colon + 1)));
  }
  return {};
}

// The CPIM imdn.Message-ID of a body (RFC 5438 §6.3), whatever its namespace prefix.
std::string imdn_message_id(std::string_view body)
{
  size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find('\n', pos);
    if (end == std::string_view::npos)
      end = body.size();
    auto line = body.substr(pos, end - pos);
    pos = end + 1;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto name = trim(line.substr(0, colon));
    auto dot = name.rfind('.');
    if (dot != std::string_view::npos && iequals(name.substr(dot + 1), "Message-ID"))
      return std::string(trim(line.substr(colon + 1)));
  }
  return {};
}

// "127.0.1.1:5060" -> "127.0.1.1", "[::1]:5060" -> "::1"; what is no address, unchanged.
std::string host_of(const std::string& addr)
{
  auto a = sip::address_of(addr);
  return a ? a->host : addr;
}

Arrow to_arrow(const trace::Event& e)
{
  Arrow h;
  h.time_us = e.time_us;
  h.first_line = e.first_line.empty() ? trace::first_line(e.message) : e.first_line;
  std::vector<std::string_view> headers;
  std::string_view body;
  split_message(e.message, headers, body);
  h.call_id = e.call_id.empty() ? header(headers, "Call-ID") : e.call_id;
  auto cseq = split_ws(header(headers, "CSeq"));
  if (!cseq.empty())
    h.cseq = cseq[0];
  if (cseq.size() > 1)
    h.method = cseq[1];
  auto words = split_ws(h.first_line);
  if (h.first_line.rfind("MSRP ", 0) == 0) {
    // "MSRP tid SEND" / "MSRP tid 200 OK": no Call-ID; keyed by the transaction id.
    h.msrp = true;
    h.call_id.clear();
    h.cseq = words.size() > 1 ? words[1] : "";
    bool code =
        words.size() > 2 && words[2].size() == 3 &&
        std::all_of(words[2].begin(), words[2].end(), [](char c) { return c >= '0' && c <= '9'; });
    h.request = !code;
    if (code) {
      h.status = std::atoi(words[2].c_str());
      for (size_t i = 3; i < words.size(); ++i)
        h.reason += (i > 3 ? " " : "") + words[i];
    } else if (words.size() > 2) {
      h.method = words[2];
    }
    return h;
  }
  if (h.first_line.rfind("SIP/", 0) == 0) {
    if (words.size() > 1)
      h.status = std::atoi(words[1].c_str());
    auto sp = h.first_line.find(' ');
    sp = sp == std::string::npos ? sp : h.first_line.find(' ', sp + 1);
    if (sp != std::string::npos)
      h.reason = std::string(trim(std::string_view(h.first_line).substr(sp + 1)));
  } else {
    h.request = true;
    if (!words.empty())
      h.method = words[0];
    if (words.size() > 1)
      h.uri = words[1];
    h.imdn_id = imdn_message_id(body);
  }
  return h;
}

bool is_response(std::string_view first_line)
{
  return first_line.rfind("SIP/2.0 ", 0) == 0;
}

// "host:port" of the first Via header of a message (port 5060 when absent), or "".
std::string top_via_sent_by(std::string_view message)
{
  size_t pos = 0;
  while (pos < message.size()) {
    auto end = message.find('\n', pos);
    if (end == std::string_view::npos)
      end = message.size();
    auto line = trim(message.substr(pos, end - pos));
    if (line.empty())
      break;
    auto colon = line.find(':');
    if (colon != std::string_view::npos &&
        iequals(sip::long_name(trim(line.substr(0, colon))), "Via")) {
      // "SIP/2.0/UDP host:port;params"
      auto v = trim(line.substr(colon + 1));
      auto sp = v.find_first_of(" \t");
      if (sp == std::string_view::npos)
        return {};
      auto sent = trim(v.substr(sp + 1));
      sent = sent.substr(0, sent.find_first_of(";, \t"));
      std::string out(sent);
      bool has_port = out.rfind(']') != std::string::npos ? out.find("]:") != std::string::npos
                                                          : out.find(':') != std::string::npos;
      if (!has_port)
        out += ":5060";
      return out;
    }
    pos = end + 1;
  }
  return {};
}

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

} // namespace

std::vector<Arrow> arrows(const std::vector<trace::Event>& events)
{
  // Addresses each node showed as its own.
  std::map<std::string, std::string> by_addr;
  std::map<std::string, std::set<std::string>> by_host;
  std::set<std::string> traced;
  for (const auto& e : events) {
    traced.insert(e.node);
    if (!e.local.empty()) {
      by_addr.emplace(e.local, e.node);
      by_host[host_of(e.local)].insert(e.node);
    }
  }
  auto resolve = [&](const std::string& addr) {
    if (auto it = by_addr.find(addr); it != by_addr.end())
      return it->second;
    // An ephemeral TCP port of a node whose address is its own.
    if (auto it = by_host.find(host_of(addr)); it != by_host.end() && it->second.size() == 1)
      return *it->second.begin();
    return addr.empty() ? std::string("?") : addr;
  };

  std::vector<size_t> order(events.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return events[a].time_us < events[b].time_us; });

  std::vector<Arrow> out;
  std::set<std::pair<std::string, std::string>> seen; // (sender, bytes)
  for (auto i : order) {
    const auto& e = events[i];
    std::string from, to;
    if (e.dir == "tx") {
      from = e.node;
      to = resolve(e.peer);
      // libre names the destination of a response on an inbound TCP connection by the
      // source IP and the Via port (notes/libre-1.1.md §8); outgoing TCP connections are
      // not bound to the node's address. The top Via's sent-by still names the node.
      if (to == e.peer && is_response(e.first_line))
        if (auto via = top_via_sent_by(e.message); !via.empty() && resolve(via) != via)
          to = resolve(via);
    } else if (e.dir == "rx") {
      from = resolve(e.peer);
      if (traced.count(from))
        continue; // the sender's own tx event stands for it
      to = e.node;
    } else {
      continue;
    }
    if (!e.message.empty() && !seen.emplace(from, e.message).second)
      continue; // a retransmission
    auto h = to_arrow(e);
    h.from = std::move(from);
    h.to = std::move(to);
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<Arrow>> read_arrows(const std::vector<std::string>& paths)
{
  std::vector<trace::Event> all;
  for (const auto& p : paths) {
    auto ev = trace::read_file(p);
    if (!ev)
      return tl::unexpected(ev.error());
    all.insert(all.end(), std::make_move_iterator(ev->begin()), std::make_move_iterator(ev->end()));
  }
  return arrows(all);
}

std::vector<Arrow> filter(const std::vector<Arrow>& in, const Filter& f)
{
  std::vector<Arrow> out;
  for (const auto& h : in) {
    if (f.trying && h.status == 100)
      continue;
    if (f.register_ && h.method == "REGISTER")
      continue;
    if (f.ack && h.method == "ACK")
      continue;
    if (h.msrp) {
      if (!f.msrp)
        out.push_back(h);
      continue;
    }
    bool hidden = false;
    for (const auto& m : f.more)
      // A method hides its requests and their responses (CSeq method); a code its responses.
      if (iequals(m, h.method) || (!h.request && m == std::to_string(h.status)))
        hidden = true;
    if (!hidden)
      out.push_back(h);
  }
  return out;
}

std::string label(const Arrow& h, bool with_uri)
{
  if (h.msrp)
    return h.request ? "MSRP " + h.method
                     : fmt::format("MSRP {}{}{}", h.status, h.reason.empty() ? "" : " ", h.reason);
  if (h.request)
    return with_uri && !h.uri.empty() ? h.method + " " + h.uri : h.method;
  return h.reason.empty() ? std::to_string(h.status) : fmt::format("{} {}", h.status, h.reason);
}

std::vector<std::string> nodes(const std::vector<Arrow>& hs, const std::vector<std::string>& first)
{
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end())
      out.push_back(n);
  };
  for (const auto& n : first)
    add(n);
  for (const auto& h : hs) {
    add(h.from);
    add(h.to);
  }
  return out;
}

std::string format_lines(const std::vector<Arrow>& hs)
{
  size_t wf = 0, wt = 0;
  for (const auto& h : hs) {
    wf = std::max(wf, h.from.size());
    wt = std::max(wt, h.to.size());
  }
  auto wn = std::to_string(hs.size()).size();
  std::string out;
  for (size_t i = 0; i < hs.size(); ++i)
    out += fmt::format("{:>{}}  {:<{}}  -> {:<{}}  {}\n", i + 1, std::max<size_t>(wn, 2),
                       hs[i].from, wf, hs[i].to, wt, label(hs[i], true));
  return out;
}

std::string format_columns(const std::vector<Arrow>& hs, const std::vector<std::string>& order)
{
  auto cols = nodes(hs, order);
  if (cols.empty())
    return {};
  size_t w = 10;
  for (const auto& n : cols)
    w = std::max(w, n.size() + 2);
  for (const auto& h : hs)
    w = std::max(w, std::min<size_t>(label(h, false).size() + 6, 24));
  auto center = [&](size_t k) { return k * w + w / 2; };
  auto col = [&](const std::string& n) {
    return static_cast<size_t>(std::find(cols.begin(), cols.end(), n) - cols.begin());
  };
  auto rtrim = [](std::string s) {
    while (!s.empty() && s.back() == ' ')
      s.pop_back();
    return s + "\n";
  };
  auto wn = std::max<size_t>(std::to_string(hs.size()).size(), 2);
  std::string head(cols.size() * w, ' ');
  for (size_t k = 0; k < cols.size(); ++k) {
    auto start = center(k) - std::min(center(k), cols[k].size() / 2);
    head.replace(start, std::min(cols[k].size(), head.size() - start), cols[k]);
  }
  std::string out = rtrim(std::string(wn + 2, ' ') + head);
  for (size_t i = 0; i < hs.size(); ++i) {
    std::string line(cols.size() * w, ' ');
    for (size_t k = 0; k < cols.size(); ++k)
      line[center(k)] = '|';
    auto a = col(hs[i].from), b = col(hs[i].to);
    auto text = label(hs[i], false);
    if (a == b) {
      std::string self = "<-- " + text;
      line.replace(center(a) + 1, 0, self);
    } else {
      auto lo = center(std::min(a, b)), hi = center(std::max(a, b));
      for (auto p = lo + 1; p < hi; ++p)
        line[p] = '-';
      if (b > a)
        line[hi - 1] = '>';
      else
        line[lo + 1] = '<';
      auto room = hi - lo - 5; // keep at least "-- " / " --" at both ends
      if (text.size() > room)
        text = text.substr(0, room);
      text = " " + text + " ";
      line.replace(lo + 1 + (hi - lo - 1 - text.size()) / 2, text.size(), text);
    }
    out += rtrim(fmt::format("{:>{}}  ", i + 1, wn) + line);
  }
  return out;
}

std::string format_mermaid(const std::vector<Arrow>& hs, const std::vector<std::string>& order)
{
  auto cols = nodes(hs, order);
  auto id = [&](const std::string& n) {
    return fmt::format("n{}", std::find(cols.begin(), cols.end(), n) - cols.begin() + 1);
  };
  // Mermaid ends a statement at ';' and reads '#' as an entity start.
  auto escape = [](const std::string& s) {
    std::string r;
    for (char c : s) {
      if (c == ';')
        r += "#59;";
      else if (c == '#')
        r += "#35;";
      else
        r += c;
    }
    return r;
  };
  std::string out = "sequenceDiagram\n    autonumber\n";
  for (const auto& n : cols)
    out += fmt::format("    participant {} as {}\n", id(n), escape(n));
  for (const auto& h : hs)
    out += fmt::format("    {}{}{}: {}\n", id(h.from), h.request ? "->>" : "-->>", id(h.to),
                       escape(label(h, true)));
  return out;
}

// ---- expected ladders ----

Result<Expected> parse_expected(std::string_view text, const std::string& name)
{
  Expected ex;
  enum class Section { none, alias, transaction } sec = Section::none;
  std::set<std::string> labels;
  std::vector<std::pair<std::string, int>> afters; // label, line
  int n = 0;
  size_t pos = 0;
  auto err = [&](const std::string& msg) { return fail(fmt::format("{}:{}: {}", name, n, msg)); };
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
    if (line.front() == '[' && line.back() == ']' && line.find("->") == std::string_view::npos) {
      auto words = split_ws(line.substr(1, line.size() - 2));
      if (words.size() == 1 && words[0] == "alias") {
        sec = Section::alias;
      } else if (!words.empty() && words[0] == "transaction" && words.size() <= 2) {
        sec = Section::transaction;
        Transaction t;
        t.name =
            words.size() == 2 ? words[1] : fmt::format("transaction{}", ex.transactions.size() + 1);
        t.line = n;
        ex.transactions.push_back(std::move(t));
      } else {
        return err(fmt::format("unknown section '{}'", line));
      }
      continue;
    }
    if (sec == Section::none)
      return err("expected [alias] or [transaction NAME] first");
    if (sec == Section::alias) {
      auto eq = line.find('=');
      if (eq == std::string_view::npos)
        return err("expected 'NAME = NODE' in [alias]");
      auto k = std::string(trim(line.substr(0, eq)));
      auto v = std::string(trim(line.substr(eq + 1)));
      if (k.empty() || v.empty() || k.find(' ') != std::string::npos ||
          v.find(' ') != std::string::npos)
        return err("expected 'NAME = NODE' in [alias]");
      ex.alias[k] = v;
      continue;
    }
    auto& t = ex.transactions.back();
    auto words = split_ws(line);
    if (words[0] == "after") {
      if (words.size() < 2)
        return err("'after' needs at least one step label");
      for (size_t i = 1; i < words.size(); ++i) {
        auto l = words[i];
        if (l.size() > 2 && l.front() == '[' && l.back() == ']')
          l = l.substr(1, l.size() - 2);
        t.after.push_back(l);
        afters.emplace_back(l, n);
      }
      continue;
    }
    Step s;
    s.line = n;
    size_t i = 0;
    if (words[0].front() == '[') {
      if (words[0].size() < 3 || words[0].back() != ']')
        return err(fmt::format("bad step label '{}'", words[0]));
      s.label = words[0].substr(1, words[0].size() - 2);
      if (!labels.insert(s.label).second)
        return err(fmt::format("step [{}] defined twice", s.label));
      i = 1;
    }
    if (words.size() < i + 4 || words[i + 1] != "->")
      return err("expected '[STEP] FROM -> TO METHOD [URI]' or '[STEP] FROM -> TO CODE [REASON]'");
    s.from = words[i];
    s.to = words[i + 2];
    const auto& what = words[i + 3];
    if (what.size() == 3 && std::all_of(what.begin(), what.end(), ::isdigit)) {
      s.status = std::stoi(what);
      if (s.status < 100)
        return err(fmt::format("bad status code '{}'", what));
      t.responses.push_back(std::move(s));
    } else {
      if (!std::all_of(what.begin(), what.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
        return err(fmt::format("'{}' is neither a method (upper case) nor a status code", what));
      s.request = true;
      s.method = what;
      if (words.size() > i + 5)
        return err(fmt::format("unexpected '{}' after the request URI", words[i + 5]));
      if (words.size() == i + 5)
        s.uri = words[i + 4];
      t.requests.push_back(std::move(s));
    }
  }
  if (ex.transactions.empty())
    return fail(fmt::format("{}: no [transaction] section", name));
  for (const auto& t : ex.transactions)
    if (t.requests.empty())
      return fail(fmt::format("{}:{}: transaction {} has no request hop", name, t.line, t.name));
  for (const auto& [l, line] : afters)
    if (!labels.count(l))
      return fail(fmt::format("{}:{}: 'after' names an unknown step [{}]", name, line, l));
  auto map = [&](std::string& node) {
    if (auto it = ex.alias.find(node); it != ex.alias.end())
      node = it->second;
  };
  for (auto& t : ex.transactions)
    for (auto* v : {&t.requests, &t.responses})
      for (auto& s : *v) {
        map(s.from);
        map(s.to);
      }
  return ex;
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

namespace {

bool same(const Step& s, const Arrow& h)
{
  if (s.from != h.from || s.to != h.to || s.request != h.request)
    return false;
  if (s.request) {
    if (s.method != h.method)
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
    if (h->status >= 200)
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
  auto what =
      s.request ? (s.uri.empty() ? s.method : s.method + " " + s.uri) : std::to_string(s.status);
  return fmt::format("{:<8} {} -> {}  {}", s.label.empty() ? "" : "[" + s.label + "]", s.from, s.to,
                     what);
}

std::string describe_arrow(const Arrow& h, int64_t t0)
{
  return fmt::format("{} -> {}  {}   (at {})", h.from, h.to, label(h, true),
                     fmt_secs(h.time_us - t0));
}

} // namespace

CheckResult check(const Expected& want, const std::vector<Arrow>& run)
{
  Filter sip_only;
  sip_only.msrp = true; // FLOWS.md's ladders are SIP; MSRP is drawn, not compared
  auto hs = filter(run, sip_only);
  int64_t t0 = hs.empty() ? 0 : hs.front().time_us;

  // Group hops into transactions: Call-ID + CSeq (a proxy keeps them), joined across a
  // B2BUA by the CPIM imdn.Message-ID of the requests (FLOWS.md).
  UnionFind uf(hs.size());
  // A node that sends one message on two or more Call-IDs of its own making (a group's
  // fan-out) makes one transaction per copy: those are not joined (the ladder relates
  // them with `after`).
  std::set<std::string> fanned;
  {
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
  }
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

  CheckResult res;
  res.ok = true;
  std::string& out = res.report;
  std::map<std::string, const Arrow*> at_label; // step label -> the hop it matched
  std::vector<std::pair<const Transaction*, const Group*>> pairs;
  for (const auto& t : want.transactions) {
    // The unused group that agrees best with the transaction.
    Group* best = nullptr;
    Match bm;
    for (auto& g : groups) {
      if (g.used)
        continue;
      auto m = compare(t, g);
      if (!best || m.score > bm.score) {
        best = &g;
        bm = std::move(m);
      }
    }
    if (!best || bm.score == 0) {
      res.ok = false;
      out += fmt::format("transaction {}: not found in the run\n", t.name);
      for (const auto* v : {&t.requests, &t.responses})
        for (const auto& s : *v)
          out += fmt::format("  - {}\n", describe_step(s));
      continue;
    }
    best->used = true;
    pairs.emplace_back(&t, best);
    size_t hops_n = best->requests.size() + best->responses.size();
    if (bm.ok) {
      out += fmt::format("transaction {}: ok ({} hops)\n", t.name, hops_n);
    } else {
      res.ok = false;
      out += fmt::format("transaction {}: MISMATCH (- expected, + actual)\n", t.name);
    }
    auto show = [&](const char* title, const std::vector<Op>& ops) {
      bool all_ok = std::all_of(ops.begin(), ops.end(), [](const Op& o) { return o.kind == ' '; });
      for (const auto& op : ops) {
        if (op.step && op.hop && !op.step->label.empty())
          at_label[op.step->label] = op.hop;
      }
      if (bm.ok || ops.empty())
        return;
      out += fmt::format("  {}{}\n", title, all_ok ? ": ok" : "");
      if (all_ok)
        return;
      for (const auto& op : ops) {
        if (op.kind == '+')
          out += fmt::format("  + {:<8} {}\n", "", describe_arrow(*op.hop, t0));
        else
          out += fmt::format("  {} {}\n", op.kind, describe_step(*op.step));
      }
    };
    show("request", bm.requests);
    for (const auto& [code, ops] : bm.responses)
      show(fmt::format("responses {}", code).c_str(), ops);
  }

  // Causal order between transactions ("after" lines).
  for (const auto& [t, g] : pairs) {
    if (g->requests.empty())
      continue;
    const Arrow* start = g->requests.front();
    for (const auto& l : t->after) {
      auto it = at_label.find(l);
      if (it == at_label.end()) {
        res.ok = false;
        out += fmt::format("transaction {}: cannot check 'after [{}]': step [{}] did not happen\n",
                           t->name, l, l);
      } else if (start->time_us < it->second->time_us) {
        res.ok = false;
        out +=
            fmt::format("transaction {}: WRONG ORDER: its first hop ({}) came before [{}] ({})\n",
                        t->name, describe_arrow(*start, t0), l, describe_arrow(*it->second, t0));
      }
    }
  }

  for (const auto& g : groups) {
    if (g.used)
      continue;
    res.ok = false;
    const Arrow* h = !g.requests.empty() ? g.requests.front() : g.responses.front();
    out += fmt::format("extra transaction (Call-ID {}, {} {}): not in the ladder\n", h->call_id,
                       h->cseq, h->method);
    for (const auto* v : {&g.requests, &g.responses})
      for (const auto* x : *v)
        out += fmt::format("  + {:<8} {}\n", "", describe_arrow(*x, t0));
  }
  out += res.ok ? "ladder matches\n" : "ladder does not match\n";
  return res;
}

} // namespace cpm::ladder
