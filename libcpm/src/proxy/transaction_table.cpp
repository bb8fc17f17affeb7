// The proxy's server transactions: retransmissions, local answers, CANCEL, timers.
#include "cpm/proxy/transaction_table.hpp"

#include <fmt/format.h>
#include <functional>
#include <iterator>

namespace cpm::proxy {

void txn_key(std::string& out, std::string_view branch, std::string_view sent_by,
             std::string_view method)
{
  std::string_view m = method;
  if (m == "ACK" || m == "CANCEL")
    m = "INVITE";
  out.clear();
  out.append(branch).append(1, '|').append(sent_by).append(1, '|').append(m);
}

std::string txn_key(std::string_view branch, std::string_view sent_by, std::string_view method)
{
  std::string k;
  k.reserve(branch.size() + sent_by.size() + method.size() + 8);
  txn_key(k, branch, sent_by, method);
  return k;
}

void local_response(std::string& out, std::string_view head, std::string_view tag_key,
                    bool to_tagged, int code, std::string_view reason,
                    const std::vector<std::string>& extra, std::string_view body)
{
  size_t start = out.size();
  fmt::format_to(std::back_inserter(out), "SIP/2.0 {} {}\r\n", code, reason);
  out.append(head);
  if (code > 100 && !to_tagged) {
    // Our tag, the same in every response of the transaction (std::hash of a string_view
    // is that of the string: the tags of earlier versions stay).
    auto pos = out.find("\r\nTo: ", start);
    if (pos != std::string::npos) {
      auto eol = out.find("\r\n", pos + 2);
      char tag[24];
      auto r =
          fmt::format_to_n(tag, sizeof tag, ";tag={:016x}", std::hash<std::string_view>{}(tag_key));
      out.insert(eol, tag, r.size);
    }
  }
  for (const auto& h : extra)
    out.append(h).append("\r\n");
  fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n\r\n", body.size());
  out.append(body);
}

std::string local_response(const ServerTransaction& t, int code, std::string_view reason,
                           const std::vector<std::string>& extra, std::string_view body)
{
  std::string s;
  s.reserve(t.head.size() + 128 + body.size());
  local_response(s, t.head, t.key, t.to_tagged, code, reason, extra, body);
  return s;
}

void ServerTransaction::reuse()
{
  key.clear();
  method.clear();
  call_id.clear();
  head.clear();
  last.clear();
  to_tagged = invite = reliable = false;
  final_code = 0;
  m_timer.cancel();
  m_table = nullptr;
  m_older = m_newer = nullptr;
  m_listed = false;
}

TransactionTable::TransactionTable(rt::TimerQueue& timers, Upstream& upstream, Limits limits)
    : m_timers(timers), m_upstream(upstream), m_limits(limits)
{
  if (m_limits.max_lingering < 1)
    m_limits.max_lingering = 1;
  m_table.reserve(1024);
}

TransactionTable::~TransactionTable() = default;

ServerTransaction* TransactionTable::find(const std::string& key)
{
  auto it = m_table.find(std::string_view(key));
  return it == m_table.end() ? nullptr : it->second.get();
}

ServerTransaction& TransactionTable::add(std::unique_ptr<ServerTransaction> t)
{
  if (auto* old = find(t->key)) // the map's key is a view of the old one's key
    erase(*old);
  t->m_table = this;
  ServerTransaction& added = *t;
  std::string_view key = added.key;
  if (Map::node_type node; m_spare_nodes.take(node)) { // an erased entry's: no allocation
    node.key() = key;
    node.mapped() = std::move(t);
    m_table.insert(std::move(node));
  } else {
    m_table.emplace(key, std::move(t));
  }
  return added;
}

std::string TransactionTable::spare_string()
{
  std::string s;
  m_spare_strings.take(s);
  return s;
}

// Keep `s`'s buffer for spare_string() (it is left empty either way).
void TransactionTable::give_back(std::string& s) noexcept
{
  give_buffer(m_spare_strings, s);
}

bool TransactionTable::absorb(const std::string& key, bool ack)
{
  ServerTransaction* t = find(key);
  if (!t)
    return false;
  if (ack)
    return t->final_code >= 300; // the hop-by-hop ACK of our non-2xx answer
  if (!t->last.empty())
    m_upstream.send(*t, t->last);
  return true;
}

void TransactionTable::respond(ServerTransaction& t, std::string_view response, int code)
{
  if (t.final_code)
    return;
  t.last.assign(response); // a reused transaction's buffer: no allocation once grown
  m_upstream.send(t, t.last);
  if (code >= 200) {
    t.final_code = code;
    complete(t);
  }
}

void TransactionTable::reply(ServerTransaction& t, int code, std::string_view reason,
                             const std::vector<std::string>& extra, std::string_view body)
{
  if (t.final_code)
    return;
  m_response.clear();
  local_response(m_response, t.head, t.key, t.to_tagged, code, reason, extra, body);
  respond(t, m_response, code);
}

void TransactionTable::cancel(ServerTransaction& t)
{
  if (t.final_code)
    return;
  m_upstream.finish(t); // the CANCEL downstream goes before the 487 upstream
  reply(t, 487, "Request Terminated");
}

void TransactionTable::expect_final(ServerTransaction& t, uint64_t ms)
{
  if (!t.final_code)
    m_timers.start(t.m_timer, ms, on_timeout, &t);
}

// Final response sent: stop the client side, keep the answer for retransmissions a while
// (over UDP Timer J, unless the cap makes the oldest lingering transactions leave early).
void TransactionTable::complete(ServerTransaction& t)
{
  m_upstream.finish(t);
  // A lingering transaction needs neither: their buffers go to the next transactions.
  give_back(t.head);
  give_back(t.call_id);
  if (t.reliable) {
    m_timers.start(t.m_timer, k_linger_reliable_ms, on_linger_end, &t);
    return;
  }
  m_timers.start(t.m_timer, m_limits.linger_ms, on_linger_end, &t);
  link(t);
  while (m_lingering > m_limits.max_lingering && m_oldest != &t) {
    ServerTransaction& old = *m_oldest;
    m_upstream.left_early(old, ++m_left_early);
    erase(old);
  }
}

// Append `t` to the lingering list (newest last).
void TransactionTable::link(ServerTransaction& t)
{
  if (t.m_listed)
    return;
  t.m_older = m_newest;
  t.m_newer = nullptr;
  (m_newest ? m_newest->m_newer : m_oldest) = &t;
  m_newest = &t;
  t.m_listed = true;
  ++m_lingering;
}

void TransactionTable::unlink(ServerTransaction& t)
{
  if (!t.m_listed)
    return;
  (t.m_older ? t.m_older->m_newer : m_oldest) = t.m_newer;
  (t.m_newer ? t.m_newer->m_older : m_newest) = t.m_older;
  t.m_older = t.m_newer = nullptr;
  t.m_listed = false;
  --m_lingering;
}

// Forget `t`: it goes to Upstream::release, its map node to the spares.
void TransactionTable::erase(ServerTransaction& t)
{
  unlink(t);
  t.m_timer.cancel();
  Map::node_type node = m_table.extract(std::string_view(t.key));
  std::unique_ptr<ServerTransaction> owned = std::move(node.mapped());
  m_spare_nodes.give(node);
  m_upstream.release(std::move(owned));
}

void TransactionTable::on_timeout(void* arg) noexcept
{
  auto& t = *static_cast<ServerTransaction*>(arg);
  try {
    t.m_table->reply(t, 408, "Request Timeout");
  } catch (...) { // out of memory: the linger never starts, the client times out itself
  }
}

void TransactionTable::on_linger_end(void* arg) noexcept
{
  auto& t = *static_cast<ServerTransaction*>(arg);
  t.m_table->erase(t); // gives t to Upstream::release
}

} // namespace cpm::proxy
