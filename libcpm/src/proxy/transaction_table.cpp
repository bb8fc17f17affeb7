// The proxy's server transactions: retransmissions, local answers, CANCEL, timers.
#include "cpm/proxy/transaction_table.hpp"

#include <fmt/format.h>
#include <functional>

namespace cpm::proxy {

std::string txn_key(std::string_view branch, std::string_view sent_by, std::string_view method)
{
  std::string_view m = method;
  if (m == "ACK" || m == "CANCEL")
    m = "INVITE";
  std::string k;
  k.reserve(branch.size() + sent_by.size() + m.size() + 2);
  k.append(branch).append(1, '|').append(sent_by).append(1, '|').append(m);
  return k;
}

std::string local_response(const ServerTransaction& t, int code, std::string_view reason,
                           const std::vector<std::string>& extra, std::string_view body)
{
  std::string s;
  s.reserve(t.head.size() + 128 + body.size());
  s += fmt::format("SIP/2.0 {} {}\r\n", code, reason);
  s += t.head;
  if (code > 100 && !t.to_tagged) {
    // Our tag, the same in every response of the transaction.
    auto pos = s.find("\r\nTo: ");
    if (pos != std::string::npos) {
      auto eol = s.find("\r\n", pos + 2);
      s.insert(eol, fmt::format(";tag={:016x}", std::hash<std::string>{}(t.key)));
    }
  }
  for (const auto& h : extra)
    s.append(h).append("\r\n");
  s += fmt::format("Content-Length: {}\r\n\r\n", body.size());
  s.append(body);
  return s;
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
  std::string_view key = t->key;
  return *m_table.emplace(key, std::move(t)).first->second;
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

void TransactionTable::respond(ServerTransaction& t, std::string response, int code)
{
  if (t.final_code)
    return;
  m_upstream.send(t, response);
  t.last = std::move(response);
  if (code >= 200) {
    t.final_code = code;
    complete(t);
  }
}

void TransactionTable::reply(ServerTransaction& t, int code, std::string_view reason,
                             const std::vector<std::string>& extra, std::string_view body)
{
  if (!t.final_code)
    respond(t, local_response(t, code, reason, extra, body), code);
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
  t.head.clear();
  t.head.shrink_to_fit();
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

// Forget `t` (destroys it).
void TransactionTable::erase(ServerTransaction& t)
{
  unlink(t);
  m_table.erase(m_table.find(std::string_view(t.key)));
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
  t.m_table->erase(t); // destroys t
}

} // namespace cpm::proxy
