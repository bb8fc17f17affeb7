// Our non-INVITE client transactions: send, Timer E (UDP), responses by branch, a broken
// connection (TCP).
#include "cpm/proxy/client_transaction.hpp"

#include <algorithm>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "cpm/base/spare_list.hpp"
#include "cpm/rt/re.hpp"

namespace cpm::proxy {

struct ClientTransactions::Txn {
  ClientTransactions* owner = nullptr;
  uint64_t branch = 0;
  std::string method;
  std::string text; // the request as sent, for retransmissions
  struct sa dst;
  uint32_t sent = 0; // retransmissions so far
  bool proceeding = false;
  bool done = false; // a final response, or stopped: a broken connection says nothing
  uint64_t conn = 0; // the connection it was sent on, 0 over UDP
  ResponseHandler handler = nullptr;
  void* arg = nullptr;
  rt::TimerQueue::Timer timer_e;
};

struct ClientTransactions::Table {
  using Map = std::unordered_map<uint64_t, Txn>;
  Map by_branch;
  // Reused so that steady state allocates neither: erased entries (a Txn with its timer's
  // queue node), and the request copies of stopped ones (a lingering transaction keeps
  // none).
  SpareList<Map::node_type> spare_nodes;
  SpareList<std::string> spare_texts;
};

ClientTransactions::ClientTransactions(Send send, rt::TimerQueue& timers, bool reliable)
    : m_send(std::move(send)), m_timers(timers), m_reliable(reliable),
      m_table(std::make_unique<Table>())
{
  m_table->by_branch.reserve(1024);
}

ClientTransactions::~ClientTransactions() = default;

bool ClientTransactions::has(uint64_t branch) const
{
  return m_table->by_branch.count(branch) != 0;
}

int ClientTransactions::start(uint64_t branch, std::string_view method, const struct ::sa& dst,
                              std::string_view request, ResponseHandler h, void* arg)
{
  if (has(branch))
    return EEXIST;
  uint64_t conn = 0;
  if (int err = m_send(dst, request, &conn); err)
    return err;
  auto& tb = *m_table;
  Table::Map::iterator it;
  if (Table::Map::node_type node; tb.spare_nodes.take(node)) { // an erased one's: no allocation
    node.key() = branch;
    it = tb.by_branch.insert(std::move(node)).position;
  } else {
    it = tb.by_branch.try_emplace(branch).first;
  }
  Txn& t = it->second;
  t.owner = this;
  t.branch = branch;
  t.method = method;
  t.sent = 0;
  t.proceeding = false;
  t.done = false;
  t.conn = conn;
  t.dst = dst;
  t.handler = h;
  t.arg = arg;
  if (m_reliable) // nothing to send again
    return 0;
  if (t.text.capacity() < request.size())
    tb.spare_texts.take(t.text);
  t.text.assign(request);
  m_timers.start(t.timer_e, SIP_T1, on_timer_e, &t);
  return 0;
}

void ClientTransactions::stop(uint64_t branch)
{
  if (auto it = m_table->by_branch.find(branch); it != m_table->by_branch.end())
    stopped(it->second);
}

// No more retransmissions: the request's buffer goes to the next transaction.
void ClientTransactions::stopped(Txn& t) noexcept
{
  t.done = true;
  t.timer_e.cancel();
  give_buffer(m_table->spare_texts, t.text);
}

void ClientTransactions::erase(uint64_t branch)
{
  auto& tb = *m_table;
  auto it = tb.by_branch.find(branch);
  if (it == tb.by_branch.end())
    return;
  stopped(it->second);
  auto node = tb.by_branch.extract(it);
  tb.spare_nodes.give(node);
}

ClientTransactions::Txn* ClientTransactions::find(const sip::wire::Message& msg) const
{
  if (m_table->by_branch.empty() || msg.via.branch.empty())
    return nullptr;
  auto it = m_table->by_branch.find(BranchGenerator::parse(msg.via.branch));
  if (it == m_table->by_branch.end() || msg.cseq_method != it->second.method)
    return nullptr;
  return &it->second;
}

bool ClientTransactions::on_response(const sip::wire::Message& msg)
{
  Txn* found = find(msg);
  if (!found)
    return false;
  Txn& t = *found;
  if (msg.status < 200) {
    t.proceeding = true;
  } else {
    t.done = true;
    t.timer_e.cancel();
  }
  t.handler(0, &msg, t.arg); // may erase t
  return true;
}

void ClientTransactions::fail_connection(uint64_t conn, int err)
{
  if (!conn || m_table->by_branch.empty())
    return;
  // Collected first: a handler may erase its transaction and start another (a fallback).
  std::vector<uint64_t> hit;
  for (const auto& [branch, t] : m_table->by_branch)
    if (t.conn == conn && !t.done)
      hit.push_back(branch);
  for (uint64_t branch : hit) {
    auto it = m_table->by_branch.find(branch);
    if (it == m_table->by_branch.end() || it->second.done || it->second.conn != conn)
      continue;
    Txn& t = it->second;
    t.done = true;
    t.handler(err, nullptr, t.arg); // may erase t
  }
}

// Timer E (RFC 3261 §17.1.2.2): T1, doubling up to T2; T2 once proceeding.
void ClientTransactions::on_timer_e(void* arg) noexcept
{
  auto& t = *static_cast<Txn*>(arg);
  auto& self = *t.owner;
  int err = 0;
  try {
    ++t.sent;
    uint64_t ms = t.proceeding ? uint64_t(SIP_T2)
                               : std::min<uint64_t>(uint64_t(SIP_T1) << std::min(t.sent, 8u),
                                                    uint64_t(SIP_T2));
    self.m_timers.start(t.timer_e, ms, on_timer_e, &t);
    err = self.m_send(t.dst, t.text, nullptr);
  } catch (const std::bad_alloc&) {
    err = ENOMEM;
  }
  if (err) {
    t.timer_e.cancel();
    t.handler(err, nullptr, t.arg);
  }
}

} // namespace cpm::proxy
