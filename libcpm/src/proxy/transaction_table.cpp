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

uint64_t linger_ms(int timeout_ms)
{
  return timeout_ms < 5000 ? uint64_t(timeout_ms) + 1000 : 5000;
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

TransactionTable::TransactionTable(rt::TimerQueue& timers, Upstream& upstream, uint64_t linger_ms)
    : m_timers(timers), m_upstream(upstream), m_linger_ms(linger_ms)
{
  m_table.reserve(1024);
}

TransactionTable::~TransactionTable() = default;

ServerTransaction* TransactionTable::find(const std::string& key)
{
  auto it = m_table.find(key);
  return it == m_table.end() ? nullptr : it->second.get();
}

ServerTransaction& TransactionTable::add(std::unique_ptr<ServerTransaction> t)
{
  t->m_table = this;
  auto& slot = m_table[t->key];
  slot = std::move(t);
  return *slot;
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

// Final response sent: stop the client side, keep the answer for retransmissions a while.
void TransactionTable::complete(ServerTransaction& t)
{
  m_upstream.finish(t);
  t.head.clear();
  t.head.shrink_to_fit();
  m_timers.start(t.m_timer, t.reliable ? k_linger_reliable_ms : m_linger_ms, on_linger_end, &t);
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
  auto& table = t.m_table->m_table;
  table.erase(table.find(t.key)); // destroys t
}

} // namespace cpm::proxy
