// Ladders drawn: one line per arrow, columns per node, or a Mermaid sequenceDiagram.
#include "cpm/ladder/ladder.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace cpm::ladder {

namespace {

// The step column's text of a hop: "[5.1]", or "+" / "=" as CheckResult::steps says.
std::string step_text(const Arrow& h)
{
  if (h.step.empty() || h.step == "+" || h.step == "=")
    return h.step;
  return "[" + h.step + "]";
}

bool any_step(const std::vector<Arrow>& hs)
{
  return std::any_of(hs.begin(), hs.end(), [](const Arrow& h) { return !h.step.empty(); });
}

bool any_note(const std::vector<Arrow>& hs)
{
  return std::any_of(hs.begin(), hs.end(), [](const Arrow& h) { return !note(h).empty(); });
}

} // namespace

std::string format_lines(const std::vector<Arrow>& hs)
{
  size_t wf = 0, wt = 0, ws = 0, wl = 0;
  for (const auto& h : hs) {
    wf = std::max(wf, h.from.size());
    wt = std::max(wt, h.to.size());
    ws = std::max(ws, step_text(h).size());
    wl = std::max(wl, label(h, true).size());
  }
  bool steps = any_step(hs), notes = any_note(hs);
  auto wn = std::to_string(hs.size()).size();
  std::string out;
  for (size_t i = 0; i < hs.size(); ++i) {
    auto line = fmt::format("{:>{}}  ", i + 1, std::max<size_t>(wn, 2));
    if (steps)
      line += fmt::format("{:<{}}  ", step_text(hs[i]), ws);
    line += fmt::format("{:<{}}  -> {:<{}}  {}", hs[i].from, wf, hs[i].to, wt, label(hs[i], true));
    if (auto n = note(hs[i]); notes && !n.empty())
      line += fmt::format("{:<{}}  # {}", "", wl - label(hs[i], true).size(), n);
    out += line + "\n";
  }
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
  size_t ws = 0;
  for (const auto& h : hs)
    ws = std::max(ws, step_text(h).size());
  bool steps = any_step(hs);
  std::string head(cols.size() * w, ' ');
  for (size_t k = 0; k < cols.size(); ++k) {
    auto start = center(k) - std::min(center(k), cols[k].size() / 2);
    head.replace(start, std::min(cols[k].size(), head.size() - start), cols[k]);
  }
  std::string out = rtrim(std::string(wn + 2 + (steps ? ws + 2 : 0), ' ') + head);
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
    auto num = fmt::format("{:>{}}  ", i + 1, wn);
    if (steps)
      num += fmt::format("{:<{}}  ", step_text(hs[i]), ws);
    auto row = rtrim(num + line);
    if (auto n = note(hs[i]); !n.empty()) {
      // The note two spaces right of the last lifeline (or of a label that passes it).
      row.pop_back();
      row.resize(std::max(row.size(), num.size() + center(cols.size() - 1) + 1), ' ');
      row += "  # " + n + "\n";
    }
    out += row;
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
  for (const auto& h : hs) {
    auto text = escape(label(h, true));
    if (auto n = note(h); !n.empty())
      text += "<br/>" + escape(n); // Mermaid breaks a message's text at <br/>
    if (!h.step.empty())
      text = escape(step_text(h)) + " " + text;
    out += fmt::format("    {}{}{}: {}\n", id(h.from), h.request ? "->>" : "-->>", id(h.to), text);
  }
  return out;
}

std::string format_detail(const std::vector<Arrow>& hs, size_t n)
{
  if (n == 0 || n > hs.size())
    return {};
  const auto& h = hs[n - 1];
  std::string out =
      fmt::format("hop {} of {}: {} -> {}  {}\n", n, hs.size(), h.from, h.to, label(h, true));
  if (!h.what.empty())
    out += fmt::format("what: {}\n", h.what);
  if (!h.why.empty())
    out += fmt::format("why:  {}\n", h.why);
  if (!h.step.empty())
    out += fmt::format("step: {}{}\n", step_text(h),
                       h.step == "+"   ? " (not in the expected ladder)"
                       : h.step == "=" ? " (a step without a label)"
                                       : "");
  out +=
      fmt::format("at:   +{:.6f}s, {}\n", static_cast<double>(h.time_us - hs.front().time_us) / 1e6,
                  h.transport.empty() ? "?" : h.transport);
  out += "\n";
  for (char c : h.message)
    if (c != '\r')
      out += c;
  if (!out.empty() && out.back() != '\n')
    out += '\n';
  return out;
}

} // namespace cpm::ladder
