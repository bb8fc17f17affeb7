// Ladders drawn as SVG by hand: a lifeline per node, an arrow per hop, its label above it,
// the step of the expected ladder and the run's number at the left, the notes at the right.
#include "cpm/ladder/ladder.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace cpm::ladder {

namespace {

// Text as SVG character data or an attribute value.
std::string xml(std::string_view s)
{
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      // XML 1.0 has no place for control characters other than tab and newlines.
      if (static_cast<unsigned char>(c) >= 0x20 || c == '\t')
        out += c;
    }
  }
  return out;
}

// Sizes in pixels; a character of the 12 px sans-serif font is about 7 px wide.
constexpr int k_char = 7;
constexpr int k_note_tenths = 58; // 11 px notes: 5.8 px a character
constexpr int k_row = 36;
constexpr int k_head = 56;

} // namespace

std::string format_svg(const std::vector<Arrow>& hs, const std::vector<std::string>& order)
{
  auto cols = nodes(hs, order);
  size_t widest = 0, note_w = 0;
  bool steps = false;
  for (const auto& h : hs) {
    widest = std::max(widest, label(h, true).size());
    note_w = std::max(note_w, note(h).size());
    steps = steps || !h.step.empty();
  }
  for (const auto& n : cols)
    widest = std::max(widest, n.size());
  int colw = std::clamp(static_cast<int>(widest) * k_char + 24, 120, 320);
  int left = steps ? 100 : 44;
  int notes_x = left + static_cast<int>(cols.size()) * colw + 12;
  int width = notes_x + static_cast<int>(note_w) * k_note_tenths / 10 + 24;
  int height = k_head + static_cast<int>(hs.size()) * k_row + 24;
  auto x_of = [&](const std::string& n) {
    auto k = std::find(cols.begin(), cols.end(), n) - cols.begin();
    return left + static_cast<int>(k) * colw + colw / 2;
  };

  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"DejaVu Sans, Verdana, sans-serif\" "
      "font-size=\"12\">\n"
      "<title>cpm-ladder</title>\n"
      "<defs>\n"
      "  <marker id=\"head-req\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" "
      "markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1f4e79\"/>"
      "</marker>\n"
      "  <marker id=\"head-resp\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" "
      "markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555555\"/>"
      "</marker>\n"
      "</defs>\n"
      "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n",
      width, height);

  // The nodes and their lifelines.
  for (const auto& n : cols) {
    int x = x_of(n);
    int bw = std::min(colw - 12, static_cast<int>(n.size()) * k_char + 20);
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#9e9e9e\" "
                       "stroke-dasharray=\"4 3\"/>\n",
                       x, k_head - 16, height - 12);
    out += fmt::format("<rect x=\"{}\" y=\"12\" width=\"{}\" height=\"28\" rx=\"5\" "
                       "fill=\"#e8eef6\" stroke=\"#1f4e79\"/>\n",
                       x - bw / 2, bw);
    out += fmt::format("<text x=\"{}\" y=\"31\" text-anchor=\"middle\" font-weight=\"bold\">{}"
                       "</text>\n",
                       x, xml(n));
  }
  if (note_w > 0)
    out += fmt::format("<text x=\"{}\" y=\"31\" fill=\"#555555\" font-style=\"italic\">what it "
                       "is; why it goes there</text>\n",
                       notes_x);

  for (size_t i = 0; i < hs.size(); ++i) {
    const auto& h = hs[i];
    int y = k_head + static_cast<int>(i) * k_row + 22;
    bool req = h.request;
    auto color = h.smpp ? "#8a4b08" : h.msrp ? "#2e7d32" : req ? "#1f4e79" : "#555555";
    out += fmt::format("<g class=\"hop\" id=\"hop{}\">\n", i + 1);
    out += fmt::format("<text x=\"8\" y=\"{}\" fill=\"#333333\">{}</text>\n", y + 4, i + 1);
    if (!h.step.empty()) {
      auto st = h.step == "+" || h.step == "=" ? h.step : "[" + h.step + "]";
      out += fmt::format("<text x=\"36\" y=\"{}\" fill=\"{}\" font-weight=\"bold\">{}</text>\n",
                         y + 4, h.step == "+" ? "#c62828" : "#2e7d32", xml(st));
    }
    int x1 = x_of(h.from), x2 = x_of(h.to);
    auto dash = req ? "" : " stroke-dasharray=\"6 4\"";
    auto marker = req ? "head-req" : "head-resp";
    if (x1 == x2) {
      out += fmt::format("<path d=\"M{0},{1} h30 v10 h-30\" fill=\"none\" stroke=\"{2}\" "
                         "stroke-width=\"1.5\"{3} marker-end=\"url(#{4})\"/>\n",
                         x1, y - 6, color, dash, marker);
      out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n", x1 + 36, y + 2, color,
                         xml(label(h, true)));
    } else {
      out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" "
                         "stroke-width=\"1.5\"{} marker-end=\"url(#{})\"/>\n",
                         x1, y, x2 + (x2 > x1 ? -1 : 1), y, color, dash, marker);
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
                         (x1 + x2) / 2, y - 5, color, xml(label(h, true)));
    }
    if (auto n = note(h); !n.empty())
      out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#555555\">{}</text>\n",
                         notes_x, y + 4, xml(n));
    out += "</g>\n";
  }
  out += "</svg>\n";
  return out;
}

} // namespace cpm::ladder
