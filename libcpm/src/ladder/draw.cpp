// Ladders drawn: one line per arrow, columns per node, or a Mermaid sequenceDiagram.
#include "cpm/ladder/ladder.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace cpm::ladder {

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

} // namespace cpm::ladder
