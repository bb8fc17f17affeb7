// MSRP sessions (RFC 4975 §7): what a session sends (messages in chunks, one staged at a
// time), what it receives (responses, REPORTs, SENDs reassembled), and its transactions.
#include "cpm/rt/msrp_detail.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <unordered_set>

#include "cpm/codec/msrp_detail.hpp"
#include "cpm/rt/guard.hpp"
#include "cpm/rt/re.hpp"

namespace cpm::msrp::detail {

void SessionCore::stage_next()
{
  while (!out.empty() && staged.empty()) {
    auto& o = out.front();
    auto f = chunk_frame(o.m, remote_s, local_s, o.off, k_chunk_size);
    auto text = encode(f);
    if (!text) {
      diag(fmt::format("msrp: cannot send message {}: {}", o.m.message_id, text.error().message));
      out_bytes -= o.m.body.size() - o.off;
      out.pop_front();
      continue;
    }
    staged = std::move(*text);
    staged_tid = f.tid;
    staged_mid = o.m.message_id;
    staged_len = f.body.size();
    staged_last = f.flag == '$';
    staged_track = o.m.failure_report == "yes";
  }
}

void SessionCore::staged_sent()
{
  if (staged_track) {
    txns.emplace(staged_tid, Txn{staged_mid, tmr_jiffies()});
    arm_txn_timer();
  }
  staged.clear();
  auto& o = out.front();
  o.off += staged_len;
  out_bytes -= staged_len;
  if (staged_last) {
    out_bytes -= o.m.body.size() - o.off; // 0 unless the body was shorter than announced
    out.pop_front();
  }
}

void SessionCore::handle(Conn& c, Frame& f)
{
  if (!f.request) {
    on_response(f);
    return;
  }
  auto problem = check_request(f);
  if (!problem) {
    auto to = parse_path(f.header("To-Path"));
    if (!to || to->front().session_id != local.session_id)
      problem = Problem{481, "Session Does Not Exist"};
  }
  auto fr = f.header("Failure-Report");
  // RFC 4975 §7.1.2: REPORT requests get no response.
  if (problem) {
    diag(fmt::format("msrp: {} {} from {}: {} {}", f.method, f.tid, c.peer, problem->status,
                     problem->comment));
    if (f.method != "REPORT" && fr != "no")
      respond(c, f, problem->status, problem->comment);
    return;
  }
  if (f.method == "REPORT") {
    if (cb.on_report)
      cb.on_report(f.header("Message-ID"), report_status(f));
    return;
  }
  auto res = reasm.feed(f);
  if (!res) {
    diag(fmt::format("msrp: SEND {} from {}: {}", f.tid, c.peer, res.error().message));
    if (fr != "no")
      respond(c, f, res.error().code == 413 ? 413 : 400, res.error().message);
    return;
  }
  if (fr.empty() || fr == "yes")
    respond(c, f, 200);
  if (!*res)
    return;
  Message& msg = **res;
  if (msg.success_report) {
    uint64_t n = msg.body.size();
    c.queue(make_report(f, ByteRange{1, n, n}, 200, "OK"));
  }
  // An empty SEND only binds the connection (RFC 4975 §5.4): nothing to deliver.
  if ((msg.body.empty() && msg.content_type.empty()) || !cb.on_message)
    return;
  cb.on_message(msg);
}

void SessionCore::on_response(const Frame& f)
{
  if (!bind_tid.empty() && f.tid == bind_tid) {
    bind_tid.clear();
    if (f.status == 200) {
      bound = true;
      auto guard = alive;
      if (cb.on_connected)
        cb.on_connected();
      if (*guard && conn)
        conn->pump();
      return;
    }
    diag(fmt::format("msrp: session {} refused by {}: {} {}", local.session_id,
                     conn ? conn->peer : std::string(), f.status, f.comment));
    drop_conn(ECONNREFUSED);
    return;
  }
  auto it = txns.find(f.tid);
  if (it == txns.end())
    return;
  auto mid = it->second.mid;
  txns.erase(it);
  if (f.status >= 300)
    fail_message(mid, f.status);
}

void SessionCore::arm_txn_timer()
{
  if (txns.empty()) {
    txn_tmr.cancel();
    return;
  }
  if (txn_tmr.active())
    return;
  uint64_t oldest = UINT64_MAX;
  for (auto& [tid, t] : txns)
    oldest = std::min(oldest, t.sent_ms);
  uint64_t now = tmr_jiffies();
  uint64_t due = oldest + txn_timeout_ms;
  txn_tmr.start(due > now ? due - now : 0, [this] {
    sip::guarded({}, "the MSRP transaction timer", [this] { expire_txns(); });
  });
}

// SENDs without a response for txn_timeout_ms: their messages fail with 408.
void SessionCore::expire_txns()
{
  uint64_t now = tmr_jiffies();
  std::vector<std::string> expired;
  for (auto& [tid, t] : txns)
    if (t.sent_ms + txn_timeout_ms <= now &&
        std::find(expired.begin(), expired.end(), t.mid) == expired.end())
      expired.push_back(t.mid);
  auto guard = alive;
  for (auto& mid : expired) {
    fail_message(mid, 408);
    if (!*guard)
      return;
  }
  arm_txn_timer();
}

void SessionCore::fail_message(const std::string& mid, int status)
{
  std::erase_if(txns, [&](auto& t) { return t.second.mid == mid; });
  if (!out.empty() && out.front().m.message_id == mid) {
    out_bytes -= out.front().m.body.size() - out.front().off;
    out.pop_front();
    staged.clear();
  }
  diag(fmt::format("msrp: message {} failed: {}", mid, status));
  if (cb.on_failure)
    cb.on_failure(mid, status);
}

void SessionCore::detach()
{
  if (conn) {
    conn->session = nullptr;
    conn->destroy();
    conn.reset();
  }
  bound = false;
  bind_tid.clear();
  txns.clear();
  staged.clear();
  if (!out.empty()) { // a partly sent message goes again whole on the next connection
    out_bytes += out.front().off;
    out.front().off = 0;
  }
}

void SessionCore::drop_conn(int err)
{
  std::vector<std::string> failed;
  std::unordered_set<std::string> seen;
  for (auto& [tid, t] : txns)
    if (seen.insert(t.mid).second)
      failed.push_back(t.mid);
  for (auto& o : out)
    if (seen.insert(o.m.message_id).second)
      failed.push_back(o.m.message_id);
  out.clear();
  out_bytes = 0;
  detach();
  auto guard = alive;
  for (auto& mid : failed) {
    if (cb.on_failure)
      cb.on_failure(mid, 0);
    if (!*guard)
      return;
  }
  if (cb.on_closed)
    cb.on_closed(err);
}

} // namespace cpm::msrp::detail
