#pragma once
// Flood limits on the proxy's receive path, as Kamailio's pike module with the ban of its
// sample configuration (WITH_ANTIFLOOD: pike_check_req, then the source in an htable that
// expires): per source address a request rate; the request that goes over it is answered
// 503 with Retry-After, then the source is ignored (silence) for the block time, so that
// one address cannot keep the others from being served. And the size beyond which a
// request is answered 513 (RFC 3261 §21.5.11).
//
// Pure: no libre and no clock of its own (the caller gives the time in milliseconds), so a
// unit test drives it with a fake clock.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cpm::config {
struct File;
struct Node;
} // namespace cpm::config

namespace cpm::proxy {

// The default largest request (node key max_request_size): 25 times the 1300 bytes of a
// UDP request (RFC 3261 §18.1.1), half of libre's 64 KiB TCP receive buffer, beyond which
// libre closes the connection without a word.
constexpr size_t k_max_request_size = 32768;
// libre's UDP receive buffer: a datagram this long or longer was cut.
constexpr size_t k_udp_receive_max = 8192;
// How many source addresses are counted at once (about 100 bytes each); a source beyond
// them is served uncounted until idle ones leave (a flood from spoofed UDP addresses).
constexpr size_t k_max_sources = 65536;

// What the limiter allows (node keys flood_limit, flood_window_ms, flood_block_s,
// max_request_size, flood_exempt).
struct FloodLimits {
  // Requests per window from one source address beyond which it is blocked; 0: no limit.
  uint32_t max_requests = 0;
  // The window (pike's sampling_time_unit, 2 s).
  uint32_t window_ms = 2000;
  // How long a blocked source is ignored (the ban of Kamailio's sample configuration).
  uint32_t block_s = 300;
  // Requests longer than this (bytes, the whole message) get 513; 0: no limit.
  size_t max_request_size = k_max_request_size;
  // Source addresses (IP literals) never limited by rate: the node's own, the trusted nodes.
  std::vector<std::string> exempt;
};

class FloodLimiter {
public:
  enum class Verdict {
    Pass,   // serve it
    Refuse, // it went over the limit: answer 503 with Retry-After, then silence
    Drop,   // the source is blocked: no answer
  };
  struct Decision {
    Verdict verdict = Verdict::Pass;
    // Refuse: the requests counted in the window, this one included.
    uint64_t count = 0;
    // Pass: a block of this source just ended, and this many requests were dropped in it.
    uint64_t dropped = 0;
  };

  explicit FloodLimiter(FloodLimits limits);

  // Whether a rate is limited at all.
  bool limits_rate() const { return m_limits.max_requests > 0; }
  // A request from `source` (an IP address as text, no port) at `now_ms` (monotonic).
  // `via_host`: for a request over a TCP or TLS connection, the host of its top Via. libre
  // binds no outgoing connection to a node's address, so on one host every node's
  // connections come from the loopback address the kernel picks (127.0.0.1): a connection
  // from a loopback address that is no exempt one is exempt when its top Via names an
  // exempt address, as trust::Domain believes it.
  Decision check(std::string_view source, uint64_t now_ms, std::string_view via_host = {});
  // Why a request of `size` bytes (a UDP datagram when `udp`) is too large, for the
  // diagnostic beside its 513; "" when it is not.
  std::string too_large(size_t size, bool udp) const;
  // The Retry-After of a 503: the block time, in seconds.
  uint32_t retry_after_s() const { return m_limits.block_s; }
  const FloodLimits& limits() const { return m_limits; }
  // Sources counted now, and those served uncounted since there were k_max_sources.
  size_t tracked() const { return m_sources.size(); }
  uint64_t untracked() const { return m_untracked; }

private:
  struct Source {
    uint64_t window_start = 0; // start of the current window
    uint64_t current = 0;      // requests in the current window
    uint64_t previous = 0;     // requests in the window before it
    uint64_t blocked_until = 0;
    uint64_t dropped = 0; // requests dropped in the current block
    uint64_t last_seen = 0;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Forget the sources idle for two windows, unless blocked (at most once a window).
  void sweep(uint64_t now_ms);

  FloodLimits m_limits;
  std::unordered_set<std::string, Hash, std::equal_to<>> m_exempt;
  std::unordered_map<std::string, Source, Hash, std::equal_to<>> m_sources;
  uint64_t m_next_sweep = 0;
  uint64_t m_untracked = 0;
};

// A node's limits from its keys, with the exempt addresses: the hosts of `flood_exempt`,
// of every node of the file but clients (its cores, servers and IWFs, this node included),
// of this node's peers given as IP literals, and of its `trusted` entries (node names or
// addresses).
FloodLimits flood_limits(const config::File& file, const config::Node& node);

} // namespace cpm::proxy
