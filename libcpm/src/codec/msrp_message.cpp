// MSRP messages: chunking into SENDs, reassembly by Message-ID, REPORTs (RFC 4975 §7.1).
#include "cpm/codec/msrp.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "cpm/base/text.hpp"
#include "cpm/codec/msrp_detail.hpp"

namespace cpm::msrp {

namespace {

std::string_view last_word(std::string_view s)
{
  s = text::trim(s);
  auto sp = s.find_last_of(" \t");
  return sp == std::string_view::npos ? s : s.substr(sp + 1);
}

} // namespace

namespace detail {

Frame chunk_frame(const Message& m, std::string_view to_path, std::string_view from_path,
                  size_t offset, size_t n)
{
  Frame f;
  f.method = "SEND";
  std::string_view piece = std::string_view(m.body).substr(offset, n);
  do
    f.tid = random_id();
  while (piece.find("-------" + f.tid) != std::string_view::npos);
  f.headers.emplace_back("To-Path", std::string(to_path));
  f.headers.emplace_back("From-Path", std::string(from_path));
  f.headers.emplace_back("Message-ID", m.message_id);
  ByteRange r;
  r.start = offset + 1;
  r.end = offset + piece.size();
  r.total = m.body.size();
  f.headers.emplace_back("Byte-Range", format_byte_range(r));
  if (m.success_report)
    f.headers.emplace_back("Success-Report", "yes");
  if (!m.failure_report.empty() && m.failure_report != "yes")
    f.headers.emplace_back("Failure-Report", m.failure_report);
  if (!piece.empty())
    f.headers.emplace_back("Content-Type",
                           m.content_type.empty() ? "application/octet-stream" : m.content_type);
  f.body = std::string(piece);
  f.flag = offset + piece.size() >= m.body.size() ? '$' : '+';
  return f;
}

} // namespace detail

std::vector<Frame> chunk(const Message& m, const std::vector<Uri>& to_path,
                         const std::vector<Uri>& from_path, size_t max_chunk)
{
  if (max_chunk == 0)
    max_chunk = 2048;
  auto to = format_path(to_path);
  auto from = format_path(from_path);
  std::vector<Frame> out;
  size_t off = 0;
  do {
    out.push_back(detail::chunk_frame(m, to, from, off, max_chunk));
    off += out.back().body.size();
  } while (off < m.body.size());
  return out;
}

struct Reassembler::State {
  struct Pending {
    std::string data;
    std::map<uint64_t, uint64_t> have; // [begin, end) of received bytes, merged
    std::optional<uint64_t> total;
    std::optional<uint64_t> last_end; // end of the '$' chunk
    std::string content_type;
    bool success_report = false;
    std::string failure_report = "yes";
  };
  using Table = std::unordered_map<std::string, Pending>;
  size_t max_message;
  size_t bytes = 0; // sum of pending buffers
  Table pending;

  // Forget the message of `it` (nothing at end()).
  void drop(Table::iterator it);
  // A new entry for the message `id`, with the report settings of its first chunk `send`.
  Table::iterator start(const std::string& id, const Frame& send);
  // Put the chunk `send` at byte `begin` (of Byte-Range `r`) into `p`; an error for a total
  // that changes or is exceeded, or when pending messages would exceed max_message (413).
  Result<void> add(Pending& p, const std::string& id, const ByteRange& r, uint64_t begin,
                   const Frame& send);
  // The message of `it` when every byte up to the end of its '$' chunk arrived, taken out of
  // the table; nullopt otherwise.
  std::optional<Message> take_if_complete(Table::iterator it, const std::string& id);
};

namespace {

// Merge [b, e) into the received intervals `have` (begin -> end, disjoint, not touching).
void merge_range(std::map<uint64_t, uint64_t>& have, uint64_t b, uint64_t e)
{
  auto at = have.upper_bound(b);
  if (at != have.begin()) {
    auto prev = std::prev(at);
    if (prev->second >= b) {
      b = prev->first;
      e = std::max(e, prev->second);
      at = have.erase(prev);
    }
  }
  while (at != have.end() && at->first <= e) {
    e = std::max(e, at->second);
    at = have.erase(at);
  }
  have.emplace(b, e);
}

} // namespace

Reassembler::Reassembler(size_t max_message) : m(std::make_shared<State>())
{
  m->max_message = max_message;
}

size_t Reassembler::pending() const
{
  return m->pending.size();
}

namespace {
Message message_of(const Frame& f)
{
  Message msg;
  msg.message_id = f.header("Message-ID");
  msg.content_type = f.header("Content-Type");
  msg.success_report = f.header("Success-Report") == "yes";
  auto fr = f.header("Failure-Report");
  if (!fr.empty())
    msg.failure_report = fr;
  return msg;
}
} // namespace

void Reassembler::State::drop(Table::iterator it)
{
  if (it != pending.end()) {
    bytes -= it->second.data.size();
    pending.erase(it);
  }
}

Reassembler::State::Table::iterator Reassembler::State::start(const std::string& id,
                                                              const Frame& send)
{
  auto it = pending.emplace(id, State::Pending{}).first;
  auto first = message_of(send);
  it->second.content_type = first.content_type;
  it->second.success_report = first.success_report;
  it->second.failure_report = first.failure_report;
  return it;
}

Result<void> Reassembler::State::add(Pending& p, const std::string& id, const ByteRange& r,
                                     uint64_t begin, const Frame& send)
{
  uint64_t end = begin + send.body.size();
  if (r.total) {
    if (p.total && *p.total != *r.total)
      return fail(fmt::format("MSRP message {}: Byte-Range total changed", id));
    p.total = r.total;
  }
  if (p.total && begin > *p.total)
    return fail(fmt::format("MSRP message {}: chunk starts after the total", id));
  if (p.content_type.empty())
    p.content_type = send.header("Content-Type");
  if (p.data.size() < end) {
    size_t grow = end - p.data.size();
    if (bytes + grow > max_message)
      return fail(fmt::format("MSRP messages pending over {} bytes", max_message), 413);
    if (p.total && p.data.capacity() < *p.total)
      p.data.reserve(*p.total);
    p.data.resize(end);
    bytes += grow;
  }
  std::copy(send.body.begin(), send.body.end(), p.data.begin() + static_cast<ptrdiff_t>(begin));
  if (end > begin)
    merge_range(p.have, begin, end);
  if (send.flag == '$')
    p.last_end = std::max(p.last_end.value_or(0), end);
  return {};
}

std::optional<Message> Reassembler::State::take_if_complete(Table::iterator it,
                                                            const std::string& id)
{
  auto& p = it->second;
  bool done =
      p.last_end && (*p.last_end == 0 || (p.have.size() == 1 && p.have.begin()->first == 0 &&
                                          p.have.begin()->second >= *p.last_end));
  if (!done)
    return std::nullopt;
  Message msg;
  msg.message_id = id;
  msg.content_type = std::move(p.content_type);
  msg.success_report = p.success_report;
  msg.failure_report = std::move(p.failure_report);
  uint64_t size = p.have.empty() ? 0 : p.have.begin()->second;
  bytes -= p.data.size();
  p.data.resize(size);
  msg.body = std::move(p.data);
  pending.erase(it);
  return msg;
}

Result<std::optional<Message>> Reassembler::feed(const Frame& send)
{
  auto& s = *m;
  if (!send.request || send.method != "SEND")
    return fail("not a SEND request");
  auto id = send.header("Message-ID");
  if (id.empty())
    return fail("SEND without Message-ID");
  ByteRange r;
  if (send.has_header("Byte-Range")) {
    auto br = parse_byte_range(send.header("Byte-Range"));
    if (!br)
      return tl::unexpected(br.error());
    r = *br;
  }
  auto it = s.pending.find(id);
  if (send.flag == '#') {
    s.drop(it);
    return std::optional<Message>{};
  }
  uint64_t begin = r.start - 1;
  uint64_t end = begin + send.body.size();
  if (end > s.max_message || (r.total && *r.total > s.max_message)) {
    s.drop(it);
    return fail(fmt::format("MSRP message {} larger than {} bytes", id, s.max_message), 413);
  }
  // The whole message in one chunk: no copy into the table.
  if (it == s.pending.end() && begin == 0 && send.flag == '$') {
    auto msg = message_of(send);
    msg.body = send.body;
    return std::optional<Message>{std::move(msg)};
  }
  if (it == s.pending.end())
    it = s.start(id, send);
  if (auto ok = s.add(it->second, id, r, begin, send); !ok) {
    s.drop(it);
    return tl::unexpected(ok.error());
  }
  return s.take_if_complete(it, id);
}

Frame make_report(const Frame& send, const ByteRange& received, int status,
                  std::string_view comment)
{
  Frame f;
  f.tid = random_id();
  f.method = "REPORT";
  // RFC 4975 §7.1.2: To-Path is the SEND's From-Path, From-Path the report's generator
  // (the last URI of the SEND's To-Path).
  f.headers.emplace_back("To-Path", std::string(text::trim(send.header("From-Path"))));
  auto send_to = send.header("To-Path");
  f.headers.emplace_back("From-Path", std::string(last_word(send_to)));
  f.headers.emplace_back("Message-ID", send.header("Message-ID"));
  f.headers.emplace_back("Byte-Range", format_byte_range(received));
  f.headers.emplace_back("Status", fmt::format("000 {:03} {}", status,
                                               comment.empty() ? detail::reason(status) : comment));
  return f;
}

int report_status(const Frame& report)
{
  auto status = report.header("Status");
  auto st = text::trim(status);
  // Status: namespace SP status-code [SP comment]
  if (st.size() < 7 || st[3] != ' ' || (st.size() > 7 && st[7] != ' '))
    return 0;
  for (size_t i : {0, 1, 2, 4, 5, 6})
    if (!detail::is_digit(st[i]))
      return 0;
  return (st[4] - '0') * 100 + (st[5] - '0') * 10 + (st[6] - '0');
}

} // namespace cpm::msrp
