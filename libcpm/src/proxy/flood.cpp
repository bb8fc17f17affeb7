// Flood limits: requests per source address in a sliding window, a block after the first
// request over it, and the size limit (513).
#include "cpm/proxy/flood.hpp"

#include <fmt/format.h>

#include "cpm/config/config.hpp"
#include "cpm/grammar/address.hpp"

namespace cpm::proxy {

FloodLimiter::FloodLimiter(FloodLimits limits) : m_limits(std::move(limits))
{
  if (m_limits.window_ms == 0)
    m_limits.window_ms = 1;
  for (const auto& a : m_limits.exempt)
    m_exempt.insert(a);
}

FloodLimiter::Decision FloodLimiter::check(std::string_view source, uint64_t now_ms,
                                           std::string_view via_host)
{
  Decision d;
  if (!limits_rate() || m_exempt.find(source) != m_exempt.end())
    return d;
  if (!via_host.empty() && sip::is_loopback(source) && m_exempt.find(via_host) != m_exempt.end())
    return d;
  if (now_ms >= m_next_sweep)
    sweep(now_ms);
  auto it = m_sources.find(source);
  if (it == m_sources.end()) {
    if (m_sources.size() >= k_max_sources) {
      ++m_untracked;
      return d;
    }
    it = m_sources.emplace(std::string(source), Source{now_ms, 0, 0, 0, 0, now_ms}).first;
  }
  Source& s = it->second;
  s.last_seen = now_ms;
  if (s.blocked_until) {
    if (now_ms < s.blocked_until) {
      ++s.dropped;
      d.verdict = Verdict::Drop;
      return d;
    }
    // The block is over: the source starts afresh.
    d.dropped = s.dropped;
    s = Source{now_ms, 0, 0, 0, 0, now_ms};
  }
  const uint64_t w = m_limits.window_ms;
  if (now_ms >= s.window_start + w) {
    uint64_t periods = (now_ms - s.window_start) / w;
    s.previous = periods == 1 ? s.current : 0;
    s.current = 0;
    s.window_start += periods * w;
  }
  ++s.current;
  // The count over the last window: this window's requests and the share of the previous
  // window's that the sliding window still covers (the previous ones taken as even).
  uint64_t elapsed = now_ms - s.window_start;
  uint64_t count = s.current + s.previous * (w - elapsed) / w;
  if (count > m_limits.max_requests) {
    s.blocked_until = now_ms + uint64_t(m_limits.block_s) * 1000;
    s.dropped = 0;
    d.verdict = Verdict::Refuse;
    d.count = count;
  }
  return d;
}

void FloodLimiter::sweep(uint64_t now_ms)
{
  const uint64_t idle = 2 * uint64_t(m_limits.window_ms);
  for (auto it = m_sources.begin(); it != m_sources.end();) {
    const Source& s = it->second;
    bool blocked = s.blocked_until > now_ms;
    if (!blocked && s.last_seen + idle <= now_ms)
      it = m_sources.erase(it);
    else
      ++it;
  }
  m_next_sweep = now_ms + m_limits.window_ms;
}

std::string FloodLimiter::too_large(size_t size, bool udp) const
{
  if (udp && size >= k_udp_receive_max)
    return fmt::format("a UDP datagram of {} bytes or more (cut at the receive buffer)",
                       k_udp_receive_max);
  if (m_limits.max_request_size && size > m_limits.max_request_size)
    return fmt::format("{} bytes is over max_request_size ({})", size, m_limits.max_request_size);
  return {};
}

namespace {

// The host of an address of the config when it is an IP literal, else "".
std::string ip_host(std::string_view addr)
{
  auto h = sip::address_of(addr);
  if (!h || h->is_name())
    return {};
  return h->host;
}

} // namespace

FloodLimits flood_limits(const config::File& file, const config::Node& node)
{
  FloodLimits l;
  l.max_requests = node.flood_limit;
  l.window_ms = node.flood_window_ms;
  l.block_s = node.flood_block_s;
  if (node.max_request_size)
    l.max_request_size = size_t(*node.max_request_size);
  auto add = [&l](std::string_view addr) {
    if (auto h = ip_host(addr); !h.empty())
      l.exempt.push_back(std::move(h));
  };
  for (const auto& a : node.flood_exempt)
    if (auto h = sip::parse_dns_server(a)) // an IP literal (checked by the config)
      l.exempt.push_back(h->host);
  for (const auto& a : node.listen)
    add(a);
  for (const auto& n : file.nodes)
    if (n.role != config::Role::Client)
      for (const auto& a : n.listen)
        add(a);
  for (const auto& [domain, uri] : node.peers)
    add(uri);
  for (const auto& e : node.trusted) {
    if (const auto* n = file.find_node(e)) {
      for (const auto& a : n->listen)
        add(a);
    } else if (auto h = sip::parse_dns_server(e)) { // "127.0.0.9", "::1"
      l.exempt.push_back(h->host);
    } else {
      add(e); // "udp:10.0.0.1:5060"
    }
  }
  return l;
}

} // namespace cpm::proxy
