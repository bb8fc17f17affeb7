#include "cpm/sms/reassembly.hpp"

#include <algorithm>

#include "cpm/sms/unicode.hpp"

namespace cpm::sms {

namespace {

// The text of `octets` in `c`; 8-bit data shows as U+FFFD per octet (it has no text, but a
// part of a message is shown rather than lost).
std::string text_of(Coding c, const std::vector<uint8_t>& octets)
{
  if (auto t = decode_text(c, octets))
    return *t;
  std::string out;
  for (size_t i = 0; i < octets.size(); ++i)
    append_utf8(out, k_replacement);
  return out;
}

} // namespace

Added Reassembly::add(Fragment part, int64_t now_ms, Assembled* done)
{
  Key key{std::move(part.from), std::move(part.to), part.concat.reference, part.concat.total};
  if (part.concat.total <= 1 || part.concat.sequence == 0 ||
      part.concat.sequence > part.concat.total) {
    key.total = 1;
    if (done) {
      Pending single;
      single.first_ms = now_ms;
      single.parts.emplace(1, std::make_pair(part.coding, std::move(part.payload)));
      *done = assemble(key, single);
    }
    return Added::Complete;
  }
  if (m_completed.count(key))
    return Added::Duplicate;
  auto [it, fresh] = m_pending.try_emplace(key);
  if (fresh)
    it->second.first_ms = now_ms;
  auto& parts = it->second.parts;
  if (!parts.try_emplace(part.concat.sequence, part.coding, std::move(part.payload)).second)
    return Added::Duplicate;
  if (parts.size() < key.total)
    return Added::Stored;
  if (done)
    *done = assemble(key, it->second);
  m_completed[key] = now_ms;
  m_pending.erase(it);
  return Added::Complete;
}

std::vector<Assembled> Reassembly::expire(int64_t now_ms)
{
  std::vector<Assembled> out;
  for (auto it = m_pending.begin(); it != m_pending.end();) {
    if (now_ms - it->second.first_ms >= m_timeout_ms) {
      out.push_back(assemble(it->first, it->second));
      it = m_pending.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(m_completed, [&](const auto& kv) { return now_ms - kv.second >= m_timeout_ms; });
  std::stable_sort(out.begin(), out.end(),
                   [](const Assembled& a, const Assembled& b) { return a.first_ms < b.first_ms; });
  return out;
}

std::optional<int64_t> Reassembly::next_deadline() const
{
  std::optional<int64_t> first;
  for (const auto& [key, p] : m_pending)
    if (!first || p.first_ms < *first)
      first = p.first_ms;
  if (first)
    return *first + m_timeout_ms;
  return std::nullopt;
}

Assembled Reassembly::assemble(const Key& key, const Pending& p) const
{
  Assembled a;
  a.from = key.from;
  a.to = key.to;
  a.reference = key.reference;
  a.total = key.total;
  a.first_ms = p.first_ms;
  // Join runs of consecutive parts of one coding, decode each run, mark each gap.
  uint8_t expected = 1;
  std::optional<Coding> run_coding;
  std::vector<uint8_t> run;
  auto flush = [&] {
    if (run_coding)
      a.text += text_of(*run_coding, run);
    run.clear();
    run_coding.reset();
  };
  for (const auto& [seq, part] : p.parts) {
    if (seq != expected || (run_coding && *run_coding != part.first)) {
      flush();
      if (seq != expected)
        a.text += "\u2026";
    }
    run_coding = part.first;
    run.insert(run.end(), part.second.begin(), part.second.end());
    a.sequences.push_back(seq);
    expected = static_cast<uint8_t>(seq + 1);
  }
  flush();
  if (!p.parts.empty() && p.parts.rbegin()->first != key.total)
    a.text += "\u2026";
  return a;
}

} // namespace cpm::sms
